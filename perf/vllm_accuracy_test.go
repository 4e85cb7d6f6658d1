package perf

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/internal/golden"
	"github.com/gpuplan/gpuplan/stats"
)

// servingRow is one online stage's prediction against its measurement.
type servingRow struct {
	p                 Point
	ttft, tpot, e2e   float64 // predicted means, ms (0 when saturated)
	saturated         bool
	errTTFT, errTPOT  float64 // (pred − meas) / meas
	errE2E            float64
	heldTTFT, heldTPO float64
	heldE2E           float64
	heldSaturated     bool
	uncal             servingPred
	sim               servingPred
}

type servingPred struct {
	ttft, tpot, e2e float64
	saturated       bool
}

func onlinePoints(pts []Point, engine string) []Point {
	var out []Point
	for _, p := range pts {
		if p.Engine == engine && p.LoadKind() != LoadMax {
			out = append(out, p)
		}
	}
	return out
}

// servingDeployment prepares a stage's deployment under cal's factors.
func servingDeployment(t testing.TB, p Point, cal *Calibration) *Deployment {
	t.Helper()
	fp, f := preparedWith(t, p, cal)
	return &Deployment{r: Request{Workload: fp.w}, d: fp.dep, f: f}
}

func predictServing(t testing.TB, p Point, cal *Calibration) servingPred {
	t.Helper()
	dep := servingDeployment(t, p, cal)
	e := dep.d.solve(dep.f, dep.r.Workload)
	return servingPred{ttft: e.TTFT.Mean, tpot: e.TPOT.Mean, e2e: e.E2E.Mean, saturated: e.Saturated}
}

// simulateServing replays a stage in the simulation: constant arrivals at
// the stage's rate (inference-perf's constant load), 3,000 requests.
func simulateServing(t testing.TB, p Point, cal *Calibration) servingPred {
	t.Helper()
	s, err := servingDeployment(t, p, cal).Simulate(Workload{RPS: p.RPS}, SimConfig{Requests: 3000, Seed: 1, Arrival: ArrivalConstant, NoSustainable: true})
	if err != nil {
		t.Fatal(err)
	}
	return servingPred{ttft: s.TTFT.Mean, tpot: s.TPOT.Mean, e2e: s.E2E.Mean, saturated: s.Saturated}
}

func relErr(pred, meas float64) float64 { return (pred - meas) / meas }

