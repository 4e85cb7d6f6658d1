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
	big := strings.NewReader(`{"notes":["` + strings.Repeat("a", MaxFileBytes) + `"]}`)
	if _, err := Decode(big, "big"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized plan: err = %v", err)
	}
}

// TestDecodeVersion1 reads a plan.json that gpuplan wrote at schema version
// 1 (testdata/plan-v1.json, saved by `gpuplan plan
// meta-llama/Llama-3.1-8B-Instruct --concurrency 8 --input-tokens 1000
// --output-tokens 200 --save` before the bump): version 2 only adds optional
// fields, so every version 1 file still reads, with its values.
func TestDecodeVersion1(t *testing.T) {
	c, err := Load("testdata/plan-v1.json")
	if err != nil {
		t.Fatalf("a version 1 plan.json no longer reads: %v", err)
	}
	if c.SchemaVersion != 1 || c.Model.ID != "meta-llama/Llama-3.1-8B-Instruct" || c.VM != "Standard_NV36ads_A10_v5" ||
		c.GPU != "a10" || c.Engine.Name != "vllm" || c.Engine.Precision != "fp8" || c.Engine.TP != 1 ||
		c.Workload.InputTokens != 1000 || c.Workload.OutputTokens != 200 || c.Workload.Concurrency != 8 {
		t.Errorf("version 1 plan read as %+v", c)
	}
}

// TestDecodeUnknownVersion: a version this gpuplan does not read is refused
// with the versions it does read, so the user knows to upgrade.
func TestDecodeUnknownVersion(t *testing.T) {
	b, err := os.ReadFile("testdata/plan-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"0", "3", "99"} {
		in := strings.Replace(string(b), `"schema_version": 1,`, `"schema_version": `+v+`,`, 1)
		_, err := Decode(strings.NewReader(in), "plan.json")
		if err == nil || !strings.Contains(err.Error(), "schema_version "+v+" is not one this gpuplan reads (versions 1 and 2)") {
			t.Errorf("schema_version %s: err = %v", v, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"schema_version":1}`)
	f.Add(`{"schema_version":2,"model":{"id":"m"},"vm":"v","vm_count":1,"replicas":1,"nodes_per_replica":1,"engine":{"name":"vllm","tensor_parallel_size":1,"pipeline_parallel_size":1,"max_model_len":1,"gpu_memory_utilization":0.9}}`)
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
