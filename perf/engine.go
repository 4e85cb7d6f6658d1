package perf

import (
	"math"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

// schedulerLimits are an engine's per-iteration limits.
type schedulerLimits struct {
	// maxSeqs is the most sequences one iteration runs (0: only the KV
	// pool limits it).
	maxSeqs int
	// maxTokens is the token budget of one iteration (decode tokens plus
	// prefill chunk tokens).
	maxTokens int
	note      string
}

// trtllmBenchKVFraction is trtllm-bench build's kv_cache_gpu_mem_fraction
// default (tensorrt_llm/bench/build/tuning.py, calc_engine_setting).
const trtllmBenchKVFraction = 0.95

// trtllmLimits reproduces trtllm-bench build's engine settings for a
// dataset of fixed input and output lengths (tensorrt_llm/bench/build/
// tuning.py, calc_engine_setting and finetune_setting, the version without
// hybrid-model support that v0.17 shipped): it estimates how many requests
// of isl+osl tokens fit in 95% of (total device memory − parameters ×
// bytes per parameter), caps the batch at 4,096 (divided by PP) and the
// token budget at batch × (1 + isl/osl) up to 32,768, and rounds both up
// to a grid. The published v0.17 tables were built this way ("trtllm-bench
// build ... --dataset", perf-overview.md).
func trtllmLimits(s *model.Spec, p dtype.Precision, kv dtype.DType, g hardware.GPU, tp, pp, isl, osl int) schedulerLimits {
	bytePerElem := 2.0
	if p.Name == "fp8" {
		bytePerElem = 1
	}
	return trtllmLimitsBytes(s, bytePerElem, kv, g, tp, pp, isl, osl)
}

// trtllmLimitsBytes is trtllmLimits with the weights' bytes per parameter
// as the engine version's tuning.py counts them.
func trtllmLimitsBytes(s *model.Spec, bytePerElem float64, kv dtype.DType, g hardware.GPU, tp, pp, isl, osl int) schedulerLimits {
	bytePerKV := 2.0
	if kv == dtype.FP8 {
		bytePerKV = 1
	}
	// Every GPU of the TP group holds at least one KV head.
	kvHeads := float64(max(tp, s.KVHeads))
	bytePerToken := 2 * float64(s.Layers) * kvHeads * float64(s.HeadDim) * bytePerKV / float64(units.GiB)
	// nvmlDeviceGetMemoryInfo total, in GiB; the engine size is
	// param_count/1e9 × bytes, mixed with GiB exactly as the tool does.
	devMem := g.DriverMemory
	if devMem == 0 {
		devMem = g.CUDAMemory
	}
	n := float64(tp * pp)
	engine := float64(infoOf(s).params.Total) / 1e9 * bytePerElem
	available := devMem.GiB()*n - engine
	requests := available * trtllmBenchKVFraction / bytePerToken / float64(isl+osl)
	if requests < 1 {
		requests = 1
	}
	rawBS := math.Min(requests, 4096) / float64(pp)
	rawTokens := math.Min(rawBS*(1+float64(isl)/float64(osl)), 32768)
	var bs int
	switch {
	case rawBS < 256:
		bs = max(64, 32*int(math.Ceil(rawBS/32)))
	case rawBS < 1024:
		bs = 128 * int(math.Ceil(rawBS/128))
	default:
		bs = 256 * int(math.Ceil(rawBS/256))
	}
	var tokens int
	switch {
	case rawTokens < 4096:
		tokens = max(2048, 256*int(math.Ceil(rawTokens/256)))
	case rawTokens < 8192:
		tokens = 512 * int(math.Ceil(rawTokens/512))
	default:
		tokens = 1024 * int(math.Ceil(rawTokens/1024))
	}
	return schedulerLimits{maxSeqs: bs, maxTokens: tokens,
		note: "TensorRT-LLM engine built the way trtllm-bench build sizes it for this input/output length (tuning.py): max_batch_size and max_num_tokens from its KV estimate"}
}

// engineLimits returns the scheduler limits of an engine profile.
func engineLimits(prof memory.Profile, s *model.Spec, p dtype.Precision, kv dtype.DType, g hardware.GPU, tp, pp, isl, osl int, conc int) schedulerLimits {
	switch prof.Engine {
	case memory.TRTLLM:
		if prof.Version != trtllmBench017 {
			return trtllmLimitsBytes(s, trtllm10BytesPerParam(p), kv, g, tp, pp, isl, osl)
		}
		return trtllmLimits(s, p, kv, g, tp, pp, isl, osl)
	case memory.SGLang:
		// python/sglang/srt/server_args.py (0.4): chunked_prefill_size
		// 2048 on GPUs under 25,000 MB, else 8192; max_running_requests
		// defaults to what the KV pool holds.
		chunk := 8192
		if g.CUDAMemory > 0 && float64(g.CUDAMemory) < 25000*float64(units.MB) {
			chunk = 2048
		}
		return schedulerLimits{maxTokens: chunk, note: "SGLang chunked_prefill_size default for this GPU's memory; running requests limited by the KV pool"}
	case memory.LlamaCPP:
		// llama-server runs one sequence per slot; the compute batch is
		// n_ubatch = 512 tokens (llama.cpp default).
		return schedulerLimits{maxSeqs: max(conc, 1), maxTokens: 512, note: "llama.cpp: one slot per concurrent request, 512-token micro-batches"}
	default:
		// vLLM: filled from the memory budget's scheduler (get_batch_defaults).
		return schedulerLimits{}
	}
}
