package model

import (
	"math"
	"testing"
)

// TestParamsDeepSeekMTP checks the multi-token-prediction module of
// DeepSeek-V3, which transformers does not build. Its size follows from the
// structure DeepSeek documents (README_WEIGHTS.md: enorm, hnorm, eh_proj and
// one more transformer layer identical to the main model's MoE layers,
// sharing the embedding and head) and vLLM's deepseek_mtp.py
// (shared_head.norm); the whole checkpoint is checked against the Hub's
// safetensors total in TestParamsPublished.
func TestParamsDeepSeekMTP(t *testing.T) {
	s := parseSpec(t, readRefConfig(t, "deepseek-ai__DeepSeek-V3.json"))
	p := s.Params()
	const H = 7168
	attn := int64(H*1536 + 1536*128*192 + H*(512+64) + 512*128*(128+128) + 128*128*H)
	norms := int64(2*H + 1536 + 512)
	moe := int64(256*3*H*2048 + 256*H + 3*H*2048)
	layer := attn + norms + moe
	if layer != 11507286016 {
		t.Fatalf("hand-derived MoE layer = %d; fix the test", layer)
	}
	wantMTP := layer + 2*H*H + 3*H // eh_proj, enorm, hnorm, shared_head.norm
	if p.Groups[GroupMTP] != wantMTP {
		t.Errorf("mtp = %d, want %d", p.Groups[GroupMTP], wantMTP)
	}
	if p.TotalWithMTP != 671026404352+wantMTP || p.Total != 671026404352 {
		t.Errorf("total %d, with MTP %d", p.Total, p.TotalWithMTP)
	}
	// DeepSeek's README says "11.5B unique parameters"; that is the extra
	// transformer layer (11.507B). With eh_proj and the three norms the
	// module has 11.610B, and only that figure reproduces the Hub's
	// safetensors total exactly (TestParamsPublished, DeepSeek-V3).
	if ok, msg := cardAgrees(layer, 11.5); !ok {
		t.Errorf("MTP layer: %s", msg)
	}
	var sum int64
	for k, v := range p.Groups {
		if k != GroupMTP {
			sum += v
		}
	}
	if sum != p.Total {
		t.Errorf("groups without mtp sum to %d, total %d", sum, p.Total)
	}
}

// TestParamsStructure checks architectures that the reference folder has no
// config for yet, on small made-up shapes whose counts are derived by hand
// from the transformers (or vLLM, for Kimi-VL's MoonViT) module lists.
func TestParamsStructure(t *testing.T) {
	cases := []struct {
		name, config  string
		total, active int64
		groups        map[string]int64
	}{
		{
			// FalconDecoderLayer, new decoder architecture: fused
			// query_key_value of (heads + 2·kv) × head_dim with bias, dense
			// with bias, ln_attn and ln_mlp (LayerNorm), 4h MLP with biases;
			// tied head; ln_f.
			name:   "falcon new decoder architecture",
			config: `{"model_type":"falcon","hidden_size":64,"num_attention_heads":8,"num_kv_heads":2,"new_decoder_architecture":true,"num_hidden_layers":2,"vocab_size":100,"bias":true,"ffn_hidden_size":128}`,
			total:  2*((64*(8+2*2)*8+96)+(64*64+64)+(64*128+128+128*64+64)+2*(64+64)) + 100*64 + 128,
			active: 2*((64*(8+2*2)*8+96)+(64*64+64)+(64*128+128+128*64+64)+2*(64+64)) + 100*64 + 128,
		},
		{
			// PhiDecoderLayer with qk_layernorm: q/k LayerNorms of head_dim
			// (weight + bias), one input LayerNorm, biased projections, head
			// with bias.
			name:   "phi with qk_layernorm",
			config: `{"model_type":"phi","hidden_size":32,"num_attention_heads":4,"num_hidden_layers":1,"intermediate_size":64,"vocab_size":10,"qk_layernorm":true}`,
			total:  4*(32*32+32) + 2*(8+8) + (32*64 + 64 + 64*32 + 32) + 64 + 64 + 10*32 + (10*32 + 10),
			active: 4*(32*32+32) + 2*(8+8) + (32*64 + 64 + 64*32 + 32) + 64 + 64 + 10*32 + (10*32 + 10),
			groups: map[string]int64{GroupNorm: 2*(8+8) + 64 + 64, GroupLMHead: 10*32 + 10},
		},
		{
			// Kimi-VL: a DeepSeek-V3 text model without q LoRA (q_proj),
			// one dense layer then MoE with a shared expert; MoonViT (patch
			// conv with bias, learned 3×3 position grid, LayerNorms, wqkv/wo
			// and fc0/fc1 with biases, final LayerNorm); projector LayerNorm
			// + (4·8)→(4·8) + (4·8)→16 linears with biases.
			name: "kimi_vl",
			config: `{"model_type":"kimi_vl","text_config":{"model_type":"deepseek_v3","vocab_size":100,"hidden_size":16,"intermediate_size":32,"moe_intermediate_size":8,"num_hidden_layers":2,"num_attention_heads":2,"num_key_value_heads":2,"n_routed_experts":4,"n_shared_experts":1,"num_experts_per_tok":2,"first_k_dense_replace":1,"q_lora_rank":null,"kv_lora_rank":4,"qk_nope_head_dim":2,"qk_rope_head_dim":2,"v_head_dim":2},` +
				`"vision_config":{"model_type":"moonvit","hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2,"patch_size":2,"init_pos_emb_height":3,"init_pos_emb_width":3,"merge_kernel_size":[2,2]}}`,
			// embed + lm_head + attn + norm + mlp + router + experts + vision
			total:  1600 + 1600 + 640 + 88 + 1920 + 64 + 1536 + 2392,
			active: 1600 + 1600 + 640 + 88 + 1920 + 64 + 1536 + 2392 - 3*16*8*(4-2),
			groups: map[string]int64{
				GroupAttn:          2 * (16*2*4 + 16*(4+2) + 4*2*(2+2) + 2*2*16),
				GroupNorm:          2*(2*16+4) + 16,
				GroupMLP:           3*16*32 + 3*16*8,
				GroupRouter:        4 * 16,
				GroupRoutedExperts: 4 * 3 * 16 * 8,
				GroupVision:        (3*2*2*8 + 8) + 3*3*8 + (4*8 + 8*24 + 24 + 8*8 + 8 + 8*16 + 16 + 16*8 + 8) + 2*8 + (2*8 + 32*32 + 32 + 32*16 + 16),
			},
		},
		{
			// Gemma 3 with a SigLIP tower that keeps its attention-pooling
			// head (vision_use_head absent): probe, in_proj (3H×H + 3H),
			// out_proj, LayerNorm, MLP.
			name: "gemma3 with SigLIP head",
			config: `{"model_type":"gemma3","text_config":{"vocab_size":10,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":2,"num_attention_heads":2,"num_key_value_heads":1,"head_dim":4},` +
				`"vision_config":{"hidden_size":4,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":1,"image_size":4,"patch_size":2}}`,
			// text: embed 10×8 (tied) + 2 layers × (attn 192 + q/k norms 8 +
			// 4 norms 32 + MLP 384) + final norm 8 = 1320; tower 416;
			// projector 4×8 + 4.
			total:  1320 + 416 + (4*8 + 4),
			active: 1320 + 416 + (4*8 + 4),
			groups: map[string]int64{GroupVision: (3*2*2*4 + 4) + 2*2*4 + (4*4 + 4*(16+4) + 4*8 + 8 + 8*4 + 4) + 2*4 + (4 + 3*16 + 12 + 16 + 4 + 8 + 4*8 + 8 + 8*4 + 4) + (4*8 + 4)},
		},
		{
			// Qwen2-MoE: shared expert MLP plus its sigmoid gate (H → 1).
			name:   "qwen2_moe shared expert gate",
			config: `{"model_type":"qwen2_moe","vocab_size":10,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":2,"num_experts":4,"num_experts_per_tok":1,"moe_intermediate_size":4,"shared_expert_intermediate_size":12}`,
			total:  (4*8*8 + 3*8) + 2*8 + (4*3*8*4 + 4*8 + 3*8*12 + 8) + 8 + 2*10*8,
			active: (4*8*8 + 3*8) + 2*8 + (1*3*8*4 + 4*8 + 3*8*12 + 8) + 8 + 2*10*8,
			groups: map[string]int64{GroupMLP: 3*8*12 + 8},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := parseSpec(t, []byte(c.config)).Params()
			if p.Total != c.total || p.Active != c.active {
				t.Errorf("total %d active %d, want %d and %d (groups %v)", p.Total, p.Active, c.total, c.active, p.Groups)
			}
			for k, v := range c.groups {
				if p.Groups[k] != v {
					t.Errorf("group %s = %d, want %d", k, p.Groups[k], v)
				}
			}
		})
	}
}

