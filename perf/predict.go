package perf

import (
	"fmt"
	"math"

	"github.com/gpuplan/gpuplan/units"
)

// Predict predicts the speed of one deployment under one workload.
// Errors wrap ErrInvalid (bad request, unknown hardware figures) or
// ErrDoesNotFit (not even one sequence fits).
func Predict(r Request) (Estimate, error) {
	d, err := prepare(r)
	if err != nil {
		return Estimate{}, err
	}
	f, err := factorsFor(r, d)
	if err != nil {
		return Estimate{}, err
	}
	e := d.solve(f, r.Workload)
	if !r.Brief {
		e.Assumptions = d.assumptions(e, f)
	}
	return e, nil
}

// PredictLoads predicts one deployment under several loads of the same
// input and output lengths (r.Workload's lengths; each load sets one of
// Concurrency, RPS, Max). The deployment is resolved once, so a sweep costs
// little more than its first point.
func PredictLoads(r Request, loads []Workload) ([]Estimate, error) {
	if len(loads) == 0 {
		return nil, nil
	}
	out := make([]Estimate, 0, len(loads))
	var d *resolvedRequest
	var f resolvedFactors
	for i, w := range loads {
		w.InputTokens, w.OutputTokens, w.CacheRate = r.Workload.InputTokens, r.Workload.OutputTokens, r.Workload.CacheRate
		r.Workload = w
		if d == nil {
			var err error
			if d, err = prepare(r); err != nil {
				return nil, err
			}
			if f, err = factorsFor(r, d); err != nil {
				return nil, err
			}
		} else if err := checkLoad(w); err != nil {
			return nil, fmt.Errorf("load %d: %w", i+1, err)
		}
		e := d.solve(f, w)
		if !r.Brief {
			e.Assumptions = d.assumptions(e, f)
		}
		out = append(out, e)
	}
	return out, nil
}

func factorsFor(r Request, d *resolvedRequest) (resolvedFactors, error) {
	cal, notes := r.Calibration.effective()
	f, err := cal.resolve(d.gpu.ID, d.calName, d.calVersion)
	if err != nil {
		return f, err
	}
	if len(notes) > 0 {
		d.notes = append(d.notes, notes...)
	}
	return f, nil
}

// loadState is a deployment's steady state under one load.
type loadState struct {
	s, maxState steadyState
	// queue is the wait outside the engine (closed loop beyond capacity),
	// residual the open loop's wait for the next iteration boundary
	// (uniform over one iteration), meanWait the mean of the queueing tails.
	queue, residual, meanWait float64
	// request is the engine's fixed per-request cost outside iterations.
	request   float64
	waits     []waitTail
	saturated bool
	conc      int
	reqPerS   float64
}

// ttftMean is the mean time to first token, seconds.
func (l loadState) ttftMean() float64 {
	return l.s.ttft + l.queue + l.residual/2 + l.meanWait + l.request
}

// load solves the steady state of a load.
func (d *resolvedRequest) load(rt rates, w Workload) loadState {
	l := loadState{maxState: d.steady(rt, d.capacity)}
	if w.Load() != LoadMax {
		l.request = rt.request
	}
	switch w.Load() {
	case LoadMax:
		l.s = l.maxState
		l.conc = int(d.capacity)
	case LoadConcurrency:
		c := float64(w.Concurrency)
		b := math.Min(c, d.capacity)
		l.s = d.steady(rt, b)
		if c > b {
			// Users beyond the engine's capacity wait their turn:
			// Little's law on the waiting room.
			l.queue = (c - b) / l.s.xReq
		}
		l.conc = w.Concurrency
		if !l.s.prefillLimited && b > 1 {
			// A closed loop's prompt can only queue behind the other
			// users' prompts: at most B − 1 prefills.
			pw := d.prefillWait(l.s, l.s.xReq)
			pw.limit = math.Max(b-1, 0) * l.s.kp * l.s.tm.total
			l.waits = []waitTail{pw}
		}
	case LoadRPS:
		if w.RPS >= l.maxState.xReq {
			l.saturated = true
			l.s = l.maxState
			l.conc = int(d.capacity)
			break
		}
		l.s = d.solveRPS(rt, w.RPS, l.maxState)
		l.residual = l.s.tbar
		pw, kw := d.prefillWait(l.s, w.RPS), d.kvWait(l.s, w.RPS, l.maxState.xReq)
		l.waits = []waitTail{pw, kw}
		l.meanWait = pw.mean() + kw.mean()
	}
	l.reqPerS = l.s.xReq
	if w.Load() == LoadRPS && !l.saturated {
		l.reqPerS = w.RPS
	}
	if w.Load() != LoadMax && rt.firstIt > 0 {
		// The engine's hand-off iterations replace the generic half
		// iteration an open-loop arrival waits for a boundary. A single
		// user's request finds the engine idle, with no boundary to wait
		// for: only the hand-off remains, as the simulator plays it out
		// (simulate.go: handoff = firstIt − 0.5).
		it := rt.firstIt
		if w.Load() == LoadConcurrency && l.conc <= 1 {
			it = math.Max(it-0.5, 0)
		}
		l.request += it * l.s.tbar
		l.residual = 0
	}
	return l
}

