// Package plan searches VM sizes × GPUs × precision × parallelism for the
// cheapest way to serve a model at a load and latency target, explains
// every rejection, and saves the chosen candidate as plan.json for deploy
// and bench. Report (report.go) is what `gpuplan plan` prints with -o json
// and the HTTP API answers.
package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gpuplan/gpuplan/atomicfile"
	"github.com/gpuplan/gpuplan/boundedfile"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/stats"
)

// SchemaVersion is the version of the plan.json format written by Save.
// Version 2 only adds optional fields to version 1 (docs/plan-json.md), so
// Decode reads both; any other version is refused with a message naming
// the versions this gpuplan reads.
const SchemaVersion = 2

// ReadableVersions are the plan.json schema versions Decode accepts, oldest
// first.
var ReadableVersions = []int{1, 2}

// MaxFileBytes bounds a plan file (plan.json, and bench's multi-level
// prediction form): a plan is a few KiB, so a larger file is not a plan.
// It is the one limit every reader of a plan uses.
const MaxFileBytes = 1 << 20

// Candidate is one deployable configuration: where it runs, how the engine
// is configured, what it is predicted to do and cost. It is the plan.json
// schema (docs/plan-json.md); deploy and bench read it.
type Candidate struct {
	SchemaVersion  int    `json:"schema_version"`
	GPUPlanVersion string `json:"gpuplan_version"`
	// Rank is the row's rank in the plan table it came from (1 = best).
	Rank int `json:"rank,omitempty"`

	Model  ModelRef `json:"model"`
	Region string   `json:"region,omitempty"`

	// VM is the Azure VM size, e.g. "Standard_ND96isr_H100_v5".
	VM string `json:"vm"`
	// VMCount is the number of VMs (all replicas together).
	VMCount int `json:"vm_count"`
	// GPU is the canonical chip id; GPUsPerVM how many the VM carries
	// (fractional for NVads A10 v5 partitions, e.g. 0.5).
	GPU       string  `json:"gpu"`
	GPUsPerVM float64 `json:"gpus_per_vm"`
	// GPUsPerReplica is TP × PP.
	GPUsPerReplica int `json:"gpus_per_replica"`
	// Replicas is how many independent engine instances serve the load.
	Replicas int `json:"replicas"`
	// NodesPerReplica is > 1 only for multi-node serving (one VM cannot
	// hold the model).
	NodesPerReplica int `json:"nodes_per_replica"`
	// DevicePluginResource is the Kubernetes resource name of the GPU
	// ("nvidia.com/gpu", "amd.com/gpu").
	DevicePluginResource string `json:"device_plugin_resource"`
	// HostCPU is the VM's CPU architecture ("x86-64", "arm64").
	HostCPU string `json:"host_cpu_arch"`

	Engine Engine `json:"engine"`

	Workload    Workload    `json:"workload"`
	Predictions Predictions `json:"predictions"`
	Prices      Prices      `json:"prices"`

	// WeightsBytes is the whole model's weight size (sizes the model-cache
	// volume); WeightsBytesPerGPU the per-GPU share.
	WeightsBytes       int64 `json:"weights_bytes"`
	WeightsBytesPerGPU int64 `json:"weights_bytes_per_gpu"`

	// Compatibility is engine.Check's verdict: native, weight_only (e.g.
	// FP8 weights via W8A16 kernels on Ampere) or unknown.
	Compatibility engine.Level `json:"compatibility"`
	// Reason is the one-line explanation of the row.
	Reason string `json:"reason,omitempty"`
	// Notes carry assumptions and caveats.
	Notes []string `json:"notes,omitempty"`
}

// ModelRef says which model, from where.
type ModelRef struct {
	// ID is the Hugging Face id (or local path) the engine loads.
	ID string `json:"id"`
	// Source is the URL or path of the config the plan was sized from.
	Source   string `json:"source,omitempty"`
	Revision string `json:"revision,omitempty"`
	// ParamsTotal and ParamsActive are exact counts.
	ParamsTotal  int64 `json:"params_total"`
	ParamsActive int64 `json:"params_active"`
}