// TestVLLMServingAccuracy gates vLLM's calibration on the development runs
// (vLLM 0.15.1 on H100, data/vllm-0.15.1-h100-serving.json): over the
// stages the server kept up with, the median |error| of mean TTFT, mean
// TPOT and mean E2E must be ≤ 15% in sample and ≤ 20% held out by model
// (fit on the other three models, predict the fourth), no kept-up stage
// may be called saturated and every stage that did not keep up must be.
// It keeps docs/accuracy.md's vLLM section equal to what the code says.
func TestVLLMServingAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("refits the model for the held-out figures")
	}
	cal := Embedded()
	pts := onlinePoints(cal.Points, "vllm")
	if len(pts) != 24 {
		t.Fatalf("%d vLLM stages embedded, want the 24 of the 16 development runs", len(pts))
	}
	// Without vLLM factors: what an uncalibrated engine gets (the
	// TensorRT-LLM v0.17 factors), for comparison.
	trt := fittedFactorsOf("trtllm")

	held := map[string]servingPred{}
	leaveOneOut(t, pts, func(p Point) string { return p.Model }, func(ps []Point, hc *Calibration) {
		for _, p := range ps {
			held[p.Key()] = predictServing(t, p, hc)
		}
	})
	var rows []servingRow
	for _, p := range pts {
		in := predictServing(t, p, cal)
		h := held[p.Key()]
		r := servingRow{p: p, ttft: in.ttft, tpot: in.tpot, e2e: in.e2e, saturated: in.saturated, uncal: predictServing(t, p, trt), heldSaturated: h.saturated,
			sim: simulateServing(t, p, cal)}
		if !in.saturated {
			r.errTTFT, r.errTPOT, r.errE2E = relErr(in.ttft, p.TTFT.Mean), relErr(in.tpot, p.TPOT.Mean), relErr(in.e2e, p.E2E.Mean)
		}
		if !h.saturated {
			r.heldTTFT, r.heldTPO, r.heldE2E = relErr(h.ttft, p.TTFT.Mean), relErr(h.tpot, p.TPOT.Mean), relErr(h.e2e, p.E2E.Mean)
		}
		rows = append(rows, r)
	}
	sum := summarizeServing(rows)
	for _, m := range []string{"TTFT", "TPOT", "E2E"} {
		if v := sum.in[m]; v > 15 {
			t.Errorf("vLLM in sample: median |error| of mean %s %.1f%% > 15%%", m, v)
		}
		if v := sum.held[m]; v > 20 {
			t.Errorf("vLLM held out by model: median |error| of mean %s %.1f%% > 20%%", m, v)
		}
	}
	if sum.falseSat > 0 || sum.heldFalseSat > 0 {
		t.Errorf("%d kept-up stages predicted saturated in sample, %d held out", sum.falseSat, sum.heldFalseSat)
	}
	if sum.missedSat > 0 {
		t.Errorf("%d stages that did not keep up predicted as served", sum.missedSat)
	}
	for _, m := range []string{"TTFT", "TPOT", "E2E"} {
		if v := sum.sim[m]; v > 15 {
			t.Errorf("vLLM simulated: median |error| of mean %s %.1f%% > 15%%", m, v)
		}
	}
	if sum.simFalseSat > 0 || sum.simMissedSat > 0 {
		t.Errorf("simulation: %d kept-up stages saturated, %d stages that did not keep up served", sum.simFalseSat, sum.simMissedSat)
	}
	t.Logf("in sample %v, held out %v, uncalibrated %v", sum.in, sum.held, sum.uncal)
	golden.Section(t, "../docs/accuracy.md", "perf-vllm", servingSection(rows, sum), *update)
}

type servingSummary struct {
	in, held, uncal, sim                  map[string]float64
	simFalseSat, simMissedSat             int
	falseSat, heldFalseSat, uncalFalseSat int
	missedSat, kept                       int
}

func summarizeServing(rows []servingRow) servingSummary {
	s := servingSummary{in: map[string]float64{}, held: map[string]float64{}, uncal: map[string]float64{}, sim: map[string]float64{}}
	var in, held, uncal, sim [3][]float64
	for _, r := range rows {
		if !r.p.KeptUp() {
			if !r.saturated {
				s.missedSat++
			}
			if !r.sim.saturated {
				s.simMissedSat++
			}
			continue
		}
		if r.sim.saturated {
			s.simFalseSat++
		} else {
			sim[0] = append(sim[0], math.Abs(relErr(r.sim.ttft, r.p.TTFT.Mean))*100)
			sim[1] = append(sim[1], math.Abs(relErr(r.sim.tpot, r.p.TPOT.Mean))*100)
			sim[2] = append(sim[2], math.Abs(relErr(r.sim.e2e, r.p.E2E.Mean))*100)
		}
		s.kept++
		if r.saturated {
			s.falseSat++
		} else {
			in[0], in[1], in[2] = append(in[0], math.Abs(r.errTTFT)*100), append(in[1], math.Abs(r.errTPOT)*100), append(in[2], math.Abs(r.errE2E)*100)
		}
		if r.heldSaturated {
			s.heldFalseSat++
		} else {
			held[0], held[1], held[2] = append(held[0], math.Abs(r.heldTTFT)*100), append(held[1], math.Abs(r.heldTPO)*100), append(held[2], math.Abs(r.heldE2E)*100)
		}
		if r.uncal.saturated {
			s.uncalFalseSat++
		} else {
			uncal[0] = append(uncal[0], math.Abs(relErr(r.uncal.ttft, r.p.TTFT.Mean))*100)
			uncal[1] = append(uncal[1], math.Abs(relErr(r.uncal.tpot, r.p.TPOT.Mean))*100)
			uncal[2] = append(uncal[2], math.Abs(relErr(r.uncal.e2e, r.p.E2E.Mean))*100)
		}
	}
	for i, m := range []string{"TTFT", "TPOT", "E2E"} {
		s.in[m], s.held[m], s.uncal[m], s.sim[m] = medianOr0(in[i]), medianOr0(held[i]), medianOr0(uncal[i]), medianOr0(sim[i])
	}
	return s
}

