package perf_test

import (
	"fmt"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/units"
)

// Predict Llama-3.1-8B in FP8 on one H100 under TensorRT-LLM at eight
// concurrent users.
func ExamplePredict() {
	cat, _ := model.EmbeddedCatalog()
	spec, _, _ := cat.Lookup("meta-llama/Llama-3.1-8B")
	h100, _ := hardware.LookupGPU("h100-sxm")
	trt, _ := engine.Lookup("trtllm")
	fp8, _ := dtype.LookupPrecision("fp8")
	e, err := perf.Predict(perf.Request{
		Model: spec, Precision: &fp8, KVDType: dtype.KVFP8, GPU: h100, TP: 1, Engine: trt,
		Workload: perf.Workload{InputTokens: 1000, OutputTokens: 200, Concurrency: 8},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("calibrated: %v, bottleneck: %s\n", e.Calibrated, e.Bottleneck)
	fmt.Printf("TPOT %.1f ms (band %.1f–%.1f), %.0f output tokens/s\n", e.TPOT.Mean, e.TPOT.Low, e.TPOT.High, e.OutputTokensPerS)
	// Output:
	// calibrated: true, bottleneck: memory_bandwidth
	// TPOT 4.9 ms (band 4.4–5.5), 1632 output tokens/s
}

// Time to read Llama-3.1-70B's bf16 weights from the Hugging Face Hub.
func ExampleColdStart() {
	hf, _ := perf.LookupLoadSource("hf")
	e, _ := perf.ColdStart(141*units.GB, hf)
	fmt.Printf("%.0f s\n", e.Seconds)
	// Output:
	// 282 s
}

// BenchmarkPredict measures one prediction, the unit of a planner search.
func BenchmarkPredict(b *testing.B) {
	cat, _ := model.EmbeddedCatalog()
	spec, _, _ := cat.Lookup("meta-llama/Llama-3.1-70B")
	h100, _ := hardware.LookupGPU("h100-sxm")
	vllm, _ := engine.Lookup("vllm")
	r := perf.Request{Model: spec, GPU: h100, TP: 4, Engine: vllm, Workload: perf.Workload{InputTokens: 1000, OutputTokens: 200, Concurrency: 32}}
	perf.Embedded()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := perf.Predict(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPredictBrief measures one prediction without assumption texts,
// the way a planner's search calls it.
func BenchmarkPredictBrief(b *testing.B) {
	cat, _ := model.EmbeddedCatalog()
	spec, _, _ := cat.Lookup("meta-llama/Llama-3.1-70B")
	h100, _ := hardware.LookupGPU("h100-sxm")
	vllm, _ := engine.Lookup("vllm")
	r := perf.Request{Model: spec, GPU: h100, TP: 4, Engine: vllm, Brief: true, Workload: perf.Workload{InputTokens: 1000, OutputTokens: 200, Concurrency: 32}}
	perf.Embedded()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := perf.Predict(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPredictLoads measures a five-load sweep of one deployment.
func BenchmarkPredictLoads(b *testing.B) {
	cat, _ := model.EmbeddedCatalog()
	spec, _, _ := cat.Lookup("meta-llama/Llama-3.1-70B")
	h100, _ := hardware.LookupGPU("h100-sxm")
	vllm, _ := engine.Lookup("vllm")
	r := perf.Request{Model: spec, GPU: h100, TP: 4, Engine: vllm, Workload: perf.Workload{InputTokens: 1000, OutputTokens: 200}}
	loads := []perf.Workload{{Concurrency: 1}, {Concurrency: 8}, {Concurrency: 32}, {Concurrency: 128}, {Max: true}}
	perf.Embedded()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := perf.PredictLoads(r, loads); err != nil {
			b.Fatal(err)
		}
	}
}
