package model

import (
	"fmt"
	"math"
)

// deepseekFamily: DeepSeek V2 and V3 (MLA + MoE), and Kimi-VL (a
// DeepSeek-V3 language model with a MoonViT vision tower). llama.cpp stores
// V2 and V3 as "deepseek2"; SpecFromGGUF tells V3 by its sigmoid gating.
var deepseekFamily = family{
	name: "deepseek",
	text: map[string]textBuilder{
		"deepseek_v2": buildDeepseekV2,
		"deepseek_v3": buildDeepseekV3,
	},
	wrappers: map[string]multimodalWrapper{
		"kimi_vl": {text: "deepseek_v3", vision: moonViTTower},
	},
	gguf: []ggufArch{{name: "deepseek2", modelType: "deepseek_v2"}},
}

// deepseekDefaults are a DeepSeek config class's defaults for the MLA and
// MoE keys.
type deepseekDefaults struct {
	textShape
	qLoRA, kvLoRA, nope, rope, v         int
	experts, shared, expertInter, firstK int
	topK                                 int  // 0: the config must give it
	mtp                                  bool // reads num_nextn_predict_layers
}

// buildDeepseek reads a DeepSeek V2/V3 (MLA + MoE) config.

func buildDeepseek(o jsonObject, s *Spec, d deepseekDefaults) error {
	llamaLike(s)
	if err := readTextShape(o, s, d.textShape); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	s.MLPBias = false
	a := &MLA{}
	var err error
	geti := func(dst *int, key string, def, hi int) {
		if err == nil {
			*dst, err = o.int(key, def, 0, hi)
		}
	}
	geti(&a.QLoRARank, "q_lora_rank", d.qLoRA, maxWidth) // null: queries projected directly
	geti(&a.KVLoRARank, "kv_lora_rank", d.kvLoRA, maxWidth)
	geti(&a.QKNopeHeadDim, "qk_nope_head_dim", d.nope, maxHeadDim)
	geti(&a.QKRopeHeadDim, "qk_rope_head_dim", d.rope, maxHeadDim)
	geti(&a.VHeadDim, "v_head_dim", d.v, maxHeadDim)
	m := &MoE{}
	var firstK, freq int
	geti(&m.Experts, "n_routed_experts", d.experts, maxExperts)
	geti(&m.ExpertsPerToken, "num_experts_per_tok", d.topK, maxExperts)
	geti(&m.ExpertIntermediate, "moe_intermediate_size", d.expertInter, maxWidth)
	geti(&m.SharedExperts, "n_shared_experts", d.shared, maxExperts)
	geti(&firstK, "first_k_dense_replace", d.firstK, math.MaxInt32)
	geti(&freq, "moe_layer_freq", 1, math.MaxInt32)
	if d.mtp {
		geti(&s.MTPLayers, "num_nextn_predict_layers", 0, 64)
	}
	if err != nil {
		return err
	}
	s.MLA = a
	s.HeadDim = a.QKNopeHeadDim + a.QKRopeHeadDim
	if m.Experts > 0 {
		if m.ExpertsPerToken == 0 {
			return fmt.Errorf("n_routed_experts is %d but num_experts_per_tok is missing", m.Experts)
		}
		m.SharedIntermediate = m.ExpertIntermediate * m.SharedExperts
		// vLLM deepseek_v2.py: experts in layer i when i >= first_k_dense_replace
		// and i % moe_layer_freq == 0 (transformers ignores the frequency,
		// which is 1 in every released config).
		for i := 0; i < s.Layers && i <= maxLayers; i++ {
			if i < firstK || freq <= 0 || i%freq != 0 {
				m.DenseLayers = append(m.DenseLayers, i)
			}
		}
		s.MoE = m
	}
	return nil
}

// buildDeepseekV2: DeepseekV2Config defaults (LlamaConfig's shape, q_lora
// 1536, kv_lora 512, 64 routed experts of width 1407, 2 shared, no dense
// layers; num_experts_per_tok has no default).
func buildDeepseekV2(o jsonObject, s *Spec) error {
	return buildDeepseek(o, s, deepseekDefaults{
		textShape: textShape{vocab: 32000, hidden: 4096, inter: 11008, layers: 32, heads: 32, maxPos: 2048},
		qLoRA:     1536, kvLoRA: 512, nope: 128, rope: 64, v: 128,
		experts: 64, shared: 2, expertInter: 1407, firstK: 0,
	})
}

// buildDeepseekV3: DeepseekV3Config defaults (DeepSeek-V3's own shape).
// The router's e_score_correction_bias is a buffer in transformers, not a
// parameter, and is not counted (it is n_routed_experts fp32 values per MoE
// layer in the checkpoint).
func buildDeepseekV3(o jsonObject, s *Spec) error {
	return buildDeepseek(o, s, deepseekDefaults{
		textShape: textShape{vocab: 129280, hidden: 7168, inter: 18432, layers: 61, heads: 128, kvHeads: 128, maxPos: 4096},
		qLoRA:     1536, kvLoRA: 512, nope: 128, rope: 64, v: 128,
		experts: 256, shared: 1, expertInter: 2048, firstK: 3, topK: 8,
		mtp: true,
	})
}

// moonViTTower: MoonViT (vLLM moonvit.py, from Kimi-VL's modeling code;
// MoonViTConfig defaults: hidden 1152, intermediate 4304, 27 layers, 16
// heads, 14-pixel patches, a 64 × 64 learned position grid, 2 × 2 merge)
// and KimiVLMultiModalProjector (LayerNorm, linear 4·hidden → 4·hidden,
// linear → text hidden, with biases).
var moonViTTower = visionTower{
	modelType: "moonvit",
	defaults:  Vision{Layers: 27, Hidden: 1152, Intermediate: 4304, Heads: 16, PatchSize: 14},
	ints: []visionKey{
		{key: "init_pos_emb_height", def: 64, lo: 1, hi: 1 << 16},
		{key: "init_pos_emb_width", def: 64, lo: 1, hi: 1 << 16},
	},
	count: func(in visionInputs) (int64, int64, error) {
		mk, err := in.vision.intList("merge_kernel_size", 64)
		if err != nil {
			return 0, 0, fmt.Errorf("vision_config: %w", err)
		}
		if !in.vision.has("merge_kernel_size") {
			mk = []int{2, 2}
		}
		if len(mk) != 2 || mk[0] < 1 || mk[1] < 1 {
			return 0, 0, fmt.Errorf("vision_config: merge_kernel_size %v: want two positive integers", mk)
		}
		a, H, I, L, P, T := in.a, in.H, in.I, in.L, in.P, int64(in.text.Hidden)
		tower := a.add(
			a.add(a.mul(3, P, P, H), H), // patch_embed.proj Conv2d(3, H) with bias
			a.mul(int64(in.ints["init_pos_emb_height"]), int64(in.ints["init_pos_emb_width"]), H), // patch_embed.pos_emb
			a.mul(L, a.add(
				a.mul(4, H),                             // norm0, norm1
				a.add(a.mul(3, H, H), a.mul(3, H)),      // wqkv with bias
				a.add(a.mul(H, H), H),                   // wo with bias
				a.add(a.mul(H, I), I, a.mul(I, H), H))), // fc0, fc1 with biases
			a.mul(2, H)) // final_layernorm
		M := a.mul(H, int64(mk[0]), int64(mk[1]))
		return tower, a.add(a.mul(2, H), a.mul(M, M), M, a.mul(M, T), T), nil
	},
}
