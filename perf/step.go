package perf

import "math"

// rates are the achievable rates a prediction runs at: datasheet peaks ×
// hardware fractions × engine efficiencies.
type rates struct {
	bw        float64 // bytes/s of device memory
	flops     float64 // dense FLOP/s for the compute type
	attn      float64 // dense FLOP/s for attention (the KV cache's type)
	link      float64 // bytes/s per direction for prompt tokens' collectives
	linkDec   float64 // bytes/s per direction for decode tokens' collectives
	arLatency float64 // seconds per all-reduce call
	overhead  float64 // seconds per engine iteration
	moe       float64 // routed experts' share of bw and flops
	moePre    float64 // prompt tokens' further share of the routed experts' flops
	perSeq    float64 // seconds per sequence per iteration
	request   float64 // seconds per request outside the iterations (TTFT)
	firstIt   float64 // iterations between admission/prefill and the first token
}

func (d *resolvedRequest) rates(f resolvedFactors) rates {
	r := rates{
		bw:       d.peakBW * d.hwBW * f.gpu.BandwidthEfficiency,
		flops:    d.peakFLOPS * d.hwCompute * f.gpu.ComputeEfficiency,
		attn:     d.attnPeakFLOPS * d.hwAttn * f.gpu.ComputeEfficiency,
		overhead: f.engine.StepOverheadMS / 1e3,
		moe:      f.engine.MoEEfficiency,
		moePre:   f.engine.MoEPrefillEfficiency,
		perSeq:   f.engine.SeqOverheadUS / 1e6,
		request:  f.engine.RequestOverheadMS / 1e3,
		firstIt:  f.engine.FirstTokenIterations,
	}
	if r.moe <= 0 {
		r.moe = 1
	}
	if r.moePre <= 0 {
		r.moePre = 1
	}
	if d.tp > 1 || d.pp > 1 {
		l, ok := f.engine.Links[d.linkKind]
		if !ok {
			l = slowestLink(f.engine.Links)
		}
		r.link = d.linkPerDirection * l.Efficiency
		r.linkDec = d.linkPerDirection * l.DecodeEfficiency
		if r.linkDec <= 0 {
			r.linkDec = r.link
		}
		r.arLatency = (l.AllReduceLatencyUS + l.PeerLatencyUS*float64(min(d.tp-1, peerLatencyMaxPeers))) / 1e6
	}
	return r
}

// peerLatencyMaxPeers caps the peers LinkFactors.PeerLatencyUS is charged
// for: 3, the widest group (TP 4) of vLLM's online points it is fitted on
// (data/vllm-0.15.1-h100-serving.json; SGLang's reach TP 8, and its fit
// charges them this same cap; TestPeerLatencyCapMatchesFit keeps the cap at
// the narrowest engine's widest group). Wider groups are not extrapolated: vLLM's custom
// all-reduce on an NVSwitch VM signals every peer at once (one-shot
// kernels with a flag barrier), so its small-message cost has no term
// that grows with each peer, and vLLM 0.17 serving Qwen2.5-72B at TP 8 on
// an ND H100 v5 VM spends about 17 µs per all-reduce against about 24 µs
// at TP 4 (testdata/multivm-vllm-nd-h100.json, configs A and B: per-token
// time less weights and step overhead, over 160 all-reduces). Linear
// growth from TP 4 to TP 8 predicted TP 8 27% slow.
const peerLatencyMaxPeers = 3

// slowestLink is the most pessimistic fitted link (lowest efficiency,
// then highest latency), used for link kinds without factors of their own.
func slowestLink(m map[string]LinkFactors) LinkFactors {
	var best LinkFactors
	found := false
	for _, k := range sortedKeys(m) {
		v := m[k]
		if !found || v.Efficiency < best.Efficiency || (v.Efficiency == best.Efficiency && v.AllReduceLatencyUS > best.AllReduceLatencyUS) {
			best, found = v, true
		}
	}
	if !found {
		// No multi-GPU measurements at all: half the link, 20 µs per call.
		return LinkFactors{Efficiency: 0.5, DecodeEfficiency: 0.1, AllReduceLatencyUS: allReduceLatencyUS}
	}
	return best
}

