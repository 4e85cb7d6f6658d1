package plan

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
)

// TestCPUCandidate: a CPU row becomes a plan.json that survives Save and
// Load and carries the row's VM, precision, speed and price, the request's
// context and slots, and llama.cpp's KV cells (context × slots padded to
// 32, the rule of engine.LlamaCPPBuffers checked against Ollama's logs).
func TestCPUCandidate(t *testing.T) {
	tests := []struct {
		name       string
		ctx        int64
		conc       int
		rps        float64
		wantCtx    int64
		wantSlots  int
		wantKVCell int64
	}{
		{"context given", 4096, 2, 0, 4096, 2, 8192},
		{"context = input + output", 0, 3, 0, 600, 3, 1824},
		// --rps: twice the arrivals per second as slots (SearchCPU's start).
		{"rps", 0, 0, 1.5, 600, 3, 1824},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Request{Model: spec(t, "qwen2.5-0.5b"), InputTokens: 500, OutputTokens: 100, Concurrency: tt.conc, RPS: tt.rps, Context: tt.ctx}
			res := SearchCPU(r)
			if len(res.Rows) == 0 {
				t.Fatal("no CPU rows")
			}
			row := res.Rows[0]
			c, err := CPUCandidate(r, row)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "plan.json")
			if err := Save(path, c); err != nil {
				t.Fatal(err)
			}
			got, err := Load(path)
			if err != nil {
				t.Fatalf("a saved CPU row does not load: %v", err)
			}
			vm, _ := hardware.DefaultCPUs().LookupVM(row.VM)
			chip, _ := hardware.DefaultCPUs().LookupCPU(vm.CPU)
			if got.VM != row.VM || got.GPU != "" || got.VMCount != 1 || got.Replicas != 1 || got.HostCPU != string(chip.HostArch()) ||
				got.Engine.Name != "llamacpp" || got.Engine.Image != engine.OllamaImage || got.Engine.Precision != row.Precision ||
				got.Engine.MaxModelLen != tt.wantCtx || got.Engine.MaxNumSeqs != tt.wantSlots || got.Predictions.KVCacheTokens != tt.wantKVCell {
				t.Errorf("candidate %s gpu %q × %d, %s %s image %s, ctx %d, slots %d, KV %d; want row %s %s, ctx %d, %d slots, KV %d",
					got.VM, got.GPU, got.VMCount, got.Engine.Name, got.Engine.Precision, got.Engine.Image, got.Engine.MaxModelLen,
					got.Engine.MaxNumSeqs, got.Predictions.KVCacheTokens, row.VM, row.Precision, tt.wantCtx, tt.wantSlots, tt.wantKVCell)
			}
			if got.Predictions.TTFTMs.Mean != row.TTFTMs || got.Predictions.TPOTMs.P99 != row.TPOTMs || got.Predictions.OutputTokensPerS != row.TokensPerS ||
				*got.Prices.USDPerHour != *row.USDPerHour || got.Prices.PriceAsOf != row.PricesAsOf {
				t.Errorf("predictions or prices differ from the row: %+v %+v vs %+v", got.Predictions, got.Prices, row)
			}
			if e2e := row.TTFTMs + 100*row.TPOTMs; got.Predictions.E2EMs.Mean != e2e {
				t.Errorf("e2e %v, want TTFT + 100 × TPOT = %v", got.Predictions.E2EMs.Mean, e2e)
			}
		})
	}
}

// TestCPUCandidateRefusals: a row naming no Azure CPU size, or a request
// without a model, is invalid; a GPU candidate still needs its memory
// fraction.
func TestCPUCandidateRefusals(t *testing.T) {
	r := Request{Model: spec(t, "qwen2.5-0.5b"), InputTokens: 500, OutputTokens: 100, Concurrency: 1}
	if _, err := CPUCandidate(r, CPURow{VM: "Standard_NC24ads_A100_v4", Precision: "q4_k"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("GPU size as a CPU row: %v, want ErrInvalid", err)
	}
	if _, err := CPUCandidate(Request{}, CPURow{VM: "Standard_D8as_v7", Precision: "q4_k"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no model: %v, want ErrInvalid", err)
	}
	c := sampleCandidate()
	c.Engine.GPUMemoryUtilization = 0
	if err := c.Validate(); err == nil {
		t.Error("a GPU candidate with gpu_memory_utilization 0 validates")
	}
}