// Engine is the serving engine's configuration.
type Engine struct {
	// Name is a registered engine name (engine.Names: "vllm", "sglang",
	// "trtllm", "llamacpp").
	Name string `json:"name"`
	// Version is the engine version profile (e.g. "0.19").
	Version string `json:"version"`
	// Image is the container image the version profile implies
	// (e.g. "vllm/vllm-openai:v0.19.0"); deploy may override it.
	Image string `json:"image,omitempty"`
	// Precision is the --precision name (docs/cli.md); Checkpoint is how it
	// is deployed ("runtime" quantization, "awq", "gptq",
	// "compressed-tensors", "fp8", "mxfp4", or "" for unquantized).
	Precision  string `json:"precision"`
	Checkpoint string `json:"checkpoint,omitempty"`
	// Quantization is the value of the engine's load-time quantization
	// flag (vLLM --quantization), if any.
	Quantization string `json:"quantization,omitempty"`
	// DType is vLLM's --dtype ("bfloat16", "float16" on GPUs without BF16).
	DType        string `json:"dtype"`
	KVCacheDType string `json:"kv_cache_dtype"`
	TP           int    `json:"tensor_parallel_size"`
	PP           int    `json:"pipeline_parallel_size"`
	MaxModelLen  int64  `json:"max_model_len"`
	// MaxNumBatchedTokens and MaxNumSeqs are the engine's token budget per
	// step and sequence limit, whatever the engine calls them (vLLM
	// max_num_batched_tokens/max_num_seqs, SGLang chunked_prefill_size/
	// max_running_requests, TensorRT-LLM max_num_tokens/max_batch_size,
	// llama.cpp batch_size/parallel); MicroBatchTokens is llama.cpp's
	// ubatch_size.
	MaxNumBatchedTokens  int     `json:"max_num_batched_tokens"`
	MaxNumSeqs           int     `json:"max_num_seqs"`
	MicroBatchTokens     int     `json:"micro_batch_tokens,omitempty"`
	BlockSize            int     `json:"block_size"`
	GPUMemoryUtilization float64 `json:"gpu_memory_utilization"`
	// ExpertParallelSize is the MoE expert-parallel degree (absent: experts
	// split by TP); DPAttention runs attention data-parallel across the TP
	// group. Speculative is speculative decoding (absent: off).
	ExpertParallelSize int                `json:"expert_parallel_size,omitempty"`
	DPAttention        bool               `json:"dp_attention,omitempty"`
	Speculative        *SpeculativeConfig `json:"speculative,omitempty"`
	// PrefixCaching asks the engine to keep its prefix cache on (the plan
	// was sized for a cache rate above 0).
	PrefixCaching bool `json:"enable_prefix_caching,omitempty"`
}

// SpeculativeConfig is a plan's speculative decoding: the method ("draft",
// "eagle", "mtp"), the proposer model's id (draft and EAGLE heads), the
// tokens proposed per step and the acceptance rate the prediction assumed.
type SpeculativeConfig struct {
	Method         string  `json:"method"`
	Model          string  `json:"model,omitempty"`
	Tokens         int     `json:"num_speculative_tokens"`
	AcceptanceRate float64 `json:"acceptance_rate"`
}

// Workload is the load the plan was sized for.
type Workload struct {
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	Concurrency  int64   `json:"concurrency,omitempty"`
	RPS          float64 `json:"rps,omitempty"`
	HoursPerDay  float64 `json:"hours_per_day,omitempty"`
	TTFTSLOMs    float64 `json:"ttft_slo_ms,omitempty"`
	TPOTSLOMs    float64 `json:"tpot_slo_ms,omitempty"`
	CacheRate    float64 `json:"cache_rate,omitempty"`
}

