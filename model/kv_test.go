package model

import (
	"encoding/json"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/units"
)

// TestKVGroundTruth compares each layer's cache with the reference run,
// which built a 4-layer copy of each config, ran 256 tokens through it and
// measured every layer's DynamicCache keys and values in bf16.
func TestKVGroundTruth(t *testing.T) {
	gt := loadH200Truth(t)
	kinds := map[string]KVKind{"full_attention": KVFull, "sliding_attention": KVSliding, "chunked_attention": KVChunked}
	checked := 0
	for _, name := range sortedNames(gt.Models) {
		m := gt.Models[name]
		if len(m.KVBytes) == 0 {
			continue // DeepSeek-V3's forward pass failed in the reference run
		}
		checked++
		t.Run(name, func(t *testing.T) {
			small := map[string]any{}
			for k, v := range m.Config {
				small[k] = v
			}
			small["num_hidden_layers"] = len(m.KVBytes) // as the reference did
			cfg, err := json.Marshal(small)
			if err != nil {
				t.Fatal(err)
			}
			s := parseSpec(t, cfg)
			layers := s.KVLayers()
			if len(layers) != len(m.KVBytes) {
				t.Fatalf("%d KV layers, want %d", len(layers), len(m.KVBytes))
			}
			var sum int64
			for i, l := range layers {
				got := l.CachedTokensReference(m.KVTokens) * l.ElementsPerToken() * 2 // bf16
				if got != m.KVBytes[i] {
					t.Errorf("layer %d (%+v): %d bytes, want %d", i, l, got, m.KVBytes[i])
				}
				if m.KVLayerTypes != nil && l.Kind != kinds[m.KVLayerTypes[i]] {
					t.Errorf("layer %d is %s, reference says %s", i, l.Kind, m.KVLayerTypes[i])
				}
				sum += m.KVBytes[i]
			}
			if got := s.KVBytesReference(m.KVTokens, dtype.KVBF16); got != units.Bytes(sum) {
				t.Errorf("KVBytesReference = %d, want %d", got, sum)
			}
		})
	}
	if checked != 12 {
		t.Errorf("checked %d models with KV figures, want 12", checked)
	}
}

// TestKVBytesPerToken checks whole-model per-token figures derived by hand
// from each config.
func TestKVBytesPerToken(t *testing.T) {
	cases := []struct {
		config string
		kv     dtype.KVDType
		want   units.BytesPerToken
	}{
		// 32 layers × 8 KV heads × (128 + 128) × 2 bytes.
		{"meta-llama__Llama-3.1-8B.json", dtype.KVAuto, 32 * 8 * 256 * 2},
		{"meta-llama__Llama-3.1-8B.json", dtype.KVFP8, 32 * 8 * 256 * 1},
		// MLA: 61 layers × one 576-element latent (512 + 64), no factor 2;
		// vLLM stores kv_lora_rank + qk_rope_head_dim per token.
		{"deepseek-ai__DeepSeek-V3.json", dtype.KVBF16, 61 * 576 * 2},
		{"deepseek-ai__DeepSeek-V3.json", dtype.KVFP8, 61 * 576},
		// Phi-2 releases in fp16, so auto is 2 bytes: 32 × 32 × 160 × 2.
		{"microsoft__phi-2.json", dtype.KVAuto, 32 * 32 * 160 * 2},
		// gpt-oss-120b: 36 × 8 × 128 × 2 (sliding layers are uncapped here).
		{"openai__gpt-oss-120b.json", dtype.KVAuto, 36 * 8 * 128 * 2},
		// Gemma 3 27B: 62 × 16 × 256 × 2.
		{"google__gemma-3-27b-it.json", dtype.KVAuto, 62 * 16 * 256 * 2},
	}
	for _, c := range cases {
		t.Run(c.config+"/"+string(c.kv), func(t *testing.T) {
			s := parseSpec(t, readRefConfig(t, c.config))
			if got := s.KVBytesPerToken(c.kv); got != c.want {
				t.Errorf("KVBytesPerToken(%s) = %d, want %d", c.kv, got, c.want)
			}
		})
	}
}

func TestKVLayersMLA(t *testing.T) {
	s := parseSpec(t, readRefConfig(t, "deepseek-ai__DeepSeek-V3.json"))
	layers := s.KVLayers()
	if len(layers) != 61 {
		t.Fatalf("%d layers", len(layers))
	}
	for _, l := range layers {
		if l.Kind != KVMLA || l.KVHeads != 1 || l.KeyDim != 576 || l.ValueDim != 0 || l.Window != 0 {
			t.Fatalf("layer %+v, want MLA with one 576-wide latent", l)
		}
	}
}

// TestKVBytesReferenceCaps checks the DynamicCache caps at long context.
func TestKVBytesReferenceCaps(t *testing.T) {
	cases := []struct {
		config string
		tokens int64
		want   units.Bytes
	}{
		// Gemma 3 27B: 52 sliding layers keep 1023 tokens, 10 global layers
		// keep all 10000; a token is 16 heads × 256 × 2 bytes per layer.
		{"google__gemma-3-27b-it.json", 10000, (52*1023 + 10*10000) * 16 * 256 * 2},
		// Llama 4 Scout: 36 chunked layers keep 8191 tokens, 12 NoPE layers
		// keep all 100000; 8 heads × 256 × 2 bytes.
		{"meta-llama__Llama-4-Scout-17B-16E-Instruct.json", 100000, (36*8191 + 12*100000) * 8 * 256 * 2},
		// Below the window nothing is capped.
		{"google__gemma-3-27b-it.json", 1000, 62 * 1000 * 16 * 256 * 2},
		{"google__gemma-3-27b-it.json", 0, 0},
		{"google__gemma-3-27b-it.json", -5, 0},
	}
	for _, c := range cases {
		s := parseSpec(t, readRefConfig(t, c.config))
		if got := s.KVBytesReference(c.tokens, dtype.KVBF16); got != c.want {
			t.Errorf("%s at %d tokens: %d bytes, want %d", c.config, c.tokens, got, c.want)
		}
	}
}

func TestCachedTokensReference(t *testing.T) {
	cases := []struct {
		l      KVLayer
		tokens int64
		want   int64
	}{
		{KVLayer{Kind: KVFull}, 300, 300},
		{KVLayer{Kind: KVMLA}, 300, 300},
		{KVLayer{Kind: KVSliding, Window: 128}, 300, 127},
		{KVLayer{Kind: KVSliding, Window: 128}, 127, 127},
		{KVLayer{Kind: KVChunked, Window: 8192}, 9000, 8191},
		{KVLayer{Kind: KVNone}, 300, 0},
		{KVLayer{Kind: KVSliding, Window: 0}, 300, 0},
	}
	for _, c := range cases {
		if got := c.l.CachedTokensReference(c.tokens); got != c.want {
			t.Errorf("%+v at %d tokens keeps %d, want %d", c.l, c.tokens, got, c.want)
		}
	}
}
