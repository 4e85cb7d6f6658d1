package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

// VLLM is the vLLM engine at one version profile. Its memory accounting
// mirrors vllm/v1/worker/gpu_worker.py::determine_available_memory: the KV
// pool is utilization × CUDA memory minus the weights, the profile run's
// activation peak and the memory allocated outside PyTorch; from v0.22 the
// CUDA-graph estimate is subtracted too.
type VLLM struct {
	Profile
	// SubtractsCUDAGraphs is true when the version subtracts its
	// CUDA-graph estimate from the KV budget. vLLM 0.19 captured graphs
	// after sizing the KV cache (the measured logs show available KV =
	// requested − non-KV exactly); later versions subtract
	// profile_cudagraph_memory().
	SubtractsCUDAGraphs bool
	// Constants are the fitted overheads.
	Constants VLLMConstants
}

// VLLMConstants are the few numbers vLLM's accounting needs beyond
// physics. memory.FitVLLM refits them on measured start-up logs and
// memory.TestFittedConstantsAreCurrent fails if they drift from the data.
type VLLMConstants struct {
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

// ByTP returns the value measured at a TP degree when there is one, else
// the nearest measured degree below plus the step between the two largest
// measured degrees per doubling; the second result says whether it was
// measured.
func ByTP(m map[int]units.Bytes, tp int) (units.Bytes, bool) {
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

// gib converts a GiB figure from a vLLM log to bytes.
func gib(g float64) units.Bytes { return units.FromGiB(g) }

// VLLMFitted are the constants fitted by memory.FitVLLM on the vLLM 0.19.0
// H100 start-up logs of the llm-d-planner accuracy sweep
// (memory/testdata/vllm-memory-records.json).
var VLLMFitted = VLLMConstants{
	SamplerBytesPerLogit:    12.9,
	ForwardActivationFactor: 1.22,
	NonTorchByTP:            map[int]units.Bytes{1: gib(0.25), 2: gib(2.07), 4: gib(2.15)},
	CUDAGraphByTP:           map[int]units.Bytes{1: gib(0.81), 2: gib(1.63), 4: gib(0.89)},
}

func vllmProfile(version string, util float64, calibrated bool, source string) Profile {
	return withImages(Profile{
		EngineName: "vllm", EngineVersion: version, DisplayName: "vLLM",
		Summary:            "vLLM " + version + " OpenAI server (PagedAttention, chunked prefill)",
		Source:             source,
		Calibrated:         calibrated,
		DefaultUtilization: util, UtilizationFlag: "--gpu-memory-utilization",
		BlockSize:  16, // DEFAULT_BLOCK_SIZE on CUDA (vllm/config/cache.py)
		AtLoad:     map[string]string{"fp8": "fp8", "fp8-w8a16": "fp8", "mxfp4": "mxfp4"},
		AtLoadFlag: "--quantization",
		// vLLM docs, "Using Docker": -p 8000:8000; /health and /metrics
		// (design/metrics.md); vllm:num_requests_waiting is the queue gauge.
		Endpoints: Endpoints{Port: 8000, Health: "/health", Metrics: "/metrics", QueueMetric: "vllm:num_requests_waiting"},
		Flags: SchedulerFlags{MaxSeqs: "max_num_seqs", MaxSeqsFlag: "--max-num-seqs",
			MaxTokens: "max_num_batched_tokens", MaxTokensFlag: "--max-num-batched-tokens"},
		MultiNodeScript: "/vllm-workspace/examples/online_serving/multi-node-serving.sh",
		MoELayouts:      true,
		// On by default in the V1 engine; emitted so the plan's cache
		// assumption is visible.
		PrefixCacheFlag: "--enable-prefix-caching",
		KAITORuntime:    "vllm",
	})
}

var vllm019 = &VLLM{
	Profile: vllmProfile("0.19", 0.90, true,
		"https://github.com/vllm-project/vllm/blob/v0.19.0/vllm/v1/worker/gpu_worker.py (determine_available_memory); "+
			"https://github.com/vllm-project/vllm/blob/v0.19.0/vllm/config/cache.py (defaults, with vllm/engine/arg_utils.py); "+
			"https://github.com/jgchn/llm-d-planner/blob/56dc5b76ca535960998bdf9fd4a3077d98fdf60a/accuracy/results/v0.19.0/results_raw.csv (the vLLM 0.19.0 H100 start-up logs the constants are fitted on, llm-d-planner PR #205)"),
	SubtractsCUDAGraphs: false,
	Constants:           VLLMFitted,
}

// vllm022 raises the default utilization to 0.92 (vLLM changed the default
// around v0.22, per the reference notes on vllm/config/cache.py) and
// subtracts the CUDA-graph estimate from the KV budget, as current
// determine_available_memory does. Its overhead constants are carried over
// from the 0.19 fit, so it is marked uncalibrated.
var vllm022 = &VLLM{
	Profile: vllmProfile("0.22", 0.92, false,
		"https://docs.vllm.ai/en/stable/cli/serve/ (--gpu-memory-utilization default 0.92); "+
			"https://github.com/vllm-project/vllm/blob/main/vllm/v1/worker/gpu_worker.py (determine_available_memory subtracts profile_cudagraph_memory(), overheads from the 0.19 fit)"),
	SubtractsCUDAGraphs: true,
	Constants:           VLLMFitted,
}

// VLLMBatchDefaults mirrors EngineArgs.get_batch_defaults for the OpenAI
// API server (vllm/engine/arg_utils.py, v0.8 onward): GPUs with at least
// 70 GiB that are not A100s get 8192 batched tokens and 1024 sequences;
// every other GPU gets 2048 and 256 (the A100 exception follows vLLM PR
// #17885).
func VLLMBatchDefaults(gpuMemory units.Bytes, gpuID string) (maxSeqs, maxTokens int) {
	if gpuMemory >= 70*units.GiB && !strings.Contains(strings.ToLower(gpuID), "a100") {
		return 1024, 8192
	}
	return 256, 2048
}

// Scheduler returns vLLM's defaults for the GPU.
func (v *VLLM) Scheduler(in SchedulerInput) Scheduler {
	seqs, tokens := VLLMBatchDefaults(in.GPU.CUDAMemory, in.GPU.ID)
	return Scheduler{MaxSeqs: seqs, MaxTokens: tokens, Flags: v.Flags,
		Note: fmt.Sprintf("vLLM scheduler defaults for this GPU: max_num_seqs %d, max_num_batched_tokens %d (chunked prefill)", seqs, tokens)}
}

// Account is determine_available_memory.
func (v *VLLM) Account(in MemoryInput) MemoryAccount {
	a := MemoryAccount{
		Requested:          units.Bytes(math.Floor(in.Utilization * float64(in.CUDAMemory))),
		Activation:         ProfileRunActivation(in, v.Constants),
		OverheadLabel:      "runtime overhead (non-torch)",
		ActivationLabel:    "activation peak",
		CUDAGraphsInBudget: v.SubtractsCUDAGraphs,
	}
	nt, measured := ByTP(v.Constants.NonTorchByTP, in.TP)
	a.NonTorch = nt
	if !measured {
		a.Notes = append(a.Notes, fmt.Sprintf("non-torch memory at TP=%d extrapolated from the measured TP degrees", in.TP))
	}
	a.CUDAGraphs, _ = ByTP(v.Constants.CUDAGraphByTP, in.TP)
	a.NonKV = in.WeightsPerGPU + a.Activation + a.NonTorch
	if a.CUDAGraphsInBudget {
		a.NonKV += a.CUDAGraphs
	}
	a.KVPool = a.Requested - a.NonKV
	a.KVRoom = a.KVPool
	a.Notes = append(a.Notes,
		fmt.Sprintf("%s memory profile: KV pool = %.2f × CUDA memory − weights − activation peak − non-torch memory", v.ID(), in.Utilization),
		fmt.Sprintf("profile run at max_num_batched_tokens=%d, max_num_seqs=%d", in.Scheduler.MaxTokens, in.Scheduler.MaxSeqs))
	if a.CUDAGraphsInBudget {
		a.Notes = append(a.Notes, "CUDA-graph memory is subtracted from the KV pool")
	} else {
		a.Notes = append(a.Notes, "CUDA graphs are captured after the KV cache is sized (they use the memory above the utilization limit)")
	}
	return a
}

// ProfileRunActivation models the torch peak of vLLM's profile run: a
// dummy forward over max_num_batched_tokens tokens, then a dummy sampler
// run over min(max_num_seqs, tokens) sequences. The two do not overlap (the
// forward intermediates are freed before sampling), so the peak is the
// larger of the forward live set and the sampler's logits working set plus
// the final hidden states it keeps.
func ProfileRunActivation(in MemoryInput, c VLLMConstants) units.Bytes {
	t := ProfileRunTerms(in.Model, in.ActDType.Bits()/8, in.Scheduler.MaxTokens, in.Scheduler.MaxSeqs, in.TP)
	sampler := t.Hidden + t.Logits*(t.ActBytes+c.SamplerBytesPerLogit)
	forward := t.ForwardLive * c.ForwardActivationFactor
	return units.Bytes(math.Round(math.Max(sampler, forward)))
}

// RunTerms are the physical terms of vLLM's profile run, before the
// fitted constants: what memory.FitVLLM divides measurements by.
type RunTerms struct {
	ActBytes float64
	// Hidden is the final hidden states the sampler keeps (tokens × h).
	Hidden float64
	// Logits is sequences × vocabulary.
	Logits float64
	// ForwardLive is the forward pass's per-token live set × tokens.
	ForwardLive float64
}

// ProfileRunTerms computes RunTerms for a model, activation element size
// and scheduler limits.
func ProfileRunTerms(s *model.Spec, actBytes float64, maxTokens, maxSeqs, tp int) RunTerms {
	tokens := float64(maxTokens)
	seqs := math.Min(float64(maxSeqs), tokens)
	h := float64(s.Hidden)
	return RunTerms{
		ActBytes:    actBytes,
		Hidden:      tokens * h * actBytes,
		Logits:      seqs * float64(s.Vocab),
		ForwardLive: tokens * (2*h + 3*MLPWidth(s)/float64(max(tp, 1))) * actBytes,
	}
}

// MLPWidth is the widest per-token MLP intermediate of any layer: the
// dense width, or for MoE layers top-k × expert width plus the shared
// experts (the fused-MoE kernels keep top-k copies of each token's
// intermediate).
func MLPWidth(s *model.Spec) float64 {
	w := float64(s.Intermediate)
	if m := s.MoE; m != nil {
		moe := float64(m.ExpertsPerToken*m.ExpertIntermediate + m.SharedIntermediate)
		w = math.Max(w, moe)
	}
	return w
}

// Serve is `vllm serve MODEL` with the plan's flags. MoE layouts and
// speculation follow vLLM's docs (serving/data_parallel_deployment,
// serving/expert_parallel_deployment, features/spec_decode): DP attention
// is --data-parallel-size N with --tensor-parallel-size 1, and
// --enable-expert-parallel spreads the experts over all TP × DP ranks.
func (v *VLLM) Serve(c ServeConfig) (Command, error) {
	args := []string{c.Model, "--port", strconv.Itoa(v.Endpoints.Port)}
	if c.Revision != "" {
		args = append(args, "--revision", c.Revision)
	}
	if c.DPAttention {
		args = append(args, "--tensor-parallel-size", "1", "--data-parallel-size", strconv.Itoa(c.TP))
	} else {
		args = append(args, "--tensor-parallel-size", strconv.Itoa(c.TP))
	}
	if ep := c.ExpertParallel; ep > 1 {
		if ep != c.TP {
			return Command{}, fmt.Errorf("vLLM's --enable-expert-parallel spreads the experts over all %d GPUs of the group; expert-parallel size %d is not expressible (re-plan with --ep %d or 1)", c.TP, ep, c.TP)
		}
		args = append(args, "--enable-expert-parallel")
	}
	args = append(args,
		"--pipeline-parallel-size", strconv.Itoa(c.PP),
		"--max-model-len", strconv.FormatInt(c.MaxModelLen, 10),
		"--gpu-memory-utilization", strconv.FormatFloat(c.Utilization, 'f', -1, 64),
	)
	if c.DType != "" {
		args = append(args, "--dtype", c.DType)
	}
	if c.KVCacheDType != "" {
		args = append(args, "--kv-cache-dtype", c.KVCacheDType)
	}
	if c.Quantization != "" {
		args = append(args, v.AtLoadFlag, c.Quantization)
	}
	args = append(args, v.SchedulerArgs(c.Scheduler.MaxSeqs, c.Scheduler.MaxTokens, c.PrefixCaching)...)
	if s := c.Speculative; s != nil {
		cfg := map[string]any{"num_speculative_tokens": s.Tokens}
		switch s.Method {
		case "eagle":
			if s.Model == "" {
				return Command{}, fmt.Errorf("vLLM's EAGLE needs the EAGLE head's model id (--speculative eagle:MODEL)")
			}
			cfg["method"], cfg["model"] = "eagle", s.Model
		case "mtp":
			cfg["method"] = "mtp"
		case "draft":
			return Command{}, fmt.Errorf("vLLM's V1 engine documents no draft-model speculation for the profiles deploy targets (features/spec_decode, v0.10 onward); use eagle:MODEL or mtp, or serve with SGLang")
		default:
			return Command{}, fmt.Errorf("unknown speculative method %q", s.Method)
		}
		b, err := json.Marshal(cfg)
		if err != nil {
			return Command{}, err
		}
		args = append(args, "--speculative-config", string(b))
	}
	return Command{Command: []string{"vllm", "serve"}, Args: args}, nil
}