// solve assembles the Estimate of a prepared deployment under factors f.
func (d *resolvedRequest) solve(f resolvedFactors, w Workload) Estimate {
	rt := d.rates(f)
	I, O := float64(d.isl), float64(d.osl)
	l := d.load(rt, w)
	s := l.s
	e := Estimate{
		Load: w.Load(), InputTokens: d.isl, OutputTokens: d.osl, Concurrency: l.conc,
		Precision: d.budget.Precision.Name, KVDType: string(d.budget.KVDType),
		MaxConcurrency: int(d.capacity), MaxRPS: l.maxState.xReq, Saturated: l.saturated,
		WeightsPerGPU: d.budget.WeightsPerGPU, KVPoolGPU: d.budget.KVPool, GPUs: d.gpus,
		Band: f.band, Calibrated: f.gpuCalibrated && f.engineCalibrated,
	}
	if e.Load == LoadRPS {
		e.OfferedRPS = w.RPS
	}
	queue, residual, waits := l.queue, l.residual, l.waits
	e.RunningBatch = s.b
	e.RequestsPerS = l.reqPerS
	e.OutputTokensPerS = e.RequestsPerS * O
	e.OutputTokensPerSLow = e.OutputTokensPerS * e.Band.Low
	e.OutputTokensPerSHigh = e.OutputTokensPerS * e.Band.High

	ms := 1e3
	if !e.Saturated {
		// ITL: a mixture of decode-only and mixed iterations.
		itlPct := func(p float64) float64 {
			if s.qOther >= 1 || p/100 <= 1-s.qOther {
				return s.td.total
			}
			return s.tm.total
		}
		if O <= 1 {
			itlPct = func(float64) float64 { return 0 }
		}
		// TPOT: the mean of O−1 such gaps (binomial count of mixed ones,
		// normal approximation), clamped to [td, tm].
		sd := 0.0
		if O > 2 && s.qOther > 0 && s.qOther < 1 {
			sd = math.Sqrt(s.qOther*(1-s.qOther)/(O-1)) * (s.tm.total - s.td.total)
		}
		tpotPct := func(p float64) float64 {
			if O <= 1 {
				return 0
			}
			v := s.itl + zq[p]*sd
			return math.Min(math.Max(v, math.Min(s.td.total, s.itl)), math.Max(s.tm.total, s.itl))
		}
		ttftBase := s.ttft + queue + l.request
		ttftPct := func(p float64) float64 {
			v := ttftBase + residual*p/100
			for _, wt := range waits {
				v += wt.pct(p)
			}
			return v
		}
		ttftMean := l.ttftMean()
		e.ITL = latency(s.itl*ms, itlPct, ms)
		e.TPOT = latency(s.itl*ms, tpotPct, ms)
		e.TTFT = latency(ttftMean*ms, ttftPct, ms)
		e.E2E = latency((ttftMean+(O-1)*s.itl)*ms, func(p float64) float64 { return ttftPct(p) + (O-1)*tpotPct(p) }, ms)
		for _, l := range []*Latency{&e.ITL, &e.TPOT, &e.TTFT, &e.E2E} {
			if l.Mean > 0 {
				l.Low, l.High = l.Mean/e.Band.High, l.Mean/e.Band.Low
			}
		}
		if s.itl > 0 {
			e.PerUserTokensPerS = 1 / s.itl
		}
		if e.Load == LoadRPS {
			e.Concurrency = int(math.Round(w.RPS * (ttftMean + (O-1)*s.itl)))
		}
	}

	// The representative iteration: time-weighted over decode-only and
	// mixed iterations.
	q := math.Min(s.q, 1)
	mix := func(a, b float64) float64 { return (1-q)*a + q*b }
	e.Step = StepBreakdown{
		DecodeTokens: s.dec, PrefillTokens: s.pre,
		MemoryMS: mix(s.td.mem, s.tm.mem) * ms, ComputeMS: mix(s.td.compute, s.tm.compute) * ms,
		InterconnectMS: mix(s.td.comm, s.tm.comm) * ms, OverheadMS: rt.overhead * ms,
		IterationMS: s.tbar * ms,
		BytesPerGPU: mix(s.td.bytes, s.tm.bytes), FLOPsPerGPU: mix(s.td.flops, s.tm.flops),
		ExpertsTouched: mix(s.td.touched, s.tm.touched),
	}
	e.Bottleneck = d.bottleneck(e, s)
	inFlight := s.dec*d.kvRead(I+O/2) + (s.b-s.dec)*d.kvRead(I/2)
	e.KVPerGPU = units.Bytes(math.Round(math.Max(inFlight, 0)))
	e.Factors = AppliedFactors{
		GPU: d.gpu.ID, Engine: d.calName, EngineVersion: d.calVersion,
		BandwidthBytesPerS: rt.bw, TFLOPS: rt.flops / 1e12, Math: string(d.math),
		LinkBytesPerS: rt.link, AllReduceLatencyUS: rt.arLatency * 1e6, StepOverheadMS: rt.overhead * ms,
		Source: f.source,
	}
	return e
}