// TestParamsMistral3Options checks the projector switches on top of the
// Mistral3Config defaults (whose total TestParamsPublished checks).
func TestParamsMistral3Options(t *testing.T) {
	base := parseSpec(t, []byte(`{"model_type":"mistral3"}`)).Params().Total
	const text = 5120
	bias := parseSpec(t, []byte(`{"model_type":"mistral3","multimodal_projector_bias":true}`)).Params().Total
	if bias-base != 2*text {
		t.Errorf("projector biases add %d, want %d", bias-base, 2*text)
	}
	two := parseSpec(t, []byte(`{"model_type":"mistral3","vision_feature_layer":[-1,-2]}`)).Params().Total
	if two-base != 1024*text {
		t.Errorf("a second feature layer adds %d, want %d", two-base, 1024*text)
	}
}

// TestParamsHandBuilt shows that a Spec filled in code (as the catalog
// does) counts like a parsed one.
func TestParamsHandBuilt(t *testing.T) {
	s := &Spec{ID: "meta-llama/Llama-3.1-8B", ModelType: "llama", Layers: 32, Hidden: 4096, Intermediate: 14336,
		Heads: 32, KVHeads: 8, HeadDim: 128, Vocab: 128256, MLPGated: true, Norm: NormRMS, NormsPerLayer: 2}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := s.Params().Total; got != 8030261248 {
		t.Errorf("total = %d, want 8030261248 (h200-models.json llama-3.1-8b)", got)
	}
}

// TestParamsSaturate: an absurd hand-built Spec neither panics nor wraps
// around; Validate rejects it.
func TestParamsSaturate(t *testing.T) {
	s := &Spec{ModelType: "x", Layers: math.MaxInt32, Hidden: math.MaxInt32, Intermediate: math.MaxInt32,
		Heads: 1, KVHeads: 1, HeadDim: math.MaxInt32, Vocab: math.MaxInt32, MLPGated: true, Norm: NormRMS, NormsPerLayer: 2,
		MoE: &MoE{Experts: math.MaxInt32, ExpertsPerToken: 1, ExpertIntermediate: math.MaxInt32}}
	p, overflow := s.params()
	if !overflow || p.Total != math.MaxInt64 {
		t.Errorf("overflow %v total %d, want saturation", overflow, p.Total)
	}
	if err := s.Validate(); err == nil {
		t.Error("Validate accepted an absurd shape")
	}
}
