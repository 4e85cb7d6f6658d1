package bench

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
	"f1":  func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"f2":  func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) },
	"pct": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "%" },
	"lat": func(l *Latency, pick string) string {
		if l == nil {
			return "–"
		}
		v := map[string]float64{"mean": l.Mean, "p50": l.P50, "p90": l.P90, "p95": l.P95, "p99": l.P99}[pick]
		return strconv.FormatFloat(v, 'f', 1, 64)
	},
	"levelName": func(l LevelResult) string { return levelLabel(l) },
	"deref": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return strconv.FormatFloat(*p, 'f', 2, 64)
	},
	"errs": func(m map[ErrorClass]int) string {
		if len(m) == 0 {
			return "none"
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, string(k))
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s: %d", k, m[ErrorClass(k)])
		}
		return strings.Join(parts, ", ")
	},
	"bandText": func(b *bool) string {
		switch {
		case b == nil:
			return "–"
		case *b:
			return "yes"
		}
		return "no"
	},
}).Parse(reportTemplate))

func levelLabel(l LevelResult) string {
	if l.Mode == "rps" {
		return "rps " + strconv.FormatFloat(l.RPS, 'g', -1, 64)
	}
	return "c=" + strconv.Itoa(l.Concurrency)
}

// WriteHTML renders rep as one self-contained HTML page: tables plus inline
// SVG charts drawn here (no scripts, no external resources), so the file
// opens offline and can be attached to a ticket.
func WriteHTML(w io.Writer, rep *Report) error {
	data := struct {
		*Report
		LoadCharts []svgChart
		DistCharts []svgChart
		XName      string
	}{Report: rep}
	data.LoadCharts, data.XName = loadCharts(rep)
	data.DistCharts = distCharts(rep.Levels)
	return reportTmpl.Execute(w, data)
}

// Chart geometry (pixels).
const (
	chartW, chartH                = 560, 320
	padL, padR, padTop, padBottom = 64.0, 150.0, 34.0, 46.0
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

type svgTick struct {
	Pos   float64
	Label string
}

type svgPoint struct{ X, Y float64 }

type svgSeries struct {
	Name    string
	Color   string
	Points  string
	Dash    bool
	Markers []svgPoint
	LegendY float64
}

type svgChart struct {
	Title, XLabel, YLabel  string
	W, H                   int
	X0, Y0, X1, Y1         float64 // plot area
	XTicks, YTicks         []svgTick
	Series                 []svgSeries
	LegendX                float64
	XLabelX, XLabelY, YLbY float64
}

type xy struct{ x, y float64 }

type series struct {
	name    string
	pts     []xy
	dash    bool
	markers bool
}

// niceTicks returns about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	// The last tick is the first one at or above hi, so data never leaves
	// the plot area.
	var out []float64
	for v := math.Floor(lo/step) * step; len(out) < 50; v += step {
		out = append(out, v)
		if v >= hi-step*1e-9 {
			break
		}
	}
	return out
}