// latency builds a Latency from a mean and a percentile function in
// seconds.
func latency(mean float64, pct func(float64) float64, scale float64) Latency {
	return Latency{Mean: mean, P50: pct(50) * scale, P90: pct(90) * scale, P95: pct(95) * scale, P99: pct(99) * scale}
}

func (d *resolvedRequest) bottleneck(e Estimate, s steadyState) Bottleneck {
	st := e.Step
	gpuWork := math.Max(st.MemoryMS, st.ComputeMS)
	switch {
	case st.InterconnectMS > gpuWork:
		return BottleneckInterconnect
	case st.ComputeMS > st.MemoryMS:
		return BottleneckCompute
	}
	full := s.b >= d.capacity-1e-9 && d.capacityByPool
	if full && (e.Load == LoadMax || e.Saturated || (e.Load == LoadConcurrency && e.Concurrency > int(d.capacity))) {
		return BottleneckKVCapacity
	}
	return BottleneckMemoryBandwidth
}

func (d *resolvedRequest) assumptions(e Estimate, f resolvedFactors) []string {
	b := d.budget
	out := []string{
		fmt.Sprintf("%d × %s, TP %d, PP %d; %s weights, %s matrix math, %s KV cache",
			d.tp*d.pp, gpuName(d.gpu), d.tp, d.pp, b.Precision.Name, d.math, b.KVDType),
		fmt.Sprintf("%s memory: KV pool %.2f GiB per GPU holds %.1f sequences of %d tokens; engine batch limit %s, token budget %d per iteration",
			d.engine.Info().ID(), b.KVRoom.GiB(), d.kvCapacity, d.isl+d.osl, limitText(d.limits.maxSeqs), d.limits.maxTokens),
		fmt.Sprintf("achievable rates: %.0f GB/s memory (%.0f datasheet × %.2f hardware × %.2f engine), %.0f TFLOPS %s (%.0f × %.2f × %.2f)",
			e.Factors.BandwidthBytesPerS/1e9, d.peakBW/1e9, d.hwBW, f.gpu.BandwidthEfficiency,
			e.Factors.TFLOPS, d.math, d.peakFLOPS/1e12, d.hwCompute, f.gpu.ComputeEfficiency),
		fmt.Sprintf("engine iteration overhead %.2f ms", f.engine.StepOverheadMS),
		"factors: " + f.source,
		"error band: " + f.band.Source,
	}
	if d.tp > 1 || d.pp > 1 {
		out = append(out, fmt.Sprintf("%s over %s at %.0f GB/s per direction, %.0f µs per call",
			d.collectivesText(), d.linkKind, e.Factors.LinkBytesPerS/1e9, e.Factors.AllReduceLatencyUS))
		if t := d.topo; t.multiDomain() {
			out = append(out, fmt.Sprintf("%d VMs of %s: TP spans %d NVLink domain(s), %d pipeline hop(s) cross the network (%.0f GB/s per GPU each way, %.1f µs per NCCL step); collectives across VMs use NCCL's ring/tree cost model",
				t.vms, t.fabric.VM, t.tpDomains, t.ppCrossHops, t.scaleOutPerGPU/1e9, t.netStep*1e6))
		}
	}
	if d.experts > 0 {
		out = append(out, fmt.Sprintf("MoE: %.0f of %.0f experts per token, uniform routing: the iteration reads %.0f%% of the routed experts", d.topK, d.experts, e.Step.ExpertsTouched*100))
	}
	switch e.Load {
	case LoadMax:
		out = append(out, "max: every request queued at once; TTFT counts from admission into the batch, not from submission")
	case LoadRPS:
		out = append(out, "open loop, Poisson arrivals: TTFT adds half an iteration of wait, Kingman's approximation for prompts queueing for the token budget and Sakasegawa's for KV slots")
	case LoadConcurrency:
		out = append(out, "closed loop: each user sends its next request when the last completes; TTFT tails add Kingman's prompt-queueing term")
	}
	out = append(out, "tails: ITL mixes decode-only and prompt-carrying iterations; TPOT averages the output's gaps (normal approximation); E2E percentiles add TTFT and TPOT percentiles (an upper bound)")
	out = append(out, d.engine.Info().Notes...)
	out = append(out, d.notes...)
	if !e.Calibrated {
		out = append(out, "UNCALIBRATED: no measurements of this (GPU, engine) pair; the band is widened")
	}
	return out
}

