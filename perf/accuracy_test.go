package perf

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/internal/golden"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/stats"
)

var update = flag.Bool("update", false, "rewrite docs/accuracy.md's speed section and golden files")

// fitOptions resolves names through the embedded model and hardware
// catalogs.
func fitOptions(t testing.TB) FitOptions {
	t.Helper()
	cat, err := model.EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return FitOptions{
		Model: func(id string) (*model.Spec, error) { s, _, err := cat.Lookup(id); return s, err },
		GPU:   hardware.LookupGPU,
	}
}

// TestEmbeddedPointCount checks the fit set is the 230 TensorRT-LLM v0.17
// throughput rows and that every model resolves through the catalog.
func TestEmbeddedPointCount(t *testing.T) {
	pts := trtllmPoints(Embedded().Points)
	if len(pts) != 230 {
		t.Fatalf("embedded calibration has %d TensorRT-LLM points, want the 230 v0.17 max-throughput rows", len(pts))
	}
	byGPU := map[string]int{}
	opt := fitOptions(t)
	for _, p := range pts {
		byGPU[p.GPU]++
		if p.LoadKind() != LoadMax || p.EngineVersion != "0.17" || p.Engine != "trtllm" {
			t.Errorf("point %s: load %s engine %s@%s, want max trtllm@0.17", p.Key(), p.LoadKind(), p.Engine, p.EngineVersion)
		}
		if _, err := opt.Model(p.Model); err != nil {
			t.Errorf("model %s does not resolve: %v", p.Model, err)
		}
	}
	// The reference table's counts per GPU column.
	want := map[string]int{"h100-sxm": 97, "a100-80gb-sxm": 79, "l40s": 54}
	for g, n := range want {
		if byGPU[g] != n {
			t.Errorf("%s: %d points, want %d", g, byGPU[g], n)
		}
	}
}

// trtllmPoints returns the TensorRT-LLM points of a set.
func trtllmPoints(pts []Point) []Point {
	var out []Point
	for _, p := range pts {
		if p.Engine == "trtllm" {
			out = append(out, p)
		}
	}
	return out
}

// fitOnce caches the fit on the embedded points within one test run.
var fitCache struct {
	res FitResult
	err error
	ok  bool
}

func fitEmbedded(t testing.TB) FitResult {
	t.Helper()
	if !fitCache.ok {
		fitCache.res, fitCache.err = Fit(Embedded().Points, fitOptions(t))
		fitCache.ok = true
	}
	if fitCache.err != nil {
		t.Fatal(fitCache.err)
	}
	return fitCache.res
}

// TestFittedFactorsAreCurrent refits the factors on the embedded points and
// fails when fitted.go differs, printing the literal to paste.
func TestFittedFactorsAreCurrent(t *testing.T) {
	res := fitEmbedded(t)
	if len(res.Skipped) > 0 {
		t.Errorf("points skipped: %v", res.Skipped)
	}
	same := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9+0.011*math.Max(math.Abs(a), math.Abs(b)) }
	ok := len(res.GPUFactors) == len(fittedGPUFactors) && len(res.EngineFactors) == len(fittedEngineFactors)
	if ok {
		for i, g := range res.GPUFactors {
			w := fittedGPUFactors[i]
			if g.GPU != w.GPU || !same(g.BandwidthEfficiency, w.BandwidthEfficiency) || !same(g.ComputeEfficiency, w.ComputeEfficiency) ||
				!same(g.BandLow, w.BandLow) || !same(g.BandHigh, w.BandHigh) || g.Points != w.Points {
				ok = false
			}
		}
		for i, e := range res.EngineFactors {
			w := fittedEngineFactors[i]
			if !same(e.StepOverheadMS, w.StepOverheadMS) || !same(e.SeqOverheadUS, w.SeqOverheadUS) || !same(e.MoEEfficiency, w.MoEEfficiency) ||
				!same(e.MoEPrefillEfficiency, w.MoEPrefillEfficiency) ||
				!same(e.RequestOverheadMS, w.RequestOverheadMS) || !same(e.FirstTokenIterations, w.FirstTokenIterations) ||
				!same(e.BandLow, w.BandLow) || !same(e.BandHigh, w.BandHigh) || len(e.Links) != len(w.Links) {
				ok = false
			}
			for k, l := range e.Links {
				wl := w.Links[k]
				if !same(l.Efficiency, wl.Efficiency) || !same(l.DecodeEfficiency, wl.DecodeEfficiency) || !same(l.AllReduceLatencyUS, wl.AllReduceLatencyUS) ||
					!same(l.PeerLatencyUS, wl.PeerLatencyUS) {
					ok = false
				}
			}
		}
	}
	if !ok {
		t.Errorf("fitted.go is out of date with the fit on data/; replace its values with:\n%s", goLiteral(res))
	}
}

