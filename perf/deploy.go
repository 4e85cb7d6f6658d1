package perf

import (
	"errors"
	"fmt"
	"math"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
)

// pcie4x16PerDirection is the per-direction bandwidth of a PCIe 4.0 x16
// link: 16 GT/s × 16 lanes × 128/130 encoding ÷ 8 bits = 31.5 GB/s (PCI
// Express Base Specification 4.0). It stands in for PCIe links whose
// bandwidth the hardware catalog does not state.
const pcie4x16PerDirection = 31.5e9

// maxTokensPerRequest bounds input + output lengths (no model serves more
// than 2^24 tokens of context; the memory package checks the model's own
// limit).
const maxTokensPerRequest = 1 << 24

// checkLoad validates the load part of a workload: exactly one of a
// concurrency, a request rate or max.
func checkLoad(w Workload) error {
	kinds := 0
	if w.Max {
		kinds++
	}
	if w.RPS != 0 {
		kinds++
		if !(w.RPS > 0) || math.IsInf(w.RPS, 0) || w.RPS > 1e9 {
			return fmt.Errorf("%w: --rps must be a positive number", ErrInvalid)
		}
	}
	if w.Concurrency != 0 {
		kinds++
		if w.Concurrency < 0 || w.Concurrency > maxConcurrency {
			return fmt.Errorf("%w: --concurrency must be between 1 and %d", ErrInvalid, maxConcurrency)
		}
	}
	if kinds != 1 {
		return fmt.Errorf("%w: give exactly one of a concurrency, a request rate or max", ErrInvalid)
	}
	return nil
}

// maxConcurrency bounds a closed loop's users (no deployment serves more
// than a few thousand sequences at once; beyond this the queue model alone
// would answer).
const maxConcurrency = 1 << 24

// kvWindow is one group of sliding-window or chunked layers on one GPU.
type kvWindow struct {
	window     float64
	bytesPerTk float64 // KV bytes per token across the group's layers
	attnCoef   float64 // attention FLOPs per (token × attended position)
}

// resolvedRequest is everything about a request that does not depend on
// the efficiency factors (model shape, GPU, parallel layout, lengths,
// memory budget, scheduler limits); resolvedFactors is the other half. The
// fitter prepares each point once and re-solves it under many factor sets;
// the public Deployment pairs one with its factors.
type resolvedRequest struct {
	spec           *model.Spec
	gpu            hardware.GPU
	tp, pp, gpus   int
	isl, osl       int
	cacheRate      float64 // fraction of prompt tokens served from the prefix cache
	newIn          float64 // prompt tokens computed per request: isl × (1 − cacheRate), at least 1
	engine         engine.Engine
	calName        string // calibration key: engine name and version
	calVersion     string
	budget         memory.Budget
	limits         schedulerLimits
	kvCapacity     float64 // sequences of isl+osl the KV pool holds
	capacity       float64 // min(kvCapacity, engine batch limit)
	capacityByPool bool    // the KV pool, not the batch limit, sets capacity
	notes          []string

	// Per GPU of the busiest pipeline stage.
	denseBytes     float64 // weights read every iteration, routed experts excluded
	routedBytes    float64 // all routed experts
	experts, topK  float64 // 0 for dense models
	kvFullPerTok   float64 // KV bytes per token of full-attention layers
	windows        []kvWindow
	flopsDenseTok  float64 // 2 × non-expert matmul parameters
	flopsExpertTok float64 // 2 × top-k experts' parameters
	flopsHead      float64 // 2 × output-head parameters, once per sequence
	logitsBytes    float64 // fp32 logits written and read for sampling, per sequence
	attnCoefFull   float64
	actBytes       float64 // bytes per activation element
	hidden         float64
	stageLayers    float64
	lastStageHead  bool
	moe            moeLayout
	spec2          speculation // speculative decoding (speculative.go)

	peakBW, peakFLOPS float64
	math              hardware.Math
	hwBW, hwCompute   float64
	// attnMath is attention's compute type, with its peak and hardware
	// fraction.
	attnMath              hardware.Math
	attnPeakFLOPS, hwAttn float64
	linkKind              string
	linkPerDirection      float64
	topo                  topology
}

