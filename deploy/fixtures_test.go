package deploy

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/internal/testmodel"
	"github.com/gpuplan/gpuplan/plan"
)

// TestPlanFixturesMatchThePlanner re-plans every testdata/plans fixture
// with the planner (same model, VM, precision, context, workload and
// region, engine profile) and compares what deploy builds from: the model's exact size,
// the GPU, the engine's parallel layout, image, dtypes and context. The
// fixtures' replica counts and predictions are inputs chosen for the
// tests and are not compared. With -update the fixtures take the
// planner's values.
func TestPlanFixturesMatchThePlanner(t *testing.T) {
	for _, name := range []string{"llama-3.1-405b-2xh100", "llama-3.1-70b-h100", "llama-3.1-70b-mi300x", "llama-3.3-70b-nc48", "phi-4-a100", "qwen2.5-3b-t4", "qwen2.5-7b-aca-a100",
		"llama-3.1-8b-h100nvl-sglang", "llama-3.1-70b-2xh100nvl-trtllm", "phi-4-a100-trtllm017"} {
		t.Run(name, func(t *testing.T) {
			f := loadPlan(t, name)
			p, err := dtype.LookupPrecision(f.Engine.Precision)
			if err != nil {
				t.Fatal(err)
			}
			eng, err := engine.Lookup(f.Engine.Name + "@" + f.Engine.Version)
			if err != nil {
				t.Fatal(err)
			}
			got, err := plan.EvaluateOffer(plan.Request{Engine: eng,
				Model: testmodel.Spec(t, f.Model.ID), Context: f.Engine.MaxModelLen,
				InputTokens: int(f.Workload.InputTokens), OutputTokens: int(f.Workload.OutputTokens),
				Concurrency: int(f.Workload.Concurrency), Region: f.Region,
				Precisions: []dtype.Precision{p},
			}, f.VM)
			if err != nil {
				t.Fatal(err)
			}
			type derived struct {
				ParamsTotal, ParamsActive, WeightsBytes, WeightsBytesPerGPU int64
				GPU, DevicePlugin, Image, DType, KVCacheDType               string
				GPUsPerVM                                                   float64
				TP, PP, Nodes                                               int
				MaxModelLen                                                 int64
			}
			of := func(c plan.Candidate) derived {
				return derived{c.Model.ParamsTotal, c.Model.ParamsActive, c.WeightsBytes, c.WeightsBytesPerGPU,
					c.GPU, c.DevicePluginResource, c.Engine.Image, c.Engine.DType, c.Engine.KVCacheDType,
					c.GPUsPerVM, c.Engine.TP, c.Engine.PP, c.NodesPerReplica, c.Engine.MaxModelLen}
			}
			if *update {
				f.Model.ParamsTotal, f.Model.ParamsActive = got.Model.ParamsTotal, got.Model.ParamsActive
				f.WeightsBytes, f.WeightsBytesPerGPU = got.WeightsBytes, got.WeightsBytesPerGPU
				f.GPU, f.DevicePluginResource, f.GPUsPerVM, f.NodesPerReplica = got.GPU, got.DevicePluginResource, got.GPUsPerVM, got.NodesPerReplica
				f.Engine.Image, f.Engine.DType, f.Engine.KVCacheDType = got.Engine.Image, got.Engine.DType, got.Engine.KVCacheDType
				f.Engine.TP, f.Engine.PP, f.Engine.MaxModelLen = got.Engine.TP, got.Engine.PP, got.Engine.MaxModelLen
				if err := plan.Save(filepath.Join("testdata", "plans", name+".json"), f); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(of(f), of(got)); diff != "" {
				t.Errorf("fixture differs from the planner's plan (-fixture +planner):\n%s", diff)
			}
		})
	}
}
