package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

// Engine is one inference engine at one version profile. The data every
// engine shares in shape (name, images, endpoints, default utilization,
// kernel table) lives in its Profile, whose methods an engine type gets by
// embedding it; the three hooks below are the engine's own rules.
type Engine interface {
	// Info is the engine's data.
	Info() *Profile
	// Account sizes what the engine reserves on one GPU around its KV
	// cache: what sits outside the cache and how large the cache is.
	Account(in MemoryInput) MemoryAccount
	// Scheduler returns the engine's batch and token limits for a
	// deployment, named with the engine's own flags.
	Scheduler(in SchedulerInput) Scheduler
	// Serve returns the container command and arguments that start the
	// engine's OpenAI-compatible server, or why the engine cannot express
	// the configuration (a parallel layout or speculation it lacks).
	Serve(c ServeConfig) (Command, error)
}

// Profile is the data of one engine version. Engine types embed it.
type Profile struct {
	// EngineName is the --engine name ("vllm").
	EngineName string `json:"engine"`
	// EngineVersion is the version profile ("0.19"); the --engine value
	// is EngineName@EngineVersion.
	EngineVersion string `json:"version"`
	// DisplayName is how messages name the engine ("vLLM").
	DisplayName string `json:"display_name"`
	// Summary is one line for help text.
	Summary string `json:"summary"`
	// Source is where the profile's rules come from.
	Source string `json:"source"`
	// Calibrated says whether the memory constants were fitted on
	// measurements of this engine; uncalibrated profiles say so.
	Calibrated bool `json:"calibrated"`
	// DefaultUtilization is the engine's default fraction of GPU memory
	// (vLLM --gpu-memory-utilization, SGLang --mem-fraction-static,
	// TensorRT-LLM --kv_cache_free_gpu_memory_fraction; 1 for llama.cpp,
	// which has no such knob).
	DefaultUtilization float64 `json:"default_utilization"`
	// UtilizationByTP overrides DefaultUtilization per TP degree.
	UtilizationByTP map[int]float64 `json:"utilization_by_tp,omitempty"`
	// UtilizationFlag is the engine's flag for the fraction ("" if none).
	UtilizationFlag string `json:"utilization_flag,omitempty"`
	// BlockSize is the KV-cache block (page) size in tokens.
	BlockSize int `json:"block_size"`
	// Images maps ImageKey(vendor, CPU architecture) to the container
	// image; ImageSource says where the names come from.
	Images      map[string]string `json:"images,omitempty"`
	ImageSource string            `json:"image_source,omitempty"`
	// Kernels names the table in data/kernels.yaml that says which
	// precisions run on which hardware (default: EngineName).
	Kernels string `json:"kernels,omitempty"`
	// AtLoad maps a precision name to the value of the engine's flag that
	// quantizes a 16-bit checkpoint at load time (vLLM --quantization fp8);
	// precisions not listed need a pre-quantized checkpoint.
	AtLoad map[string]string `json:"quantize_at_load,omitempty"`
	// AtLoadFlag is that flag ("--quantization").
	AtLoadFlag string `json:"quantize_at_load_flag,omitempty"`
	// Endpoints are the server's port, health and metrics paths.
	Endpoints Endpoints `json:"endpoints"`
	// Flags name the engine's scheduler limits.
	Flags SchedulerFlags `json:"scheduler_flags"`
	// MultiNodeScript is the script the engine image ships to form a
	// multi-node group (vLLM's Ray helper); empty when the profile has no
	// multi-node recipe.
	MultiNodeScript string `json:"multi_node_script,omitempty"`
	// MoELayouts is true when the engine serves MoE models with expert
	// parallelism and data-parallel attention (vLLM, SGLang), so the
	// planner searches those layouts.
	MoELayouts bool `json:"moe_layouts,omitempty"`
	// PrefixCacheFlag turns the engine's prefix cache on where it is a
	// flag (vLLM --enable-prefix-caching); empty when the cache is on by
	// default or configured otherwise.
	PrefixCacheFlag string `json:"prefix_cache_flag,omitempty"`
	// ReservesWholeRequest is true when the scheduler admits a request
	// only when the KV pool holds its whole input + output (TensorRT-LLM's
	// GUARANTEED_NO_EVICT capacity scheduler).
	ReservesWholeRequest bool `json:"reserves_whole_request,omitempty"`
	// GGUFBufferModel is true when LlamaCPPBuffers reproduces the
	// engine's buffers exactly from a local GGUF file's header (llama.cpp
	// at the build it names), so size uses it for local GGUF files and CPU
	// hosts.
	GGUFBufferModel bool `json:"gguf_buffer_model,omitempty"`
	// IgnoresSlidingWindow is true when the engine keeps the whole
	// sequence's KV in every layer even for sliding-window models.
	IgnoresSlidingWindow bool `json:"ignores_sliding_window,omitempty"`
	// KAITORuntime is the KAITO workspace runtime that serves this engine
	// ("vllm"); empty when KAITO does not run it.
	KAITORuntime string `json:"kaito_runtime,omitempty"`
	// Notes are assumption lines every estimate under this profile prints.
	Notes []string `json:"notes,omitempty"`
}