// stepCost is one engine iteration on the busiest GPU.
type stepCost struct {
	mem, compute, comm, overhead float64 // seconds
	total                        float64 // seconds: the period of one sequence's iteration
	bytes, flops                 float64 // per GPU
	touched                      float64 // fraction of routed experts read
}

// step costs one iteration over dec decoding sequences at mean context
// ctxDec and pre prompt tokens at mean position ctxPre belonging to
// preSeqs sequences. With pipeline parallelism the batch is split into up
// to PP micro-batches; a sequence's iteration then takes PP stage times
// (the busiest stage's), plus the activation hops between stages.
func (d *resolvedRequest) step(r rates, dec, pre, preSeqs, ctxDec, ctxPre float64) stepCost {
	pp := float64(d.pp)
	seqs := dec + preSeqs
	micro := 1.0
	if d.pp > 1 {
		micro = math.Min(pp, math.Max(1, seqs))
		dec, pre, preSeqs = dec/micro, pre/micro, preSeqs/micro
	}
	// Speculative decoding: the target verifies K + 1 positions of every
	// decoding sequence (its weights and the sequence's cache are still
	// read once), after the proposer's K passes.
	decTok := dec * d.spec2.verifyTokens()
	tokens := decTok + pre
	var c stepCost

	// Three kinds of kernels run one after another, each at its own
	// roofline: the dense matmuls (attention projections, dense MLPs, the
	// output head), the routed experts' matmuls, and attention over the KV
	// cache. Within a kind, weights stream while the math runs, so its
	// time is max(bytes / bandwidth, FLOPs / compute); across kinds the
	// times add.
	c.touched = 1
	var routedB, routedF, routedT float64
	if d.experts > 0 {
		// With uniform routing each token picks k of E experts, so the
		// chance that an expert is untouched by T tokens is (1 − k/E)^T.
		c.touched = 1 - math.Pow(1-d.topK/d.experts, d.expertTouchTokens(tokens))
		routedB = d.routedBytes * c.touched
		routedF = tokens * d.flopsExpertTok * d.expertImbalance(tokens)
		// Prompt tokens' share of the expert math runs at the grouped
		// GEMM's prefill rate (EngineFactors.MoEPrefillEfficiency; 1 is
		// neutral and leaves the expression as it was).
		routedT = routedF / r.flops
		if pre > 0 && r.moePre != 1 && tokens > 0 {
			routedT = routedF * (decTok + pre/r.moePre) / tokens / r.flops
		}
	}
	denseB := d.denseBytes + (decTok+preSeqs)*d.logitsBytes
	denseF := tokens*d.flopsDenseTok + (decTok+preSeqs)*d.flopsHead
	// Attention reads every decoding sequence's KV and writes every new
	// token's.
	attnB := dec*d.kvRead(ctxDec) + d.kvRead(1)*tokens
	attnF := decTok*d.attnFLOPs(ctxDec) + pre*d.attnFLOPs(ctxPre)
	c.bytes = denseB + routedB + attnB
	c.flops = denseF + routedF + attnF
	c.mem = c.bytes / r.bw
	c.compute = (denseF+routedF)/r.flops + attnF/r.attn
	gpu := math.Max(denseB/r.bw, denseF/r.flops) + math.Max(routedB/r.bw, routedT)/r.moe + math.Max(attnB/r.bw, attnF/r.attn) +
		d.draftTime(r, dec, ctxDec)

	// Tensor parallelism: two all-reduces per layer (after attention and
	// after the MLP) of tokens × hidden activations; a ring moves
	// 2(TP−1)/TP of the message over each link direction.
	if d.tp > 1 && d.moe.active() && d.experts > 0 {
		c.comm = d.moeComm(r, pre, decTok)
	} else if d.tp > 1 {
		c.comm = 2 * d.stageLayers * d.allReduce(r, pre, decTok)
	}
	stage := gpu + c.comm
	c.overhead = r.overhead + r.perSeq*seqs
	if d.pp > 1 {
		// One hop per stage boundary carries the micro-batch's hidden
		// states.
		hops := d.ppHops(r, tokens)
		c.comm = pp*c.comm + hops
		c.mem *= pp
		c.compute *= pp
		c.total = pp*stage + hops + c.overhead
	} else {
		c.total = stage + c.overhead
	}
	return c
}
