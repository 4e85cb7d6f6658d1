package memory

import (
	"math"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/internal/testmodel"
)

// lookup is the shared catalog lookup (internal/testmodel).
var lookup = testmodel.Spec

// vLLM 0.19.0 start-up logs on H100 (llm-d-planner sweep,
// memory/testdata/vllm-memory-records.json) report, for hybrid models, a
// token count of blocks ÷ KV-cache groups × 16 and a maximum concurrency of
// blocks ÷ blocks per request. These use the logged block counts, so they
// test the grouping and capping rules exactly, independent of the pool size.
func TestHybridLayoutMatchesVLLMLogs(t *testing.T) {
	tests := []struct {
		model       string
		blocks      int64
		groups      int
		tokens      int64
		concurrency float64 // at max_model_len 8192, max_num_batched_tokens 8192
	}{
		// Llama-4-Scout: 36 chunked-local layers + 12 full → groups of 12:
		// 3 chunked + 1 full.
		{"meta-llama/Llama-4-Scout-17B-16E-Instruct", 91495, 4, 365968, 44.68},
		// gemma-3-4b: 29 sliding + 5 full → groups of 5: 6 sliding + 1 full.
		{"google/gemma-3-4b-it", 204817, 7, 468144, 57.05},
	}
	for _, tt := range tests {
		s := lookup(t, tt.model)
		tp := 1
		if tt.model == "meta-llama/Llama-4-Scout-17B-16E-Instruct" {
			tp = 4
		}
		layers, _ := kvLayersPerGPU(s.KVLayers(), dtype.BF16, tp, 1)
		l, err := newKVLayout(layers, 16)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Groups) != tt.groups {
			t.Errorf("%s: %d KV groups, want %d (%+v)", tt.model, len(l.Groups), tt.groups, l.Groups)
		}
		if got := l.ReportedTokens(tt.blocks); got != tt.tokens {
			t.Errorf("%s: %d blocks report %d tokens, vLLM logged %d", tt.model, tt.blocks, got, tt.tokens)
		}
		if got := l.MaxConcurrency(tt.blocks, 8192, 8192); math.Abs(got-tt.concurrency) > 0.006 {
			t.Errorf("%s: max concurrency %.3f, vLLM logged %.2f", tt.model, got, tt.concurrency)
		}
	}
}

// A uniform full-attention model: one group, block = all layers' pages.
// Llama-3.1-8B bf16: 32 layers × 8 KV heads × 128 × 2 (K,V) × 2 bytes ×
// 16 tokens = 2 MiB per block; the log's 29,751 blocks are 476,016 tokens.
func TestUniformLayout(t *testing.T) {
	s := lookup(t, "meta-llama/Llama-3.1-8B-Instruct")
	layers, perToken := kvLayersPerGPU(s.KVLayers(), dtype.BF16, 1, 1)
	if perToken != 131072 {
		t.Fatalf("per-token bytes %d, want 131072", perToken)
	}
	l, err := newKVLayout(layers, 16)
	if err != nil {
		t.Fatal(err)
	}
	if l.BlockBytes != 2<<20 || len(l.Groups) != 1 {
		t.Errorf("layout %+v, want one group of 2 MiB blocks", l)
	}
	if got := l.ReportedTokens(29751); got != 476016 {
		t.Errorf("tokens %d, want 476016", got)
	}
	// TP 2 halves the 8 KV heads; TP 16 floors at one head per GPU
	// (vLLM replicates KV heads when kv_heads < TP).
	_, tp2 := kvLayersPerGPU(s.KVLayers(), dtype.BF16, 2, 1)
	_, tp16 := kvLayersPerGPU(s.KVLayers(), dtype.BF16, 16, 1)
	if tp2 != 65536 || tp16 != 16384 {
		t.Errorf("per-GPU bytes per token at TP2/TP16 = %d/%d, want 65536/16384", tp2, tp16)
	}
}

// DeepSeek-V3 stores one MLA latent of 576 elements per token per layer,
// replicated on every TP rank (vLLM MLAAttentionSpec, no factor 2).
func TestMLAReplicated(t *testing.T) {
	s := lookup(t, "deepseek-ai/DeepSeek-V3")
	for _, tp := range []int{1, 8} {
		_, perToken := kvLayersPerGPU(s.KVLayers(), dtype.BF16, tp, 1)
		if want := int64(61 * 576 * 2); perToken != want {
			t.Errorf("TP%d: %d bytes per token per GPU, want %d", tp, perToken, want)
		}
	}
}

func TestMaxLenBinarySearch(t *testing.T) {
	s := lookup(t, "meta-llama/Llama-3.1-8B-Instruct")
	layers, _ := kvLayersPerGPU(s.KVLayers(), dtype.BF16, 1, 1)
	l, _ := newKVLayout(layers, 16)
	// 100 blocks hold 1600 tokens: one sequence of 1600, two of 800.
	if got := l.MaxLen(100, 1, 8192, 131072); got != 1600 {
		t.Errorf("MaxLen(100 blocks, 1 seq) = %d, want 1600", got)
	}
	if got := l.MaxLen(100, 2, 8192, 131072); got != 800 {
		t.Errorf("MaxLen(100 blocks, 2 seqs) = %d, want 800", got)
	}
	if got := l.MaxLen(0, 1, 8192, 131072); got != 0 {
		t.Errorf("MaxLen(0 blocks) = %d, want 0", got)
	}
	if got := l.MaxLen(1<<30, 1, 8192, 131072); got != 131072 {
		t.Errorf("MaxLen is not capped at the model limit: %d", got)
	}
}