func medianOr0(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return stats.Median(xs)
}

func shortModel(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 {
		return id[i+1:]
	}
	return id
}

func servingSection(rows []servingRow, s servingSummary) string {
	var b bytes.Buffer
	b.WriteString("Fit set: 24 constant-rate stages of 16 public vLLM 0.15.1 runs on H100 (`perf/data/vllm-0.15.1-h100-serving.json`, from inference-sim/training's `default_args/`, each stage linked): Llama-2-7B TP1, CodeLlama-34B TP2, Llama-2-70B TP4 and Mixtral-8x7B TP2 under four shared-prefix workloads, server limits max_num_seqs 128 and max_num_batched_tokens 2048. A stage kept up when it completed at least 95% of the offered rate; the four reasoning stages (1,448-token outputs at 4 req/s) did not, and are left out of the fit. Metrics: mean TTFT, mean TPOT ((E2E − TTFT) ÷ (output − 1): inference-perf's own ITL counts stream chunks, about two per token) and mean E2E. ")
	for _, e := range fittedEngineFactors {
		if e.Engine != "vllm" {
			continue
		}
		fmt.Fprintf(&b, "Engine %s@%s: iteration overhead %.2g ms, %.2g µs per sequence per iteration, MoE kernels at %.2f of the dense rate, %.2g ms per request outside the iterations, first token handed over %.2g iterations after the prefill (half an iteration less for a lone user, who finds the engine idle)", e.Engine, e.EngineVersion, e.StepOverheadMS, e.SeqOverheadUS, e.MoEEfficiency, e.RequestOverheadMS, e.FirstTokenIterations)
		for _, k := range sortedKeys(e.Links) {
			l := e.Links[k]
			fmt.Fprintf(&b, "; %s all-reduce %g µs per call plus %.2g µs per peer GPU (up to %d peers, the widest group fitted), decode tokens at %.2f of the link", k, l.AllReduceLatencyUS, l.PeerLatencyUS, peerLatencyMaxPeers, l.DecodeEfficiency)
		}
		b.WriteString(".")
	}
	for _, g := range fittedGPUFactors {
		if g.Engine == "vllm" {
			fmt.Fprintf(&b, " %s: bandwidth efficiency %.2f, compute efficiency %.2f (not constrained by these runs: their prompts are served from the prefix cache), band %.2f–%.2f.", g.GPU, g.BandwidthEfficiency, g.ComputeEfficiency, g.BandLow, g.BandHigh)
		}
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "**Stages that kept up (n = %d), median |error| in sample: TTFT %.1f%%, TPOT %.1f%%, E2E %.1f%%; held out by model: TTFT %.1f%%, TPOT %.1f%%, E2E %.1f%%. Kept-up stages called saturated: %d in sample, %d held out; stages that did not keep up called served: %d.**\n\n",
		s.kept, s.in["TTFT"], s.in["TPOT"], s.in["E2E"], s.held["TTFT"], s.held["TPOT"], s.held["E2E"], s.falseSat, s.heldFalseSat, s.missedSat)
	fmt.Fprintf(&b, "**Simulated (`perf --simulate`: 3,000 requests at the stage's constant rate, the same factors): TTFT %.1f%%, TPOT %.1f%%, E2E %.1f%%; kept-up stages called saturated: %d; stages that did not keep up called served: %d.**\n\n",
		s.sim["TTFT"], s.sim["TPOT"], s.sim["E2E"], s.simFalseSat, s.simMissedSat)
	fmt.Fprintf(&b, "Without vLLM factors (the TensorRT-LLM v0.17 factors every uncalibrated engine falls back to, which is what `--engine vllm` used before): TTFT %.1f%%, TPOT %.1f%%, E2E %.1f%%, %d kept-up stages called saturated.\n\n", s.uncal["TTFT"], s.uncal["TPOT"], s.uncal["E2E"], s.uncalFalseSat)
	b.WriteString("| engine | model | TP | n | TTFT in / held out | TPOT in / held out | E2E in / held out |\n|---|---|---|---|---|---|---|\n")
	groups := map[string][]servingRow{}
	for _, r := range rows {
		if r.p.KeptUp() {
			k := r.p.Engine + "@" + r.p.EngineVersion + "|" + r.p.Model + "|" + fmt.Sprint(r.p.TP)
			groups[k] = append(groups[k], r)
		}
	}
	for _, k := range sortedKeys(groups) {
		g := groups[k]
		med := func(f func(servingRow) float64) float64 {
			var xs []float64
			for _, r := range g {
				xs = append(xs, math.Abs(f(r))*100)
			}
			return medianOr0(xs)
		}
		parts := strings.Split(k, "|")
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %.1f%% / %.1f%% | %.1f%% / %.1f%% | %.1f%% / %.1f%% |\n", parts[0], shortModel(parts[1]), parts[2], len(g),
			med(func(r servingRow) float64 { return r.errTTFT }), med(func(r servingRow) float64 { return r.heldTTFT }),
			med(func(r servingRow) float64 { return r.errTPOT }), med(func(r servingRow) float64 { return r.heldTPO }),
			med(func(r servingRow) float64 { return r.errE2E }), med(func(r servingRow) float64 { return r.heldE2E }))
	}
	b.WriteString("\n| model | TP | input/output | offered req/s | kept up | TTFT ms meas / pred / sim | TPOT ms meas / pred / sim | E2E ms meas / pred / sim | held out E2E |\n|---|---|---|---|---|---|---|---|---|\n")
	sorted := append([]servingRow(nil), rows...)
	slices.SortStableFunc(sorted, func(x, y servingRow) int {
		a, c := x.p, y.p
		return cmp.Or(strings.Compare(a.Model, c.Model), cmp.Compare(a.InputTokens, c.InputTokens), cmp.Compare(a.RPS, c.RPS))
	})
	for _, r := range sorted {
		pred := func(v float64, sat bool, format string) string {
			if sat {
				return "saturated"
			}
			return fmt.Sprintf(format, v)
		}
		heldE := "saturated"
		if !r.heldSaturated {
			heldE = fmt.Sprintf("%+.1f%%", r.heldE2E*100)
		}
		kept := "yes"
		if !r.p.KeptUp() {
			kept = fmt.Sprintf("no (%.2f)", r.p.RequestsPerS)
		}
		fmt.Fprintf(&b, "| [%s](%s) | %d | %d/%d | %g | %s | %.1f / %s / %s | %.2f / %s / %s | %.0f / %s / %s | %s |\n", shortModel(r.p.Model), r.p.Source, r.p.TP, r.p.InputTokens, r.p.OutputTokens, r.p.RPS, kept,
			r.p.TTFT.Mean, pred(r.ttft, r.saturated, "%.1f"), pred(r.sim.ttft, r.sim.saturated, "%.1f"),
			r.p.TPOT.Mean, pred(r.tpot, r.saturated, "%.2f"), pred(r.sim.tpot, r.sim.saturated, "%.2f"),
			r.p.E2E.Mean, pred(r.e2e, r.saturated, "%.0f"), pred(r.sim.e2e, r.sim.saturated, "%.0f"), heldE)
	}
	return b.String()
}

