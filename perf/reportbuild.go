package perf

import (
	"fmt"
)

// NewReport is the steady-state report of r at its loads: the rows
// PredictLoads gave, the setup echoed from r and from the first row (what
// the engine resolved: GPUs, precision, KV dtype, version) and notes. The
// cold start, when asked for, is the caller's to add (it depends on the
// weight source it was told).
func NewReport(r Request, rows []Estimate, notes []string) (Report, error) {
	if len(rows) == 0 {
		return Report{}, fmt.Errorf("%w: no load levels to report", ErrInvalid)
	}
	first := rows[0]
	out := Report{
		Model: r.Model.ID, GPU: r.GPU.ID, GPUs: first.GPUs, TP: max(r.TP, 1), PP: max(r.PP, 1),
		Engine:    first.Factors.Engine + "@" + first.Factors.EngineVersion,
		Precision: first.Precision, KVDType: first.KVDType,
		InputTokens: r.Workload.InputTokens, OutputTokens: r.Workload.OutputTokens, CacheRate: r.Workload.CacheRate,
		Calibrated: first.Calibrated, Rows: rows, Notes: notes,
		EP: r.EP, DPAttention: r.DPAttention, Speculative: r.Speculative,
	}
	if r.Fabric != nil {
		out.VM = r.Fabric.VM
	}
	return out, nil
}

// simulatedNote says what a simulated report is (docs/perf.md,
// "Simulation").
const simulatedNote = "simulated request by request: continuous batching with chunked prefill within the token budget, the sequence limit, KV admission and recompute preemption, prefix-cache hits; each iteration costs what the calibrated step model says (docs/perf.md, \"Simulation\")"

// NewSimReport simulates r's deployment d (Prepare(r)) at each load with
// cfg and reports the results with the setup echoed and notes; a trace
// (cfg.Trace) is one run, at the first load. Errors wrap ErrInvalid for
// a load or configuration the simulation refuses.
func NewSimReport(r Request, d *Deployment, loads []Workload, cfg SimConfig, notes []string) (SimReport, error) {
	if len(cfg.Trace) > 0 && len(loads) > 1 {
		loads = loads[:1]
	}
	e, err := d.Predict(Workload{Concurrency: 1})
	if err != nil {
		return SimReport{}, err
	}
	out := SimReport{Model: r.Model.ID, GPU: r.GPU.ID, GPUs: e.GPUs, TP: max(r.TP, 1), PP: max(r.PP, 1),
		Engine: e.Factors.Engine + "@" + e.Factors.EngineVersion, Precision: e.Precision,
		InputTokens: r.Workload.InputTokens, OutputTokens: r.Workload.OutputTokens, CacheRate: r.Workload.CacheRate,
		Calibrated: e.Calibrated, SLO: cfg.SLO, Notes: notes}
	for _, w := range loads {
		res, err := d.Simulate(w, cfg)
		if err != nil {
			return SimReport{}, err
		}
		out.Rows = append(out.Rows, res)
	}
	if closedLoopFixed(loads, cfg) {
		pop := d.Population(SimConfig{})
		out.Notes = append(out.Notes, fmt.Sprintf("closed loop of identical requests: users whose requests match token for token lock into waves, so TTFT depends on --requests; a population's spread keeps them apart (--length-distribution uniform --input-tokens-stddev %.0f --output-tokens-stddev %.0f is what plan simulates; docs/perf.md, \"Simulation\")", pop.InputStddev, pop.OutputStdev))
	}
	out.Notes = append(out.Notes, simulatedNote)
	return out, nil
}

// closedLoopFixed reports whether a closed-loop load runs identical
// requests (fixed lengths, no trace).
func closedLoopFixed(loads []Workload, cfg SimConfig) bool {
	if len(cfg.Trace) > 0 || (cfg.Lengths != "" && cfg.Lengths != LengthFixed) {
		return false
	}
	for _, w := range loads {
		if w.Load() == LoadConcurrency {
			return true
		}
	}
	return false
}
