package perf

import "math"

// steadyState is the engine's steady state with B sequences in it.
//
// Continuous batching, as a fluid: every request spends kp iterations in
// prefill (its prompt in chunks of the token budget left after the
// decoding sequences) and O−1 iterations decoding, so in iteration units
// r = B / (kp + O − 1) requests start and finish per iteration, dec =
// r(O−1) sequences decode and r·I prompt tokens are prefilled per
// iteration, at most the budget N: r ≤ N / (I + O − 1).
//
// When q = r·kp < 1, prefills are rare: a fraction q of the iterations
// carries one prompt chunk (cost tm), the rest decode only (cost td).
// Otherwise every iteration mixes decodes and prompt tokens (the fluid
// regime) and tm = td. Requests per second are r / mean iteration time;
// end-to-end latency follows from Little's law (B / throughput); the
// inter-token gap a sequence sees averages td and tm over the iterations
// that carry other sequences' prompts; TTFT is the rest of the E2E.
type steadyState struct {
	b, r, dec, pre, kp float64
	q, qOther          float64
	td, tm             stepCost
	tbar               float64 // mean iteration, seconds
	itl                float64 // mean gap between a sequence's tokens, seconds
	xReq               float64 // requests per second
	e2e, ttft          float64 // in-engine, seconds
	prefillLimited     bool
}

func (d *resolvedRequest) steady(rt rates, b float64) steadyState {
	// I is the prompt tokens a request computes: the prefix cache serves
	// the rest, which attention still reads (the new tokens' mean position
	// is past the cached prefix).
	full, I, O := float64(d.isl), d.newIn, float64(d.osl)
	N := float64(d.limits.maxTokens)
	ctxDec, ctxPre := full+O/2, full-I/2
	s := steadyState{b: b}
	if b <= 0 {
		return s
	}
	// With speculative decoding a request decodes in (O − 1)/E iterations
	// of K + 1 verified positions each (speculative.go); below, O counts
	// iterations and vt the budget tokens one decoding sequence uses.
	outTokens, vt := O, d.spec2.verifyTokens()
	O = d.spec2.iterations(O)
	dec := b * (O - 1) / O
	var r, kp float64
	for i := 0; i < 4; i++ {
		// Prompt chunks use what the budget leaves after the decodes; a
		// fractional kp keeps the model continuous in B (engines run the
		// last, partial chunk alongside other work).
		capTok := math.Max(N-dec*vt, 1)
		kp = math.Max(1, I/capTok)
		r = b / (kp + O - 1)
		if lim := N / (I + (O-1)*vt); r > lim {
			r = lim
			s.prefillLimited = true
		} else {
			s.prefillLimited = false
		}
		dec = r * (O - 1)
	}
	s.r, s.dec, s.kp, s.pre = r, dec, kp, r*I
	s.q = r * kp
	if s.q < 1 {
		s.td = d.step(rt, dec, 0, 0, ctxDec, ctxPre)
		s.tm = d.step(rt, dec, I/kp, 1, ctxDec, ctxPre)
		s.tbar = (1-s.q)*s.td.total + s.q*s.tm.total
		// Of a sequence's O−1 decode iterations, the ones carrying another
		// sequence's prompt: the others start r·(B−1)/B… per iteration;
		// over the sequence's life of kp + O − 1 iterations that is
		// kp(B−1) prompt iterations, spread over its O − 1 decodes. (This
		// keeps the per-request view, kp·tm + (O−1)·ITL, equal to Little's
		// law on the engine, B / throughput.)
		if b > 1 && O > 1 {
			s.qOther = math.Min(1, kp*(b-1)/(O-1))
		}
		s.itl = (1-s.qOther)*s.td.total + s.qOther*s.tm.total
	} else {
		s.tm = d.step(rt, dec, s.pre, r, ctxDec, ctxPre)
		s.td = s.tm
		s.tbar = s.tm.total
		s.qOther = 1
		s.itl = s.tbar
	}
	s.xReq = r / s.tbar
	s.e2e = b / s.xReq
	own := kp * s.tm.total
	if O > 1 {
		s.ttft = math.Max(s.e2e-(O-1)*s.itl, own)
		s.e2e = s.ttft + (O-1)*s.itl
		// The gap between a sequence's output tokens: its iteration
		// period spread over the E tokens each iteration yields.
		s.itl *= (O - 1) / (outTokens - 1)
	} else {
		s.ttft = math.Max(s.e2e, own)
		s.e2e = s.ttft
		s.itl = 0
	}
	return s
}

