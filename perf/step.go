package perf

import "math"

// rates are the achievable rates a prediction runs at: datasheet peaks ×
// hardware fractions × engine efficiencies.
type rates struct {
	bw        float64 // bytes/s of device memory
	flops     float64 // dense FLOP/s for the compute type
	link      float64 // bytes/s per direction for collectives
	arLatency float64 // seconds per all-reduce call
	overhead  float64 // seconds per engine iteration
}

func (d *deployment) rates(f resolvedFactors) rates {
	r := rates{
		bw:       d.peakBW * d.hwBW * f.gpu.BandwidthEfficiency,
		flops:    d.peakFLOPS * d.hwCompute * f.gpu.ComputeEfficiency,
		overhead: f.engine.StepOverheadMS / 1e3,
	}
	if d.tp > 1 || d.pp > 1 {
		l, ok := f.engine.Links[d.linkKind]
		if !ok {
			l = slowestLink(f.engine.Links)
		}
		r.link = d.linkPerDirection * l.Efficiency
		r.arLatency = l.AllReduceLatencyUS / 1e6
	}
	return r
}

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
		return LinkFactors{Efficiency: 0.5, AllReduceLatencyUS: 20}
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
func (d *deployment) step(r rates, dec, pre, preSeqs, ctxDec, ctxPre float64) stepCost {
	pp := float64(d.pp)
	seqs := dec + preSeqs
	micro := 1.0
	if d.pp > 1 {
		micro = math.Min(pp, math.Max(1, seqs))
		dec, pre, preSeqs = dec/micro, pre/micro, preSeqs/micro
	}
	tokens := dec + pre
	var c stepCost

	// Bytes: weights the step touches, the KV every decoding sequence
	// reads, and the KV every new token writes.
	c.touched = 1
	routed := 0.0
	if d.experts > 0 {
		// With uniform routing each token picks k of E experts, so the
		// chance that an expert is untouched by T tokens is (1 − k/E)^T.
		c.touched = 1 - math.Pow(1-d.topK/d.experts, tokens)
		routed = d.routedBytes * c.touched
	}
	kvWrite := d.kvRead(1) * tokens
	c.bytes = d.denseBytes + routed + dec*d.kvRead(ctxDec) + kvWrite
	c.flops = tokens*(d.flopsDenseTok+d.flopsExpertTok) + (dec+preSeqs)*d.flopsHead +
		dec*d.attnFLOPs(ctxDec) + pre*d.attnFLOPs(ctxPre)
	c.mem = c.bytes / r.bw
	c.compute = c.flops / r.flops

	// Tensor parallelism: two all-reduces per layer (after attention and
	// after the MLP) of tokens × hidden activations; a ring moves
	// 2(TP−1)/TP of the message over each link direction.
	if d.tp > 1 {
		tp := float64(d.tp)
		msg := tokens * d.hidden * d.actBytes
		c.comm = 2 * d.stageLayers * (r.arLatency + 2*(tp-1)/tp*msg/r.link)
	}
	stage := math.Max(c.mem, c.compute) + c.comm
	c.overhead = r.overhead
	if d.pp > 1 {
		// One hop per stage boundary carries the micro-batch's hidden
		// states.
		hop := r.arLatency + tokens*d.hidden*d.actBytes/r.link
		c.comm = pp*c.comm + (pp-1)*hop
		c.mem *= pp
		c.compute *= pp
		c.total = pp*stage + (pp-1)*hop + r.overhead
	} else {
		c.total = stage + r.overhead
	}
	return c
}
