package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sampleCandidate() Candidate {
	usd := 98.32
	return Candidate{
		GPUPlanVersion: "test", Model: ModelRef{ID: "meta-llama/Llama-3.1-70B-Instruct", ParamsTotal: 70553706496, ParamsActive: 70553706496},
		Region: "eastus", VM: "Standard_ND96isr_H100_v5", VMCount: 1, GPU: "h100-sxm", GPUsPerVM: 8, GPUsPerReplica: 2, Replicas: 4, NodesPerReplica: 1,
		DevicePluginResource: "nvidia.com/gpu", HostCPU: "x86-64",
		Engine: Engine{Name: "vllm", Version: "0.19", Precision: "bf16", DType: "bfloat16", KVCacheDType: "auto", TP: 2, PP: 1,
			MaxModelLen: 8192, MaxNumBatchedTokens: 8192, MaxNumSeqs: 1024, BlockSize: 16, GPUMemoryUtilization: 0.9},
		Prices: Prices{Currency: "USD", Pricing: "payg", USDPerHour: &usd, PriceAsOf: "2026-11-01"},
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	c := sampleCandidate()
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c.SchemaVersion = SchemaVersion
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("Save left %d files in the directory, want only plan.json", len(entries))
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := map[string]string{
		"not json":       "hello",
		"unknown field":  `{"schema_version":1,"bogus":true}`,
		"wrong version":  `{"schema_version":99}`,
		"missing fields": `{"schema_version":1}`,
		"truncated":      `{"schema_version":1,"model":{"id":"x"`,
	}
	for name, in := range tests {
		if _, err := Decode(strings.NewReader(in), name); err == nil {
			t.Errorf("%s: Decode succeeded", name)
		}
	}
	big := strings.NewReader(`{"notes":["` + strings.Repeat("a", maxPlanBytes) + `"]}`)
	if _, err := Decode(big, "big"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized plan: err = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"schema_version":1}`)
	f.Add(`{"schema_version":1,"model":{"id":"m"},"vm":"v","vm_count":1,"replicas":1,"nodes_per_replica":1,"engine":{"name":"vllm","tensor_parallel_size":1,"pipeline_parallel_size":1,"max_model_len":1,"gpu_memory_utilization":0.9}}`)
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Decode(strings.NewReader(in), "fuzz")
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Decode accepted a plan that fails Validate: %v", verr)
			}
		}
	})
}