// Latency is the shared latency object (docs/cli.md) as predicted: mean
// and percentiles in ms, with low/high bounding the mean by the error band
// and pNN_high bounding each percentile the same way (the percentile ×
// high/mean: the band is one multiplicative factor on the whole
// distribution). `plan --slo-confidence band` judges SLOs on pNN_high.
type Latency struct {
	stats.Latency
	P50High float64 `json:"p50_high,omitempty"`
	P90High float64 `json:"p90_high,omitempty"`
	P95High float64 `json:"p95_high,omitempty"`
	P99High float64 `json:"p99_high,omitempty"`
}

// latencyOf converts perf's latency, adding the per-percentile upper
// bounds.
func latencyOf(l perf.Latency) Latency {
	out := Latency{Latency: l}
	f := 1.0
	if l.Mean > 0 && l.High > 0 {
		f = l.High / l.Mean
	}
	out.P50High, out.P90High, out.P95High, out.P99High = l.P50*f, l.P90*f, l.P95*f, l.P99*f
	return out
}

// Predictions are the performance model's figures for the workload.
type Predictions struct {
	TTFTMs            Latency `json:"ttft_ms"`
	TPOTMs            Latency `json:"tpot_ms"`
	ITLMs             Latency `json:"itl_ms"`
	E2EMs             Latency `json:"e2e_ms"`
	OutputTokensPerS  float64 `json:"output_tokens_per_s"`
	RequestsPerS      float64 `json:"requests_per_s"`
	MaxConcurrency    int64   `json:"max_concurrency"`
	KVCacheTokens     int64   `json:"kv_cache_tokens"`
	Bottleneck        string  `json:"bottleneck"`
	ColdStartS        float64 `json:"cold_start_s,omitempty"`
	Calibrated        bool    `json:"calibrated"`
	ErrorBandFraction float64 `json:"error_band_fraction"`
	// Simulated: the latencies come from perf's request-by-request
	// simulation of this replica's load, not the steady-state model.
	Simulated bool `json:"simulated,omitempty"`
	// SpeedModel names the model every speed figure above comes from:
	// SpeedModelSimulation or SpeedModelSteadyState.
	SpeedModel string `json:"speed_model,omitempty"`
	// SimulatedRequests and SimulationSeed say how a simulated row's
	// figures were drawn (the same inputs and seed give the same plan).
	SimulatedRequests int    `json:"simulated_requests,omitempty"`
	SimulationSeed    uint64 `json:"simulation_seed,omitempty"`
	// SteadyStateReplicas, when set, is the replica count the
	// steady-state model sized the row at, which the simulation missed an
	// SLO with: the row's Replicas (and VMs) are the fewest the simulation
	// found to hold it (SimulationNote says what it measured).
	SteadyStateReplicas int    `json:"steady_state_replicas,omitempty"`
	SimulationNote      string `json:"simulation_note,omitempty"`
}

// Speed models a row's figures come from (Predictions.SpeedModel).
const (
	// SpeedModelSimulation: perf's discrete-event simulation of the
	// replica's load (docs/perf.md, "Simulation").
	SpeedModelSimulation = "simulation"
	// SpeedModelSteadyState: perf's steady-state model (docs/perf.md).
	SpeedModelSteadyState = "steady_state"
)

// Prices are the candidate's costs, dated.
type Prices struct {
	Currency string `json:"currency"`
	// Pricing is payg, spot, 1y or 3y.
	Pricing             string   `json:"pricing"`
	USDPerHour          *float64 `json:"usd_per_hour"`
	USDPerMonth         *float64 `json:"usd_per_month"`
	USDPerMillionTokens *float64 `json:"usd_per_million_tokens"`
	USDPerMillionInput  *float64 `json:"usd_per_million_input_tokens,omitempty"`
	USDPerMillionOutput *float64 `json:"usd_per_million_output_tokens,omitempty"`
	// USDPerMillionTokensOwnRate is $/million tokens at the rate this row
	// itself answers the users (closed loop, back to back): the figure
	// --objective cost-per-token ranks by. The other $/Mtok fields are for
	// the request stream every row and the managed rows are costed for.
	USDPerMillionTokensOwnRate *float64 `json:"usd_per_million_tokens_own_rate,omitempty"`
	PriceAsOf                  string   `json:"price_as_of,omitempty"`
	PriceSource                string   `json:"price_source,omitempty"`
}

