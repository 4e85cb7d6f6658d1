package model

import (
	"fmt"
	"math"
)

// gemmaFamily: Gemma, Gemma 2, Gemma 3 (text and the SigLIP multimodal
// wrapper).
var gemmaFamily = family{
	name: "gemma",
	text: map[string]textBuilder{
		"gemma":       buildGemma,
		"gemma2":      buildGemma2,
		"gemma3_text": buildGemma3Text,
	},
	wrappers: map[string]multimodalWrapper{
		"gemma3": {text: "gemma3_text", vision: siglipTower},
	},
	gguf: []ggufArch{
		{name: "gemma", modelType: "gemma"},
		{name: "gemma2", modelType: "gemma2", slidingPattern: gemma2SlidingPattern},
		{name: "gemma3", modelType: "gemma3_text", slidingPattern: gemma3SlidingPattern},
	},
}

// Gemma's sliding-window layer patterns: Gemma 2 slides on every other
// layer starting with the first (Gemma2Config); Gemma 3 has a full layer
// every sixth (Gemma3TextConfig sliding_window_pattern 6). llama.cpp
// applies the same patterns (set_swa_pattern(2) and (6)).
const (
	gemma2SlidingPattern = 2
	gemma3SlidingPattern = 6
	gemmaDefaultWindow   = 4096
)

// gemmaLike sets Gemma's structure: RMSNorm (stored as 1 + weight, still
// one vector), GeGLU MLP, no biases.
func gemmaLike(s *Spec, normsPerLayer int) {
	s.Norm = NormRMS
	s.NormsPerLayer = normsPerLayer
	s.MLPGated = true
}

// buildGemma: GemmaConfig defaults (vocab 256000, hidden 3072, intermediate
// 24576, 28 layers, 16 heads, 16 KV heads, head_dim 256, 8192 positions,
// tied embeddings).
func buildGemma(o jsonObject, s *Spec) error {
	gemmaLike(s, 2)
	if err := readTextShape(o, s, textShape{vocab: 256000, hidden: 3072, inter: 24576, layers: 28, heads: 16, kvHeads: 16, headDim: 256, maxPos: 8192, tie: true}); err != nil {
		return err
	}
	return readBias(o, s, false)
}

// buildGemma2: Gemma2Config defaults (hidden 2304, intermediate 9216, 26
// layers, 8 heads, 4 KV heads, head_dim 256, sliding_window 4096 on every
// other layer starting with the first, tied); four norms per layer.
func buildGemma2(o jsonObject, s *Spec) error {
	gemmaLike(s, 4)
	if err := readTextShape(o, s, textShape{vocab: 256000, hidden: 2304, inter: 9216, layers: 26, heads: 8, kvHeads: 4, headDim: 256, maxPos: 8192, tie: true}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	return alternating(o, s, gemma2SlidingPattern, gemmaDefaultWindow)
}

// buildGemma3Text: Gemma3TextConfig defaults (vocab 262208, hidden 2304,
// intermediate 9216, 26 layers, 8 heads, 4 KV heads, head_dim 256, 131072
// positions, sliding_window 4096 with a full layer every 6th, tied); four
// norms per layer plus per-head q/k norms.
func buildGemma3Text(o jsonObject, s *Spec) error {
	gemmaLike(s, 4)
	if err := readTextShape(o, s, textShape{vocab: 262208, hidden: 2304, inter: 9216, layers: 26, heads: 8, kvHeads: 4, headDim: 256, maxPos: 131072, tie: true}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	s.QKNorm = true
	pattern, err := o.intAlt([]string{"sliding_window_pattern", "_sliding_window_pattern"}, gemma3SlidingPattern, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	return alternating(o, s, pattern, gemmaDefaultWindow)
}

// siglipTower: SiglipVisionModel (SiglipVisionConfig defaults: hidden 768,
// intermediate 3072, 12 layers, 12 heads, 3 channels, 224-pixel images, 16-
// pixel patches) and Gemma3MultiModalProjector (mm_input_projection_weight
// vision × text hidden, mm_soft_emb_norm of vision hidden).
var siglipTower = visionTower{
	modelType: "siglip_vision_model",
	defaults:  Vision{Layers: 12, Hidden: 768, Intermediate: 3072, Heads: 12, ImageSize: 224, PatchSize: 16},
	ints:      []visionKey{{key: "num_channels", def: 3, lo: 1, hi: 64}},
	count: func(in visionInputs) (int64, int64, error) {
		// SiglipVisionTransformer builds the attention-pooling head unless
		// vision_use_head is false.
		head, err := in.vision.boolean("vision_use_head", true)
		if err != nil {
			return 0, 0, fmt.Errorf("vision_config: %w", err)
		}
		a, H, I, L, P := in.a, in.H, in.I, in.L, in.P
		side := int64(in.v.ImageSize / in.v.PatchSize)
		patch := a.add(a.mul(int64(in.ints["num_channels"]), P, P, H), H) // Conv2d with bias
		pos := a.mul(side, side, H)                                       // position_embedding
		layer := a.add(
			a.mul(4, H),                           // layer_norm1, layer_norm2 (weight + bias)
			a.mul(4, a.add(a.mul(H, H), H)),       // q, k, v, out_proj with biases
			a.add(a.mul(H, I), I, a.mul(I, H), H)) // fc1, fc2 with biases
		tower := a.add(patch, pos, a.mul(L, layer), a.mul(2, H)) // + post_layernorm
		if head {
			// SiglipMultiheadAttentionPoolingHead: probe, nn.MultiheadAttention
			// (in_proj 3H×H + 3H, out_proj H×H + H), layernorm, MLP.
			tower = a.add(tower, H, a.mul(3, H, H), a.mul(3, H), a.mul(H, H), H, a.mul(2, H),
				a.add(a.mul(H, I), I, a.mul(I, H), H))
		}
		return tower, a.add(a.mul(H, int64(in.text.Hidden)), H), nil
	},
}
