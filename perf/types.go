package perf

import (
	"errors"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

// Load kinds: how the workload offers requests.
const (
	// LoadConcurrency is a closed loop: N users, each sending its next
	// request as soon as the previous one completes.
	LoadConcurrency = "concurrency"
	// LoadRPS is an open loop: requests arrive at a fixed mean rate
	// (Poisson arrivals), whatever the server's state.
	LoadRPS = "rps"
	// LoadMax is the offline maximum-throughput case: every request is
	// queued at once and the engine runs as many as its KV pool and batch
	// limits allow (trtllm-bench throughput, vllm bench throughput).
	LoadMax = "max"
)

// Bottleneck names what limits a prediction.
type Bottleneck string

// Bottlenecks.
const (
	// BottleneckMemoryBandwidth: the iteration is dominated by reading
	// weights and KV cache from device memory.
	BottleneckMemoryBandwidth Bottleneck = "memory_bandwidth"
	// BottleneckCompute: the iteration is dominated by matrix math.
	BottleneckCompute Bottleneck = "compute"
	// BottleneckInterconnect: tensor-parallel all-reduces take longer than
	// the GPU work.
	BottleneckInterconnect Bottleneck = "interconnect"
	// BottleneckKVCapacity: the running batch is held down by the KV pool
	// while the iteration is still memory-bound, so more KV room would
	// raise throughput.
	BottleneckKVCapacity Bottleneck = "kv_capacity"
)

// Workload is the traffic a prediction is for. Exactly one of Concurrency,
// RPS and Max is set.
type Workload struct {
	// InputTokens and OutputTokens are the prompt and completion lengths
	// of every request.
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	// Concurrency is the number of users of a closed loop.
	Concurrency int `json:"concurrency,omitempty"`
	// RPS is the mean arrival rate of an open loop, requests per second.
	RPS float64 `json:"rps,omitempty"`
	// Max asks for the offline maximum-throughput case.
	Max bool `json:"max,omitempty"`
	// CacheRate is the fraction of prompt tokens served from the engine's
	// prefix cache (0 ≤ rate < 1; the same name and meaning as in ptu):
	// those tokens are neither computed nor written again, but attention
	// still reads them. At least one prompt token is always computed.
	CacheRate float64 `json:"cache_rate,omitempty"`
}

// Load returns the workload's load kind.
func (w Workload) Load() string {
	switch {
	case w.Max:
		return LoadMax
	case w.RPS > 0:
		return LoadRPS
	default:
		return LoadConcurrency
	}
}

// Request is one prediction question.
type Request struct {
	Model *model.Spec
	// Precision is the weights precision; nil means the checkpoint's own.
	Precision *dtype.Precision
	KVDType   dtype.KVDType
	// GPU is the chip. Its MemoryBandwidth, dense TFLOPS for the compute
	// type and CUDA memory must be known.
	GPU hardware.GPU
	// TP and PP are the tensor- and pipeline-parallel degrees (0 means 1).
	// GPUCount is TP × PP when 0 (one replica; data parallelism is the
	// planner's business).
	TP, PP, GPUCount int
	// Interconnect overrides GPU.Interconnect (the link between the GPUs of
	// one VM); nil uses the chip's.
	Interconnect *hardware.Interconnect
	// Fabric is the VM size's links (hardware.LookupFabric): the scale-up
	// domain's size and link and the network between VMs. Nil: when the
	// replica needs more GPUs than the largest VM size of the chip holds,
	// that size's fabric (hardware.FabricForGPU); otherwise one domain.
	// GPUsPerVM is the VM size's GPU count (0: the fabric's domain size).
	Fabric    *hardware.Fabric
	GPUsPerVM int
	// EP is the expert-parallel degree of an MoE model (0 or 1: experts
	// split by TP); DPAttention runs attention data-parallel across the TP
	// group (each GPU its own sequences), as vLLM's and SGLang's DeepSeek
	// and Qwen3 MoE deployments do (moe_parallel.go).
	EP          int
	DPAttention bool
	// Speculative turns on speculative decoding (nil: off).
	Speculative *Speculative
	// Engine is the engine profile (engine.Lookup); nil means
	// engine.Default(). Its scheduler limits, memory accounting and
	// calibration key shape the prediction.
	Engine engine.Engine
	// calVersion overrides the engine's version in the calibration key
	// (the fitter's points carry their own engine version).
	calVersion string
	// Utilization overrides the engine's default memory fraction (vLLM
	// --gpu-memory-utilization, TensorRT-LLM kv_cache_free_gpu_mem_fraction,
	// SGLang --mem-fraction-static) when > 0.
	Utilization float64
	// MaxNumSeqs and MaxNumBatchedTokens override the engine's scheduler
	// limits when > 0: the most sequences one iteration runs and the token
	// budget of one iteration (vLLM --max-num-seqs and
	// --max-num-batched-tokens; SGLang --max-running-requests and
	// --chunked-prefill-size; TensorRT-LLM max_batch_size and
	// max_num_tokens).
	MaxNumSeqs, MaxNumBatchedTokens int
	Workload                        Workload
	// Calibration's points and factors override the embedded calibration's
	// by key (nil: the embedded one alone). When it brings points of an
	// engine version without that version's factors — a file `gpuplan bench
	// --write-calibration` wrote — those factors are refitted once, on
	// every merged point of the version, resolving names through the
	// embedded catalogs; the estimate's assumptions say so.
	Calibration *Calibration
	// Brief leaves Estimate.Assumptions empty, for searches that evaluate
	// many candidates and predict again the few they keep.
	Brief bool
}

// ErrInvalid marks requests that cannot be predicted as given (bad lengths,
// unknown GPU figures, a model that does not fit); the CLI maps it to a
// usage error. Errors from memory.Estimate that wrap memory.ErrInvalid are
// passed through wrapped in it too.
var ErrInvalid = errors.New("invalid performance request")

// ErrDoesNotFit marks requests whose model does not fit the GPUs at all
// (no room for a single sequence of InputTokens + OutputTokens).
var ErrDoesNotFit = errors.New("does not fit")

// ErrIncompatible marks a deployment the engine cannot run on the hardware
// (engine.Check refused it: no kernels for the precision, a bad TP split).
var ErrIncompatible = errors.New("cannot run")

// Latency is the shared latency object of gpuplan outputs, in milliseconds:
// the mean and p50 come from the model, the tail percentiles from the
// documented tail model (docs/perf.md), and Low/High bound the mean with the
// calibration's error band. Its JSON tags match bench.Latency.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Low  float64 `json:"low,omitempty"`
	High float64 `json:"high,omitempty"`
}

