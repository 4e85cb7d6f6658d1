package memory

import (
	"fmt"
	"math"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
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
	// DriverMemory is the driver's total (TensorRT-LLM's build sizing
	// reads it); zero when unknown.
	DriverMemory units.Bytes `json:"driver_memory_bytes,omitempty"`
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
	// Engine is the engine profile (engine.Lookup); nil means
	// engine.Default().
	Engine engine.Engine
	// Utilization overrides the engine's default when > 0.
	Utilization float64
	// Scheduler overrides the engine's defaults: its MaxSeqs and MaxTokens
	// when > 0; a Scheduler with Flags set replaces the defaults whole
	// (perf passes the limits it computed with the request lengths).
	Scheduler engine.Scheduler
	// Target is the hardware when known (a catalog GPU, or CPUs): the
	// request is then judged by engine.Check — a combination the engine
	// cannot run does not fit, whatever the memory says — and an unset
	// Precision defaults to one the hardware runs (fp16 for a bf16 model on
	// a T4). Nil when only a memory figure is known (--gpu-memory).
	Target *engine.Target
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
	EP          int     `json:"ep,omitempty"`
	DPAttention bool    `json:"dp_attention,omitempty"`
	GPUs        int     `json:"gpus"`
	GPU         GPU     `json:"gpu"`
	Utilization float64 `json:"gpu_memory_utilization"`
	// Scheduler is the engine's limits, under the engine's own names.
	Scheduler engine.Scheduler `json:"scheduler"`
	// WeightsPerGPU is Weights.PerGPU, at the top level for scripts.
	WeightsPerGPU   units.Bytes         `json:"weights_bytes_per_gpu"`
	Weights         Weights             `json:"weights"`
	KVBytesPerToken units.BytesPerToken `json:"kv_bytes_per_token"`
	// KVBytesPerTokenPerGPU is one token's cache on one GPU after the TP
	// split (KV heads divided, floored at one head; MLA replicated) and the
	// PP split (the heaviest stage's layers).
	KVBytesPerTokenPerGPU units.BytesPerToken `json:"kv_bytes_per_token_per_gpu"`
	// Requested is what the engine may use (utilization × CUDA memory for
	// vLLM and SGLang, all of it for TensorRT-LLM and llama.cpp).
	Requested units.Bytes `json:"requested_bytes"`
	// Activation is the engine's activation reserve: vLLM's profile-run
	// peak, llama.cpp's compute buffer; ActivationLabel names it.
	Activation      units.Bytes `json:"activation_bytes"`
	ActivationLabel string      `json:"activation_label"`
	// NonTorch is runtime memory outside the activation reserve (vLLM's
	// non-torch memory, TensorRT-LLM's buffers, llama.cpp's platform
	// footprint); OverheadLabel names it.
	NonTorch      units.Bytes `json:"non_torch_bytes"`
	OverheadLabel string      `json:"overhead_label"`
	// CUDAGraphs is the CUDA-graph capture memory; whether it is taken out
	// of the KV pool depends on the profile (CUDAGraphsInBudget).
	CUDAGraphs         units.Bytes `json:"cuda_graphs_bytes"`
	CUDAGraphsInBudget bool        `json:"cuda_graphs_in_budget"`
	// KVPool is the KV cache the engine allocates: vLLM's "Available KV
	// cache memory" (requested minus everything else; negative when the
	// model does not even load), or llama.cpp's cache for context × slots.
	KVPool units.Bytes `json:"kv_pool_bytes"`
	// KVRoom is the memory the cache may grow into; capacity figures come
	// from it. It equals KVPool for engines whose pool fills memory.
	KVRoom units.Bytes `json:"kv_room_bytes"`
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
	// Compatibility is engine.Check's verdict when the hardware is known
	// (Request.Target); a refusal makes Fits false.
	Compatibility *engine.Compatibility `json:"compatibility,omitempty"`
	// Reasons explain a "does not fit" verdict.
	Reasons     []string     `json:"reasons,omitempty"`
	Suggestions []Suggestion `json:"suggestions,omitempty"`
	QuickRule   QuickRule    `json:"quick_rule"`
	Assumptions Assumptions  `json:"assumptions"`
}