// Save writes c as plan.json atomically (a temporary file renamed into
// place), so a failure never leaves a partial file.
func Save(path string, c Candidate) error {
	c.SchemaVersion = SchemaVersion
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	b = append(b, '\n')
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// Load reads and validates a plan.json.
func Load(path string) (Candidate, error) {
	f, err := os.Open(path)
	if err != nil {
		return Candidate{}, fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	return Decode(f, path)
}

// Decode reads and validates a plan from r, of any version in
// ReadableVersions, up to MaxFileBytes; name is used in errors. It is the
// one plan.json decoder: deploy and bench read plans through it.
func Decode(r io.Reader, name string) (Candidate, error) {
	b, err := boundedfile.Read(r, MaxFileBytes)
	if errors.Is(err, boundedfile.ErrTooLarge) {
		return Candidate{}, fmt.Errorf("plan %s is larger than %d bytes: not a gpuplan plan.json", name, MaxFileBytes)
	}
	if err != nil {
		return Candidate{}, fmt.Errorf("read plan %s: %w", name, err)
	}
	return DecodeBytes(b, name)
}

// DecodeBytes is Decode for a plan already in memory (at most MaxFileBytes).
func DecodeBytes(b []byte, name string) (Candidate, error) {
	if len(b) > MaxFileBytes {
		return Candidate{}, fmt.Errorf("plan %s is larger than %d bytes: not a gpuplan plan.json", name, MaxFileBytes)
	}
	var c Candidate
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Candidate{}, fmt.Errorf("parse plan %s: %w (write it with 'gpuplan plan --save')", name, err)
	}
	if err := c.Validate(); err != nil {
		return Candidate{}, fmt.Errorf("plan %s: %w", name, err)
	}
	return c, nil
}

// Validate checks the fields deploy and bench rely on.
func (c Candidate) Validate() error {
	var errs []error
	if !slices.Contains(ReadableVersions, c.SchemaVersion) {
		errs = append(errs, fmt.Errorf("schema_version %d is not one this gpuplan reads (%s); upgrade gpuplan or re-run 'gpuplan plan --save'", c.SchemaVersion, versionList()))
	}
	if c.Model.ID == "" {
		errs = append(errs, errors.New("model.id is empty"))
	}
	if c.VM == "" || c.VMCount < 1 {
		errs = append(errs, errors.New("vm and vm_count ≥ 1 are required"))
	}
	if c.Engine.Name == "" || c.Engine.TP < 1 || c.Engine.PP < 1 {
		errs = append(errs, errors.New("engine.name, tensor_parallel_size ≥ 1 and pipeline_parallel_size ≥ 1 are required"))
	}
	if c.Engine.MaxModelLen < 1 {
		errs = append(errs, errors.New("engine.max_model_len must be positive"))
	}
	// A CPU row (plan.CPUCandidate) has no GPU and no GPU memory fraction.
	if u := c.Engine.GPUMemoryUtilization; u > 1 || u < 0 || (u == 0 && c.GPU != "") {
		errs = append(errs, errors.New("engine.gpu_memory_utilization must be in (0, 1] (0 only for a CPU row, which has no gpu)"))
	}
	if c.Replicas < 1 || c.NodesPerReplica < 1 {
		errs = append(errs, errors.New("replicas and nodes_per_replica must be at least 1"))
	}
	return errors.Join(errs...)
}

// versionList names ReadableVersions for errors: "versions 1 and 2".
func versionList() string {
	parts := make([]string, len(ReadableVersions))
	for i, v := range ReadableVersions {
		parts[i] = strconv.Itoa(v)
	}
	if len(parts) == 1 {
		return "version " + parts[0]
	}
	return "versions " + strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