// goLiteral prints fit results as the Go source of fitted.go's variables.
func goLiteral(res FitResult) string {
	var b strings.Builder
	f := func(v float64) string { return fmt.Sprintf("%.3g", v) }
	opt := func(name string, v float64) string {
		if v == 0 {
			return ""
		}
		return fmt.Sprintf(", %s: %s", name, f(v))
	}
	b.WriteString("var fittedGPUFactors = []GPUFactors{\n")
	for _, g := range res.GPUFactors {
		fmt.Fprintf(&b, "\t{GPU: %q, Engine: %q, EngineVersion: %q, BandwidthEfficiency: %s, ComputeEfficiency: %s,\n\t\tBandLow: %s, BandHigh: %s, Points: %d, MedianAbsErrorPct: %.1f},\n",
			g.GPU, g.Engine, g.EngineVersion, f(g.BandwidthEfficiency), f(g.ComputeEfficiency), f(g.BandLow), f(g.BandHigh), g.Points, g.MedianAbsErrorPct)
	}
	b.WriteString("}\n\nvar fittedEngineFactors = []EngineFactors{\n")
	for _, e := range res.EngineFactors {
		fmt.Fprintf(&b, "\t{Engine: %q, EngineVersion: %q, StepOverheadMS: %s, SeqOverheadUS: %s, MoEEfficiency: %s%s%s%s,\n\t\tLinks: map[string]LinkFactors{\n",
			e.Engine, e.EngineVersion, f(e.StepOverheadMS), f(e.SeqOverheadUS), f(e.MoEEfficiency), opt("MoEPrefillEfficiency", e.MoEPrefillEfficiency),
			opt("RequestOverheadMS", e.RequestOverheadMS), opt("FirstTokenIterations", e.FirstTokenIterations))
		for _, k := range sortedKeys(e.Links) {
			l := e.Links[k]
			fmt.Fprintf(&b, "\t\t\t%q: {Efficiency: %s, DecodeEfficiency: %s, AllReduceLatencyUS: %s%s},\n", k, f(l.Efficiency), f(l.DecodeEfficiency), f(l.AllReduceLatencyUS), opt("PeerLatencyUS", l.PeerLatencyUS))
		}
		fmt.Fprintf(&b, "\t\t},\n\t\tBandLow: %s, BandHigh: %s, Points: %d},\n", f(e.BandLow), f(e.BandHigh), e.Points)
	}
	b.WriteString("}\n")
	return b.String()
}

// row is one point's prediction against its measurement.
type row struct {
	p          Point
	pred, meas float64
	err        float64 // (pred − meas) / meas
	bottleneck Bottleneck
	low, high  float64
}

func predictPoints(t testing.TB, pts []Point, cal *Calibration) []row {
	t.Helper()
	var out []row
	for _, p := range pts {
		fp, f := preparedWith(t, p, cal)
		e := fp.dep.solve(f, fp.w)
		out = append(out, row{p: p, pred: e.OutputTokensPerS, meas: p.OutputTokensPerS, err: (e.OutputTokensPerS - p.OutputTokensPerS) / p.OutputTokensPerS,
			bottleneck: e.Bottleneck, low: e.OutputTokensPerSLow, high: e.OutputTokensPerSHigh})
	}
	return out
}

type errStats struct{ n, median, p90, max float64 }

func statsOf(rows []row) errStats {
	abs := make([]float64, len(rows))
	for i, r := range rows {
		abs[i] = math.Abs(r.err) * 100
	}
	if len(abs) == 0 {
		return errStats{}
	}
	return errStats{n: float64(len(abs)), median: stats.Median(abs),
		p90: stats.Percentile(abs, 90), max: stats.Percentile(abs, 100)}
}