// collectivesText says which collectives each layer runs, as step and
// moeComm cost them: two all-reduces per layer under plain tensor
// parallelism; with EP the routed experts' all-reduce becomes a dispatch
// and a combine all-to-all; with DP attention the attention all-reduce
// goes, and dense-MLP layers keep one all-reduce's worth of gather and
// scatter.
func (d *resolvedRequest) collectivesText() string {
	m := d.moe
	switch {
	case d.tp <= 1:
		return fmt.Sprintf("pipeline parallelism: %d stage hand-offs per iteration", d.pp-1)
	case d.experts == 0 || !m.active():
		return "tensor parallelism: two all-reduces per layer"
	case m.dp && m.ep > 1:
		return fmt.Sprintf("DP attention with EP %d: a dispatch and a combine all-to-all per MoE layer, no attention all-reduce; one all-reduce's worth of gather and scatter per dense layer", m.ep)
	case m.dp:
		return "DP attention, experts copied on every GPU: no collective in MoE layers; one all-reduce's worth of gather and scatter per dense layer"
	default:
		return fmt.Sprintf("tensor parallelism with EP %d: per MoE layer one all-reduce after attention and a dispatch and a combine all-to-all for the experts; two all-reduces per dense layer", m.ep)
	}
}

func limitText(n int) string {
	if n <= 0 {
		return "none (KV pool only)"
	}
	return fmt.Sprintf("%d sequences", n)
}

// Deployment is one prepared deployment — model, precision, GPUs, engine
// and request lengths resolved, its memory budget computed — that predicts
// many loads cheaply. The planner bisects on concurrency with it.
type Deployment struct {
	r Request
	d *resolvedRequest
	f resolvedFactors
}

// Prepare resolves r once for repeated predictions with Deployment.Predict;
// r.Workload's input and output lengths are kept, its load is ignored.
func Prepare(r Request) (*Deployment, error) {
	if !r.Workload.Max && r.Workload.RPS == 0 && r.Workload.Concurrency == 0 {
		r.Workload.Concurrency = 1 // any valid load: prepare checks one
	}
	d, err := prepare(r)
	if err != nil {
		return nil, err
	}
	f, err := factorsFor(r, d)
	if err != nil {
		return nil, err
	}
	return &Deployment{r: r, d: d, f: f}, nil
}

// Predict predicts one load (one of Concurrency, RPS or Max) at the
// prepared request lengths and cache rate; those of w are ignored.
func (p *Deployment) Predict(w Workload) (Estimate, error) {
	w.InputTokens, w.OutputTokens, w.CacheRate = p.r.Workload.InputTokens, p.r.Workload.OutputTokens, p.r.Workload.CacheRate
	if err := checkLoad(w); err != nil {
		return Estimate{}, err
	}
	e := p.d.solve(p.f, w)
	if !p.r.Brief {
		e.Assumptions = p.d.assumptions(e, p.f)
	}
	return e, nil
}
