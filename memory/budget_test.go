package memory

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

func h100(s *model.Spec) Request {
	return Request{Model: s, Engine: engine.Default(), GPU: GPU{ID: "h100-sxm", CUDAMemory: h100CUDAMemory}, Context: 8192}
}

// Weights and KV per GPU never grow as TP rises (issue 4's property, which
// the memory split must already satisfy).
func TestPerGPUShrinksWithTP(t *testing.T) {
	for _, id := range []string{"meta-llama/Llama-3.1-70B", "Qwen/Qwen3-30B-A3B", "deepseek-ai/DeepSeek-V3", "openai/gpt-oss-120b", "Qwen/Qwen2.5-0.5B"} {
		s := lookup(t, id)
		prev := units.Bytes(1 << 62)
		for _, tp := range []int{1, 2, 4, 8} {
			if s.Heads%tp != 0 {
				continue
			}
			r := h100(s)
			r.TP = tp
			b, err := estimate(r)
			if err != nil {
				t.Fatalf("%s TP%d: %v", id, tp, err)
			}
			per := b.Weights.PerGPU + units.Bytes(int64(b.KVBytesPerTokenPerGPU)*8192)
			if per > prev {
				t.Errorf("%s: weights + KV per GPU grew from %s to %s at TP%d", id, prev, per, tp)
			}
			prev = per
		}
	}
}

// Every suggestion, applied to the request, makes it fit.
func TestSuggestionsFit(t *testing.T) {
	s := lookup(t, "meta-llama/Llama-3.1-70B-Instruct")
	r := h100(s)
	r.Concurrency = 4
	b, err := Estimate(r)
	if err != nil {
		t.Fatal(err)
	}
	if b.Fits {
		t.Fatal("Llama-3.1-70B in bf16 fits on one H100; expected not")
	}
	kinds := map[string]bool{}
	for _, sg := range b.Suggestions {
		kinds[sg.Kind] = true
	}
	for _, k := range []string{"quantize", "more_gpus", "larger_gpu"} {
		if !kinds[k] {
			t.Errorf("no %s suggestion in %+v", k, b.Suggestions)
		}
	}
	for _, sg := range b.Suggestions {
		r2 := r
		var n int
		var name string
		switch sg.Kind {
		case "more_gpus":
			fmt.Sscanf(sg.Change, "--tp %d", &n)
			r2.TP = n
		case "quantize":
			fmt.Sscanf(sg.Change, "--precision %s", &name)
			p, _ := dtype.LookupPrecision(name)
			r2.Precision = &p
		case "larger_gpu":
			var g float64
			fmt.Sscanf(sg.Change, "--gpu-memory %fGiB", &g)
			r2.GPU.CUDAMemory = units.FromGiB(g)
		default:
			continue
		}
		b2, err := estimate(r2)
		if err != nil || !b2.Fits {
			t.Errorf("suggestion %q does not fit: %v %v", sg.Change, err, b2.Reasons)
		}
	}
}

func TestPreQuantizedCheckpointRefusesHigherPrecisionOnly(t *testing.T) {
	s := lookup(t, "RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w4a16")
	r := h100(s)
	b, err := estimate(r)
	if err != nil {
		t.Fatal(err)
	}
	if b.Precision.Name != "int4" {
		t.Errorf("default precision of a w4a16 checkpoint = %s, want int4", b.Precision.Name)
	}
	bf16, _ := dtype.LookupPrecision("bf16")
	r.Precision = &bf16
	if _, err := estimate(r); err == nil || !strings.Contains(err.Error(), "pre-quantized") {
		t.Errorf("serving an int4 checkpoint at bf16: err = %v", err)
	}
}

func TestInvalidRequests(t *testing.T) {
	s := lookup(t, "meta-llama/Llama-3.1-8B")
	for name, mod := range map[string]func(*Request){
		"tp3":       func(r *Request) { r.TP = 3 },
		"no memory": func(r *Request) { r.GPU.CUDAMemory = 0 },
		"util>1":    func(r *Request) { r.Utilization = 1.2 },
		"too long":  func(r *Request) { r.Context = 1 << 30 },
		"negative":  func(r *Request) { r.Concurrency = -1 },
		"pp>layers": func(r *Request) { r.PP = 64 },
		"no model":  func(r *Request) { r.Model = nil },
	} {
		r := h100(s)
		mod(&r)
		if _, err := Estimate(r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func ExampleEstimate() {
	cat, _ := model.EmbeddedCatalog()
	spec, _, _ := cat.Lookup("llama-3.1-8b-instruct")
	b, _ := Estimate(Request{
		Model: spec, Context: 8192, Concurrency: 16,
		GPU:         GPU{ID: "h100-sxm", CUDAMemory: units.FromGiB(79.19)},
		Utilization: 0.95, Engine: engine.Default(),
	})
	fmt.Printf("weights %.2f GiB, KV pool %.2f GiB, %d KV tokens, fits: %v\n", b.Weights.PerGPU.GiB(), b.KVPool.GiB(), b.KVCacheTokens, b.Fits)
	// Output: weights 14.99 GiB, KV pool 58.11 GiB, 476000 KV tokens, fits: true
}