// TestThroughputAccuracy gates the 230 TensorRT-LLM v0.17 rows with the
// compiled-in factors — median absolute error of output tokens/s ≤ 15%
// (the goal; its requirement is 20%) — and keeps docs/accuracy.md's
// speed section equal to what the code predicts, held-out figures included.
func TestThroughputAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("refits the model for the held-out figures")
	}
	cal := Embedded()
	trt := trtllmPoints(cal.Points)
	rows := predictPoints(t, trt, cal)
	all := statsOf(rows)
	t.Logf("in-sample: n=%.0f median |err| %.1f%%, p90 %.1f%%, max %.1f%%", all.n, all.median, all.p90, all.max)
	if all.median > 15 {
		t.Errorf("median |error| of output tokens/s is %.1f%%, want ≤ 15%%", all.median)
	}
	if all.max > 60 {
		t.Errorf("max |error| %.1f%% > 60%%: a row is badly off", all.max)
	}
	byModel := heldOutByModel(t, trt)
	byGPU := heldOutByGPU(t, trt)
	hm, hg := statsOf(byModel), statsOf(byGPU)
	t.Logf("held out by model: median %.1f%%, p90 %.1f%%; by GPU: median %.1f%%, p90 %.1f%%", hm.median, hm.p90, hg.median, hg.p90)
	if hm.median > 20 {
		t.Errorf("leave-one-model-out median |error| %.1f%% > 20%%", hm.median)
	}
	other := otherTables(t)
	golden.Section(t, "../docs/accuracy.md", "perf", speedSection(rows, byModel, byGPU, other), *update)
	golden.Section(t, "../docs/accuracy.md", "perf-breakdown", breakdownSection(t, rows, byModel), *update)
}

// readTestdata decodes testdata/NAME (a reference table the accuracy tests
// predict) into v, failing the test on any error.
func readTestdata(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
}

// leaveOneOut fits pts without each group (the distinct values of key)
// in turn and hands that group's points and the calibration fitted without
// them to predict: the one held-out loop of the accuracy tests.
func leaveOneOut(t *testing.T, pts []Point, key func(Point) string, predict func(held []Point, c *Calibration)) {
	t.Helper()
	groups := map[string]bool{}
	for _, p := range pts {
		groups[key(p)] = true
	}
	opt := fitOptions(t)
	for _, g := range sortedKeys(groups) {
		o := opt
		o.Exclude = func(p Point) bool { return key(p) == g }
		res, err := Fit(pts, o)
		if err != nil {
			t.Fatal(err)
		}
		var held []Point
		for _, p := range pts {
			if key(p) == g {
				held = append(held, p)
			}
		}
		predict(held, res.Calibration(nil, ""))
	}
}

// heldOutByModel fits without each model in turn and predicts its rows.
func heldOutByModel(t *testing.T, pts []Point) []row {
	var out []row
	leaveOneOut(t, pts, func(p Point) string { return p.Model }, func(held []Point, c *Calibration) {
		out = append(out, predictPoints(t, held, c)...)
	})
	return out
}

// heldOutByGPU fits without each GPU type in turn and predicts its rows the
// way an uncalibrated GPU is predicted (the median factors of the others,
// applied to the held-out chip's own achievable rates).
func heldOutByGPU(t *testing.T, pts []Point) []row {
	var out []row
	leaveOneOut(t, pts, func(p Point) string { return p.GPU }, func(held []Point, c *Calibration) {
		out = append(out, predictPoints(t, held, c)...)
	})
	return out
}

// otherRecord is a record of testdata/trtllm-other-tables.json.
type otherRecord struct {
	Source    string         `json:"source"`
	Kind      string         `json:"kind"`
	Model     string         `json:"model"`
	GPU       string         `json:"gpu"`
	GPUs      int            `json:"gpus"`
	DType     string         `json:"dtype"`
	TP        int            `json:"tp"`
	ISL       int            `json:"isl"`
	OSL       int            `json:"osl"`
	Batch     *int           `json:"concurrency"`
	Framework string         `json:"framework"`
	Version   string         `json:"version"`
	Measured  map[string]any `json:"measured"`
}

// onlineRow is a v0.14 online-serving row against its prediction.
type onlineRow struct {
	r                        otherRecord
	load                     string
	ttftM, ttftP, itlM, itlP float64
	outM, outP               float64
	saturated                bool
}

type otherResult struct {
	online  []onlineRow
	skipped []string
}

