package deploy

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/internal/testmodel"
	"github.com/gpuplan/gpuplan/plan"
)

// planFixture is what a testdata/plans fixture asks the planner for: one
// model on one VM size at one precision and context, for 32 users sending
// 1,024 tokens in and 256 out.
type planFixture struct {
	model, vm, precision string
	context              int64
	region               string // "" = the planner's default (eastus)
	engine               string // "" = the default engine profile
}

// planFixtures are the deploy tests' plans. Each file is the planner's
// plan.Candidate for its request, written by plan.Save: nothing in it is
// written by hand.
var planFixtures = map[string]planFixture{
	"llama-3.1-405b-2xh100": {"meta-llama/Llama-3.1-405B-Instruct", "Standard_ND96isr_H100_v5", "bf16", 8192, "", ""},
	"llama-3.1-70b-h100":    {"meta-llama/Llama-3.1-70B-Instruct", "Standard_ND96isr_H100_v5", "bf16", 8192, "", ""},
	"llama-3.1-70b-mi300x":  {"meta-llama/Llama-3.1-70B-Instruct", "Standard_ND96isr_MI300X_v5", "bf16", 8192, "", ""},
	"llama-3.3-70b-nc48":    {"meta-llama/Llama-3.3-70B-Instruct", "Standard_NC48ads_A100_v4", "bf16", 16384, "", ""},
	"phi-4-a100":            {"microsoft/phi-4", "Standard_NC24ads_A100_v4", "bf16", 16384, "", ""},
	"qwen2.5-3b-t4":         {"Qwen/Qwen2.5-3B-Instruct", "Standard_NC4as_T4_v3", "fp16", 4096, "", ""},
	"qwen2.5-7b-aca-a100":   {"Qwen/Qwen2.5-7B-Instruct", "Standard_NC24ads_A100_v4", "bf16", 32768, "swedencentral", ""},
	// SGLang and both TensorRT-LLM profiles, deployed with their recorded images.
	"llama-3.1-8b-h100nvl-sglang":    {"meta-llama/Llama-3.1-8B-Instruct", "Standard_NC40ads_H100_v5", "fp8", 8192, "", "sglang@0.4"},
	"llama-3.1-70b-2xh100nvl-trtllm": {"meta-llama/Llama-3.1-70B-Instruct", "Standard_NC80adis_H100_v5", "bf16", 8192, "", "trtllm@1.0"},
	"phi-4-a100-trtllm017":           {"microsoft/phi-4", "Standard_NC24ads_A100_v4", "bf16", 8192, "", "trtllm@0.17"},
}

// planFor asks the planner for the fixture's candidate.
func planFor(t testing.TB, f planFixture) plan.Candidate {
	t.Helper()
	p, err := dtype.LookupPrecision(f.precision)
	if err != nil {
		t.Fatal(err)
	}
	var eng engine.Engine
	if f.engine != "" {
		if eng, err = engine.Lookup(f.engine); err != nil {
			t.Fatal(err)
		}
	}
	c, err := plan.EvaluateOffer(plan.Request{Engine: eng,
		Model: testmodel.Spec(t, f.model), Context: f.context,
		InputTokens: 1024, OutputTokens: 256, Concurrency: 32, Region: f.region,
		Precisions: []dtype.Precision{p}, Prices: hardware.Default().Prices(),
	}, f.vm)
	if err != nil {
		t.Fatal(err)
	}
	c.GPUPlanVersion = "test"
	c.SchemaVersion = plan.SchemaVersion
	return c
}

// TestPlanFixturesMatchThePlanner re-plans every testdata/plans fixture and
// requires the file to equal the planner's candidate in every field deploy
// reads, so a fixture cannot drift from what `gpuplan plan --save` writes
// (the MI300X fixture once did). What deploy never reads — the predicted
// latencies and rates, prices, the row's reason and notes — is written by
// -update too but not compared, so a change to the speed model alone does
// not fail the deploy tests. With -update the files are rewritten from the
// planner; review the golden diffs that follow.
func TestPlanFixturesMatchThePlanner(t *testing.T) {
	for name, f := range planFixtures {
		t.Run(name, func(t *testing.T) {
			got := planFor(t, f)
			path := filepath.Join("testdata", "plans", name+".json")
			if *update {
				if err := plan.Save(path, got); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(loadPlan(t, name), got, cmpopts.EquateEmpty(), notReadByDeploy); diff != "" {
				t.Errorf("%s differs from the planner's plan (-fixture +planner; go test ./deploy -update rewrites it):\n%s", path, diff)
			}
		})
	}
}

// notReadByDeploy leaves out of the comparison the candidate's fields that
// Generate never reads: of the predictions it reads max_concurrency,
// cold_start_s and error_band_fraction only.
var notReadByDeploy = cmp.Options{
	cmpopts.IgnoreFields(plan.Candidate{}, "Prices", "Reason", "Notes"),
	cmp.Transformer("readByDeploy", func(p plan.Predictions) [3]float64 {
		return [3]float64{float64(p.MaxConcurrency), p.ColdStartS, p.ErrorBandFraction}
	}),
}
