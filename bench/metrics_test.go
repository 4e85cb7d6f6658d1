package bench

import (
	"fmt"
	"testing"
	"time"
)

// Reference percentiles from numpy.percentile's default "linear" method
// (https://numpy.org/doc/stable/reference/generated/numpy.percentile.html):
// for 1..10, position q/100·(n−1) between closest ranks.
func TestPercentileLinear(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct{ q, want float64 }{
		{0, 1}, {50, 5.5}, {90, 9.1}, {95, 9.55}, {99, 9.91}, {100, 10}, {25, 3.25},
	} {
		if got := Percentile(s, tt.q); fmt.Sprintf("%.10f", got) != fmt.Sprintf("%.10f", tt.want) {
			t.Errorf("p%v = %v, want %v", tt.q, got, tt.want)
		}
	}
	if Percentile(nil, 50) != 0 || Percentile([]float64{7}, 99) != 7 {
		t.Error("edge cases")
	}
	if Summarize(nil) != nil {
		t.Error("Summarize(nil) must be nil: an absent metric is not zero")
	}
	got := *Summarize([]float64{4, 1, 3, 2})
	want := Latency{Mean: 2.5, P50: 2.5, P90: 3.7, P95: 3.85, P99: 3.97}
	if fmt.Sprintf("%.6f", []float64{got.Mean, got.P50, got.P90, got.P95, got.P99}) != fmt.Sprintf("%.6f", []float64{want.Mean, want.P50, want.P90, want.P95, want.P99}) {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
}

func rec(id string, start time.Duration, chunks []float64, out int, done time.Duration) RequestRecord {
	r := RequestRecord{ID: id, Start: epoch.Add(start), Done: epoch.Add(done), OutputTokens: out, PromptTokens: 100, UsageReported: true}
	for _, c := range chunks {
		r.Chunks = append(r.Chunks, msD(c))
	}
	if len(r.Chunks) > 0 {
		r.E2E = r.Chunks[len(r.Chunks)-1]
	}
	return r
}

// TestComputeMetricsExact checks every figure of a level against values
// worked out by hand from the vLLM definitions.
func TestComputeMetricsExact(t *testing.T) {
	recs := []RequestRecord{
		// TTFT 100, gaps 20 20 → E2E 140, 3 tokens, TPOT (140−100)/2 = 20.
		rec("a", 0, []float64{100, 120, 140}, 3, msD(150)),
		// TTFT 300, gaps 50 → E2E 350, but usage says 6 tokens (chunks held
		// several): TPOT (350−300)/5 = 10.
		rec("b", msD(100), []float64{300, 350}, 6, msD(500)),
		// A single-token answer: TTFT 50, no TPOT; TPOT counts as 0 for
		// goodput as in vLLM.
		rec("c", msD(200), []float64{50}, 1, msD(260)),
		// Failures are counted by class and excluded from latencies.
		{ID: "d", Start: epoch.Add(msD(300)), Done: epoch.Add(msD(1000)), Err: "http_500", Status: 500},
		{ID: "e", Start: epoch.Add(msD(400)), Done: epoch.Add(msD(900)), Err: ErrTimeout},
	}
	m := ComputeMetrics(recs, SLO{TTFTms: 200, TPOTms: 15})
	if m.Requests != 5 || m.Completed != 3 || m.Failed != 2 {
		t.Fatalf("counts %d/%d/%d", m.Requests, m.Completed, m.Failed)
	}
	if m.Errors["http_500"] != 1 || m.Errors[ErrTimeout] != 1 || len(m.Errors) != 2 {
		t.Errorf("errors %v", m.Errors)
	}
	// Duration: first start 0 to last done 1000 ms = 1 s.
	if m.DurationS != 1 {
		t.Errorf("duration %v", m.DurationS)
	}
	// TTFTs 100, 300, 50: mean 150, p50 100.
	if m.TTFT.Mean != 150 || m.TTFT.P50 != 100 {
		t.Errorf("ttft %+v", *m.TTFT)
	}
	// TPOTs (only answers with >1 token): 20 and 10 → mean 15.
	if m.TPOT.Mean != 15 || m.TPOT.P50 != 15 {
		t.Errorf("tpot %+v", *m.TPOT)
	}
	// ITL pooled: 20, 20, 50 → mean 30, p50 20.
	if m.ITL.Mean != 30 || m.ITL.P50 != 20 {
		t.Errorf("itl %+v", *m.ITL)
	}
	// E2E: 140, 350, 50 → mean 180.
	if m.E2E.Mean != 180 || m.E2E.P50 != 140 {
		t.Errorf("e2e %+v", *m.E2E)
	}
	// 10 output tokens, 300 input tokens, 3 requests over 1 s.
	if m.OutputTokensPerS != 10 || m.InputTokensPerS != 300 || m.RequestsPerS != 3 {
		t.Errorf("rates %v %v %v", m.OutputTokensPerS, m.InputTokensPerS, m.RequestsPerS)
	}
	// Good: a (100 ≤ 200, 20 > 15: no), b (300 > 200: no), c (50, tpot 0: yes).
	if *m.GoodRequests != 1 || *m.GoodputPerS != 1 {
		t.Errorf("goodput %v over %v requests", *m.GoodputPerS, *m.GoodRequests)
	}
	if m.OutputTokensMean != 10.0/3 || m.InputTokensMean != 100 || m.UsageReported != 3 {
		t.Errorf("means %v %v usage %d", m.OutputTokensMean, m.InputTokensMean, m.UsageReported)
	}
}

func TestComputeMetricsEmptyIsFinite(t *testing.T) {
	m := ComputeMetrics(nil, SLO{TTFTms: 1})
	if m.TTFT != nil || m.RequestsPerS != 0 || *m.GoodputPerS != 0 {
		t.Errorf("%+v", m)
	}
	// All on one instant (a pinned clock): rates are 0, never Inf or NaN.
	m = ComputeMetrics([]RequestRecord{{Start: epoch, Done: epoch, Chunks: []time.Duration{0}, OutputTokens: 1}}, SLO{})
	if m.RequestsPerS != 0 || m.DurationS != 0 {
		t.Errorf("%+v", m)
	}
}