// otherTables predicts the older TensorRT-LLM tables: the v0.14 online
// serving rows (request rates, BF16, Triton) with the v0.17 factors, and
// lists the static-batch and batch-1 latency rows whose models the catalog
// does not have.
func otherTables(t *testing.T) otherResult {
	var doc struct {
		Records []otherRecord `json:"records"`
	}
	readTestdata(t, "trtllm-other-tables.json", &doc)
	cat, err := model.EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	h100, err := hardware.LookupGPU("h100-sxm")
	if err != nil {
		t.Fatal(err)
	}
	prof, err := engine.Lookup("trtllm")
	if err != nil {
		t.Fatal(err)
	}
	bf16, _ := dtype.LookupPrecision("bf16")
	var res otherResult
	skipped := map[string]int{}
	for _, r := range doc.Records {
		if r.Version != "0.14.0" {
			skipped[fmt.Sprintf("%s (TensorRT-LLM %s %s table)", strings.SplitN(r.Model, " (", 2)[0], r.Version, r.Kind)]++
			continue
		}
		id := "meta-llama/Llama-3.1-8B"
		if strings.Contains(r.Model, "70B") {
			id = "meta-llama/Llama-3.1-70B"
		}
		spec, _, err := cat.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		w := Workload{InputTokens: r.ISL, OutputTokens: r.OSL}
		load := "INF"
		if q, ok := r.Measured["offered_qps"].(float64); ok && q > 0 {
			w.RPS = q
			load = fmt.Sprintf("%g rps", q)
		} else {
			w.Max = true
		}
		e, err := Predict(Request{Model: spec, Precision: &bf16, GPU: h100, TP: r.TP, Engine: prof, Workload: w})
		if err != nil {
			t.Fatalf("%s tp%d %d/%d: %v", id, r.TP, r.ISL, r.OSL, err)
		}
		num := func(k string) float64 { v, _ := r.Measured[k].(float64); return v }
		res.online = append(res.online, onlineRow{r: r, load: load, ttftM: num("mean_ttft_ms"), ttftP: e.TTFT.Mean, itlM: num("mean_itl_ms"), itlP: e.ITL.Mean,
			outM: num("output_throughput_tokens_per_s"), outP: e.OutputTokensPerS, saturated: e.Saturated})
	}
	for _, k := range sortedKeys(skipped) {
		res.skipped = append(res.skipped, fmt.Sprintf("%s: %d row(s)", k, skipped[k]))
	}
	return res
}

