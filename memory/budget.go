package memory

import (
	"errors"
	"fmt"
	"math"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

// GPU is what the budget needs to know about one GPU.
type GPU struct {
	// ID is the canonical chip id (used for engine defaults that depend on
	// the device, such as vLLM's A100 exception); may be empty.
	ID string `json:"id,omitempty"`
	// CUDAMemory is the memory CUDA reports (e.g. 79.19 GiB on an 80 GB
	// H100), the figure vLLM multiplies by its utilization.
	CUDAMemory units.Bytes `json:"cuda_memory_bytes"`
}

// Request is one sizing question.
type Request struct {
	Model *model.Spec
	// Precision is the weights precision; nil means the checkpoint's own
	// (its quantization_config, else its release dtype).
	Precision *dtype.Precision
	KVDType   dtype.KVDType
	// Context is the maximum model length in tokens; 0 means the model's
	// max_position_embeddings.
	Context int64
	// Concurrency is how many sequences of Context tokens must fit at
	// once; 0 means 1.
	Concurrency int64
	GPU         GPU
	TP, PP      int
	Profile     Profile
	// Utilization overrides the profile's default when > 0.
	Utilization float64
	// Scheduler overrides the profile's defaults field by field when > 0.
	Scheduler Scheduler
	// SkipSuggestions leaves Budget.Suggestions empty, for callers that
	// size many requests and only need the verdict (the planner).
	SkipSuggestions bool
	// EP is the expert-parallel degree of an MoE model (0 or 1: experts
	// split by TP); DPAttention runs attention data-parallel across the TP
	// group (moe_parallel.go).
	EP          int
	DPAttention bool
}

// Budget is the per-GPU memory budget of one request under an engine
// profile, with every figure vLLM logs at start-up.
type Budget struct {
	Model        string          `json:"model"`
	ParamsTotal  int64           `json:"params_total"`
	ParamsActive int64           `json:"params_active"`
	Precision    dtype.Precision `json:"precision"`
	KVDType      dtype.DType     `json:"kv_dtype"`
	Context      int64           `json:"context_tokens"`
	Concurrency  int64           `json:"concurrency"`
	TP           int             `json:"tp"`
	PP           int             `json:"pp"`
	// EP and DPAttention echo the MoE layout (absent when experts are
	// split by TP and attention by TP).
	EP          int       `json:"ep,omitempty"`
	DPAttention bool      `json:"dp_attention,omitempty"`
	GPUs        int       `json:"gpus"`
	GPU         GPU       `json:"gpu"`
	Utilization float64   `json:"gpu_memory_utilization"`
	Scheduler   Scheduler `json:"scheduler"`
	// WeightsPerGPU is Weights.PerGPU, at the top level for scripts.
	WeightsPerGPU   units.Bytes         `json:"weights_bytes_per_gpu"`
	Weights         Weights             `json:"weights"`
	KVBytesPerToken units.BytesPerToken `json:"kv_bytes_per_token"`
	// KVBytesPerTokenPerGPU is one token's cache on one GPU after the TP
	// split (KV heads divided, floored at one head; MLA replicated) and the
	// PP split (the heaviest stage's layers).
	KVBytesPerTokenPerGPU units.BytesPerToken `json:"kv_bytes_per_token_per_gpu"`
	// Requested is utilization × CUDA memory.
	Requested units.Bytes `json:"requested_bytes"`
	// Activation is the torch peak of the profile run above the weights.
	Activation units.Bytes `json:"activation_bytes"`
	// NonTorch is memory allocated outside PyTorch during profiling.
	NonTorch units.Bytes `json:"non_torch_bytes"`
	// CUDAGraphs is the CUDA-graph capture memory; whether it is taken out
	// of the KV pool depends on the profile (CUDAGraphsInBudget).
	CUDAGraphs         units.Bytes `json:"cuda_graphs_bytes"`
	CUDAGraphsInBudget bool        `json:"cuda_graphs_in_budget"`
	// KVPool is "Available KV cache memory": requested minus everything
	// else; negative when the model does not even load.
	KVPool units.Bytes `json:"kv_pool_bytes"`
	// KVForRequest is the cache the requested concurrency × context needs
	// on one GPU, in whole blocks with vLLM's window caps.
	KVForRequest units.Bytes `json:"kv_for_request_bytes"`
	Layout       KVLayout    `json:"kv_layout"`
	Blocks       int64       `json:"num_gpu_blocks"`
	// KVCacheTokens is what vLLM reports as "GPU KV cache size: N tokens".
	KVCacheTokens int64 `json:"kv_cache_tokens"`
	// MaxConcurrency is vLLM's "Maximum concurrency for N tokens per
	// request: X" and MaxConcurrentSequences its whole part.
	MaxConcurrency         float64 `json:"max_concurrency"`
	MaxConcurrentSequences int64   `json:"max_concurrent_sequences"`
	// MaxContext is the longest context that fits at the requested
	// concurrency (capped at the model's max_position_embeddings).
	MaxContext int64 `json:"max_context_tokens"`
	// TotalPerGPU is weights + activation + non-torch + the requested KV
	// (+ CUDA graphs): what the GPU holds under the requested load.
	TotalPerGPU units.Bytes `json:"total_per_gpu_bytes"`
	Fits        bool        `json:"fits"`
	// Reasons explain a "does not fit" verdict.
	Reasons     []string     `json:"reasons,omitempty"`
	Suggestions []Suggestion `json:"suggestions,omitempty"`
	QuickRule   QuickRule    `json:"quick_rule"`
	Assumptions Assumptions  `json:"assumptions"`
}

// Assumptions states what a user needs to reproduce or dispute a budget.
type Assumptions struct {
	Engine        Engine   `json:"engine"`
	EngineVersion string   `json:"engine_version"`
	Calibrated    bool     `json:"calibrated"`
	BlockSize     int      `json:"block_size_tokens"`
	Notes         []string `json:"notes"`
}

// ErrInvalid marks requests that cannot be sized as given (bad TP, a
// context longer than the model supports); the CLI maps it to a usage error.
var ErrInvalid = errors.New("invalid sizing request")

// Estimate computes the memory budget of a request; when it does not fit,
// the budget carries ranked suggestions that would make it fit.
func Estimate(r Request) (Budget, error) {
	b, err := estimate(r)
	if err == nil && !b.Fits && !r.SkipSuggestions {
		b.Suggestions = suggest(r, b)
	}
	return b, err
}

// estimate computes the budget without suggestions.
func estimate(r Request) (Budget, error) {
	s := r.Model
	if s == nil {
		return Budget{}, fmt.Errorf("%w: no model", ErrInvalid)
	}
	if r.TP == 0 {
		r.TP = 1
	}
	if r.PP == 0 {
		r.PP = 1
	}
	if r.TP < 1 || r.PP < 1 {
		return Budget{}, fmt.Errorf("%w: --tp and --pp must be at least 1", ErrInvalid)
	}
	if s.Heads > 0 && s.Heads%r.TP != 0 {
		return Budget{}, fmt.Errorf("%w: --tp %d does not divide the model's %d attention heads; vLLM refuses this split (try a TP that divides %d)", ErrInvalid, r.TP, s.Heads, s.Heads)
	}
	if r.GPU.CUDAMemory <= 0 {
		return Budget{}, fmt.Errorf("%w: GPU memory unknown: give --gpu or --gpu-memory", ErrInvalid)
	}
	if r.Profile.Engine == "" {
		r.Profile = DefaultProfile()
	}
	prec, err := resolvePrecision(s, r.Precision)
	if err != nil {
		return Budget{}, err
	}
	ctx := r.Context
	if ctx == 0 {
		ctx = int64(s.MaxPositionEmbeddings)
	}
	if ctx <= 0 {
		return Budget{}, fmt.Errorf("%w: the model does not state its maximum length; give --context", ErrInvalid)
	}
	if s.MaxPositionEmbeddings > 0 && ctx > int64(s.MaxPositionEmbeddings) {
		return Budget{}, fmt.Errorf("%w: --context %d is longer than the model's max_position_embeddings (%d); vLLM refuses it without rope scaling overrides", ErrInvalid, ctx, s.MaxPositionEmbeddings)
	}
	conc := r.Concurrency
	if conc == 0 {
		conc = 1
	}
	if conc < 0 {
		return Budget{}, fmt.Errorf("%w: --concurrency must be positive", ErrInvalid)
	}
	util := r.Utilization
	if util == 0 {
		util = r.Profile.DefaultUtilization
		if u, ok := r.Profile.UtilizationByTP[r.TP]; ok {
			util = u
		}
	}
	if util <= 0 || util > 1 {
		return Budget{}, fmt.Errorf("%w: --gpu-memory-utilization must be in (0, 1], got %g", ErrInvalid, util)
	}

	sched := vllmDefaults(r.GPU.CUDAMemory, r.GPU.ID)
	if r.Scheduler.MaxNumBatchedTokens > 0 {
		sched.MaxNumBatchedTokens = r.Scheduler.MaxNumBatchedTokens
	}
	if r.Scheduler.MaxNumSeqs > 0 {
		sched.MaxNumSeqs = r.Scheduler.MaxNumSeqs
	}

	w, err := EstimateWeights(s, prec, r.TP, r.PP)
	if err != nil {
		return Budget{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if w, err = moeParallelWeights(s, prec, r, w); err != nil {
		return Budget{}, err
	}
	kvType := r.KVDType.Resolve(unquantizedDType(s, prec))
	modelLayers := s.KVLayers()
	kvTP := r.TP
	if r.DPAttention {
		// Each GPU keeps whole-head caches of its own sequences.
		kvTP = 1
	}
	layers, perTokenPerGPU := kvLayersPerGPU(modelLayers, kvType, kvTP, r.PP)
	blockSize := r.Profile.BlockSize
	layout, err := newKVLayout(layers, blockSize)
	if err != nil {
		return Budget{}, err
	}

	params := s.Params()
	b := Budget{
		Model: s.ID, ParamsTotal: params.Total, ParamsActive: params.Active,
		Precision: prec, KVDType: kvType, Context: ctx, Concurrency: conc,
		TP: r.TP, PP: r.PP, GPUs: r.TP * r.PP, GPU: r.GPU, Utilization: util, Scheduler: sched,
		Weights: w, WeightsPerGPU: w.PerGPU, KVBytesPerToken: kvBytesPerToken(modelLayers, kvType),
		KVBytesPerTokenPerGPU: units.BytesPerToken(perTokenPerGPU),
		Layout:                layout,
		QuickRule:             NewQuickRule(params.Total, prec),
		Assumptions: Assumptions{
			Engine: r.Profile.Engine, EngineVersion: r.Profile.Version,
			Calibrated: r.Profile.Calibrated, BlockSize: blockSize,
		},
	}
	b.Requested = units.Bytes(math.Floor(util * float64(r.GPU.CUDAMemory)))
	b.CUDAGraphsInBudget = r.Profile.SubtractsCUDAGraphs
	var nonKV units.Bytes
	switch r.Profile.Engine {
	case SGLang:
		// Activations and graphs live outside the static fraction.
		nonKV = b.Weights.PerGPU
		b.KVPool = b.Requested - nonKV
	case LlamaCPP:
		b.Activation = llamacppCompute(s, conc)
		b.NonTorch = llamacppFootprint
		nonKV = b.Weights.PerGPU + b.Activation + b.NonTorch
		b.KVPool = b.Requested - nonKV
	default:
		b.Activation = activationPeak(s, prec, sched, r.TP, r.Profile.Constants)
		nt, measured := r.Profile.Constants.byTP(r.Profile.Constants.NonTorchByTP, r.TP)
		b.NonTorch = nt
		if !measured {
			b.Assumptions.Notes = append(b.Assumptions.Notes, fmt.Sprintf("non-torch memory at TP=%d extrapolated from the measured TP degrees", r.TP))
		}
		b.CUDAGraphs, _ = r.Profile.Constants.byTP(r.Profile.Constants.CUDAGraphByTP, r.TP)
		nonKV = b.Weights.PerGPU + b.Activation + b.NonTorch
		if b.CUDAGraphsInBudget {
			nonKV += b.CUDAGraphs
		}
		b.KVPool = b.Requested - nonKV
		if r.Profile.Engine == TRTLLM {
			// The KV fraction applies to what is free after the rest.
			b.Requested = r.GPU.CUDAMemory
			b.KVPool = units.Bytes(util * float64(r.GPU.CUDAMemory-nonKV))
		}
	}
	b.Blocks = layout.Blocks(b.KVPool)
	b.KVCacheTokens = layout.ReportedTokens(b.Blocks)
	batched := int64(sched.MaxNumBatchedTokens)
	b.MaxConcurrency = layout.MaxConcurrency(b.Blocks, ctx, batched)
	perGPUConc := conc
	if r.DPAttention {
		// Every GPU of the group serves its own sequences.
		b.MaxConcurrency *= float64(r.TP)
		perGPUConc = (conc + int64(r.TP) - 1) / int64(r.TP)
		b.EP, b.DPAttention = max(r.EP, 1), true
	} else if r.EP > 1 {
		b.EP = r.EP
	}
	b.MaxConcurrentSequences = int64(math.Floor(b.MaxConcurrency + 1e-9))
	limit := int64(s.MaxPositionEmbeddings)
	if limit <= 0 {
		limit = ctx
	}
	b.MaxContext = layout.MaxLen(b.Blocks, conc, batched, limit)
	b.KVForRequest = units.Bytes(perGPUConc) * layout.SequenceBytes(ctx, batched)
	b.TotalPerGPU = nonKV + b.KVForRequest
	if !b.CUDAGraphsInBudget {
		b.TotalPerGPU += b.CUDAGraphs
	}

	switch {
	case b.KVPool <= 0:
		b.Reasons = append(b.Reasons, fmt.Sprintf("weights (%s), activations (%s) and runtime overhead (%s) exceed the %s vLLM may use (%.2f × %s): no room for any KV cache",
			b.Weights.PerGPU, b.Activation, b.NonTorch, b.Requested, util, r.GPU.CUDAMemory))
	case b.MaxConcurrentSequences < 1:
		b.Reasons = append(b.Reasons, fmt.Sprintf("the KV pool (%s, %d tokens) cannot hold one sequence of %d tokens; vLLM refuses to start (longest context that fits: %d)",
			b.KVPool, b.KVCacheTokens, ctx, b.MaxContext))
	case b.MaxConcurrentSequences < conc:
		b.Reasons = append(b.Reasons, fmt.Sprintf("the KV pool holds %d sequences of %d tokens, not the %d requested", b.MaxConcurrentSequences, ctx, conc))
	}
	b.Fits = len(b.Reasons) == 0
	b.Assumptions.Notes = append(b.Assumptions.Notes, assumptionNotes(r, b)...)
	return b, nil
}

// resolvePrecision picks the precision: the user's, else the checkpoint's
// quantization, else its release dtype.
func resolvePrecision(s *model.Spec, p *dtype.Precision) (dtype.Precision, error) {
	if p != nil {
		if s.Quant != nil {
			if cp, ok := CheckpointPrecision(s.Quant); ok && cp.Name != p.Name && cp.WeightBits() < p.WeightBits() {
				return dtype.Precision{}, fmt.Errorf("%w: %s is a pre-quantized %s checkpoint (%s); it cannot be served at %s — pick its base model for that", ErrInvalid, s.ID, s.Quant.Method, cp.Name, p.Name)
			}
		}
		return *p, nil
	}
	if cp, ok := CheckpointPrecision(s.Quant); ok {
		return cp, nil
	}
	return dtype.LookupPrecision(string(s.ComputeDType()))
}

// kvLayersPerGPU applies the TP split to each layer's cache (vLLM's
// get_num_kv_heads: max(1, kv_heads / tp); MLA is one latent replicated on
// every rank) and keeps the heaviest PP stage's layers.
func kvLayersPerGPU(all []model.KVLayer, kv dtype.DType, tp, pp int) ([]kvLayerSpec, int64) {
	bytes := int64(kv.Bits()) / 8
	stage := len(all)
	if pp > 1 {
		stage = int(math.Ceil(float64(len(all)) / float64(pp)))
	}
	var out []kvLayerSpec
	var perToken int64
	for i, l := range all {
		if i >= stage || l.Kind == model.KVNone {
			continue
		}
		heads := int64(l.KVHeads)
		if l.Kind != model.KVMLA {
			heads = max(1, heads/int64(tp))
		}
		bpt := heads * int64(l.KeyDim+l.ValueDim) * bytes
		kind := kvFull
		switch l.Kind {
		case model.KVSliding:
			kind = kvSliding
		case model.KVChunked:
			kind = kvChunked
		}
		out = append(out, kvLayerSpec{kind: kind, window: int64(l.Window), bytesPerToken: bpt})
		perToken += bpt
	}
	return out, perToken
}

// activationPeak models the torch peak of vLLM's profile run: a dummy
// forward over max_num_batched_tokens tokens, then a dummy sampler run over
// min(max_num_seqs, tokens) sequences. The two do not overlap (the forward
// intermediates are freed before sampling), so the peak is the larger of
// the forward live set and the sampler's logits working set plus the final
// hidden states it keeps.
func activationPeak(s *model.Spec, p dtype.Precision, sched Scheduler, tp int, c Constants) units.Bytes {
	act := unquantizedDType(s, p).Bits() / 8
	tokens := float64(sched.MaxNumBatchedTokens)
	seqs := math.Min(float64(sched.MaxNumSeqs), tokens)
	h := float64(s.Hidden)
	hidden := tokens * h * act
	sampler := hidden + seqs*float64(s.Vocab)*(act+c.SamplerBytesPerLogit)
	forward := tokens * (2*h + 3*mlpWidth(s)/float64(tp)) * act * c.ForwardActivationFactor
	return units.Bytes(math.Round(math.Max(sampler, forward)))
}

// mlpWidth is the widest per-token MLP intermediate of any layer: the dense
// width, or for MoE layers top-k × expert width plus the shared experts
// (the fused-MoE kernels keep top-k copies of each token's intermediate).
func mlpWidth(s *model.Spec) float64 {
	w := float64(s.Intermediate)
	if m := s.MoE; m != nil {
		moe := float64(m.ExpertsPerToken*m.ExpertIntermediate + m.SharedIntermediate)
		w = math.Max(w, moe)
	}
	return w
}

func assumptionNotes(r Request, b Budget) []string {
	notes := []string{
		fmt.Sprintf("%s@%s memory profile: KV pool = %.2f × CUDA memory − weights − activation peak − non-torch memory", r.Profile.Engine, r.Profile.Version, b.Utilization),
		fmt.Sprintf("profile run at max_num_batched_tokens=%d, max_num_seqs=%d", b.Scheduler.MaxNumBatchedTokens, b.Scheduler.MaxNumSeqs),
	}
	if b.CUDAGraphsInBudget {
		notes = append(notes, "CUDA-graph memory is subtracted from the KV pool")
	} else {
		notes = append(notes, "CUDA graphs are captured after the KV cache is sized (they use the memory above the utilization limit)")
	}
	if !r.Profile.Calibrated {
		notes = append(notes, "this engine profile is not calibrated on measurements: treat its figures as ±15%")
	}
	if b.Weights.FromHeaders {
		notes = append(notes, "weights from the checkpoint's tensor headers")
	} else {
		notes = append(notes, fmt.Sprintf("weights from exact parameter counts at %s (embeddings, norms and routers in %s)", b.Precision.Name, unquantizedDType(r.Model, b.Precision)))
	}
	return notes
}

// kvBytesPerToken is the whole model's uncapped cache per token in a
// concrete element format (fp32 included, which dtype.KVDType does not name).
func kvBytesPerToken(layers []model.KVLayer, kv dtype.DType) units.BytesPerToken {
	var elems int64
	for _, l := range layers {
		elems += l.ElementsPerToken()
	}
	return units.BytesPerToken(elems * int64(kv.Bits()) / 8)
}

// llamacppFootprint is gguf-parser-go's default non-UMA platform footprint
// of 250 MiB VRAM (its --platform-footprint "150,250").
const llamacppFootprint = 250 * units.MiB

// llamacppCompute estimates llama.cpp's compute buffer the way
// gguf-parser-go does for a micro-batch of 512 tokens (llama.cpp's default
// ubatch): layers run one after another, so the largest FFN's F32 gate, up
// and norm intermediates, plus the F32 output buffer of (hidden + vocab)
// per sequence.
func llamacppCompute(s *model.Spec, seqs int64) units.Bytes {
	const ubatch = 512
	ffn := 3 * mlpWidth(s) * ubatch * 4
	out := float64(s.Hidden+s.Vocab) * float64(seqs) * 4
	return units.Bytes(ffn + out)
}
