package model

import (
	"fmt"
	"math"
)

// llama4Family: Llama 4 (text and the multimodal wrapper).
var llama4Family = family{
	name: "llama4",
	text: map[string]textBuilder{"llama4_text": buildLlama4Text},
	wrappers: map[string]multimodalWrapper{
		"llama4": {text: "llama4_text", vision: llama4Tower},
	},
	gguf: []ggufArch{{name: "llama4", modelType: "llama4_text", chunk: llama4Chunk, chunkPattern: llama4NoRopeInterval}},
}

// Llama 4's chunked attention: rotary layers attend within chunks of
// attention_chunk_size (8192 in Llama4TextConfig and the released
// config.json files), every no_rope_layer_interval-th layer (4) is a NoPE
// full-attention layer. llama.cpp sets the same (n_swa = 8192,
// set_swa_pattern(4), LLAMA_SWA_TYPE_CHUNKED for LLM_ARCH_LLAMA4) without
// a GGUF key for it.
const (
	llama4Chunk          = 8192
	llama4NoRopeInterval = 4
)

// buildLlama4Text: Llama4TextConfig defaults (Llama-4-Scout's shape: vocab
// 202048, hidden 5120, expert and shared-expert width 8192, dense width
// 16384, 48 layers, 40 heads of 128, 8 KV heads, 16 experts, top-1, every
// layer MoE, a NoPE full-attention layer every 4th, chunked attention of
// 8192 elsewhere). Its q/k norm is an L2 norm without weights.
func buildLlama4Text(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 202048, hidden: 5120, inter: 8192, layers: 48, heads: 40, kvHeads: 8, headDim: 128, maxPos: 4096 * 32}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	s.MLPBias = false
	m := &MoE{ExpertIntermediate: s.Intermediate, SharedIntermediate: s.Intermediate, SharedExperts: 1}
	var err error
	if s.Intermediate, err = o.int("intermediate_size_mlp", 16384, 0, maxWidth); err != nil {
		return err
	}
	if m.Experts, err = o.int("num_local_experts", 16, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertsPerToken, err = o.int("num_experts_per_tok", 1, 0, maxExperts); err != nil {
		return err
	}
	moeLayers, err := o.intList("moe_layers", math.MaxInt32)
	if err != nil {
		return err
	}
	if !o.has("moe_layers") {
		step, err := o.int("interleave_moe_layer_step", 1, 0, math.MaxInt32)
		if err != nil {
			return err
		}
		for i := step - 1; step > 0 && i < s.Layers && i <= maxLayers; i += step {
			moeLayers = append(moeLayers, i)
		}
	}
	isMoE := map[int]bool{}
	for _, i := range moeLayers {
		isMoE[i] = true
	}
	for i := 0; i < s.Layers && i <= maxLayers; i++ {
		if !isMoE[i] {
			m.DenseLayers = append(m.DenseLayers, i)
		}
	}
	if m.Experts > 0 && len(m.DenseLayers) < s.Layers {
		s.MoE = m
	} else if s.Intermediate == 0 {
		s.Intermediate = m.ExpertIntermediate
	}

	chunk, err := o.int("attention_chunk_size", llama4Chunk, 0, maxWindow)
	if err != nil {
		return err
	}
	ok, err := explicitLayerTypes(o, s)
	if err != nil {
		return err
	}
	if !ok {
		noRope, err := o.intList("no_rope_layers", 1)
		if err != nil {
			return err
		}
		if len(noRope) == 0 { // an empty list means "use the default"
			interval, err := o.int("no_rope_layer_interval", llama4NoRopeInterval, 0, math.MaxInt32)
			if err != nil {
				return err
			}
			for i := 0; i < s.Layers && i <= maxLayers; i++ {
				r := 1
				if interval > 0 && (i+1)%interval == 0 {
					r = 0
				}
				noRope = append(noRope, r)
			}
		}
		if len(noRope) < s.Layers {
			return fmt.Errorf("no_rope_layers has %d entries for %d layers", len(noRope), s.Layers)
		}
		// Llama4TextConfig: rotary layers use chunked attention, NoPE
		// layers full attention.
		s.LayerAttention = layerKinds(s.Layers, AttentionChunked, func(i int) bool { return noRope[i] != 0 })
	}
	if chunk == 0 {
		// attention_chunk_size null: chunked layers attend to everything.
		for i, k := range s.LayerAttention {
			if k == AttentionChunked {
				s.LayerAttention[i] = AttentionFull
			}
		}
	} else if hasAttention(s.LayerAttention, AttentionChunked) {
		s.AttentionChunk = chunk
	}
	if hasSliding(s.LayerAttention) {
		return fmt.Errorf("layer_types has sliding_attention, which llama4_text does not use")
	}
	return nil
}

// llama4Tower: Llama4VisionModel (Llama4VisionConfig defaults: hidden 768,
// 34 layers, 16 heads, intermediate 5632, 448-pixel images, 14-pixel
// patches, projector 4096 → 4096, output 7680) and Llama4MultiModalProjector
// (vision_output_dim → text hidden, no bias).
var llama4Tower = visionTower{
	modelType: "llama4_vision_model",
	defaults:  Vision{Layers: 34, Hidden: 768, Intermediate: 5632, Heads: 16, ImageSize: 448, PatchSize: 14},
	ints: []visionKey{
		{key: "num_channels", def: 3, lo: 1, hi: maxWidth},
		{key: "projector_input_dim", def: 4096, lo: 1, hi: maxWidth},
		{key: "projector_output_dim", def: 4096, lo: 1, hi: maxWidth},
		{key: "vision_output_dim", def: 7680, lo: 1, hi: maxWidth},
	},
	count: func(in visionInputs) (int64, int64, error) {
		a, H, I, L, P := in.a, in.H, in.I, in.L, in.P
		side := int64(in.v.ImageSize / in.v.PatchSize)
		projOut := int64(in.ints["projector_output_dim"])
		tower := a.add(
			a.mul(int64(in.ints["num_channels"]), P, P, H), // Llama4UnfoldConvolution linear, no bias
			H,                                     // class_embedding
			a.mul(a.add(a.mul(side, side), 1), H), // positional_embedding_vlm (patches + class token)
			a.mul(4, H),                           // layernorm_pre, layernorm_post
			a.mul(L, a.add(
				a.mul(4, a.add(a.mul(H, H), H)),       // q, k, v, o with biases
				a.add(a.mul(H, I), I, a.mul(I, H), H), // fc1, fc2 with biases
				a.mul(4, H))),                         // input/post_attention LayerNorms
			// vision_adapter (Llama4VisionPixelShuffleMLP → Llama4VisionMLP2):
			// fc1 intermediate → projector_input_dim, fc2 output → output, no biases.
			a.mul(I, int64(in.ints["projector_input_dim"])), a.mul(projOut, projOut))
		return tower, a.mul(int64(in.ints["vision_output_dim"]), int64(in.text.Hidden)), nil
	},
}
