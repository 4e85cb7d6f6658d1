package perf

import (
	"fmt"
	"math"
)

// CPU inference speed for llama.cpp-class engines (llama.cpp, Ollama).
//
// Decode: every step reads all weights once plus each sequence's KV
// cache, so a step takes (weight bytes + batch × context × KV bytes per
// token) / (memory bandwidth × efficiency), plus the step's arithmetic
// (2 × params FLOPs per sequence) at the cores' matrix-vector rate, plus a
// fixed per-step cost (thread synchronisation across the layers). llama.cpp
// batches the active slots' next tokens into one step (llama-server /
// Ollama --parallel), so tokens/s = batch / step time.
//
// Prefill: a micro-batch is a matrix-matrix product at the ISA's matrix
// rate: 2 × params FLOPs per prompt token over cores × per-core rate.
// llama.cpp runs one thread per physical core (llama-bench -t, Ollama's
// GetOptimalThreadCount), so SMT threads add nothing.
//
// The per-CPU figures are fitted on published llama-bench runs on Azure VM
// sizes (Spare Cores inspector data, llama.cpp b4753, Q4_K_M; the rows
// used are in testdata/cpu-llm-sparecores.json under CC BY-SA 4.0) and
// are labelled as fitted: bandwidth efficiency is relative to the
// sc-membench read bandwidth of the same size, which llama.cpp can exceed
// (the membench figure is a sum of per-thread reads of private buffers).

// CPUSpeed are the fitted llama.cpp rates of one CPU model.
type CPUSpeed struct {
	CPU string `json:"cpu"`
	// BandwidthEfficiency is decode's achieved fraction of the measured
	// read bandwidth (weights + KV bytes per step).
	BandwidthEfficiency float64 `json:"bandwidth_efficiency"`
	// DecodeGFLOPSPerCore is the matrix-vector rate per physical core on
	// quantized weights (dequantise + dot).
	DecodeGFLOPSPerCore float64 `json:"decode_gflops_per_core"`
	// PrefillGFLOPSPerCore is the matrix-matrix rate per physical core.
	PrefillGFLOPSPerCore float64 `json:"prefill_gflops_per_core"`
	// Basis says where the figures come from (fitted rows, or which chip's
	// fit stands in as an estimate).
	Basis string `json:"basis"`
}

// CPUStepOverheadSeconds is the fixed cost of one decode step (fitted
// with the per-CPU figures; llama.cpp synchronises its threads after every
// graph node).
const CPUStepOverheadSeconds = 0.004

const sparecoresBasis = "fitted on Spare Cores llama-bench (b4753, Q4_K_M) rows of Azure sizes with this CPU"

// cpuSpeeds are fitted per CPU id of the hardware CPU catalog (grid search
// minimising the median relative error of tg and pp separately; see
// TestCPUSpeedAccuracy for the resulting errors).
var cpuSpeeds = map[string]CPUSpeed{
	"epyc-7763":    {"epyc-7763", 1.20, 80, 60.0, sparecoresBasis},
	"epyc-9v74":    {"epyc-9v74", 1.20, 120, 72.5, sparecoresBasis},
	"epyc-9v45":    {"epyc-9v45", 1.15, 160, 85.0, sparecoresBasis},
	"xeon-8370c":   {"xeon-8370c", 0.65, 200, 52.5, sparecoresBasis},
	"xeon-8573c":   {"xeon-8573c", 0.75, 80, 167.5, sparecoresBasis},
	"xeon-6973p-c": {"xeon-6973p-c", 1.25, 60, 210.0, sparecoresBasis},
	"cobalt-100":   {"cobalt-100", 0.80, 20, 22.5, sparecoresBasis},
	// No llama.cpp measurements on HBv4/HBv5: the Genoa fit stands in.
	"epyc-9v33x": {"epyc-9v33x", 1.20, 120, 72.5, "estimate: epyc-9v74 (same Zen 4 cores) fit; no llama.cpp measurement on HBv4"},
	"epyc-9v64h": {"epyc-9v64h", 1.20, 120, 72.5, "estimate: epyc-9v74 (Zen 4 class) fit; no llama.cpp measurement on HBv5"},
}

// LookupCPUSpeed returns the fitted rates of a CPU id.
func LookupCPUSpeed(cpu string) (CPUSpeed, bool) {
	s, ok := cpuSpeeds[cpu]
	return s, ok
}