// schedulerLimits are an engine's per-iteration limits as the solver uses
// them.
type schedulerLimits struct {
	// maxSeqs is the most sequences one iteration runs (0: only the KV
	// pool limits it).
	maxSeqs int
	// maxTokens is the token budget of one forward pass (decode tokens
	// plus prefill chunk tokens).
	maxTokens int
	note      string
}

// prepare resolves a request into a deployment.
func prepare(r Request) (*resolvedRequest, error) {
	s := r.Model
	if s == nil {
		return nil, fmt.Errorf("%w: no model", ErrInvalid)
	}
	w := r.Workload
	if w.InputTokens <= 0 || w.OutputTokens <= 0 {
		return nil, fmt.Errorf("%w: --input-tokens and --output-tokens must be positive", ErrInvalid)
	}
	if w.InputTokens+w.OutputTokens > maxTokensPerRequest {
		return nil, fmt.Errorf("%w: input + output tokens %d exceed %d", ErrInvalid, w.InputTokens+w.OutputTokens, maxTokensPerRequest)
	}
	if err := checkLoad(w); err != nil {
		return nil, err
	}
	if err := checkScheduler(r); err != nil {
		return nil, err
	}
	tp, pp := max(r.TP, 1), max(r.PP, 1)
	if r.TP < 0 || r.PP < 0 {
		return nil, fmt.Errorf("%w: --tp and --pp must be at least 1", ErrInvalid)
	}
	g := r.GPU
	if g.MemoryBandwidth <= 0 {
		return nil, fmt.Errorf("%w: the memory bandwidth of %s is unknown; add it with --catalog", ErrInvalid, gpuName(g))
	}
	eng := r.Engine
	if eng == nil {
		eng = engine.Default()
	}
	info := eng.Info()
	d := &resolvedRequest{spec: s, gpu: g, tp: tp, pp: pp, gpus: max(r.GPUCount, tp*pp), isl: w.InputTokens, osl: w.OutputTokens, engine: eng}
	d.calName, d.calVersion = info.CalibrationKey()
	if r.calVersion != "" {
		d.calVersion = r.calVersion
	}
	d.setCacheRate(w.CacheRate)

	// An engine that keeps the whole sequence's KV in every layer
	// (TensorRT-LLM without max_attention_window_size, which trtllm-bench
	// does not set) gains nothing from sliding windows; the v0.17 tables
	// show it (Mistral 7B, a sliding-window model, serves 20,000-token
	// prompts no faster than Llama-3.1-8B, whose cache per token is the
	// same).
	spec := s
	if info.IgnoresSlidingWindow && len(s.LayerAttention) > 0 {
		spec = infoOf(s).fullAttention
		d.notes = append(d.notes, info.DisplayName+" keeps the whole sequence's KV in every layer (no max_attention_window_size): sliding windows are not used")
	}

	conc := w.Concurrency
	// The engine's batch and token limits depend on the precision; resolve
	// it the way memory does (the user's, else the checkpoint's, else the
	// release dtype as the engine runs it on this GPU: fp16 for a bf16
	// model on a T4) so that one memory estimate suffices.
	reqPrec := r.Precision
	if reqPrec == nil {
		if p, err := engine.DefaultPrecision(s, engine.OnGPU(g), eng); err == nil {
			reqPrec = &p
		}
	}
	prec := checkpointPrecision(s, reqPrec)
	kvType := dtype.BF16
	if r.KVDType == dtype.KVFP8 {
		kvType = dtype.FP8
	}
	sched := eng.Scheduler(engine.SchedulerInput{
		GPU: g, Model: spec, Precision: prec, KVDType: kvType, TP: tp, PP: pp,
		InputTokens: w.InputTokens, OutputTokens: w.OutputTokens, Concurrency: conc,
	})
	if r.MaxNumSeqs > 0 || r.MaxNumBatchedTokens > 0 {
		sched = sched.Override(r.MaxNumSeqs, r.MaxNumBatchedTokens)
		sched.Note += "; scheduler limits set by the request where given: " + sched.Describe()
	}
	mreq := memory.Request{
		Model: spec, Precision: reqPrec, KVDType: r.KVDType,
		Context: int64(w.InputTokens + w.OutputTokens), Concurrency: 1,
		GPU: memory.GPU{ID: g.ID, CUDAMemory: g.CUDAMemory, DriverMemory: g.DriverMemory}, TP: tp, PP: pp,
		Engine: eng, Utilization: r.Utilization, Scheduler: sched, EP: r.EP, DPAttention: r.DPAttention,
	}
	b, err := memory.Estimate(mreq)
	if err != nil {
		if errors.Is(err, memory.ErrInvalid) {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return nil, err
	}
	lim := schedulerLimits{maxSeqs: b.Scheduler.MaxSeqs, maxTokens: b.Scheduler.StepTokens(), note: b.Scheduler.Note}
	d.budget, d.limits = b, lim
	if lim.note != "" {
		d.notes = append(d.notes, lim.note)
	}
	if b.MaxConcurrency < 1 || b.KVRoom <= 0 {
		reason := "no room"
		if len(b.Reasons) > 0 {
			reason = b.Reasons[0]
		}
		return nil, fmt.Errorf("%w: %s on %d × %s: %s", ErrDoesNotFit, s.ID, tp*pp, gpuName(g), reason)
	}
	d.kvCapacity = b.MaxConcurrency
	d.capacity = math.Floor(b.MaxConcurrency)
	d.capacityByPool = true
	if lim.maxSeqs > 0 && float64(lim.maxSeqs) < d.capacity {
		d.capacity = float64(lim.maxSeqs)
		d.capacityByPool = false
	}
	d.limits = lim

	// Compute type and peaks.
	comp := engine.Check(engine.Combination{Model: s, Precision: b.Precision, Target: engine.OnGPU(g), Engine: eng, TP: tp, PP: pp})
	if !comp.OK() {
		return nil, fmt.Errorf("%w: %s", ErrIncompatible, comp.Error())
	}
	d.math = hardware.MathFor(comp.Compute)
	peak, ok := g.TFLOPS(d.math)
	if !ok {
		// An FP8/INT8 rate may be unstated while the 16-bit one is known:
		// use the 16-bit rate (never faster than the truth on chips whose
		// 8-bit rate is double).
		if p16, ok16 := g.TFLOPS(hardware.MathBF16); ok16 {
			peak = p16
			d.notes = append(d.notes, fmt.Sprintf("%s dense %s rate unknown: the 16-bit rate is used", gpuName(g), d.math))
			d.math = hardware.MathBF16
		} else if p16, ok16 := g.TFLOPS(hardware.MathFP16); ok16 {
			peak = p16
			d.notes = append(d.notes, fmt.Sprintf("%s dense %s rate unknown: the fp16 rate is used", gpuName(g), d.math))
			d.math = hardware.MathFP16
		} else {
			return nil, fmt.Errorf("%w: the dense %s TFLOPS of %s are unknown; add them with --catalog", ErrInvalid, d.math, gpuName(g))
		}
	}
	d.peakFLOPS = peak * 1e12
	d.peakBW = float64(g.MemoryBandwidth)
	d.hwBW, d.hwCompute, _, _ = hardwareFractions(g, d.math)
	// Attention runs at the KV cache's type, not the weights' (precision.go).
	d.attnMath, d.attnPeakFLOPS, d.hwAttn = d.math, d.peakFLOPS, d.hwCompute
	if am := attentionMath(d.math, b.KVDType, g); am != d.math {
		if p, ok := g.TFLOPS(am); ok {
			d.attnMath, d.attnPeakFLOPS = am, p*1e12
			_, d.hwAttn, _, _ = hardwareFractions(g, am)
			d.notes = append(d.notes, fmt.Sprintf("attention (QKᵀ, AV) runs in %s, the KV cache's type, at %.0f dense TFLOPS, not at the weights' %s rate", am, p, d.math))
		}
	}

	d.moe.dp = r.DPAttention && d.spec.MoE != nil
	if err := d.shape(spec, b); err != nil {
		return nil, err
	}
	d.moeParallel(r, b)
	if err := d.speculate(r, b); err != nil {
		return nil, err
	}
	if tp > 1 || pp > 1 {
		ic := g.Interconnect
		if r.Interconnect != nil {
			ic = *r.Interconnect
		}
		d.linkKind = ic.Kind
		if d.linkKind == "" {
			d.linkKind = "pcie"
		}
		d.linkPerDirection = float64(ic.Bandwidth) / 2
		fab, gpv := r.Fabric, r.GPUsPerVM
		if fab == nil {
			if f, n, ok := hardware.FabricForGPU(g.ID); ok && tp*pp > n {
				fab, gpv = &f, n
				d.notes = append(d.notes, fmt.Sprintf("%d GPUs exceed one VM: %d × %s over its network", tp*pp, (tp*pp+n-1)/n, f.VM))
			}
		}
		if fab != nil && r.Interconnect == nil {
			d.linkKind, d.linkPerDirection = fab.ScaleUp.Kind, float64(fab.ScaleUp.BytesPerS)
		}
		topo, err := layout(fab, gpv, tp, pp)
		if err != nil {
			return nil, err
		}
		d.topo = topo
		if d.linkPerDirection <= 0 {
			d.linkPerDirection = pcie4x16PerDirection
			d.linkKind = "pcie"
			d.notes = append(d.notes, fmt.Sprintf("%s's GPU-to-GPU bandwidth is not stated: PCIe 4.0 x16 (31.5 GB/s each way) assumed; give the real link with --catalog", gpuName(g)))
		}
	}
	return d, nil
}

// maxSchedulerLimit bounds --max-num-seqs and --max-num-batched-tokens.
const maxSchedulerLimit = 1 << 20

// checkScheduler validates the scheduler overrides of a request.
func checkScheduler(r Request) error {
	if r.MaxNumSeqs < 0 || r.MaxNumSeqs > maxSchedulerLimit {
		return fmt.Errorf("%w: --max-num-seqs must be between 1 and %d", ErrInvalid, maxSchedulerLimit)
	}
	if r.MaxNumBatchedTokens < 0 || r.MaxNumBatchedTokens > maxSchedulerLimit {
		return fmt.Errorf("%w: --max-num-batched-tokens must be between 1 and %d", ErrInvalid, maxSchedulerLimit)
	}
	cr := r.Workload.CacheRate
	if !(cr >= 0 && cr < 1) {
		return fmt.Errorf("%w: --cache-rate must be at least 0 and below 1 (the fraction of prompt tokens served from the prefix cache)", ErrInvalid)
	}
	return nil
}

// setCacheRate records the prefix-cache hit rate: newIn prompt tokens
// are computed per request (at least one: an engine always runs the last
// prompt token to produce the first output token).
func (d *resolvedRequest) setCacheRate(rate float64) {
	d.cacheRate = rate
	d.newIn = math.Max(1, math.Round(float64(d.isl)*(1-rate)))
}

func gpuName(g hardware.GPU) string {
	if g.ID != "" {
		return g.ID
	}
	if g.Name != "" {
		return g.Name
	}
	return "the GPU"
}

// shape derives the per-GPU bytes and FLOPs of one iteration from the
// model's exact parameter groups and KV layers.
func (d *resolvedRequest) shape(s *model.Spec, b memory.Budget) error {
	info := infoOf(s)
	params := info.params
	layers := float64(s.Layers)
	if layers <= 0 {
		return fmt.Errorf("%w: model %s has no layers", ErrInvalid, s.ID)
	}
	tp := float64(d.tp)
	stage := math.Ceil(layers / float64(d.pp))
	frac := stage / layers
	d.stageLayers = stage
	d.lastStageHead = true

	byGroup := b.Weights.ByGroup
	bytesOf := func(g string) float64 { return float64(byGroup[g]) }
	// Every iteration reads each layer's attention and dense-MLP weights
	// (norms and routers are replicated and tiny), and the output head. The
	// input embedding is a gather of a few rows, not a read of the matrix.
	layerBytes := (bytesOf(model.GroupAttn)+bytesOf(model.GroupMLP))/tp + bytesOf(model.GroupNorm) + bytesOf(model.GroupRouter)
	head := bytesOf(model.GroupLMHead)
	if s.TiedEmbeddings {
		head = bytesOf(model.GroupEmbed)
	}
	d.denseBytes = layerBytes*frac + head/tp
	d.routedBytes = bytesOf(model.GroupRoutedExperts) / tp * frac

	pAttn, pMLP := float64(params.Groups[model.GroupAttn]), float64(params.Groups[model.GroupMLP])
	d.flopsDenseTok = 2 * (pAttn + pMLP) / tp * frac
	vocabHidden := float64(s.Vocab) * float64(s.Hidden)
	d.flopsHead = 2 * vocabHidden / tp
	// Each sequence's logits are written in fp32 by the output head (its
	// vocabulary shard) and read back in full by the sampler.
	d.logitsBytes = float64(s.Vocab) * 4 * (1/tp + 1)
	if m := s.MoE; m != nil && m.Experts > 0 && params.Groups[model.GroupRoutedExperts] > 0 {
		d.experts, d.topK = float64(m.Experts), float64(m.ExpertsPerToken)
		perExpert := float64(params.Groups[model.GroupRoutedExperts]) / d.experts
		d.flopsExpertTok = 2 * d.topK * perExpert / tp * frac
	}

	// Activations travel in the unquantized compute type.
	d.actBytes = 2
	if s.ComputeDType() == "fp32" && !b.Precision.Quantized() && b.Precision.Weight == "fp32" {
		d.actBytes = 4
	}
	d.hidden = float64(s.Hidden)

	// KV cache and attention per layer of the first stage (memory sizes the
	// same stage).
	kvBytes := float64(b.KVDType.Bits()) / 8
	heads := float64(s.Heads)
	var qk, v float64
	if a := s.MLA; a != nil {
		qk, v = float64(a.QKNopeHeadDim+a.QKRopeHeadDim), float64(a.VHeadDim)
	} else {
		qk, v = float64(s.HeadDim), float64(s.HeadDim)
	}
	// QKᵀ and AV: 2 FLOPs per multiply-add, per head, per attended position.
	attnPerLayer := 2 * heads * (qk + v) / tp
	win := map[float64]int{}
	for i, l := range info.kv {
		if float64(i) >= stage {
			break
		}
		if l.Kind == model.KVNone {
			continue
		}
		h := float64(l.KVHeads)
		switch {
		case d.moe.dp:
			// DP attention: whole-head caches of 1/TP of the sequences.
			h /= tp
		case l.Kind != model.KVMLA:
			h = math.Max(1, math.Floor(h/tp))
		}
		perTok := h * float64(l.KeyDim+l.ValueDim) * kvBytes
		switch l.Kind {
		case model.KVSliding, model.KVChunked:
			w := float64(l.Window)
			j, ok := win[w]
			if !ok {
				j = len(d.windows)
				win[w] = j
				d.windows = append(d.windows, kvWindow{window: w})
			}
			d.windows[j].bytesPerTk += perTok
			d.windows[j].attnCoef += attnPerLayer
		default:
			d.kvFullPerTok += perTok
			d.attnCoefFull += attnPerLayer
		}
	}
	return nil
}

// kvRead is the KV bytes one sequence of ctx tokens reads per decode step
// on one GPU.
func (d *resolvedRequest) kvRead(ctx float64) float64 {
	b := d.kvFullPerTok * ctx
	for _, w := range d.windows {
		b += w.bytesPerTk * math.Min(ctx, w.window)
	}
	return b
}

// attnFLOPs is the attention FLOPs of one token attending to ctx positions.
func (d *resolvedRequest) attnFLOPs(ctx float64) float64 {
	f := d.attnCoefFull * ctx
	for _, w := range d.windows {
		f += w.attnCoef * math.Min(ctx, w.window)
	}
	return f
}

// checkpointPrecision resolves the weights precision as memory.Estimate
// does: the requested one, else the checkpoint's quantization, else the
// release dtype. Only the engine-limit heuristics use it; the memory budget
// reports (and validates) the precision it actually used.
func checkpointPrecision(s *model.Spec, p *dtype.Precision) dtype.Precision {
	if p != nil {
		return *p
	}
	if cp, ok := memory.CheckpointPrecision(s.Quant); ok {
		return cp
	}
	if pr, err := dtype.LookupPrecision(string(s.ComputeDType())); err == nil {
		return pr
	}
	return dtype.Precision{Name: string(s.ComputeDType()), Weight: s.ComputeDType(), Compute: s.ComputeDType()}
}
