package bench_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/bench"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/plan"
	"github.com/gpuplan/gpuplan/stats"
)

// TestPlanSaveIsReadable guards against drift between plan.json as package
// plan writes it and what bench reads for --plan and the calibration key.
func TestPlanSaveIsReadable(t *testing.T) {
	c := plan.Candidate{
		Model: plan.ModelRef{ID: "org/model"}, VM: "Standard_NC40ads_H100_v5", VMCount: 1, GPU: "h100-nvl-94gb", GPUsPerReplica: 2, Replicas: 1, NodesPerReplica: 1,
		Engine: plan.Engine{Name: "vllm", Version: "0.19", Precision: "fp8", KVCacheDType: "fp8", TP: 2, PP: 1,
			MaxModelLen: 8192, GPUMemoryUtilization: 0.9},
		Workload:    plan.Workload{InputTokens: 512, OutputTokens: 128, Concurrency: 16},
		Predictions: plan.Predictions{TTFTMs: plan.Latency{Latency: stats.Latency{Mean: 80, Low: 60, High: 100}}, OutputTokensPerS: 1200},
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := plan.Save(path, c); err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Load(path); err != nil {
		t.Fatalf("the sample candidate no longer validates: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := bench.LoadPlanPrediction(f)
	if err != nil {
		t.Fatal(err)
	}
	k := p.CalibrationKey
	if k.Model != "org/model" || k.GPU != "h100-nvl-94gb" || k.GPUCount != 2 || k.TP != 2 || k.Engine != "vllm" ||
		k.EngineVersion != "0.19" || k.Precision != "fp8" || k.KVDType != "fp8" || p.OutputTokens != 128 {
		t.Errorf("key %+v", p)
	}
	if pr := p.Predictions[0]; pr.Concurrency != 16 || pr.TTFT.Mean != 80 || pr.TTFT.High != 100 || *pr.OutputTokensPerS != 1200 {
		t.Errorf("prediction %+v", pr)
	}
}

// TestCalibrationFileLoadsInPerf guards the other hand-off: a file written
// by --write-calibration must load as a perf calibration.
func TestCalibrationFileLoadsInPerf(t *testing.T) {
	key := bench.CalibrationKey{Model: "org/model", GPU: "h100-nvl-94gb", GPUCount: 1, TP: 1, PP: 1, Engine: "vllm", EngineVersion: "0.19", Precision: "bf16", KVDType: "auto"}
	levels := []bench.LevelResult{{Mode: "concurrency", Concurrency: 8, LevelMetrics: bench.LevelMetrics{Completed: 100,
		InputTokensMean: 512, OutputTokensMean: 128, TTFT: &bench.Latency{Mean: 50, P50: 45, P90: 70, P95: 80, P99: 95},
		TPOT: &bench.Latency{Mean: 9, P50: 9, P90: 10, P95: 10, P99: 11}, OutputTokensPerS: 800, RequestsPerS: 6}}}
	pts := bench.CalibrationPoints(key, levels, []bench.Prediction{{Concurrency: 8, TTFT: &bench.Latency{Mean: 40}}}, time.Now(), "test")
	path := filepath.Join(t.TempDir(), "calib.json")
	if err := bench.WriteCalibrationFile(path, pts); err != nil {
		t.Fatal(err)
	}
	c, err := perf.LoadCalibrationFile(path)
	if err != nil {
		t.Fatalf("perf cannot load bench's calibration file: %v", err)
	}
	if len(c.Points) != 1 || c.Points[0].Concurrency != 8 || c.Points[0].TTFT == nil || c.Points[0].TTFT.Mean != 50 {
		t.Errorf("loaded %+v", c.Points)
	}
}
