package engine

import (
	"fmt"
	"strconv"

	"github.com/gpuplan/gpuplan/units"
)

// SGLang reserves mem_fraction_static × memory for the weights and the KV
// pool and leaves the rest for activations and CUDA graphs; its default
// fraction falls with TP (python/sglang/srt/server_args.py: 0.88 at TP1,
// 0.87 at TP2, 0.85 at TP4, 0.81 at TP8, 0.79 at TP16). The KV pool uses
// one-token pages.
type SGLang struct {
	Profile
}

var sglang04 = &SGLang{Profile: withImages(Profile{
	EngineName: "sglang", EngineVersion: "0.4", DisplayName: "SGLang",
	Summary:            "SGLang 0.4 server (RadixAttention, one-token KV pages)",
	Source:             "https://github.com/sgl-project/sglang/blob/main/python/sglang/srt/server_args.py (mem_fraction_static and chunked_prefill_size defaults as of 0.4, KV pool = fraction × memory − weights)",
	DefaultUtilization: 0.88, UtilizationFlag: "--mem-fraction-static",
	UtilizationByTP: map[int]float64{1: 0.88, 2: 0.87, 4: 0.85, 8: 0.81, 16: 0.79},
	BlockSize:       1,
	MoELayouts:      true,
	// SGLang runs vLLM's quantization kernels (its quantization layer
	// imports them), so it shares vLLM's kernel table.
	Kernels:    "vllm",
	AtLoad:     map[string]string{"fp8": "fp8", "fp8-w8a16": "fp8"},
	AtLoadFlag: "--quantization",
	// python/sglang/srt/server_args.py: port 30000; /health and, with
	// --enable-metrics, /metrics with sglang:num_queue_reqs.
	Endpoints: Endpoints{Port: 30000, Health: "/health", Metrics: "/metrics", QueueMetric: "sglang:num_queue_reqs"},
	Flags: SchedulerFlags{MaxSeqs: "max_running_requests", MaxSeqsFlag: "--max-running-requests",
		MaxTokens: "chunked_prefill_size", MaxTokensFlag: "--chunked-prefill-size"},
	Notes: []string{"SGLang activations and CUDA graphs live outside the static fraction: they are not counted against it"},
})}

// Scheduler: chunked_prefill_size is 2048 on GPUs under 25,000 MB, else
// 8192; max_running_requests defaults to what the KV pool holds
// (server_args.py, 0.4).
func (e *SGLang) Scheduler(in SchedulerInput) Scheduler {
	chunk := 8192
	if in.GPU.CUDAMemory > 0 && float64(in.GPU.CUDAMemory) < 25000*float64(units.MB) {
		chunk = 2048
	}
	return Scheduler{MaxTokens: chunk, Flags: e.Flags,
		Note: "SGLang chunked_prefill_size default for this GPU's memory; running requests limited by the KV pool"}
}

// Account: KV pool = mem_fraction_static × memory − weights.
func (e *SGLang) Account(in MemoryInput) MemoryAccount {
	a := MemoryAccount{
		Requested:       units.Bytes(float64(in.CUDAMemory) * in.Utilization),
		OverheadLabel:   "runtime overhead (outside the static fraction)",
		ActivationLabel: "activations (outside the static fraction)",
		NonKV:           in.WeightsPerGPU,
	}
	a.Requested = units.Bytes(int64(a.Requested))
	a.KVPool = a.Requested - a.NonKV
	a.KVRoom = a.KVPool
	a.Notes = append(a.Notes,
		fmt.Sprintf("%s memory profile: KV pool = mem_fraction_static %.2f × CUDA memory − weights", e.ID(), in.Utilization),
		"scheduler: "+in.Scheduler.Describe())
	a.Notes = append(a.Notes, e.Notes...)
	return a
}

// Serve is `python3 -m sglang.launch_server` (server_args.py): --tp-size
// N with --enable-dp-attention --dp-size N for DP attention, --ep-size,
// and --speculative-algorithm EAGLE|NEXTN|STANDALONE with
// --speculative-num-steps K, --speculative-eagle-topk 1 and
// --speculative-num-draft-tokens K + 1.
func (e *SGLang) Serve(c ServeConfig) (Command, error) {
	args := []string{"-m", "sglang.launch_server", "--model-path", c.Model, "--host", "0.0.0.0", "--port", strconv.Itoa(e.Endpoints.Port)}
	if c.Revision != "" {
		args = append(args, "--revision", c.Revision)
	}
	args = append(args, "--tp-size", strconv.Itoa(c.TP))
	if c.PP > 1 {
		args = append(args, "--pp-size", strconv.Itoa(c.PP))
	}
	if c.DPAttention {
		args = append(args, "--enable-dp-attention", "--dp-size", strconv.Itoa(c.TP))
	}
	if c.ExpertParallel > 1 {
		args = append(args, "--ep-size", strconv.Itoa(c.ExpertParallel))
	}
	args = append(args,
		"--context-length", strconv.FormatInt(c.MaxModelLen, 10),
		"--mem-fraction-static", strconv.FormatFloat(c.Utilization, 'f', -1, 64),
		"--enable-metrics",
	)
	if c.DType != "" {
		args = append(args, "--dtype", c.DType)
	}
	if c.KVCacheDType == "fp8" {
		args = append(args, "--kv-cache-dtype", "fp8_e4m3")
	}
	if c.Quantization != "" {
		args = append(args, e.AtLoadFlag, c.Quantization)
	}
	args = append(args, e.SchedulerArgs(c.Scheduler.MaxSeqs, c.Scheduler.MaxTokens, c.PrefixCaching)...)
	if s := c.Speculative; s != nil {
		alg, ok := map[string]string{"eagle": "EAGLE", "mtp": "NEXTN", "draft": "STANDALONE"}[s.Method]
		if !ok {
			return Command{}, fmt.Errorf("unknown speculative method %q", s.Method)
		}
		args = append(args, "--speculative-algorithm", alg)
		if s.Model != "" {
			args = append(args, "--speculative-draft-model-path", s.Model)
		}
		args = append(args, "--speculative-num-steps", strconv.Itoa(s.Tokens), "--speculative-eagle-topk", "1",
			"--speculative-num-draft-tokens", strconv.Itoa(s.Tokens+1))
	}
	return Command{Command: []string{"python3"}, Args: args}, nil
}