// Info returns the profile itself; engine types get it by embedding.
func (p *Profile) Info() *Profile { return p }

// ID is "name@version", the --engine value and the speed calibration key.
func (p *Profile) ID() string { return p.EngineName + "@" + p.EngineVersion }

// CalibrationKey is the key perf's calibration records use for this engine:
// the name and the version profile.
func (p *Profile) CalibrationKey() (name, version string) { return p.EngineName, p.EngineVersion }

// Utilization is the default memory fraction at a TP degree.
func (p *Profile) Utilization(tp int) float64 {
	if u, ok := p.UtilizationByTP[tp]; ok {
		return u
	}
	return p.DefaultUtilization
}

// ImageKey is the key of Profile.Images: "nvidia/x86-64", "amd/x86-64",
// "cpu/arm64".
func ImageKey(vendor hardware.Vendor, arch hardware.CPUArch) string {
	v := string(vendor)
	if v == "" {
		v = "cpu"
	}
	if arch == "" {
		arch = hardware.CPUx86
	}
	return v + "/" + string(arch)
}

// Image is the engine's container image for a target, or an error saying
// that the profile records none (pass --image).
func (p *Profile) Image(t Target) (string, error) {
	k := ImageKey(t.vendor(), t.hostArch())
	if img, ok := p.Images[k]; ok && img != "" {
		return img, nil
	}
	var known []string
	for k := range p.Images {
		known = append(known, k)
	}
	sort.Strings(known)
	have := "none"
	if len(known) > 0 {
		have = strings.Join(known, ", ")
	}
	return "", fmt.Errorf("%s has no container image recorded for %s (it has: %s); pass --image", p.ID(), k, have)
}

// QuantizeAtLoad returns the value of the engine's load-time quantization
// flag for precision p, and whether the engine can produce p from a 16-bit
// checkpoint at all.
func (p *Profile) QuantizeAtLoad(pr dtype.Precision) (string, bool) {
	v, ok := p.AtLoad[pr.Name]
	return v, ok
}

// Endpoints are where the server listens and what it exposes.
type Endpoints struct {
	// Port is the server's default port.
	Port int `json:"port"`
	// Health answers 200 once the model is loaded.
	Health string `json:"health"`
	// Metrics is the Prometheus endpoint ("" if none).
	Metrics string `json:"metrics,omitempty"`
	// QueueMetric is the gauge of requests waiting for a batch slot, for
	// queue-based autoscaling ("" if the engine exports none).
	QueueMetric string `json:"queue_metric,omitempty"`
}

// SchedulerFlags are the engine's names for its scheduler limits: the
// config/JSON key and the command-line flag.
type SchedulerFlags struct {
	MaxSeqs        string `json:"max_seqs"`
	MaxSeqsFlag    string `json:"max_seqs_flag"`
	MaxTokens      string `json:"max_tokens"`
	MaxTokensFlag  string `json:"max_tokens_flag"`
	MicroBatch     string `json:"micro_batch,omitempty"`
	MicroBatchFlag string `json:"micro_batch_flag,omitempty"`
}

// Scheduler is an engine's per-iteration limits for one deployment.
type Scheduler struct {
	// MaxSeqs is the most sequences one iteration runs; 0 means only the
	// KV pool limits it (SGLang's max_running_requests default).
	MaxSeqs int
	// MaxTokens is the token budget of one scheduling step (decode tokens
	// plus prefill chunk tokens).
	MaxTokens int
	// MicroBatch is the tokens of one forward pass when the engine splits
	// a step into micro-batches (llama.cpp --ubatch-size); 0 otherwise.
	MicroBatch int
	// Flags name the limits as the engine does.
	Flags SchedulerFlags
	// Note says where the values come from.
	Note string
}