func fmtTick(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// buildChart lays out series on linear axes (log2 x when logX).
func buildChart(title, xl, yl string, ss []series, logX bool, xTickVals []float64, yTickVals ...float64) svgChart {
	c := svgChart{Title: title, XLabel: xl, YLabel: yl, W: chartW, H: chartH,
		X0: padL, Y0: padTop, X1: chartW - padR, Y1: chartH - padBottom}
	c.LegendX = c.X1 + 12
	c.XLabelX, c.XLabelY, c.YLbY = (c.X0+c.X1)/2, chartH-8, (c.Y0+c.Y1)/2
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	tx := func(v float64) float64 {
		if logX {
			return math.Log2(math.Max(v, 1e-9))
		}
		return v
	}
	for _, s := range ss {
		for _, p := range s.pts {
			xmin, xmax = math.Min(xmin, tx(p.x)), math.Max(xmax, tx(p.x))
			ymax = math.Max(ymax, p.y)
		}
	}
	if math.IsInf(xmin, 0) {
		xmin, xmax = 0, 1
	}
	if ymax <= 0 {
		ymax = 1 // all zeros: keep round ticks
	}
	if xmax == xmin {
		xmin, xmax = xmin-1, xmax+1
	}
	yt := yTickVals
	if len(yt) == 0 {
		yt = niceTicks(0, math.Max(ymax, 1e-9)*1.05, 5)
	}
	ytop := yt[len(yt)-1]
	sx := func(v float64) float64 { return c.X0 + (tx(v)-xmin)/(xmax-xmin)*(c.X1-c.X0) }
	sy := func(v float64) float64 { return c.Y1 - v/ytop*(c.Y1-c.Y0) }
	for _, v := range yt {
		c.YTicks = append(c.YTicks, svgTick{Pos: sy(v), Label: fmtTick(v)})
	}
	if xTickVals == nil {
		if logX {
			for e := math.Floor(xmin); e <= math.Ceil(xmax); e++ {
				xTickVals = append(xTickVals, math.Exp2(e))
			}
		} else {
			xTickVals = niceTicks(xmin, xmax, 5)
		}
	}
	for _, v := range xTickVals {
		if tx(v) < xmin-1e-9 || tx(v) > xmax+1e-9 {
			continue
		}
		c.XTicks = append(c.XTicks, svgTick{Pos: sx(v), Label: fmtTick(v)})
	}
	for i, s := range ss {
		out := svgSeries{Name: s.name, Color: palette[i%len(palette)], Dash: s.dash, LegendY: c.Y0 + 14 + float64(i)*16}
		var sb strings.Builder
		for j, p := range s.pts {
			if j > 0 {
				sb.WriteByte(' ')
			}
			x, y := sx(p.x), sy(p.y)
			fmt.Fprintf(&sb, "%.1f,%.1f", x, y)
			if s.markers {
				out.Markers = append(out.Markers, svgPoint{x, y})
			}
		}
		out.Points = sb.String()
		c.Series = append(c.Series, out)
	}
	return c
}

// loadCharts draws throughput and latency against the load levels.
func loadCharts(rep *Report) ([]svgChart, string) {
	var conc, rps []LevelResult
	for _, l := range rep.Levels {
		if l.Completed == 0 {
			continue
		}
		if l.Mode == "rps" {
			rps = append(rps, l)
		} else {
			conc = append(conc, l)
		}
	}
	levels, xname := conc, "concurrency"
	if len(conc) == 0 {
		levels, xname = rps, "offered rate (req/s)"
	}
	if len(levels) == 0 {
		return nil, xname
	}
	xOf := func(l LevelResult) float64 {
		if l.Mode == "rps" {
			return l.RPS
		}
		return float64(l.Concurrency)
	}
	lo, hi := math.Inf(1), 0.0
	var xt []float64
	for _, l := range levels {
		lo, hi = math.Min(lo, xOf(l)), math.Max(hi, xOf(l))
		xt = append(xt, xOf(l))
	}
	logX := lo > 0 && hi/lo >= 8
	if !logX {
		xt = nil
	}
	pick := func(f func(LevelResult) (float64, bool)) []xy {
		var pts []xy
		for _, l := range levels {
			if v, ok := f(l); ok {
				pts = append(pts, xy{xOf(l), v})
			}
		}
		return pts
	}
	latPick := func(get func(LevelResult) *Latency, p func(*Latency) float64) func(LevelResult) (float64, bool) {
		return func(l LevelResult) (float64, bool) {
			if v := get(l); v != nil {
				return p(v), true
			}
			return 0, false
		}
	}
	p50 := func(l *Latency) float64 { return l.P50 }
	p99 := func(l *Latency) float64 { return l.P99 }
	predPick := func(get func(Prediction) *Latency) []xy {
		var pts []xy
		for _, l := range levels {
			for _, p := range rep.Predictions {
				if p.matches(l) {
					if v := get(p); v != nil && v.Mean > 0 {
						pts = append(pts, xy{xOf(l), v.Mean})
					}
					break
				}
			}
		}
		return pts
	}
	thr := []series{{name: "output tok/s", markers: true, pts: pick(func(l LevelResult) (float64, bool) { return l.OutputTokensPerS, true })}}
	var predThr []xy
	for _, l := range levels {
		for _, p := range rep.Predictions {
			if p.matches(l) && p.OutputTokensPerS != nil {
				predThr = append(predThr, xy{xOf(l), *p.OutputTokensPerS})
			}
		}
	}
	if len(predThr) > 0 {
		thr = append(thr, series{name: "predicted", dash: true, markers: true, pts: predThr})
	}
	reqs := []series{{name: "requests/s", markers: true, pts: pick(func(l LevelResult) (float64, bool) { return l.RequestsPerS, true })}}
	if rep.SLO != nil && rep.SLO.Set() {
		reqs = append(reqs, series{name: "goodput/s", markers: true, pts: pick(func(l LevelResult) (float64, bool) {
			if l.GoodputPerS == nil {
				return 0, false
			}
			return *l.GoodputPerS, true
		})})
	}
	ttft := func(l LevelResult) *Latency { return l.TTFT }
	tpot := func(l LevelResult) *Latency { return l.TPOT }
	e2e := func(l LevelResult) *Latency { return l.E2E }
	latSeries := func(get func(LevelResult) *Latency, pget func(Prediction) *Latency) []series {
		ss := []series{
			{name: "p50", markers: true, pts: pick(latPick(get, p50))},
			{name: "p99", markers: true, pts: pick(latPick(get, p99))},
		}
		if pp := predPick(pget); len(pp) > 0 {
			ss = append(ss, series{name: "predicted mean", dash: true, markers: true, pts: pp})
		}
		return ss
	}
	var charts []svgChart
	charts = append(charts,
		buildChart("Output throughput", xname, "tokens/s", thr, logX, xt),
		buildChart("Requests and goodput", xname, "requests/s", reqs, logX, xt))
	if ss := latSeries(ttft, func(p Prediction) *Latency { return p.TTFT }); len(ss[0].pts) > 0 {
		charts = append(charts, buildChart("Time to first token", xname, "ms", ss, logX, xt))
	}
	if ss := latSeries(tpot, func(p Prediction) *Latency { return p.TPOT }); len(ss[0].pts) > 0 {
		charts = append(charts, buildChart("Time per output token", xname, "ms", ss, logX, xt))
	}
	charts = append(charts, buildChart("End-to-end latency", xname, "ms", latSeries(e2e, func(p Prediction) *Latency { return p.E2E }), logX, xt))
	return charts, xname
}

// maxECDFPoints bounds each distribution line so a 100,000-request run
// still renders a small page.
const maxECDFPoints = 200

// ecdf returns the empirical CDF of values as (value, fraction) points.
func ecdf(values []float64) []xy {
	if len(values) == 0 {
		return nil
	}
	s := slices.Clone(values)
	slices.Sort(s)
	n := len(s)
	step := max(1, n/maxECDFPoints)
	var pts []xy
	for i := 0; i < n; i += step {
		pts = append(pts, xy{s[i], float64(i+1) / float64(n)})
	}
	if last := (xy{s[n-1], 1}); pts[len(pts)-1] != last {
		pts = append(pts, last)
	}
	return pts
}

// distCharts draws latency distributions (one line per level) from the
// kept request records.
func distCharts(levels []LevelResult) []svgChart {
	type metric struct {
		title string
		get   func(r *RequestRecord) (float64, bool)
	}
	metrics := []metric{
		{"TTFT distribution", func(r *RequestRecord) (float64, bool) {
			d, ok := r.TTFT()
			return ms(d), ok
		}},
		{"TPOT distribution", func(r *RequestRecord) (float64, bool) {
			d, ok := r.TTFT()
			if !ok || r.OutputTokens < 2 {
				return 0, false
			}
			return ms(r.E2E-d) / float64(r.OutputTokens-1), true
		}},
		{"End-to-end latency distribution", func(r *RequestRecord) (float64, bool) { return ms(r.E2E), true }},
	}
	var charts []svgChart
	for _, m := range metrics {
		var ss []series
		for _, l := range levels {
			var vals []float64
			for i := range l.Records {
				if r := &l.Records[i]; r.OK() {
					if v, ok := m.get(r); ok {
						vals = append(vals, v)
					}
				}
			}
			if len(vals) == 0 {
				continue
			}
			// Plot value on x and cumulative share on y.
			ss = append(ss, series{name: levelLabel(l), pts: ecdf(vals)})
		}
		if len(ss) == 0 {
			continue
		}
		c := buildChart(m.title, "ms", "share of requests ≤ x", ss, false, nil, 0, 0.25, 0.5, 0.75, 1)
		charts = append(charts, c)
	}
	return charts
}