// dashboardRecord is a record of testdata/vllm-perf-dashboard-h200.json.
type dashboardRecord struct {
	Test         string  `json:"test"`
	Model        string  `json:"model"`
	GPU          string  `json:"gpu"`
	TP           int     `json:"tp"`
	Batch        int     `json:"batch"`
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	MeanMS       float64 `json:"mean_ms"`
}

// TestVLLMDashboardLatency predicts vLLM's own latency benchmark (a static
// batch of 8 requests, offline, on H200: a GPU the vLLM factors were not
// fitted on) with the simulation, without the online per-request costs
// (no HTTP server in `vllm bench latency`). Reported in docs/accuracy.md;
// it fails beyond 25%, a regression guard rather than a target.
func TestVLLMDashboardLatency(t *testing.T) {
	var doc struct {
		Description string            `json:"description"`
		Source      string            `json:"source"`
		Records     []dashboardRecord `json:"records"`
	}
	readTestdata(t, "vllm-perf-dashboard-h200.json", &doc)
	cal := Embedded()
	var out bytes.Buffer
	out.WriteString("Held out (not fitted): " + doc.Description + " Predicted with the embedded vLLM factors (uncalibrated on H200: the H100 factors applied to the H200's own rates) by simulating the 8 requests arriving at once; the online per-request cost and first-token hand-off are left out. Source: " + doc.Source + "\n\n")
	out.WriteString("| test | model | TP | batch × input/output | measured mean ms | predicted ms | error |\n|---|---|---|---|---|---|---|\n")
	for _, r := range doc.Records {
		p := Point{Model: r.Model, GPU: r.GPU, TP: r.TP, Engine: "vllm", EngineVersion: "0.15.1", InputTokens: r.InputTokens, OutputTokens: r.OutputTokens,
			Concurrency: r.Batch, Source: doc.Source, E2E: &Latency{Mean: r.MeanMS},
			OutputTokensPerS: float64(r.Batch*r.OutputTokens) / (r.MeanMS / 1e3)}
		if err := p.validate(); err != nil {
			t.Fatal(err)
		}
		fp, f := preparedWith(t, p, cal)
		rt := fp.dep.rates(f)
		rt.request, rt.firstIt = 0, 0 // offline: no API server
		s := newSim(fp.dep, rt, SimConfig{Seed: 1})
		reqs := make([]simReq, r.Batch)
		for i := range reqs {
			reqs[i] = simReq{in: r.InputTokens, out: r.OutputTokens, user: -1}
		}
		res := s.run(reqs, 0, 0)
		pred := res.DurationS * 1e3
		e := relErr(pred, r.MeanMS)
		fmt.Fprintf(&out, "| %s | %s | %d | %d × %d/%d | %.0f | %.0f | %+.1f%% |\n", r.Test, shortModel(r.Model), r.TP, r.Batch, r.InputTokens, r.OutputTokens, r.MeanMS, pred, e*100)
		if math.Abs(e) > 0.25 {
			t.Errorf("%s: predicted %.0f ms, measured %.0f ms (%+.0f%%)", r.Test, pred, r.MeanMS, e*100)
		}
	}
	golden.Section(t, "../docs/accuracy.md", "perf-vllm-dashboard", out.String(), *update)
}

