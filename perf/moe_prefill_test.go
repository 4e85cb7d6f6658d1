package perf

import (
	"math"
	"testing"
)

// moePrefillTruth is a calibration with every factor set, used to generate
// and refit synthetic Mixtral points.
func moePrefillTruth(prefill float64) *Calibration {
	c := &Calibration{SchemaVersion: 1,
		GPUFactors: []GPUFactors{{GPU: "h100-sxm", Engine: "vllm", EngineVersion: "0.19", BandwidthEfficiency: 0.8, ComputeEfficiency: 0.8}},
		EngineFactors: []EngineFactors{{Engine: "vllm", EngineVersion: "0.19", StepOverheadMS: 1, SeqOverheadUS: 1, MoEEfficiency: 1,
			MoEPrefillEfficiency: prefill, RequestOverheadMS: 5, FirstTokenIterations: 1,
			Links: map[string]LinkFactors{"nvlink": {Efficiency: 0.5, DecodeEfficiency: 0.2, AllReduceLatencyUS: allReduceLatencyUS, PeerLatencyUS: fitStartPeerUS}}}},
	}
	c.buildIndex()
	return c
}

// estimateWith predicts p with cal's factors.
func estimateWith(t *testing.T, p Point, cal *Calibration) Estimate {
	t.Helper()
	p.OutputTokensPerS = 1 // preparePoint wants a measurement; solve ignores it
	fp, f := preparedWith(t, p, cal)
	return fp.dep.solve(f, fp.w)
}

func mixtralPoint(in, out, users int, cache float64) Point {
	return Point{Model: "mistralai/Mixtral-8x7B-v0.1", GPU: "h100-sxm", TP: 2, Engine: "vllm", EngineVersion: "0.19", Precision: "bf16", KVDType: "auto",
		InputTokens: in, OutputTokens: out, Concurrency: users, CacheRate: cache, Source: "synthetic"}
}

// TestMoEPrefillEfficiencyPhysics: the prefill factor slows only the
// routed experts' math for prompt tokens. 0 and 1 are the same neutral
// value; below 1 a long uncached prompt's TTFT grows by at most the routed
// experts' share of the prefill, decode-only iterations (one user's
// inter-token gap) do not move, and dense models ignore it.
func TestMoEPrefillEfficiencyPhysics(t *testing.T) {
	long := mixtralPoint(8000, 200, 1, 0)
	neutral0, neutral1, slow := estimateWith(t, long, moePrefillTruth(0)), estimateWith(t, long, moePrefillTruth(1)), estimateWith(t, long, moePrefillTruth(0.5))
	if neutral0.TTFT.Mean != neutral1.TTFT.Mean || neutral0.TPOT.Mean != neutral1.TPOT.Mean || neutral0.OutputTokensPerS != neutral1.OutputTokensPerS {
		t.Errorf("0 and 1 should both be neutral: TTFT %.3f vs %.3f ms, TPOT %.4f vs %.4f ms", neutral0.TTFT.Mean, neutral1.TTFT.Mean, neutral0.TPOT.Mean, neutral1.TPOT.Mean)
	}
	// Mixtral's routed experts are 2 of 8 experts × 3 matrices of
	// 4096 × 14336 per token per layer, about 4/5 of its matmul FLOPs
	// (config.json of mistralai/Mixtral-8x7B-v0.1): at half the rate an
	// 8,000-token prefill takes between 1.3× and 1.9× as long (attention
	// and the fixed costs do not scale).
	if r := slow.TTFT.Mean / neutral1.TTFT.Mean; r < 1.3 || r > 1.9 {
		t.Errorf("TTFT of an 8,000-token Mixtral prompt at prefill efficiency 0.5: %.2f× the neutral one, want 1.3–1.9×", r)
	}
	if d := math.Abs(slow.ITL.P50 - neutral1.ITL.P50); d > 1e-9 {
		t.Errorf("one user's decode-only gap moved by %.3g ms", d)
	}
	dense := Point{Model: "meta-llama/Llama-3.1-8B", GPU: "h100-sxm", TP: 2, Engine: "vllm", EngineVersion: "0.19", Precision: "bf16", KVDType: "auto",
		InputTokens: 8000, OutputTokens: 200, Concurrency: 1, Source: "synthetic"}
	if a, b := estimateWith(t, dense, moePrefillTruth(1)), estimateWith(t, dense, moePrefillTruth(0.5)); a.TTFT.Mean != b.TTFT.Mean {
		t.Errorf("dense model's TTFT moved: %.3f → %.3f ms", a.TTFT.Mean, b.TTFT.Mean)
	}
}

// TestFitMoEPrefillEfficiency: Fit recovers the prefill factor that
// generated MoE TTFT from uncached prompts, and leaves it neutral (0) when
// every prompt comes from the prefix cache, as in the vLLM development runs
// (Mixtral at cache rate 0.986–0.993): decode cannot tell it apart.
func TestFitMoEPrefillEfficiency(t *testing.T) {
	gen := func(truth *Calibration, cache float64) []Point {
		var pts []Point
		for _, lens := range [][2]int{{4000, 200}, {2000, 100}, {8000, 300}, {500, 500}} {
			for _, users := range []int{1, 4, 16} {
				// A dense model on the same GPUs pins the compute
				// efficiency, which a MoE model alone cannot tell from
				// its experts' prefill rate.
				for _, model := range []string{"mistralai/Mixtral-8x7B-v0.1", "meta-llama/Llama-3.1-8B"} {
					p := mixtralPoint(lens[0], lens[1], users, cache)
					p.Model = model
					e := estimateWith(t, p, truth)
					p.OutputTokensPerS = e.OutputTokensPerS
					p.TTFT, p.TPOT = &Latency{Mean: e.TTFT.Mean}, &Latency{Mean: e.TPOT.Mean}
					pts = append(pts, p)
				}
			}
		}
		return pts
	}
	for _, tc := range []struct {
		name        string
		truth, want float64
		cache       float64
	}{
		{"uncached prompts, generated at 0.5", 0.5, 0.5, 0},
		{"uncached prompts, generated at 0.8", 0.8, 0.8, 0},
		{"prompts from the prefix cache", 0.5, 0, 0.99},
	} {
		res, err := Fit(gen(moePrefillTruth(tc.truth), tc.cache), fitOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.EngineFactors) != 1 {
			t.Fatalf("%s: %d engine factor sets", tc.name, len(res.EngineFactors))
		}
		if got := res.EngineFactors[0].MoEPrefillEfficiency; math.Abs(got-tc.want) > 0.05 {
			t.Errorf("%s: fitted moe_prefill_efficiency %.3g, want %.3g (engine %+v, GPU %+v)", tc.name, got, tc.want, res.EngineFactors[0], res.GPUFactors)
		}
	}
}