// StepTokens is the tokens one forward pass processes at most.
func (s Scheduler) StepTokens() int {
	if s.MicroBatch > 0 {
		return s.MicroBatch
	}
	return s.MaxTokens
}

// Override replaces the limits the user gave (> 0). The token budget is
// the per-step one: the micro-batch where the engine has one.
func (s Scheduler) Override(maxSeqs, maxTokens int) Scheduler {
	if maxSeqs > 0 {
		s.MaxSeqs = maxSeqs
	}
	if maxTokens > 0 {
		if s.MicroBatch > 0 {
			s.MicroBatch = maxTokens
		} else {
			s.MaxTokens = maxTokens
		}
	}
	return s
}

// JSONSchema describes MarshalJSON's output as an OpenAPI 3.0 schema: an
// object of whole numbers whose keys are the engine's flag names.
func (Scheduler) JSONSchema() map[string]any {
	return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "integer", "format": "int64"}}
}

// MarshalJSON writes the limits under the engine's own names, tokens first
// ({"max_num_batched_tokens": 8192, "max_num_seqs": 1024} for vLLM).
func (s Scheduler) MarshalJSON() ([]byte, error) {
	type kv struct {
		k string
		v int
	}
	fields := []kv{{s.Flags.MaxTokens, s.MaxTokens}, {s.Flags.MaxSeqs, s.MaxSeqs}}
	if s.Flags.MicroBatch != "" {
		fields = append(fields, kv{s.Flags.MicroBatch, s.MicroBatch})
	}
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	for _, f := range fields {
		if f.k == "" {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		fmt.Fprintf(&b, "%s:%d", k, f.v)
		n++
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// Describe prints the limits with the engine's flag names.
func (s Scheduler) Describe() string {
	var parts []string
	if s.Flags.MaxSeqs != "" {
		v := fmt.Sprint(s.MaxSeqs)
		if s.MaxSeqs <= 0 {
			v = "unset (the KV pool limits it)"
		}
		parts = append(parts, s.Flags.MaxSeqs+"="+v)
	}
	if s.Flags.MaxTokens != "" {
		parts = append(parts, fmt.Sprintf("%s=%d", s.Flags.MaxTokens, s.MaxTokens))
	}
	if s.Flags.MicroBatch != "" {
		parts = append(parts, fmt.Sprintf("%s=%d", s.Flags.MicroBatch, s.MicroBatch))
	}
	return strings.Join(parts, ", ")
}

// SchedulerInput is what scheduler defaults may depend on.
type SchedulerInput struct {
	// GPU is the chip (ID, CUDAMemory and DriverMemory are read); zero for
	// CPU serving.
	GPU       hardware.GPU
	Model     *model.Spec
	Precision dtype.Precision
	// KVDType is the concrete KV-cache element format.
	KVDType dtype.DType
	TP, PP  int
	// InputTokens and OutputTokens are the request lengths when known
	// (perf, plan); 0 when only a context is known (size).
	InputTokens, OutputTokens int
	// Concurrency is the concurrent sequences asked for (llama.cpp sizes
	// its parallel slots by it); 0 when unknown.
	Concurrency int
}

// MemoryInput is what an engine's memory accounting reads. The memory
// package computes the physics (weights, KV bytes); the engine says how
// it reserves memory around them.
type MemoryInput struct {
	Model     *model.Spec
	Precision dtype.Precision
	// ActDType is the unquantized compute dtype activations use.
	ActDType dtype.DType
	// GPUID is the chip id (engine rules may depend on it, e.g. vLLM's
	// A100 exception); empty when unknown.
	GPUID      string
	CUDAMemory units.Bytes
	// Utilization is the fraction in force (the user's or the default).
	Utilization   float64
	TP, PP        int
	WeightsPerGPU units.Bytes
	Scheduler     Scheduler
	// KVForRequest is the cache the requested concurrency × context needs
	// on one GPU.
	KVForRequest units.Bytes
	Concurrency  int64
	// Context is the context per sequence in tokens (the maximum model
	// length in force).
	Context int64
}

// MemoryAccount is an engine's answer: what it takes outside the KV cache
// and how large the cache is.
type MemoryAccount struct {
	// Requested is the memory the engine may use (utilization × CUDA
	// memory, or all of it).
	Requested units.Bytes
	// Activation is the activation or compute-buffer reserve.
	Activation units.Bytes
	// ActivationLabel names it in tables ("activation peak", "compute
	// buffer").
	ActivationLabel string
	// NonTorch is runtime memory outside the framework allocator (CUDA
	// context, NCCL, platform footprint); OverheadLabel names it.
	NonTorch      units.Bytes
	OverheadLabel string
	// CUDAGraphs is CUDA-graph capture memory; CUDAGraphsInBudget says
	// whether it is taken out of the KV pool.
	CUDAGraphs         units.Bytes
	CUDAGraphsInBudget bool
	// KVPool is the KV cache the engine allocates.
	KVPool units.Bytes
	// KVRoom is the memory the cache could grow into: equal to KVPool for
	// engines that fill memory with the pool (vLLM, SGLang, TensorRT-LLM);
	// the free memory after everything else for engines that allocate the
	// cache for context × slots up front (llama.cpp). Capacity figures
	// (max concurrency, longest context) come from it.
	KVRoom units.Bytes
	// NonKV is everything but the cache that counts against Requested.
	NonKV units.Bytes
	// Notes are assumption lines about this account.
	Notes []string
}

// ServeConfig is what a server command is built from (a plan's engine
// section and the model reference).
type ServeConfig struct {
	Model, Revision string
	// Served is the local path of a model file (GGUF) when the engine
	// loads a file rather than a Hub id; empty otherwise.
	Served       string
	TP, PP       int
	MaxModelLen  int64
	Utilization  float64
	DType        string
	KVCacheDType string
	// Quantization is the load-time quantization flag's value.
	Quantization string
	Scheduler    Scheduler
	// PrefixCaching says the plan assumed a prefix cache.
	PrefixCaching bool
	// DPAttention runs attention data-parallel over the TP group;
	// ExpertParallel is the expert-parallel size (0 or 1: experts split
	// by TP).
	DPAttention    bool
	ExpertParallel int
	// Speculative is speculative decoding (nil: off).
	Speculative *Speculative
}

// Speculative is a speculative-decoding configuration: Method "eagle",
// "mtp" or "draft", the proposer's model id (EAGLE head or draft model)
// and the tokens proposed per step.
type Speculative struct {
	Method string
	Model  string
	Tokens int
}

// errNoLayouts is the refusal of engines that serve only the plain TP × PP
// layout.
func errNoLayouts(p *Profile, c ServeConfig) error {
	if c.DPAttention || c.ExpertParallel > 1 || c.Speculative != nil {
		return fmt.Errorf("%s is served here with experts and attention split by TP and no speculative decoding; re-plan without --ep, --dp-attention or --speculative, or with --engine vllm or sglang", p.ID())
	}
	return nil
}

// Command is a container entry point.
type Command struct {
	Command []string `json:"command"`
	Args    []string `json:"args"`
}

// SchedulerArgs maps scheduler limits and a prefix cache to the engine's
// own launch flags; zero values emit nothing (the engine's default). The
// token budget goes to the micro-batch flag where the engine has one
// (llama.cpp --ubatch-size: the tokens of one forward pass).
func (p *Profile) SchedulerArgs(maxSeqs, maxTokens int, prefixCaching bool) []string {
	var out []string
	if maxSeqs > 0 && p.Flags.MaxSeqsFlag != "" {
		out = append(out, p.Flags.MaxSeqsFlag, fmt.Sprint(maxSeqs))
	}
	tokensFlag := p.Flags.MaxTokensFlag
	if p.Flags.MicroBatchFlag != "" {
		tokensFlag = p.Flags.MicroBatchFlag
	}
	if maxTokens > 0 && tokensFlag != "" {
		out = append(out, tokensFlag, fmt.Sprint(maxTokens))
	}
	if prefixCaching && p.PrefixCacheFlag != "" {
		out = append(out, p.PrefixCacheFlag)
	}
	return out
}

// ErrInvalid marks requests that cannot be sized as given (bad context,
// slots or cache type); memory.ErrInvalid is the same error.
var ErrInvalid = errors.New("invalid sizing request")
