package perf

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func deepseekH200(t *testing.T, ep int, dp bool, w Workload) Request {
	return Request{Model: spec(t, "deepseek-ai/DeepSeek-V3"), GPU: gpu(t, "h200"), TP: 8, EP: ep, DPAttention: dp,
		Engine: profile(t, "sglang"), Workload: w}
}

// TestDPAttentionMLA: DeepSeek's MLA cache is one latent per token that TP
// replicates on every GPU; DP attention keeps each sequence's latent on one
// GPU only, so the group holds about TP times the sequences and serves
// more tokens per second at maximum load.
func TestDPAttentionMLA(t *testing.T) {
	w := Workload{InputTokens: 1000, OutputTokens: 1000, Max: true}
	tp := mustPredict(t, deepseekH200(t, 1, false, w))
	dp := mustPredict(t, deepseekH200(t, 8, true, w))
	if ratio := float64(dp.MaxConcurrency) / float64(tp.MaxConcurrency); ratio < 4 {
		t.Errorf("DP attention holds %d sequences, TP %d: ratio %.1f, want several times more", dp.MaxConcurrency, tp.MaxConcurrency, ratio)
	}
	if dp.OutputTokensPerS <= tp.OutputTokensPerS {
		t.Errorf("DP attention + EP 8: %.0f tok/s, not above TP 8's %.0f", dp.OutputTokensPerS, tp.OutputTokensPerS)
	}
	if dp.WeightsPerGPU <= tp.WeightsPerGPU {
		t.Errorf("DP attention holds %v of weights per GPU, not more than TP's %v (attention is replicated)", dp.WeightsPerGPU, tp.WeightsPerGPU)
	}
}

// TestExpertImbalance: the busiest EP rank's excess over the mean shrinks
// as tokens grow (law of large numbers) and vanishes without EP.
func TestExpertImbalance(t *testing.T) {
	d := &resolvedRequest{topK: 8, moe: moeLayout{ep: 8}}
	prev := math.Inf(1)
	for _, n := range []float64{1, 16, 256, 4096, 65536} {
		f := d.expertImbalance(n)
		if f < 1 || f >= prev {
			t.Errorf("imbalance at %g tokens = %.3f (previous %.3f): want ≥ 1 and falling", n, f, prev)
		}
		prev = f
	}
	if f := d.expertImbalance(65536); f > 1.02 {
		t.Errorf("imbalance at 65,536 tokens = %.3f, want within 2%%", f)
	}
	d.moe.ep = 1
	if f := d.expertImbalance(3); f != 1 {
		t.Errorf("no EP: imbalance %.3f, want 1", f)
	}
}

// TestEPAcrossVMsSlower: the same EP 16 group over InfiniBand is never
// faster than in one NVLink domain.
func TestEPAcrossVMsSlower(t *testing.T) {
	for _, w := range []Workload{{InputTokens: 1000, OutputTokens: 1000, Concurrency: 32}, {InputTokens: 2000, OutputTokens: 200, Max: true}} {
		r := Request{Model: spec(t, "deepseek-ai/DeepSeek-V3"), GPU: gpu(t, "h100-sxm"), TP: 16, EP: 16, DPAttention: true, Engine: profile(t, "sglang"), Workload: w}
		f := ndH100(t)
		r.Fabric, r.GPUsPerVM = &f, 8
		ib := mustPredict(t, r)
		one := ndH100(t)
		one.DomainGPUs = 16
		r.Fabric = &one
		nv := mustPredict(t, r)
		if ib.OutputTokensPerS > nv.OutputTokensPerS*(1+1e-9) || ib.TPOT.Mean < nv.TPOT.Mean*(1-1e-9) {
			t.Errorf("%+v: EP 16 over InfiniBand %.0f tok/s TPOT %.2f ms beats one domain's %.0f tok/s %.2f ms", w, ib.OutputTokensPerS, ib.TPOT.Mean, nv.OutputTokensPerS, nv.TPOT.Mean)
		}
	}
}

// TestMoEParallelBadRequests: EP on a dense model is refused.
func TestMoEParallelBadRequests(t *testing.T) {
	r := Request{Model: spec(t, "meta-llama/Llama-3.1-70B"), GPU: gpu(t, "h100-sxm"), TP: 4, EP: 4, Workload: Workload{InputTokens: 10, OutputTokens: 10, Concurrency: 1}}
	if _, err := Predict(r); !errors.Is(err, ErrInvalid) {
		t.Errorf("EP on a dense model: %v, want ErrInvalid", err)
	}
}

// TestCollectivesAssumption: the assumption line names the collectives the
// layout runs (issue 15: it said "two ring all-reduces per layer" with EP
// on, where the experts' all-reduce is an all-to-all).
func TestCollectivesAssumption(t *testing.T) {
	w := Workload{InputTokens: 1000, OutputTokens: 200, Concurrency: 16}
	for _, c := range []struct {
		ep   int
		dp   bool
		want string
	}{
		{1, false, "tensor parallelism: two all-reduces per layer over"},
		{8, false, "tensor parallelism with EP 8: per MoE layer one all-reduce after attention and a dispatch and a combine all-to-all"},
		{8, true, "DP attention with EP 8: a dispatch and a combine all-to-all per MoE layer, no attention all-reduce"},
		{1, true, "DP attention, experts copied on every GPU: no collective in MoE layers"},
	} {
		r := deepseekH200(t, c.ep, c.dp, w)
		if c.ep == 1 && c.dp {
			// A full copy of DeepSeek's experts fits no GPU.
			r.Model, r.TP = spec(t, "Qwen/Qwen3-30B-A3B"), 2
		}
		e := mustPredict(t, r)
		found := false
		for _, a := range e.Assumptions {
			if strings.HasPrefix(a, c.want) {
				found = true
			}
			if c.ep > 1 && strings.Contains(a, "two all-reduces per layer") {
				t.Errorf("EP %d DP %v: %q", c.ep, c.dp, a)
			}
		}
		if !found {
			t.Errorf("EP %d DP %v: no assumption starts %q in %q", c.ep, c.dp, c.want, e.Assumptions)
		}
	}
}