// Assumptions states what a user needs to reproduce or dispute a budget.
type Assumptions struct {
	Engine        string   `json:"engine"`
	EngineVersion string   `json:"engine_version"`
	Calibrated    bool     `json:"calibrated"`
	BlockSize     int      `json:"block_size_tokens"`
	Notes         []string `json:"notes"`
}

// ErrInvalid marks requests that cannot be sized as given (bad TP, a
// context longer than the model supports); the CLI maps it to a usage error.
var ErrInvalid = engine.ErrInvalid

// Estimate computes the memory budget of a request; when it does not fit,
// the budget carries ranked suggestions that would make it fit.
func Estimate(r Request) (Budget, error) {
	if r.Engine == nil {
		r.Engine = engine.Default()
	}
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
	if r.Engine == nil {
		r.Engine = engine.Default()
	}
	eng := r.Engine.Info()
	if s.Heads > 0 && s.Heads%r.TP != 0 {
		return Budget{}, fmt.Errorf("%w: --tp %d does not divide the model's %d attention heads; %s refuses this split (try a TP that divides %d)", ErrInvalid, r.TP, s.Heads, eng.DisplayName, s.Heads)
	}
	if r.GPU.CUDAMemory <= 0 {
		return Budget{}, fmt.Errorf("%w: GPU memory unknown: give --gpu or --gpu-memory", ErrInvalid)
	}
	prec, err := resolvePrecision(s, r.Precision)
	if err != nil {
		return Budget{}, err
	}
	if r.Precision == nil && r.Target != nil {
		// No precision asked for: the one the engine runs on this hardware.
		if prec, err = engine.DefaultPrecision(s, *r.Target, r.Engine); err != nil {
			return Budget{}, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	ctx := r.Context
	if ctx == 0 {
		ctx = int64(s.MaxPositionEmbeddings)
	}
	if ctx <= 0 {
		return Budget{}, fmt.Errorf("%w: the model does not state its maximum length; give --context", ErrInvalid)
	}
	if s.MaxPositionEmbeddings > 0 && ctx > int64(s.MaxPositionEmbeddings) {
		return Budget{}, fmt.Errorf("%w: --context %d is longer than the model's max_position_embeddings (%d); %s refuses it without rope scaling overrides", ErrInvalid, ctx, s.MaxPositionEmbeddings, eng.DisplayName)
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
		util = eng.Utilization(r.TP)
	}
	if util <= 0 || util > 1 {
		return Budget{}, fmt.Errorf("%w: --gpu-memory-utilization must be in (0, 1], got %g", ErrInvalid, util)
	}

	// KV "auto" is the unquantized compute dtype; GGUF models compute in
	// fp16, and llama.cpp's default cache type is F16 (common.h
	// cache_type_k/v).
	kvDefault := unquantizedDType(s, prec)
	if prec.GGUF {
		kvDefault = dtype.FP16
	}
	kvType := r.KVDType.Resolve(kvDefault)
	sched := r.Scheduler
	if sched.Flags == (engine.SchedulerFlags{}) {
		sched = r.Engine.Scheduler(engine.SchedulerInput{
			GPU: hardwareGPU(r.GPU), Model: s, Precision: prec, KVDType: kvType,
			TP: r.TP, PP: r.PP, Concurrency: int(min(conc, math.MaxInt32)),
		}).Override(r.Scheduler.MaxSeqs, r.Scheduler.MaxTokens)
	}

	w, err := EstimateWeights(s, prec, r.TP, r.PP)
	if err != nil {
		return Budget{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if w, err = moeParallelWeights(s, prec, r, w); err != nil {
		return Budget{}, err
	}
	modelLayers := s.KVLayers()
	kvTP := r.TP
	if r.DPAttention {
		// Each GPU keeps whole-head caches of its own sequences.
		kvTP = 1
	}
	layers, perTokenPerGPU := kvLayersPerGPU(modelLayers, kvType, kvTP, r.PP)
	blockSize := eng.BlockSize
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
			Engine: eng.EngineName, EngineVersion: eng.EngineVersion,
			Calibrated: eng.Calibrated, BlockSize: blockSize,
		},
	}
	batched := int64(sched.MaxTokens)
	perGPUConc := conc
	if r.DPAttention {
		// Every GPU of the group serves its own sequences.
		perGPUConc = (conc + int64(r.TP) - 1) / int64(r.TP)
	}
	b.KVForRequest = units.Bytes(perGPUConc) * layout.SequenceBytes(ctx, batched)
	acct := r.Engine.Account(engine.MemoryInput{
		Model: s, Precision: prec, ActDType: unquantizedDType(s, prec), GPUID: r.GPU.ID, CUDAMemory: r.GPU.CUDAMemory,
		Utilization: util, TP: r.TP, PP: r.PP, WeightsPerGPU: w.PerGPU, Scheduler: sched,
		KVForRequest: b.KVForRequest, Concurrency: conc, Context: ctx,
	})
	b.Requested, b.Activation, b.ActivationLabel, b.NonTorch, b.OverheadLabel = acct.Requested, acct.Activation, acct.ActivationLabel, acct.NonTorch, acct.OverheadLabel
	b.CUDAGraphs, b.CUDAGraphsInBudget = acct.CUDAGraphs, acct.CUDAGraphsInBudget
	b.KVPool, b.KVRoom = acct.KVPool, acct.KVRoom
	nonKV := acct.NonKV
	b.Assumptions.Notes = append(b.Assumptions.Notes, acct.Notes...)

	b.Blocks = layout.Blocks(b.KVPool)
	b.KVCacheTokens = layout.ReportedTokens(b.Blocks)
	room := layout.Blocks(b.KVRoom)
	b.MaxConcurrency = layout.MaxConcurrency(room, ctx, batched)
	if r.DPAttention {
		b.MaxConcurrency *= float64(r.TP)
		b.EP, b.DPAttention = max(r.EP, 1), true
	} else if r.EP > 1 {
		b.EP = r.EP
	}
	b.MaxConcurrentSequences = int64(math.Floor(b.MaxConcurrency + 1e-9))
	limit := int64(s.MaxPositionEmbeddings)
	if limit <= 0 {
		limit = ctx
	}
	b.MaxContext = layout.MaxLen(room, conc, batched, limit)
	b.TotalPerGPU = nonKV + b.KVForRequest
	if !b.CUDAGraphsInBudget {
		b.TotalPerGPU += b.CUDAGraphs
	}

	switch {
	case b.KVRoom <= 0:
		b.Reasons = append(b.Reasons, fmt.Sprintf("weights (%s), activations (%s) and runtime overhead (%s) exceed the %s %s may use (%.2f × %s): no room for any KV cache",
			b.Weights.PerGPU, b.Activation, b.NonTorch, b.Requested, eng.DisplayName, util, r.GPU.CUDAMemory))
	case b.MaxConcurrentSequences < 1:
		b.Reasons = append(b.Reasons, fmt.Sprintf("the KV pool (%s, %d tokens) cannot hold one sequence of %d tokens; %s refuses to start (longest context that fits: %d)",
			b.KVRoom, layout.ReportedTokens(room), ctx, eng.DisplayName, b.MaxContext))
	case b.MaxConcurrentSequences < conc:
		seqs := fmt.Sprintf("%d sequences", b.MaxConcurrentSequences)
		if b.MaxConcurrentSequences == 1 {
			seqs = "1 sequence"
		}
		b.Reasons = append(b.Reasons, fmt.Sprintf("the KV pool holds %s of %d tokens, not the %d requested", seqs, ctx, conc))
	}
	if r.Target != nil {
		comp := engine.Check(engine.Combination{Model: s, Precision: prec, Target: *r.Target, Engine: r.Engine, TP: r.TP, PP: r.PP})
		b.Compatibility = &comp
		if !comp.OK() {
			b.Reasons = append(comp.Refusals(), b.Reasons...)
		}
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

func assumptionNotes(r Request, b Budget) []string {
	var notes []string
	if !r.Engine.Info().Calibrated {
		notes = append(notes, "this engine profile is not calibrated on measurements: treat its figures as ±15%")
	}
	if b.Weights.FromHeaders {
		notes = append(notes, "weights from the checkpoint's tensor headers")
	} else {
		notes = append(notes, fmt.Sprintf("weights from exact parameter counts at %s (embeddings, norms and routers in %s)", b.Precision.Name, unquantizedDType(r.Model, b.Precision)))
	}
	return notes
}

// hardwareGPU is the part of a chip engine scheduler rules read.
func hardwareGPU(g GPU) hardware.GPU {
	return hardware.GPU{ID: g.ID, CUDAMemory: g.CUDAMemory, DriverMemory: g.DriverMemory}
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