// Band is a multiplicative error band on throughput: the measured value is
// expected within [Low, High] × the prediction (latencies scale inversely).
type Band struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	// Calibrated is false when the (GPU, engine) pair has no fitted
	// factors of its own and the band was widened.
	Calibrated bool `json:"calibrated"`
	// Source says where the band comes from.
	Source string `json:"source"`
}

// Estimate is one prediction.
type Estimate struct {
	// Load is "concurrency", "rps" or "max".
	Load string `json:"load"`
	// Concurrency is the resolved number of requests in the system: the
	// closed loop's users, the mean number in flight for an open loop, the
	// running batch for max.
	Concurrency int `json:"concurrency"`
	// OfferedRPS is the open loop's arrival rate.
	OfferedRPS   float64 `json:"offered_requests_per_s,omitempty"`
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	// Precision and KVDType are the resolved weights precision and KV-cache
	// element type the prediction used.
	Precision string `json:"precision"`
	KVDType   string `json:"kv_dtype"`

	TTFT Latency `json:"ttft_ms"`
	TPOT Latency `json:"tpot_ms"`
	ITL  Latency `json:"itl_ms"`
	E2E  Latency `json:"e2e_ms"`

	// OutputTokensPerS is the whole deployment's output token rate;
	// OutputTokensPerSLow/High its band.
	OutputTokensPerS     float64 `json:"output_tokens_per_s"`
	OutputTokensPerSLow  float64 `json:"output_tokens_per_s_low"`
	OutputTokensPerSHigh float64 `json:"output_tokens_per_s_high"`
	// PerUserTokensPerS is one stream's decode rate (1000 / mean TPOT).
	PerUserTokensPerS float64 `json:"per_user_output_tokens_per_s"`
	RequestsPerS      float64 `json:"requests_per_s"`
	// RunningBatch is the mean number of sequences the engine iterates
	// over (decoding or prefilling).
	RunningBatch float64 `json:"running_batch"`
	// MaxConcurrency is how many sequences of InputTokens + OutputTokens
	// the KV pool (and the engine's batch limit) allows at once.
	MaxConcurrency int `json:"max_concurrency"`
	// Saturated is true when an open loop offers more than the deployment
	// can serve: queues grow without bound, latencies are not defined and
	// are reported as zero.
	Saturated bool `json:"saturated,omitempty"`
	// MaxRPS is the highest request rate the deployment sustains for this
	// workload (the max-throughput case's request rate).
	MaxRPS     float64    `json:"max_requests_per_s"`
	Bottleneck Bottleneck `json:"bottleneck"`
	// Step breaks one steady-state iteration down.
	Step StepBreakdown `json:"step"`

	WeightsPerGPU units.Bytes `json:"weights_bytes_per_gpu"`
	// KVPerGPU is the KV cache the running batch holds on one GPU at its
	// mean length.
	KVPerGPU   units.Bytes `json:"kv_bytes_per_gpu"`
	KVPoolGPU  units.Bytes `json:"kv_pool_bytes_per_gpu"`
	GPUs       int         `json:"gpus"`
	Band       Band        `json:"band"`
	Calibrated bool        `json:"calibrated"`
	// Factors are the efficiency factors used.
	Factors     AppliedFactors `json:"factors"`
	Assumptions []string       `json:"assumptions"`
}

