package model

import (
	"encoding/json"
	"testing"
)

// TestFamilyGGUFArchitectures checks the registry: every llama.cpp
// architecture that names a Hugging Face model_type names one ParseConfig
// reads, and the attention pattern llama.cpp assumes for it is the one the
// transformers config class builds by default (so the two readers of one
// family cannot drift apart).
func TestFamilyGGUFArchitectures(t *testing.T) {
	if len(ggufArchs) < 15 {
		t.Fatalf("%d GGUF architectures registered, want at least the 15 of llama.cpp's names gpuplan maps", len(ggufArchs))
	}
	for name, a := range ggufArchs {
		t.Run(name, func(t *testing.T) {
			if a.modelType == "" {
				if a.slidingPattern == 0 && a.chunk == 0 {
					t.Errorf("registered with neither a model_type nor an attention pattern")
				}
				return
			}
			if _, ok := textBuilders[a.modelType]; !ok {
				t.Fatalf("model_type %q has no builder", a.modelType)
			}
			// DeepseekV2Config has no num_experts_per_tok default.
			cfg, _ := json.Marshal(map[string]any{"model_type": a.modelType, "num_experts_per_tok": 6})
			s, err := ParseConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < s.Layers; i++ {
				want := AttentionFull
				switch {
				case a.slidingPattern > 0 && inPattern(i, a.slidingPattern):
					want = AttentionSliding
				case a.chunk > 0 && inPattern(i, a.chunkPattern):
					want = AttentionChunked
				}
				got := AttentionFull
				if s.LayerAttention != nil {
					got = s.LayerAttention[i]
				}
				if got != want {
					t.Errorf("layer %d: config class default %v, llama.cpp pattern %v", i, got, want)
				}
			}
			if a.chunk > 0 && s.AttentionChunk != a.chunk {
				t.Errorf("chunk %d in the config class, %d for llama.cpp", s.AttentionChunk, a.chunk)
			}
		})
	}
}

// TestFamilyPatternsFromConfigClasses pins the default patterns to the
// transformers config classes' documented defaults: Gemma 3 has a full
// layer every sixth (Gemma3TextConfig sliding_window_pattern=6, 26 layers),
// Gemma 2 and gpt-oss every other (layer_types alternate, starting
// sliding), Llama 4 a NoPE full layer every fourth of 48.
func TestFamilyPatternsFromConfigClasses(t *testing.T) {
	for _, tc := range []struct {
		modelType  string
		layers     int
		fullLayers []int
		other      AttentionKind
	}{
		{"gemma3_text", 26, []int{5, 11, 17, 23}, AttentionSliding},
		{"gemma2", 26, []int{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25}, AttentionSliding},
		{"gpt_oss", 36, []int{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35}, AttentionSliding},
		{"llama4_text", 48, []int{3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47}, AttentionChunked},
	} {
		t.Run(tc.modelType, func(t *testing.T) {
			cfg, _ := json.Marshal(map[string]string{"model_type": tc.modelType})
			s, err := ParseConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.LayerAttention) != tc.layers {
				t.Fatalf("%d layer kinds, want %d", len(s.LayerAttention), tc.layers)
			}
			full := map[int]bool{}
			for _, i := range tc.fullLayers {
				full[i] = true
			}
			for i, k := range s.LayerAttention {
				want := tc.other
				if full[i] {
					want = AttentionFull
				}
				if k != want {
					t.Errorf("layer %d is %v, want %v", i, k, want)
				}
			}
		})
	}
}

// TestFamiliesRegisterDistinctNames checks indexFamilies refuses a
// model_type registered by two families.
func TestFamiliesRegisterDistinctNames(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a model_type registered twice did not panic")
		}
	}()
	indexFamilies([]family{llamaFamily, {name: "copy", text: map[string]textBuilder{"llama": buildLlama}}})
}
