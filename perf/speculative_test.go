package perf

import (
	"errors"
	"math"
	"testing"
)

// TestExpectedTokens checks (1 − A^(K+1)) ÷ (1 − A) at hand-computed points.
func TestExpectedTokens(t *testing.T) {
	for _, tc := range []struct {
		k    int
		a    float64
		want float64
	}{
		{3, 0, 1},
		{3, 1, 4},
		{3, 0.8, 2.952},     // 1 + .8 + .64 + .512
		{1, 0.5, 1.5},       // 1 + .5
		{5, 0.7, 2.94117},   // (1 − .7^6) / .3
		{16, 0.9, 8.332281}, // (1 − .9^17) / .1
	} {
		got := Speculative{Tokens: tc.k, AcceptanceRate: tc.a}.ExpectedTokens()
		if math.Abs(got-tc.want) > 1e-4 {
			t.Errorf("K %d A %g: %.5f tokens per step, want %.5f", tc.k, tc.a, got, tc.want)
		}
	}
}

func specCases(t *testing.T) []Request {
	h := gpu(t, "h100-sxm")
	w := Workload{InputTokens: 1000, OutputTokens: 500, Concurrency: 4}
	return []Request{
		{Model: spec(t, "meta-llama/Llama-3.1-70B"), GPU: h, TP: 4, Engine: profile(t, "vllm"), Workload: w,
			Speculative: &Speculative{Method: SpecDraft, Draft: spec(t, "meta-llama/Llama-3.2-1B"), Tokens: 4}},
		{Model: spec(t, "meta-llama/Llama-3.1-8B"), GPU: h, TP: 1, Engine: profile(t, "sglang"), Workload: w,
			Speculative: &Speculative{Method: SpecEAGLE, Tokens: 3}},
		{Model: spec(t, "deepseek-ai/DeepSeek-V3"), GPU: gpu(t, "h200"), TP: 8, Engine: profile(t, "sglang"), Precision: precision(t, "fp8"), Workload: w,
			Speculative: &Speculative{Method: SpecMTP, Tokens: 1}},
	}
}

// TestSpeculativeAcceptanceZeroSlower: with every proposal rejected, the
// proposer's passes and the wider verification are pure cost: TPOT rises
// and throughput falls against no speculation; with a high acceptance rate
// a lightly loaded, bandwidth-bound deployment gets faster per user.
func TestSpeculativeAcceptanceZeroSlower(t *testing.T) {
	for _, r := range specCases(t) {
		base := r
		base.Speculative = nil
		none := mustPredict(t, base)
		r.Speculative.AcceptanceRate = 0
		zero := mustPredict(t, r)
		if zero.TPOT.Mean <= none.TPOT.Mean || zero.OutputTokensPerS >= none.OutputTokensPerS {
			t.Errorf("%s %s at acceptance 0: TPOT %.2f ms, %.0f tok/s; without: %.2f ms, %.0f tok/s",
				r.Model.ID, r.Speculative.Method, zero.TPOT.Mean, zero.OutputTokensPerS, none.TPOT.Mean, none.OutputTokensPerS)
		}
		r.Speculative.AcceptanceRate = 0.8
		good := mustPredict(t, r)
		if good.TPOT.Mean >= none.TPOT.Mean {
			t.Errorf("%s %s at acceptance 0.8: TPOT %.2f ms, not below %.2f ms without", r.Model.ID, r.Speculative.Method, good.TPOT.Mean, none.TPOT.Mean)
		}
		if good.MaxConcurrency > none.MaxConcurrency {
			t.Errorf("%s %s: the proposer's memory raised capacity %d → %d", r.Model.ID, r.Speculative.Method, none.MaxConcurrency, good.MaxConcurrency)
		}
	}
}

// TestSpeculativeBadRequests: each bad setting names its flag.
func TestSpeculativeBadRequests(t *testing.T) {
	r := specCases(t)[1]
	for name, s := range map[string]Speculative{
		"K 0":        {Method: SpecEAGLE, Tokens: 0},
		"K 17":       {Method: SpecEAGLE, Tokens: 17},
		"A 1.5":      {Method: SpecEAGLE, Tokens: 2, AcceptanceRate: 1.5},
		"A NaN":      {Method: SpecEAGLE, Tokens: 2, AcceptanceRate: math.NaN()},
		"no draft":   {Method: SpecDraft, Tokens: 2},
		"mtp on 8B":  {Method: SpecMTP, Tokens: 2},
		"bad method": {Method: "medusa", Tokens: 2},
	} {
		s := s
		r.Speculative = &s
		if _, err := Predict(r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}
