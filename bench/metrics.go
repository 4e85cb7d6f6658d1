package bench

import (
	"time"
)

// SLO holds per-request service-level objectives in milliseconds; zero
// means "not set". A request is good when it meets every SLO that is set
// (vLLM's --goodput rule).
type SLO struct {
	TTFTms float64 `json:"ttft_ms,omitempty"`
	TPOTms float64 `json:"tpot_ms,omitempty"`
	E2Ems  float64 `json:"e2e_ms,omitempty"`
}

// Set reports whether any objective is set.
func (s SLO) Set() bool { return s.TTFTms > 0 || s.TPOTms > 0 || s.E2Ems > 0 }

// LevelMetrics are the measured figures of one load level, computed from
// its request records by ComputeMetrics.
type LevelMetrics struct {
	// Requests counts measured requests sent (warm-up excluded), Completed
	// those that succeeded, Failed the rest (Errors breaks them down).
	Requests  int `json:"requests"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	// DurationS runs from the first measured request's start to the end of
	// the last one, the "benchmark duration" rates are divided by.
	DurationS float64 `json:"duration_s"`

	// Latencies are null when unknown: TTFT, TPOT and ITL need a streamed
	// run, and nothing is known about a level with no completed request.
	TTFT *Latency `json:"ttft_ms"`
	TPOT *Latency `json:"tpot_ms"`
	ITL  *Latency `json:"itl_ms"`
	E2E  *Latency `json:"e2e_ms"`

	OutputTokensPerS float64 `json:"output_tokens_per_s"`
	InputTokensPerS  float64 `json:"input_tokens_per_s"`
	RequestsPerS     float64 `json:"requests_per_s"`
	// GoodputPerS is the number of completed requests meeting every SLO
	// per second; null when no SLO is set.
	GoodputPerS  *float64 `json:"goodput_per_s"`
	GoodRequests *int     `json:"good_requests"`

	InputTokensMean  float64 `json:"input_tokens_mean"`
	OutputTokensMean float64 `json:"output_tokens_mean"`
	// UsageReported counts completed requests whose token counts came from
	// the server's usage object; the others count one token per chunk.
	UsageReported int `json:"usage_reported"`

	// Errors counts failed requests by class (e.g. "http_429", "timeout").
	Errors map[ErrorClass]int `json:"errors"`
}

// ComputeMetrics turns request records into level metrics with the
// definitions of `vllm bench serve`:
//
//   - TTFT: request start to the first chunk carrying generated text;
//   - ITL: every gap between successive content chunks, pooled over requests;
//   - TPOT per request: (E2E − TTFT) / (output tokens − 1), for requests
//     with more than one output token;
//   - E2E: request start to the last content chunk;
//   - rates: totals over completed requests divided by the level duration;
//   - goodput: completed requests meeting every set SLO (TPOT counts as 0
//     for single-token answers, as in vLLM) divided by the duration.
//
// Only completed requests enter latencies and token totals.
func ComputeMetrics(records []RequestRecord, slo SLO) LevelMetrics {
	m := LevelMetrics{Requests: len(records), Errors: map[ErrorClass]int{}}
	var (
		first, last   time.Time
		ttfts, tpots  []float64
		itls, e2es    []float64
		inTok, outTok int
		good          int
	)
	for i := range records {
		r := &records[i]
		if first.IsZero() || r.Start.Before(first) {
			first = r.Start
		}
		if r.Done.After(last) {
			last = r.Done
		}
		if !r.OK() {
			m.Failed++
			m.Errors[r.Err]++
			continue
		}
		m.Completed++
		inTok += r.PromptTokens
		outTok += r.OutputTokens
		if r.UsageReported {
			m.UsageReported++
		}
		e2e := ms(r.E2E)
		e2es = append(e2es, e2e)
		ttft, streamed := r.TTFT()
		tpot := 0.0
		if streamed {
			ttfts = append(ttfts, ms(ttft))
			for k := 1; k < len(r.Chunks); k++ {
				itls = append(itls, ms(r.Chunks[k]-r.Chunks[k-1]))
			}
			if r.OutputTokens > 1 {
				tpot = ms(r.E2E-ttft) / float64(r.OutputTokens-1)
				tpots = append(tpots, tpot)
			}
		}
		if slo.Set() {
			ok := true
			if slo.TTFTms > 0 && (!streamed || ms(ttft) > slo.TTFTms) {
				ok = false
			}
			if slo.TPOTms > 0 && (!streamed || tpot > slo.TPOTms) {
				ok = false
			}
			if slo.E2Ems > 0 && e2e > slo.E2Ems {
				ok = false
			}
			if ok {
				good++
			}
		}
	}
	if !first.IsZero() && last.After(first) {
		m.DurationS = last.Sub(first).Seconds()
	}
	m.TTFT = Summarize(ttfts)
	m.TPOT = Summarize(tpots)
	m.ITL = Summarize(itls)
	m.E2E = Summarize(e2es)
	m.OutputTokensPerS = safeDiv(float64(outTok), m.DurationS)
	m.InputTokensPerS = safeDiv(float64(inTok), m.DurationS)
	m.RequestsPerS = safeDiv(float64(m.Completed), m.DurationS)
	if slo.Set() {
		g := safeDiv(float64(good), m.DurationS)
		m.GoodputPerS = &g
		gr := good
		m.GoodRequests = &gr
	}
	if m.Completed > 0 {
		m.InputTokensMean = float64(inTok) / float64(m.Completed)
		m.OutputTokensMean = float64(outTok) / float64(m.Completed)
	}
	return m
}