// StepBreakdown is one steady-state engine iteration on the busiest GPU.
type StepBreakdown struct {
	// DecodeTokens and PrefillTokens are the tokens the iteration
	// processes (one per decoding sequence, prompt chunks).
	DecodeTokens  float64 `json:"decode_tokens"`
	PrefillTokens float64 `json:"prefill_tokens"`
	// MemoryMS is bytes moved / achievable bandwidth; ComputeMS FLOPs /
	// achievable compute; InterconnectMS the all-reduces (and pipeline
	// sends); OverheadMS the engine's fixed per-iteration cost. The
	// iteration takes max(memory, compute) + interconnect + overhead.
	MemoryMS       float64 `json:"memory_ms"`
	ComputeMS      float64 `json:"compute_ms"`
	InterconnectMS float64 `json:"interconnect_ms"`
	OverheadMS     float64 `json:"overhead_ms"`
	IterationMS    float64 `json:"iteration_ms"`
	// BytesPerGPU and FLOPsPerGPU are what the iteration moves and computes
	// on one GPU (one pipeline stage).
	BytesPerGPU float64 `json:"bytes_per_gpu"`
	FLOPsPerGPU float64 `json:"flops_per_gpu"`
	// ExpertsTouched is the expected fraction of each MoE layer's routed
	// experts the iteration's tokens reach (1 for dense models).
	ExpertsTouched float64 `json:"experts_touched_fraction"`
}

// AppliedFactors are the efficiencies a prediction used, after defaults.
type AppliedFactors struct {
	GPU           string `json:"gpu"`
	Engine        string `json:"engine"`
	EngineVersion string `json:"engine_version"`
	// BandwidthBytesPerS and TFLOPS are the achievable rates used.
	BandwidthBytesPerS float64 `json:"bandwidth_bytes_per_s"`
	TFLOPS             float64 `json:"tflops"`
	Math               string  `json:"math"`
	// LinkBytesPerS is the per-direction link bandwidth used for
	// all-reduces (after its efficiency); 0 without TP.
	LinkBytesPerS      float64 `json:"link_bytes_per_s,omitempty"`
	AllReduceLatencyUS float64 `json:"all_reduce_latency_us,omitempty"`
	StepOverheadMS     float64 `json:"step_overhead_ms"`
	// Source says whether the factors were fitted for this pair or
	// derived from other GPUs/engines.
	Source string `json:"source"`
}
