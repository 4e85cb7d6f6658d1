package engine

import (
	"math"
	"testing"

	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

// TestLlamaCPPAccountUsesBufferRules: the llama.cpp engine's memory
// account (what size, perf and plan use on a GPU) is llama.cpp's buffer
// rules. The shape and figures are the "llama-2048-q8_0-ctx8k" record in
// testdata/llamacpp-ollama-buffers.json: Ollama v0.9.0 logged a 16.00 MiB
// KV buffer and a 544.01 MiB compute buffer for num_ctx 8192, 1 slot.
func TestLlamaCPPAccountUsesBufferRules(t *testing.T) {
	s := &model.Spec{Layers: 2, Hidden: 2048, Heads: 32, KVHeads: 4, Intermediate: 5632, Vocab: 32000}
	e := llamacppOllama090
	for _, tc := range []struct {
		name   string
		tp     int
		wantKV units.Bytes
	}{
		{"one GPU", 1, 16 * units.MiB},
		{"layer split over 2 GPUs", 2, 8 * units.MiB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			weights := 200 * units.MiB
			in := MemoryInput{Model: s, CUDAMemory: 80 * units.GiB, Utilization: 1, TP: tc.tp, PP: 1,
				WeightsPerGPU: weights, Concurrency: 1, Context: 8192,
				Scheduler: e.Scheduler(SchedulerInput{Concurrency: 1})}
			a := e.Account(in)
			if a.KVPool != tc.wantKV {
				t.Errorf("KV pool = %v, want %v (Ollama's logged KV buffer / GPUs)", a.KVPool, tc.wantKV)
			}
			const loggedComputeMiB = 544.01
			if got := float64(a.Activation) / float64(units.MiB); math.Abs(got-loggedComputeMiB) > 0.05*loggedComputeMiB {
				t.Errorf("compute buffer = %.2f MiB, want within 5%% of Ollama's logged %.2f MiB", got, loggedComputeMiB)
			}
			if want := weights + a.Activation + llamacppFootprint; a.NonKV != want {
				t.Errorf("non-KV = %v, want weights + compute + CUDA context = %v (the output buffer is CUDA_Host memory)", a.NonKV, want)
			}
		})
	}
}
