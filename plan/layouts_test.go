package plan

import (
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/perf"
)

// TestSearchMoELayouts: for an MoE model on vLLM the search offers DP
// attention with EP = TP next to plain TP, the former holding more weights
// per GPU (attention replicated) and carrying the layout to deploy; on
// TensorRT-LLM it explains that it did not search them.
func TestSearchMoELayouts(t *testing.T) {
	r := baseRequest(t, "Qwen/Qwen3-235B-A22B")
	r.VMs = []string{"Standard_ND96isr_H200_v5"}
	r.Context, r.InputTokens, r.OutputTokens, r.Concurrency = 4096, 1000, 500, 64
	res, err := Search(r)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		prec string
		tp   int
	}
	tps, dps := map[key]*Candidate{}, map[key]*Candidate{}
	for i := range res.Rows {
		c := &res.Rows[i].Candidate
		k := key{c.Engine.Precision, c.Engine.TP}
		if c.Engine.DPAttention && c.Engine.ExpertParallelSize == c.Engine.TP {
			dps[k] = c
		} else if !c.Engine.DPAttention && c.Engine.ExpertParallelSize == 0 {
			tps[k] = c
		}
	}
	pairs := 0
	for k, dp := range dps {
		tp, ok := tps[k]
		if !ok {
			continue
		}
		pairs++
		if dp.WeightsBytesPerGPU <= tp.WeightsBytesPerGPU {
			t.Errorf("%v: DP attention holds %d bytes per GPU, TP %d", k, dp.WeightsBytesPerGPU, tp.WeightsBytesPerGPU)
		}
	}
	if pairs == 0 {
		t.Fatalf("want a TP row and a DP-attention + EP row at the same precision and TP; got %d TP and %d DP rows", len(tps), len(dps))
	}

	r.Engine, _ = engine.Lookup("trtllm")
	res, err = Search(r)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range res.Assumptions {
		if strings.Contains(a, "expert parallelism and DP attention were not searched") {
			found = true
		}
	}
	if !found {
		t.Errorf("TensorRT-LLM plan does not explain the unsearched MoE layouts: %q", res.Assumptions)
	}
}

// TestSearchSpeculative carries the user's speculative decoding into every
// candidate.
func TestSearchSpeculative(t *testing.T) {
	r := baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct")
	r.VMs = []string{"Standard_NC40ads_H100_v5"}
	r.Speculative = &perf.Speculative{Method: perf.SpecEAGLE, Tokens: 3, AcceptanceRate: 0.7}
	res, err := Search(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) == 0 {
		t.Fatal("no rows")
	}
	for _, row := range res.Rows {
		s := row.Candidate.Engine.Speculative
		if s == nil || s.Method != "eagle" || s.Tokens != 3 || s.AcceptanceRate != 0.7 {
			t.Errorf("%s: speculative %+v", row.Candidate.VM, s)
		}
	}
}
