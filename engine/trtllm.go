package engine

import (
	"fmt"
	"math"
	"strconv"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/units"
)

// TRTLLM is TensorRT-LLM: the KV cache gets kv_cache_free_gpu_mem_fraction
// (default 0.9) of the memory free after weights and runtime buffers, in
// blocks of tokens_per_block = 32 (KvCacheConfig defaults).
type TRTLLM struct {
	Profile
	// Buffers are the runtime-buffer constants. No TensorRT-LLM start-up
	// logs have been fitted: they are vLLM's fitted constants, so the
	// profile is uncalibrated and says so.
	Buffers VLLMConstants
	// BenchBytesPerParam is how this version's trtllm-bench counts the
	// weights' bytes per parameter when it sizes the engine
	// (tensorrt_llm/bench/build/tuning.py).
	BenchBytesPerParam func(dtype.Precision) float64
}

// trtllm017BytesPerParam: v0.17's tuning.py counts FP8 at one byte and
// everything else at two (NVFP4 included).
func trtllm017BytesPerParam(p dtype.Precision) float64 {
	if p.Name == "fp8" {
		return 1
	}
	return 2
}

// trtllm10BytesPerParam is trtllm-bench's bytes per parameter from
// TensorRT-LLM 1.0 on (tuning.py, BYTES_PER_ELEM: no quantization 2, FP8
// and FP8 block scales 1, NVFP4 0.5, anything else 2). The v0.17 rule
// counted NVFP4 at 2 bytes, which made a 405B NVFP4 model look barely able
// to fit and capped the batch.
func trtllm10BytesPerParam(p dtype.Precision) float64 {
	switch p.Weight {
	case dtype.FP8:
		return 1
	case dtype.NVFP4:
		return 0.5
	}
	return 2
}

var trtllm017 = newTRTLLM("0.17",
	"https://github.com/NVIDIA/TensorRT-LLM/blob/v0.17.0/tensorrt_llm/bench/build/tuning.py (trtllm-bench build sizing, KvCacheConfig free_gpu_memory_fraction 0.9, tokens_per_block 32)",
	trtllm017BytesPerParam)

// trtllm10 is TensorRT-LLM 1.0: the same KV-cache rules as 0.17; what
// changes is how trtllm-bench sizes the engine (NVFP4 weights count half a
// byte). The speed factors fall back to 0.17's until 1.0 has measurements
// of its own.
var trtllm10 = newTRTLLM("1.0",
	"https://github.com/NVIDIA/TensorRT-LLM/blob/v1.0.0/tensorrt_llm/bench/build/tuning.py (BYTES_PER_ELEM, NVFP4 0.5 bytes, KvCacheConfig free_gpu_memory_fraction 0.9, tokens_per_block 32)",
	trtllm10BytesPerParam)

// newTRTLLM is a TensorRT-LLM profile: the versions share the KV-cache,
// scheduler and endpoint rules and differ in trtllm-bench's bytes per
// parameter.
func newTRTLLM(version, source string, benchBytesPerParam func(dtype.Precision) float64) *TRTLLM {
	return &TRTLLM{Profile: withImages(Profile{
		EngineName: "trtllm", EngineVersion: version, DisplayName: "TensorRT-LLM",
		Summary:            "TensorRT-LLM " + version + " (trtllm-serve; engines built the way trtllm-bench builds them)",
		Source:             source,
		DefaultUtilization: 0.90, UtilizationFlag: "--kv_cache_free_gpu_memory_fraction",
		BlockSize: 32,
		// trtllm-bench sets no max_attention_window_size: every layer keeps
		// the whole sequence.
		IgnoresSlidingWindow: true,
		ReservesWholeRequest: true,
		// trtllm-serve docs: --port, default 8000; /health and /metrics.
		Endpoints: Endpoints{Port: 8000, Health: "/health", Metrics: "/metrics"},
		Flags: SchedulerFlags{MaxSeqs: "max_batch_size", MaxSeqsFlag: "--max_batch_size",
			MaxTokens: "max_num_tokens", MaxTokensFlag: "--max_num_tokens"},
		Notes: []string{
			"TensorRT-LLM capacity scheduler GUARANTEED_NO_EVICT: a request is admitted only when the pool holds its whole input + output",
			"TensorRT-LLM runtime buffers use the vLLM 0.19 fit (no TensorRT-LLM start-up logs fitted)",
		},
	}), Buffers: VLLMFitted, BenchBytesPerParam: benchBytesPerParam}
}

// trtllmBenchKVFraction is trtllm-bench build's kv_cache_gpu_mem_fraction
// default (tensorrt_llm/bench/build/tuning.py, calc_engine_setting).
const trtllmBenchKVFraction = 0.95

