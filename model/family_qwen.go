package model

import (
	"math"
)

// qwenFamily: Qwen2, Qwen2.5, Qwen3 and their MoE variants.
var qwenFamily = family{
	name: "qwen",
	text: map[string]textBuilder{
		"qwen2":     buildQwen2,
		"qwen2_moe": buildQwen2MoE,
		"qwen3":     buildQwen3,
		"qwen3_moe": buildQwen3MoE,
	},
	gguf: []ggufArch{
		{name: "qwen2", modelType: "qwen2"},
		{name: "qwen2moe", modelType: "qwen2_moe"},
		{name: "qwen3", modelType: "qwen3"},
		{name: "qwen3moe", modelType: "qwen3_moe"},
	},
}

// Qwen's sliding-window defaults (Qwen2Config and its successors):
// sliding_window 4096, max_window_layers 28.
const (
	qwenDefaultWindow          = 4096
	qwenDefaultMaxWindowLayers = 28
)

// slidesFromMaxWindowLayers is Qwen2Config's and Qwen3Config's layer_types
// rule: layers from max_window_layers on slide.
func slidesFromMaxWindowLayers(i, maxWindowLayers int) bool { return i >= maxWindowLayers }

// slidesOddBelowMaxWindowLayers is Qwen2MoeConfig's rule: odd-numbered
// layers (1-based) below max_window_layers slide.
func slidesOddBelowMaxWindowLayers(i, maxWindowLayers int) bool {
	return (i+1)%2 == 1 && i < maxWindowLayers
}

// buildQwen2: Qwen2Config defaults (vocab 151936, hidden 4096, intermediate
// 22016, 32 layers, 32 heads, 32 KV heads, 32768 positions). Qwen2Attention
// always has q, k and v biases and no output bias.
func buildQwen2(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 151936, hidden: 4096, inter: 22016, layers: 32, heads: 32, kvHeads: 32, maxPos: 32768}); err != nil {
		return err
	}
	s.QKVBias = true
	return qwenWindows(o, s, qwenDefaultWindow, qwenDefaultMaxWindowLayers, slidesFromMaxWindowLayers)
}

// buildQwen3: Qwen3Config defaults (as Qwen2, head_dim 128); per-head
// q_norm/k_norm, attention_bias default false.
func buildQwen3(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 151936, hidden: 4096, inter: 22016, layers: 32, heads: 32, kvHeads: 32, headDim: 128, maxPos: 32768}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	s.QKNorm = true
	return qwenWindows(o, s, qwenDefaultWindow, qwenDefaultMaxWindowLayers, slidesFromMaxWindowLayers)
}

// qwenMoELayers sets DenseLayers from Qwen-MoE's rule: a layer has experts
// when it is not in mlp_only_layers and (i + 1) % decoder_sparse_step == 0.
func qwenMoELayers(o jsonObject, s *Spec) error {
	step, err := o.int("decoder_sparse_step", 1, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	only, err := o.intList("mlp_only_layers", math.MaxInt32)
	if err != nil {
		return err
	}
	mlpOnly := map[int]bool{}
	for _, i := range only {
		mlpOnly[i] = true
	}
	for i := 0; i < s.Layers && i <= maxLayers; i++ {
		if mlpOnly[i] || step <= 0 || (i+1)%step != 0 {
			s.MoE.DenseLayers = append(s.MoE.DenseLayers, i)
		}
	}
	return nil
}

// buildQwen2MoE: Qwen2MoeConfig defaults (hidden 2048, intermediate 5632,
// 24 layers, 16 heads, 60 experts, top-4, expert width 1408, one shared
// expert of width 5632 with a sigmoid gate, qkv_bias true).
func buildQwen2MoE(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 151936, hidden: 2048, inter: 5632, layers: 24, heads: 16, kvHeads: 16, maxPos: 32768}); err != nil {
		return err
	}
	var err error
	if s.QKVBias, err = o.boolean("qkv_bias", true); err != nil {
		return err
	}
	m := &MoE{}
	if m.Experts, err = o.int("num_experts", 60, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertsPerToken, err = o.int("num_experts_per_tok", 4, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertIntermediate, err = o.int("moe_intermediate_size", 1408, 0, maxWidth); err != nil {
		return err
	}
	if m.SharedIntermediate, err = o.int("shared_expert_intermediate_size", 5632, 0, maxWidth); err != nil {
		return err
	}
	if m.SharedIntermediate > 0 {
		m.SharedExperts, m.SharedExpertGate = 1, true
	}
	if m.Experts > 0 {
		s.MoE = m
		if err := qwenMoELayers(o, s); err != nil {
			return err
		}
	}
	return qwenWindows(o, s, qwenDefaultWindow, qwenDefaultMaxWindowLayers, slidesOddBelowMaxWindowLayers)
}

// buildQwen3MoE: Qwen3MoeConfig defaults (hidden 2048, intermediate 6144,
// 24 layers, 32 heads, 4 KV heads, 128 experts, top-8, expert width 768).
// The class has no head_dim field; the attention uses head_dim when the
// file gives one, else hidden // heads.
func buildQwen3MoE(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 151936, hidden: 2048, inter: 6144, layers: 24, heads: 32, kvHeads: 4, maxPos: 32768}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	s.QKNorm = true
	m := &MoE{}
	var err error
	if m.Experts, err = o.int("num_experts", 128, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertsPerToken, err = o.int("num_experts_per_tok", 8, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertIntermediate, err = o.int("moe_intermediate_size", 768, 0, maxWidth); err != nil {
		return err
	}
	if m.Experts > 0 {
		s.MoE = m
		if err := qwenMoELayers(o, s); err != nil {
			return err
		}
	}
	return qwenWindows(o, s, qwenDefaultWindow, qwenDefaultMaxWindowLayers, slidesFromMaxWindowLayers)
}
