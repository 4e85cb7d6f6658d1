package perf

import (
	"fmt"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
)

// setup is the ReportSetup of r as the engine resolved it in e: the GPU
// count, engine version and precision come from the prediction.
func (r Request) setup(e Estimate) ReportSetup {
	return ReportSetup{Model: r.Model.ID, GPU: r.GPU.ID, GPUs: e.GPUs, TP: max(r.TP, 1), PP: max(r.PP, 1),
		Engine: e.Factors.Engine + "@" + e.Factors.EngineVersion, Precision: e.Precision}
}

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
		ReportSetup: r.setup(first), KVDType: first.KVDType,
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
	out := SimReport{ReportSetup: r.setup(e),
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

// CPUReportRequest is a llama.cpp run on a CPU host to report on: the
// model at one precision, the request shape and the concurrency levels,
// and optionally a calibration (CalibrationName names it in the note).
type CPUReportRequest struct {
	Model                     *model.Spec
	Precision                 dtype.Precision
	Host                      CPUHost
	InputTokens, OutputTokens int
	Concurrency               []int
	Calibration               *Calibration
	CalibrationName           string
}

// NewCPUReport predicts llama.cpp's speed on r.Host at each concurrency
// and whether the weights and the KV cache of the largest level fit its
// memory. A calibration without llama.cpp points on the host, or a
// model the precision cannot size, is an error wrapping ErrInvalid.
func NewCPUReport(r CPUReportRequest) (CPUReport, error) {
	w, err := memory.EstimateWeights(r.Model, r.Precision, 1, 1)
	if err != nil {
		return CPUReport{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	host := r.Host
	out := CPUReport{Model: r.Model.ID, Precision: r.Precision.Name, WeightBytes: int64(w.Total), Params: r.Model.Params().Total,
		KVPerToken: LlamaCPPKVBytesPerToken(r.Model), InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, Host: host}
	tgt := CPUTarget{Name: host.Name, Speed: host.Speed, Cores: host.Cores, BandwidthGBPerS: host.Bandwidth.GBPerS}
	if r.Calibration != nil {
		var n int
		tgt, n = CalibrateCPU(tgt, CPUWorkload{WeightBytes: float64(w.Total), Params: float64(out.Params), KVBytesPerToken: float64(out.KVPerToken)}, r.Calibration.Points)
		if n == 0 {
			return CPUReport{}, fmt.Errorf("%w: --calibration %s has no llamacpp points measured on %s (bench --write-calibration with --gpu %q --engine llamacpp@VERSION)", ErrInvalid, r.CalibrationName, host.Name, host.Name)
		}
		out.Notes = append(out.Notes, fmt.Sprintf("calibrated on %d points from %s: decode × %.2f, prefill × %.2f of the uncalibrated prediction", n, r.CalibrationName, tgt.DecodeFactor, tgt.PrefillFactor))
	}
	var maxConc int
	for _, c := range r.Concurrency {
		e, err := EstimateCPU(tgt, CPUWorkload{WeightBytes: float64(w.Total), Params: float64(out.Params),
			KVBytesPerToken: float64(out.KVPerToken), InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, Concurrency: c})
		if err != nil {
			return CPUReport{}, err
		}
		out.Rows = append(out.Rows, CPUReportRow{Concurrency: c, CPUEstimate: e})
		out.Assumptions = e.Assumptions
		maxConc = max(maxConc, c)
	}
	out.Assumptions = append(out.Assumptions, "bandwidth "+host.Bandwidth.Kind+": "+host.Bandwidth.Basis)
	need := float64(w.Total) + float64(maxConc)*float64(r.InputTokens+r.OutputTokens)*float64(out.KVPerToken)
	out.Fits = host.MemoryGiB == 0 || need < host.MemoryGiB*(1<<30)
	if !out.Fits {
		out.Notes = append(out.Notes, fmt.Sprintf("weights and KV (%.2f GiB) exceed %s's %.0f GiB of memory", need/(1<<30), host.Name, host.MemoryGiB))
	}
	return out, nil
}

// LlamaCPPKVBytesPerToken is the f16 K and V cache per token of context
// over all layers (llama.cpp's default cache type).
func LlamaCPPKVBytesPerToken(s *model.Spec) int64 {
	var elems int64
	for _, l := range s.KVLayers() {
		elems += l.ElementsPerToken()
	}
	return elems * 2
}