// Scheduler reproduces trtllm-bench build's engine settings for a dataset
// of fixed input and output lengths (tensorrt_llm/bench/build/tuning.py,
// calc_engine_setting and finetune_setting, the version without
// hybrid-model support that v0.17 shipped): it estimates how many requests
// of isl+osl tokens fit in 95% of (total device memory − parameters ×
// bytes per parameter), caps the batch at 4,096 (divided by PP) and the
// token budget at batch × (1 + isl/osl) up to 32,768, and rounds both up
// to a grid. The published v0.17 tables were built this way ("trtllm-bench
// build ... --dataset", perf-overview.md). Without request lengths it
// returns BuildConfig's defaults, max_batch_size 2048 and max_num_tokens
// 8192 (tensorrt_llm/builder.py).
func (e *TRTLLM) Scheduler(in SchedulerInput) Scheduler {
	isl, osl := in.InputTokens, in.OutputTokens
	if isl <= 0 || osl <= 0 || in.Model == nil {
		return Scheduler{MaxSeqs: 2048, MaxTokens: 8192, Flags: e.Flags,
			Note: "TensorRT-LLM BuildConfig defaults: max_batch_size 2048, max_num_tokens 8192"}
	}
	tp, pp := max(in.TP, 1), max(in.PP, 1)
	s := in.Model
	bytePerElem := e.BenchBytesPerParam(in.Precision)
	bytePerKV := 2.0
	if in.KVDType == dtype.FP8 {
		bytePerKV = 1
	}
	// Every GPU of the TP group holds at least one KV head.
	kvHeads := float64(max(tp, s.KVHeads))
	bytePerToken := 2 * float64(s.Layers) * kvHeads * float64(s.HeadDim) * bytePerKV / float64(units.GiB)
	// nvmlDeviceGetMemoryInfo total, in GiB; the engine size is
	// param_count/1e9 × bytes, mixed with GiB exactly as the tool does.
	devMem := in.GPU.DriverMemory
	if devMem == 0 {
		devMem = in.GPU.CUDAMemory
	}
	n := float64(tp * pp)
	engineGB := float64(s.Params().Total) / 1e9 * bytePerElem
	available := devMem.GiB()*n - engineGB
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
	return Scheduler{MaxSeqs: bs, MaxTokens: tokens, Flags: e.Flags,
		Note: "TensorRT-LLM engine built the way trtllm-bench build sizes it for this input/output length (tuning.py): max_batch_size and max_num_tokens from its KV estimate"}
}

// Account: the KV fraction applies to what is free after the weights and
// runtime buffers. The activation reserve is estimated like vLLM's profile
// run at max_num_tokens (with vLLM's sequence default for the GPU), and the
// buffers come from the vLLM fit: both are stand-ins until TensorRT-LLM
// start-up logs are fitted.
func (e *TRTLLM) Account(in MemoryInput) MemoryAccount {
	seqs, _ := VLLMBatchDefaults(in.CUDAMemory, in.GPUID)
	run := in
	run.Scheduler.MaxSeqs = seqs
	a := MemoryAccount{
		Requested:       in.CUDAMemory,
		Activation:      ProfileRunActivation(run, e.Buffers),
		OverheadLabel:   "runtime buffers",
		ActivationLabel: "activation reserve",
	}
	nt, measured := ByTP(e.Buffers.NonTorchByTP, in.TP)
	a.NonTorch = nt
	if !measured {
		a.Notes = append(a.Notes, fmt.Sprintf("runtime buffers at TP=%d extrapolated from the measured TP degrees", in.TP))
	}
	a.CUDAGraphs, _ = ByTP(e.Buffers.CUDAGraphByTP, in.TP)
	a.NonKV = in.WeightsPerGPU + a.Activation + a.NonTorch
	a.KVPool = units.Bytes(in.Utilization * float64(in.CUDAMemory-a.NonKV))
	a.KVRoom = a.KVPool
	a.Notes = append(a.Notes,
		fmt.Sprintf("%s memory profile: KV pool = kv_cache_free_gpu_memory_fraction %.2f × (CUDA memory − weights − activation reserve − runtime buffers)", e.ID(), in.Utilization),
		"scheduler: "+in.Scheduler.Describe())
	a.Notes = append(a.Notes, e.Notes...)
	return a
}

// Serve is `trtllm-serve MODEL` (trtllm-serve docs, 0.17/0.18 options).
func (e *TRTLLM) Serve(c ServeConfig) (Command, error) {
	if err := errNoLayouts(&e.Profile, c); err != nil {
		return Command{}, err
	}
	args := []string{c.Model, "--host", "0.0.0.0", "--port", strconv.Itoa(e.Endpoints.Port),
		"--tp_size", strconv.Itoa(c.TP),
		"--pp_size", strconv.Itoa(c.PP),
		"--max_seq_len", strconv.FormatInt(c.MaxModelLen, 10),
		"--kv_cache_free_gpu_memory_fraction", strconv.FormatFloat(c.Utilization, 'f', -1, 64),
	}
	args = append(args, e.SchedulerArgs(c.Scheduler.MaxSeqs, c.Scheduler.MaxTokens, c.PrefixCaching)...)
	return Command{Command: []string{"trtllm-serve"}, Args: args}, nil
}