// CPUTarget is the machine a CPU estimate is for.
type CPUTarget struct {
	// Name is the VM size or host name.
	Name  string
	Speed CPUSpeed
	// Cores is the physical cores llama.cpp runs threads on.
	Cores int
	// BandwidthGBPerS is the memory read bandwidth (decimal GB/s).
	BandwidthGBPerS float64
}

// CPUWorkload is what runs on it.
type CPUWorkload struct {
	// WeightBytes are the stored weights read per decode step; Params the
	// parameter count (2 FLOPs each per token).
	WeightBytes, Params float64
	// KVBytesPerToken is the cache per token of context (all layers).
	KVBytesPerToken float64
	// InputTokens and OutputTokens per request; Concurrency is the number
	// of requests decoding together (llama.cpp slots).
	InputTokens, OutputTokens, Concurrency int
}

// CPUEstimate is the predicted speed.
type CPUEstimate struct {
	// PrefillTokensPerS is prompt tokens per second for one request.
	PrefillTokensPerS float64 `json:"prefill_tokens_per_s"`
	// DecodeStepSeconds is one decode step for Concurrency sequences at
	// the mean context (input + output/2); TPOT equals it.
	DecodeStepSeconds float64 `json:"decode_step_seconds"`
	// DecodeTokensPerS is per sequence; AggregateTokensPerS all of them.
	DecodeTokensPerS    float64 `json:"decode_tokens_per_s"`
	AggregateTokensPerS float64 `json:"aggregate_tokens_per_s"`
	// TTFTSeconds is the prompt's prefill (requests arriving together
	// are prefilled one after another in llama.cpp's slots: the last waits
	// for all, reported here as the mean).
	TTFTSeconds float64 `json:"ttft_seconds"`
	// Bottleneck of the decode step: "memory bandwidth" or "compute".
	Bottleneck  string   `json:"bottleneck"`
	Assumptions []string `json:"assumptions"`
}

// EstimateCPU predicts llama.cpp speed on a CPU.
func EstimateCPU(t CPUTarget, w CPUWorkload) (CPUEstimate, error) {
	if t.Cores < 1 || t.BandwidthGBPerS <= 0 || t.Speed.BandwidthEfficiency <= 0 || t.Speed.DecodeGFLOPSPerCore <= 0 || t.Speed.PrefillGFLOPSPerCore <= 0 {
		return CPUEstimate{}, fmt.Errorf("CPU target %q lacks cores, bandwidth or fitted rates", t.Name)
	}
	if w.WeightBytes <= 0 || w.Params <= 0 {
		return CPUEstimate{}, fmt.Errorf("workload has no weights")
	}
	b := max(1, w.Concurrency)
	ctx := float64(w.InputTokens) + float64(w.OutputTokens)/2
	bytes := w.WeightBytes + float64(b)*ctx*w.KVBytesPerToken
	mem := bytes / (t.BandwidthGBPerS * 1e9 * t.Speed.BandwidthEfficiency)
	comp := float64(b) * 2 * w.Params / (float64(t.Cores) * t.Speed.DecodeGFLOPSPerCore * 1e9)
	step := mem + comp + CPUStepOverheadSeconds
	e := CPUEstimate{DecodeStepSeconds: step, DecodeTokensPerS: 1 / step, AggregateTokensPerS: float64(b) / step}
	e.Bottleneck = "memory bandwidth"
	if comp > mem {
		e.Bottleneck = "compute"
	}
	e.PrefillTokensPerS = float64(t.Cores) * t.Speed.PrefillGFLOPSPerCore * 1e9 / (2 * w.Params)
	e.TTFTSeconds = float64(w.InputTokens) / e.PrefillTokensPerS * (float64(b) + 1) / 2
	e.Assumptions = []string{
		fmt.Sprintf("llama.cpp on %s: %d threads (one per physical core), %.1f GB/s read bandwidth", t.Name, t.Cores, t.BandwidthGBPerS),
		fmt.Sprintf("%s rates: %.2f of bandwidth, %.0f GFLOP/s/core decode, %.0f GFLOP/s/core prefill (%s)", t.Speed.CPU, t.Speed.BandwidthEfficiency, t.Speed.DecodeGFLOPSPerCore, t.Speed.PrefillGFLOPSPerCore, t.Speed.Basis),
		fmt.Sprintf("decode step reads %.2f GB (weights + KV of %d sequences at %.0f tokens)", bytes/1e9, b, math.Round(ctx)),
	}
	return e, nil
}
