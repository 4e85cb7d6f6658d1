package perf

import (
	"bufio"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
)

// Plot geometry, in SVG user units.
const (
	plotW, plotH         = 640, 220 // one panel's drawing area
	plotLeft, plotRight  = 80, 20
	plotTop, plotGap     = 40, 70
	plotBottom           = 50
	plotTicks            = 5
	svgWidth             = plotLeft + plotW + plotRight
	svgHeight            = plotTop + 2*plotH + plotGap + plotBottom
	maxPlotPoints        = 10000
	plotFont             = `font-family="sans-serif" font-size="12"`
	plotThroughputColour = "#1f77b4"
	plotTPOTColour       = "#d62728"
)

// WriteSVG draws output tokens per second and time per output token
// against concurrency, one panel each, with each prediction's error band
// as a bar. Estimates that are saturated are left out. The SVG is
// self-contained (no scripts, fonts or external references).
func WriteSVG(w io.Writer, title string, ests []Estimate) error {
	type pt struct{ x, tok, tokLo, tokHi, tpot, tpotLo, tpotHi float64 }
	var pts []pt
	for _, e := range ests {
		if e.Saturated || e.OutputTokensPerS <= 0 {
			continue
		}
		x := float64(e.Concurrency)
		if x <= 0 {
			x = e.RunningBatch
		}
		if x <= 0 {
			continue
		}
		pts = append(pts, pt{x, e.OutputTokensPerS, e.OutputTokensPerSLow, e.OutputTokensPerSHigh, e.TPOT.Mean, e.TPOT.Low, e.TPOT.High})
	}
	if len(pts) == 0 {
		return errors.New("nothing to plot: every load is saturated or empty")
	}
	if len(pts) > maxPlotPoints {
		return fmt.Errorf("too many points to plot (%d > %d)", len(pts), maxPlotPoints)
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].x < pts[j].x })

	// x: log2 scale when the loads span more than a factor of 8.
	xmin, xmax := pts[0].x, pts[len(pts)-1].x
	logX := xmax/xmin > 8
	fx := func(v float64) float64 {
		if xmax == xmin {
			return plotLeft + plotW/2
		}
		if logX {
			return plotLeft + plotW*(math.Log2(v)-math.Log2(xmin))/(math.Log2(xmax)-math.Log2(xmin))
		}
		return plotLeft + plotW*(v-xmin)/(xmax-xmin)
	}
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", svgWidth, svgHeight, svgWidth, svgHeight)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%d" y="20" font-family="sans-serif" font-size="14" font-weight="bold">%s</text>`+"\n", plotLeft, html.EscapeString(title))

	panel := func(top float64, label, colour string, val, lo, hi func(pt) float64) {
		ymax := 0.0
		for _, q := range pts {
			ymax = math.Max(ymax, math.Max(val(q), hi(q)))
		}
		if ymax <= 0 {
			ymax = 1
		}
		ymax = niceCeil(ymax)
		fy := func(v float64) float64 { return top + plotH - plotH*v/ymax }
		p(`<rect x="%d" y="%.1f" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", plotLeft, top, plotW, plotH)
		for i := 0; i <= plotTicks; i++ {
			v := ymax * float64(i) / plotTicks
			y := fy(v)
			p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", plotLeft, y, plotLeft+plotW, y)
			p(`<text x="%d" y="%.1f" %s text-anchor="end">%s</text>`+"\n", plotLeft-6, y+4, plotFont, tickLabel(v))
		}
		p(`<text x="16" y="%.1f" %s transform="rotate(-90 16 %.1f)" text-anchor="middle">%s</text>`+"\n", top+plotH/2, plotFont, top+plotH/2, html.EscapeString(label))
		var path []string
		for _, q := range pts {
			x := fx(q.x)
			if lo(q) > 0 && hi(q) > 0 {
				p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-opacity="0.5" stroke-width="3"/>`+"\n", x, fy(lo(q)), x, fy(hi(q)), colour)
			}
			p(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`+"\n", x, fy(val(q)), colour)
			path = append(path, fmt.Sprintf("%.1f,%.1f", x, fy(val(q))))
		}
		if len(path) > 1 {
			p(`<polyline fill="none" stroke="%s" stroke-width="1.5" points="`, colour)
			for i, s := range path {
				if i > 0 {
					p(" ")
				}
				p("%s", s)
			}
			p(`"/>` + "\n")
		}
	}
	panel(plotTop, "output tokens/s (all GPUs)", plotThroughputColour,
		func(q pt) float64 { return q.tok }, func(q pt) float64 { return q.tokLo }, func(q pt) float64 { return q.tokHi })
	panel(plotTop+plotH+plotGap, "time per output token (ms)", plotTPOTColour,
		func(q pt) float64 { return q.tpot }, func(q pt) float64 { return q.tpotLo }, func(q pt) float64 { return q.tpotHi })

	// Shared x ticks: one per load.
	base := float64(plotTop + 2*plotH + plotGap)
	for _, q := range pts {
		x := fx(q.x)
		p(`<text x="%.1f" y="%.1f" %s text-anchor="middle">%s</text>`+"\n", x, base+18, plotFont, tickLabel(q.x))
		p(`<text x="%.1f" y="%.1f" %s text-anchor="middle">%s</text>`+"\n", x, float64(plotTop+plotH)+18, plotFont, tickLabel(q.x))
	}
	scale := "linear"
	if logX {
		scale = "log scale"
	}
	p(`<text x="%d" y="%.1f" %s text-anchor="middle">concurrency (requests in the system, %s); bars: error band</text>`+"\n", plotLeft+plotW/2, base+40, plotFont, scale)
	p("</svg>\n")
	return bw.Flush()
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 × a power of ten.
func niceCeil(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func tickLabel(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.3gk", v/1e3)
	default:
		return fmt.Sprintf("%.4g", v)
	}
}