// solveRPS finds the mean number of sequences in the engine at which it
// completes lambda requests per second. Below one sequence the engine is
// idle part of the time and a request is served alone (B = 1).
func (d *resolvedRequest) solveRPS(rt rates, lambda float64, maxState steadyState) steadyState {
	one := d.steady(rt, 1)
	if one.xReq >= lambda || d.capacity <= 1 {
		return one
	}
	lo, hi := 1.0, d.capacity
	for i := 0; i < 48 && hi-lo > 1e-6*hi; i++ {
		mid := (lo + hi) / 2
		if d.steady(rt, mid).xReq < lambda {
			lo = mid
		} else {
			hi = mid
		}
	}
	return d.steady(rt, hi)
}

// Standard normal quantiles for the percentiles reported.
var zq = map[float64]float64{50: 0, 90: 1.2815515655446004, 95: 1.6448536269514722, 99: 2.3263478740408408}

// waitTail is a waiting time with P(W > t) = pw·exp(−t/theta), at most
// limit when limit > 0.
type waitTail struct{ pw, theta, limit float64 }

func (w waitTail) mean() float64 { return w.pw * w.theta }

// pct returns the p-th percentile (p in 0–100).
func (w waitTail) pct(p float64) float64 {
	tail := 1 - p/100
	if w.pw <= tail || w.theta <= 0 {
		return 0
	}
	v := w.theta * math.Log(w.pw/tail)
	if w.limit > 0 && v > w.limit {
		v = w.limit
	}
	return v
}

// prefillWait is the queueing delay of a prompt waiting for room in the
// iteration's token budget, by Kingman's heavy-traffic approximation for a
// single server (Kingman 1961): utilisation rho = prompt tokens per second
// ÷ the budget the mixed iterations leave for prompts, service time S the
// request's own prefill, Poisson arrivals (c²a = 1) and fixed prompt
// lengths (c²s = 0): P(W > t) ≈ rho·exp(−2(1−rho)t / S).
func (d *resolvedRequest) prefillWait(s steadyState, lambda float64) waitTail {
	N := float64(d.limits.maxTokens)
	room := math.Max(N-s.dec, 1)
	rho := lambda * d.newIn * s.tm.total / room
	if rho <= 0 {
		return waitTail{}
	}
	if rho >= 0.999 {
		rho = 0.999
	}
	S := s.kp * s.tm.total
	return waitTail{pw: rho, theta: S / (2 * (1 - rho))}
}

// kvWait is the delay of a request waiting for a free KV slot when the
// engine runs near its sequence capacity c: Sakasegawa's approximation for
// the G/G/c queue (Sakasegawa 1977; Hopp & Spearman, Factory Physics):
// P(wait) ≈ rho^(√(2(c+1)) − 1), mean wait ≈ P(wait) × (c²a + c²s)/2 ×
// S / (c(1 − rho)), exponential tail, with S the in-engine E2E, Poisson
// arrivals and fixed lengths.
func (d *resolvedRequest) kvWait(s steadyState, lambda, maxX float64) waitTail {
	c := d.capacity
	rho := lambda / maxX
	if rho <= 0 || c <= 0 {
		return waitTail{}
	}
	if rho >= 0.999 {
		rho = 0.999
	}
	pw := math.Pow(rho, math.Sqrt(2*(c+1))-1)
	return waitTail{pw: pw, theta: s.e2e / (2 * c * (1 - rho))}
}
