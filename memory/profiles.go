package memory

import "github.com/gpuplan/gpuplan/units"

// gib converts a GiB figure from a vLLM log to bytes.
func gib(g float64) units.Bytes { return units.FromGiB(g) }

// vllmFitted are the constants fitted by FitVLLM on the vLLM 0.19.0 H100
// start-up logs of the llm-d-planner accuracy sweep
// (memory/testdata/vllm-memory-records.json; TestFittedConstantsAreCurrent
// recomputes them and fails if these drift from the data).
var vllmFitted = Constants{
	SamplerBytesPerLogit:    12.9,
	ForwardActivationFactor: 1.22,
	NonTorchByTP:            map[int]units.Bytes{1: gib(0.25), 2: gib(2.07), 4: gib(2.15)},
	CUDAGraphByTP:           map[int]units.Bytes{1: gib(0.81), 2: gib(1.63), 4: gib(0.89)},
}

var vllm019 = Profile{
	Engine: VLLM, Version: "0.19", DefaultUtilization: 0.90, BlockSize: 16,
	SubtractsCUDAGraphs: false, Calibrated: true,
	Source:    "vllm/v1/worker/gpu_worker.py determine_available_memory; defaults from vllm/config/cache.py and vllm/engine/arg_utils.py; constants fitted on vLLM 0.19.0 H100 logs (llm-d-planner PR #205)",
	Constants: vllmFitted,
}

// vllm022 raises the default utilization to 0.92 (vLLM changed the default
// around v0.22, per the reference notes on vllm/config/cache.py) and
// subtracts the CUDA-graph estimate from the KV budget, as current
// determine_available_memory does. Its overhead constants are carried over
// from the 0.19 fit, so it is marked uncalibrated.
var vllm022 = Profile{
	Engine: VLLM, Version: "0.22", DefaultUtilization: 0.92, BlockSize: 16,
	SubtractsCUDAGraphs: true, Calibrated: false,
	Source:    "vllm/config/cache.py default gpu_memory_utilization 0.92; determine_available_memory subtracts profile_cudagraph_memory(); overheads from the 0.19 fit",
	Constants: vllmFitted,
}

// sglangProfile: SGLang reserves mem_fraction_static × memory for weights
// and the KV pool, leaving the rest for activations and CUDA graphs; its
// default fraction falls with TP (python/sglang/srt/server_args.py:
// 0.88 at TP1, 0.87 at TP2, 0.85 at TP4, 0.81 at TP8, 0.79 at TP16). The
// KV pool uses one-token pages.
var sglangProfile = Profile{
	Engine: SGLang, Version: "0.4", DefaultUtilization: 0.88, BlockSize: 1,
	UtilizationByTP: map[int]float64{1: 0.88, 2: 0.87, 4: 0.85, 8: 0.81, 16: 0.79},
	Calibrated:      false,
	Source:          "sglang python/sglang/srt/server_args.py mem_fraction_static defaults; KV pool = fraction × memory − weights",
}

// trtllmProfile: TensorRT-LLM gives the KV cache kv_cache_free_gpu_mem_fraction
// (default 0.9) of the memory free after weights and runtime buffers, in
// blocks of tokens_per_block = 32 (TensorRT-LLM KvCacheConfig defaults).
var trtllmProfile = Profile{
	Engine: TRTLLM, Version: "0.17", DefaultUtilization: 0.90, BlockSize: 32,
	Calibrated: false,
	Source:     "TensorRT-LLM KvCacheConfig: free_gpu_memory_fraction 0.9, tokens_per_block 32",
	Constants:  vllmFitted,
}

// trtllm10Profile is TensorRT-LLM 1.0: the same KV-cache rules as 0.17;
// what changes is how trtllm-bench sizes the engine (perf's batch rule
// counts NVFP4 weights at half a byte, tensorrt_llm/bench/build/tuning.py
// BYTES_PER_ELEM). The speed factors fall back to 0.17's until 1.0 has
// measurements of its own.
var trtllm10Profile = Profile{
	Engine: TRTLLM, Version: "1.0", DefaultUtilization: 0.90, BlockSize: 32,
	Calibrated: false,
	Source:     "TensorRT-LLM KvCacheConfig: free_gpu_memory_fraction 0.9, tokens_per_block 32; trtllm-bench tuning.py BYTES_PER_ELEM (NVFP4 0.5 bytes)",
	Constants:  vllmFitted,
}

// llamacppProfile: llama.cpp allocates the KV cache for the whole context
// up front (F16 K and V by default) plus a compute buffer and a fixed
// platform footprint (250 MiB VRAM in gguf-parser-go's estimator).
var llamacppProfile = Profile{
	Engine: LlamaCPP, Version: "b4000", DefaultUtilization: 1.0, BlockSize: 1,
	Calibrated: false,
	Source:     "gguf-parser-go file_estimate__llamacpp.go (KV for n_ctx, compute buffer of the largest layer, 250 MiB platform footprint)",
}
