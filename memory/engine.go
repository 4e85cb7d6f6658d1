package memory

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gpuplan/gpuplan/units"
)

// Engine names an inference engine.
type Engine string

// Engines with a memory profile.
const (
	VLLM     Engine = "vllm"
	SGLang   Engine = "sglang"
	TRTLLM   Engine = "trtllm"
	LlamaCPP Engine = "llamacpp"
)

// Profile is how one engine version reserves GPU memory. The vLLM profiles
// mirror vllm/v1/worker/gpu_worker.py::determine_available_memory and the
// scheduler defaults in vllm/engine/arg_utils.py::get_batch_defaults; their
// constants are fitted on measured start-up logs (see fit.go and
// docs/accuracy.md). The others are documented rules marked uncalibrated.
type Profile struct {
	Engine  Engine `json:"engine"`
	Version string `json:"version"`
	// DefaultUtilization is the engine's default fraction of CUDA memory it
	// may use: vLLM --gpu-memory-utilization (0.9 through v0.19, 0.92 from
	// v0.22, per vllm/config/cache.py as quoted in the reference notes),
	// SGLang --mem-fraction-static, TensorRT-LLM kv_cache_free_gpu_mem_fraction.
	DefaultUtilization float64 `json:"default_utilization"`
	// UtilizationByTP overrides DefaultUtilization per TP degree for
	// engines whose default depends on it (SGLang).
	UtilizationByTP map[int]float64 `json:"utilization_by_tp,omitempty"`
	// BlockSize is the KV-cache block (page) size in tokens: vLLM's
	// DEFAULT_BLOCK_SIZE on CUDA is 16 (vllm/config/cache.py).
	BlockSize int `json:"block_size"`
	// SubtractsCUDAGraphs is true when the engine subtracts its CUDA-graph
	// estimate from the KV budget. vLLM 0.19 captured graphs after sizing the
	// KV cache (the measured logs show available KV = requested − non-KV
	// exactly); later versions subtract profile_cudagraph_memory().
	SubtractsCUDAGraphs bool `json:"subtracts_cuda_graphs"`
	// Calibrated says whether the constants were fitted on measurements of
	// this engine; uncalibrated profiles get a wider error band.
	Calibrated bool `json:"calibrated"`
	// Source is where the rules come from.
	Source string `json:"source"`
	// Constants are the fitted or documented overheads.
	Constants Constants `json:"constants"`
}

// Constants are the few numbers a profile needs beyond physics. Each is
// explained where it is set.
type Constants struct {
	// SamplerBytesPerLogit is the peak bytes per (sequence × vocabulary
	// entry) of the sampler's warm-up run on top of the logits themselves:
	// vLLM's profile run samples max_num_seqs dummy sequences with top-k and
	// top-p set, which keeps fp32 copies of the logits plus sort values and
	// int64 sort indices alive at once.
	SamplerBytesPerLogit float64 `json:"sampler_bytes_per_logit"`
	// ForwardActivationFactor scales the physical live set of the dummy
	// forward pass (per token: residual + hidden, 2·h, plus the MLP's gate/up
	// output and activation, 3·I, in the compute dtype) to what the caching
	// allocator's peak shows (workspace and rounding).
	ForwardActivationFactor float64 `json:"forward_activation_factor"`
	// NonTorchByTP is the memory allocated outside PyTorch during the profile
	// run (CUDA context growth, cuBLAS workspaces; with TP > 1 also NCCL and
	// custom all-reduce buffers), keyed by tensor-parallel degree.
	NonTorchByTP map[int]units.Bytes `json:"non_torch_by_tp_bytes"`
	// CUDAGraphByTP is the memory CUDA-graph capture takes, keyed by TP.
	CUDAGraphByTP map[int]units.Bytes `json:"cuda_graph_by_tp_bytes"`
}

// byTP returns a per-TP-degree overhead from m (NonTorchByTP or
// CUDAGraphByTP) and whether it was measured: the measured value when there
// is one, else the nearest measured degree below plus the step between the
// two largest measured degrees per doubling (labelled as an extrapolation
// by the caller).
func (c Constants) byTP(m map[int]units.Bytes, tp int) (units.Bytes, bool) {
	if v, ok := m[tp]; ok {
		return v, true
	}
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	if len(keys) == 0 {
		return 0, false
	}
	below := keys[0]
	for _, k := range keys {
		if k <= tp {
			below = k
		}
	}
	if below >= tp || len(keys) < 2 {
		return m[below], false
	}
	last, prev := keys[len(keys)-1], keys[len(keys)-2]
	step := m[last] - m[prev]
	if step < 0 {
		step = 0
	}
	v := m[below]
	for d := below; d < tp; d *= 2 {
		v += step
	}
	return v, false
}

// Profiles returns the known engine profiles, default first per engine.
func Profiles() []Profile {
	return []Profile{vllm019, vllm022, sglangProfile, trtllmProfile, trtllm10Profile, llamacppProfile}
}

// DefaultProfile is the profile used when --engine is not given.
func DefaultProfile() Profile { return vllm019 }

// LookupProfile resolves --engine values such as "vllm", "vllm@0.22",
// "sglang".
func LookupProfile(s string) (Profile, error) {
	name, ver, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "@")
	if name == "" {
		return DefaultProfile(), nil
	}
	ver = strings.TrimPrefix(ver, "v")
	var names []string
	for _, p := range Profiles() {
		names = append(names, string(p.Engine)+"@"+p.Version)
		if string(p.Engine) != name {
			continue
		}
		if ver == "" || ver == p.Version {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("unknown engine %q (known: %s; the version after @ is optional)", s, strings.Join(names, ", "))
}

// Scheduler limits the vLLM profile run uses.
type Scheduler struct {
	MaxNumBatchedTokens int `json:"max_num_batched_tokens"`
	MaxNumSeqs          int `json:"max_num_seqs"`
}

// vllmDefaults mirrors EngineArgs.get_batch_defaults for the OpenAI API
// server (vllm/engine/arg_utils.py, v0.8 onward): GPUs with at least 70 GiB
// that are not A100s get 8192 batched tokens and 1024 sequences; every other
// GPU gets 2048 and 256 (the A100 exception follows vLLM PR #17885).
func vllmDefaults(gpuMemory units.Bytes, gpuID string) Scheduler {
	if gpuMemory >= 70*units.GiB && !strings.Contains(strings.ToLower(gpuID), "a100") {
		return Scheduler{MaxNumBatchedTokens: 8192, MaxNumSeqs: 1024}
	}
	return Scheduler{MaxNumBatchedTokens: 2048, MaxNumSeqs: 256}
}