// fittedFactorsOf is a calibration holding only engine's embedded fitted
// GPU and engine factors (cloned, so a test may not alter the embedded
// ones): what another engine gets when it borrows them.
func fittedFactorsOf(engine string) *Calibration {
	c := &Calibration{SchemaVersion: CalibrationSchemaVersion}
	for _, g := range fittedGPUFactors {
		if g.Engine == engine {
			c.GPUFactors = append(c.GPUFactors, g)
		}
	}
	for _, e := range fittedEngineFactors {
		if e.Engine == engine {
			c.EngineFactors = append(c.EngineFactors, e)
		}
	}
	c.EngineFactors = cloneEngineFactors(c.EngineFactors)
	c.buildIndex()
	return c
}

// preparedWith prepares p as the fit does and resolves cal's factors for
// its GPU, engine and version; a point that cannot be prepared fails t.
func preparedWith(t testing.TB, p Point, cal *Calibration) (fitPoint, resolvedFactors) {
	t.Helper()
	fp, err := preparePoint(p, fitOptions(t))
	if err != nil {
		t.Fatalf("%s: %v", p.Key(), err)
	}
	f, err := cal.resolve(fp.dep.gpu.ID, p.Engine, p.EngineVersion)
	if err != nil {
		t.Fatal(err)
	}
	return fp, f
}