func speedSection(rows, byModel, byGPU []row, other otherResult) string {
	var b bytes.Buffer
	all := statsOf(rows)
	hm, hg := statsOf(byModel), statsOf(byGPU)
	fmt.Fprintf(&b, "Fit set: the %d TensorRT-LLM v0.17 maximum-throughput rows (`perf/data/trtllm-0.17-max-throughput.json`, from NVIDIA's perf-overview.md): output tokens per second for the whole deployment, offline, every request queued at once. ", len(rows))
	b.WriteString("Factors fitted on them by `perf.Fit` (compiled into `perf/fitted.go`; `TestFittedFactorsAreCurrent` refits them):\n\n")
	b.WriteString("| GPU | bandwidth efficiency | compute efficiency | band (p10–p90 of measured ÷ predicted) | points |\n|---|---|---|---|---|\n")
	for _, g := range fittedGPUFactors {
		if g.Engine != "trtllm" {
			continue
		}
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f–%.2f | %d |\n", g.GPU, g.BandwidthEfficiency, g.ComputeEfficiency, g.BandLow, g.BandHigh, g.Points)
	}
	for _, e := range fittedEngineFactors {
		if e.Engine != "trtllm" {
			continue
		}
		fmt.Fprintf(&b, "\nEngine %s@%s: iteration overhead %.2g ms, %.2g µs per sequence per iteration, MoE kernels at %.2f of the dense rate", e.Engine, e.EngineVersion, e.StepOverheadMS, e.SeqOverheadUS, e.MoEEfficiency)
		for _, k := range sortedKeys(e.Links) {
			l := e.Links[k]
			fmt.Fprintf(&b, "; %s all-reduce at %.2f (prompt tokens) and %.2f (decode tokens) of the link's one-way bandwidth plus %g µs per call", k, l.Efficiency, l.DecodeEfficiency, l.AllReduceLatencyUS)
		}
		b.WriteString(". docs/perf.md explains each factor.\n\n")
	}
	fmt.Fprintf(&b, "**Output tokens/s, in sample: median |error| %.1f%%, p90 %.1f%%, max %.1f%% (n = %.0f).**\n\n", all.median, all.p90, all.max, all.n)
	fmt.Fprintf(&b, "**Held out by model (fit without the model, predict its rows): median |error| %.1f%%, p90 %.1f%%, max %.1f%%.** ", hm.median, hm.p90, hm.max)
	fmt.Fprintf(&b, "**Held out by GPU (fit without the GPU type, predict it as an uncalibrated GPU from the others' factors and its own datasheet and measured rates): median %.1f%%, p90 %.1f%%, max %.1f%%.**\n\n", hg.median, hg.p90, hg.max)
	b.WriteString("| subset | n | median in sample | p90 in sample | median held out by model | median held out by GPU | within band |\n|---|---|---|---|---|---|---|\n")
	group := func(name string, keep func(Point) bool) {
		var in, m, g []row
		within := 0
		for _, r := range rows {
			if keep(r.p) {
				in = append(in, r)
				if r.meas >= r.low && r.meas <= r.high {
					within++
				}
			}
		}
		for _, r := range byModel {
			if keep(r.p) {
				m = append(m, r)
			}
		}
		for _, r := range byGPU {
			if keep(r.p) {
				g = append(g, r)
			}
		}
		si, sm, sg := statsOf(in), statsOf(m), statsOf(g)
		fmt.Fprintf(&b, "| %s | %.0f | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %d of %d |\n", name, si.n, si.median, si.p90, sm.median, sg.median, within, len(in))
	}
	group("all", func(Point) bool { return true })
	gpus, models := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		gpus[r.p.GPU], models[r.p.Model] = true, true
	}
	for _, g := range sortedKeys(gpus) {
		g := g
		group(g, func(p Point) bool { return p.GPU == g })
	}
	for _, m := range sortedKeys(models) {
		m := m
		group(m, func(p Point) bool { return p.Model == m })
	}
	b.WriteString("\n| model | GPU | TP | input/output | measured tok/s | predicted tok/s | error | held out by model | bottleneck |\n|---|---|---|---|---|---|---|---|---|\n")
	held := map[string]row{}
	for _, r := range byModel {
		held[r.p.Key()] = r
	}
	sorted := append([]row(nil), rows...)
	slices.SortStableFunc(sorted, func(x, y row) int {
		a, c := x.p, y.p
		return cmp.Or(strings.Compare(a.Model, c.Model), strings.Compare(a.GPU, c.GPU), cmp.Compare(a.TP, c.TP),
			cmp.Compare(a.InputTokens, c.InputTokens), cmp.Compare(a.OutputTokens, c.OutputTokens))
	})
	for _, r := range sorted {
		fmt.Fprintf(&b, "| %s | %s | %d | %d/%d | %.0f | %.0f | %+.1f%% | %+.1f%% | %s |\n", r.p.Model, r.p.GPU, r.p.TP, r.p.InputTokens, r.p.OutputTokens,
			r.meas, r.pred, r.err*100, held[r.p.Key()].err*100, r.bottleneck)
	}
	b.WriteString("\n### Other TensorRT-LLM tables (not fitted)\n\n")
	b.WriteString("The v0.14.0 online-serving table (Triton backend, 500 requests, BF16, H100 80GB, Poisson-like offered rate; \"INF\" = all at once) predicted with the v0.17 factors (another version: the prediction is marked uncalibrated). Metric: mean TTFT, mean ITL and output tokens/s at the offered rate. The engine's batch settings for these runs are not published; the same trtllm-bench sizing rule is assumed, which is why the INF rows, limited in reality by a smaller batch, are over-predicted. \"saturated\" means the model says the rate exceeds capacity.\n\n")
	b.WriteString("| model | TP | input/output | load | TTFT meas / pred ms | ITL meas / pred ms | output tok/s meas / pred |\n|---|---|---|---|---|---|---|\n")
	var ttftE, itlE, outE []float64
	for _, o := range other.online {
		name := "Llama-3.1-8B"
		if strings.Contains(o.r.Model, "70B") {
			name = "Llama-3.1-70B"
		}
		pred := func(v float64) string {
			if o.saturated {
				return "saturated"
			}
			return fmt.Sprintf("%.1f", v)
		}
		fmt.Fprintf(&b, "| %s | %d | %d/%d | %s | %.0f / %s | %.0f / %s | %.0f / %.0f |\n", name, o.r.TP, o.r.ISL, o.r.OSL, o.load, o.ttftM, pred(o.ttftP), o.itlM, pred(o.itlP), o.outM, o.outP)
		if o.load != "INF" && !o.saturated {
			ttftE = append(ttftE, math.Abs(o.ttftP-o.ttftM)/o.ttftM*100)
			itlE = append(itlE, math.Abs(o.itlP-o.itlM)/o.itlM*100)
			outE = append(outE, math.Abs(o.outP-o.outM)/o.outM*100)
		}
	}
	fmt.Fprintf(&b, "\n**Online rows below saturation (n = %d): median |error| of mean ITL %.1f%%, of mean TTFT %.1f%%, of output tokens/s %.1f%%.** The measured TTFT includes the Triton front end and streaming, which the model does not.\n\n",
		len(itlE), stats.Median(itlE), stats.Median(ttftE), stats.Median(outE))
	b.WriteString("Not evaluated (models not in the catalog: the v0.5/v0.6.1 tables use Llama 2, GPT-J and Falcon):\n\n")
	for _, s := range other.skipped {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	return b.String()
}
