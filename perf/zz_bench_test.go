package perf

import (
	"testing"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
)

func BenchmarkPredictX(b *testing.B) {
	cat, _ := model.EmbeddedCatalog()
	spec, _, _ := cat.Lookup("meta-llama/Llama-3.1-70B")
	g, _ := hardware.LookupGPU("h100-sxm")
	prof, _ := memory.LookupProfile("vllm")
	req := Request{Model: spec, GPU: g, TP: 4, Engine: prof, Workload: Workload{InputTokens: 1000, OutputTokens: 200, Concurrency: 32}}
	Embedded()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Predict(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemX(b *testing.B) {
	cat, _ := model.EmbeddedCatalog()
	spec, _, _ := cat.Lookup("meta-llama/Llama-3.1-70B")
	g, _ := hardware.LookupGPU("h100-sxm")
	prof, _ := memory.LookupProfile("vllm")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		memory.Estimate(memory.Request{Model: spec, Context: 1200, Concurrency: 1, GPU: memory.GPU{ID: g.ID, CUDAMemory: g.CUDAMemory}, TP: 4, Profile: prof})
	}
}
func BenchmarkResolveX(b *testing.B) {
	c := Embedded()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.resolve("h100-sxm", "vllm", "0.19")
	}
}
func BenchmarkParamsX(b *testing.B) {
	cat, _ := model.EmbeddedCatalog()
	spec, _, _ := cat.Lookup("meta-llama/Llama-3.1-70B")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		spec.Params()
	}
}

func TestFitTimeX(t *testing.T) {
	cat, _ := model.EmbeddedCatalog()
	opt := FitOptions{Model: func(id string) (*model.Spec, error) { s, _, err := cat.Lookup(id); return s, err }, GPU: hardware.LookupGPU}
	for i := 0; i < 1; i++ {
		res, _ := Fit(Embedded().Points, opt)
		t.Logf("%+v %+v", res.GPUFactors, res.EngineFactors)

	}
}
