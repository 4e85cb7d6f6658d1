package memory

import (
	"errors"
	"math"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/internal/testmodel"
	"github.com/gpuplan/gpuplan/model"
)

// catalogModel is the shared catalog lookup (internal/testmodel).
var catalogModel = testmodel.Spec

// TestEPShardsExperts: with attention data-parallel across 8 GPUs, EP 8
// takes 7/8 of the routed experts' bytes off every GPU (the expert share,
// from the model's exact parameter count), and DP attention holds whole
// attention blocks and whole-head KV caches of fewer sequences per GPU.
func TestEPShardsExperts(t *testing.T) {
	fp8, _ := dtype.LookupPrecision("fp8")
	for _, id := range []string{"deepseek-ai/DeepSeek-V3", "Qwen/Qwen3-235B-A22B"} {
		s := catalogModel(t, id)
		r := h100(s)
		r.GPU = GPU{ID: "h200", CUDAMemory: 2 * h100CUDAMemory}
		r.Precision, r.TP, r.Context = &fp8, 8, 4096
		tpOnly, err := Estimate(r)
		if err != nil {
			t.Fatal(err)
		}
		r.DPAttention = true
		r.EP = 1
		dp1, err := Estimate(r)
		if err != nil {
			t.Fatal(err)
		}
		r.EP = 8
		dp8, err := Estimate(r)
		if err != nil {
			t.Fatal(err)
		}
		routed := float64(s.Params().Groups[model.GroupRoutedExperts]) * groupBits(s, fp8, model.GroupRoutedExperts) / 8
		got := float64(dp1.WeightsPerGPU - dp8.WeightsPerGPU)
		want := routed * (1 - 1.0/8)
		if math.Abs(got-want) > 1e-6*want+2 {
			t.Errorf("%s: EP 8 saves %.3f GB per GPU, want the expert share %.3f GB", id, got/1e9, want/1e9)
		}
		if dp8.WeightsPerGPU <= tpOnly.WeightsPerGPU {
			t.Errorf("%s: DP attention + EP 8 holds %s per GPU, not more than TP 8's %s (attention is replicated)", id, dp8.WeightsPerGPU, tpOnly.WeightsPerGPU)
		}
		if dp8.EP != 8 || !dp8.DPAttention {
			t.Errorf("%s: budget does not echo the layout: ep %d dp-attention %v", id, dp8.EP, dp8.DPAttention)
		}
		if dp8.KVBytesPerTokenPerGPU < tpOnly.KVBytesPerTokenPerGPU {
			t.Errorf("%s: DP attention's per-token cache %v is below TP's %v", id, dp8.KVBytesPerTokenPerGPU, tpOnly.KVBytesPerTokenPerGPU)
		}
	}
}

// TestMoEParallelRejects names the flag and the allowed range.
func TestMoEParallelRejects(t *testing.T) {
	r := h100(catalogModel(t, "meta-llama/Llama-3.1-8B"))
	r.EP = 2
	r.TP = 2
	if _, err := Estimate(r); !errors.Is(err, ErrInvalid) {
		t.Errorf("EP on a dense model: %v, want ErrInvalid", err)
	}
	r = h100(catalogModel(t, "mistralai/Mixtral-8x7B-v0.1"))
	r.TP, r.EP = 4, 3
	if _, err := Estimate(r); !errors.Is(err, ErrInvalid) {
		t.Errorf("EP 3 in TP 4: %v, want ErrInvalid", err)
	}
}
