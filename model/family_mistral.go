package model

import (
	"encoding/json"
	"fmt"
)

// mistralFamily: Mistral, Mixtral and Mistral 3 (a Mistral language model
// with a Pixtral vision tower).
var mistralFamily = family{
	name: "mistral",
	text: map[string]textBuilder{
		"mistral": buildMistral,
		"mixtral": buildMixtral,
	},
	wrappers: map[string]multimodalWrapper{
		"mistral3": {text: "mistral", vision: pixtralTower, defaultText: mistral3Text},
	},
}

// buildMistral: MistralConfig defaults (intermediate 14336, 8 KV heads,
// 131072 positions, sliding_window 4096). Mistral applies its sliding window
// in every layer when one is set.
func buildMistral(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 32000, hidden: 4096, inter: 14336, layers: 32, heads: 32, kvHeads: 8, maxPos: 4096 * 32}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	return allLayersWindow(o, s, 4096)
}

// buildMixtral: MixtralConfig defaults (8 experts, top-2, no sliding
// window); each expert is a SwiGLU MLP of intermediate_size and the router
// has no bias.
func buildMixtral(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 32000, hidden: 4096, inter: 14336, layers: 32, heads: 32, kvHeads: 8, maxPos: 4096 * 32}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	e, err := o.int("num_local_experts", 8, 0, maxExperts)
	if err != nil {
		return err
	}
	k, err := o.int("num_experts_per_tok", 2, 0, maxExperts)
	if err != nil {
		return err
	}
	s.MoE = &MoE{Experts: e, ExpertsPerToken: k, ExpertIntermediate: s.Intermediate}
	return allLayersWindow(o, s, 0)
}

// Mistral3Config builds these sub-configs (Mistral Small 3.1's shape) when
// text_config or vision_config is absent.
var (
	mistral3Text = jsonObject{
		"model_type": rawJSON(`"mistral"`), "head_dim": rawJSON(`128`), "hidden_size": rawJSON(`5120`),
		"intermediate_size": rawJSON(`32768`), "max_position_embeddings": rawJSON(`131072`),
		"num_attention_heads": rawJSON(`32`), "num_hidden_layers": rawJSON(`40`),
		"num_key_value_heads": rawJSON(`8`), "sliding_window": rawJSON(`null`), "vocab_size": rawJSON(`131072`),
	}
	mistral3Pixtral = jsonObject{
		"model_type": rawJSON(`"pixtral"`), "intermediate_size": rawJSON(`4096`), "hidden_size": rawJSON(`1024`),
		"patch_size": rawJSON(`14`), "image_size": rawJSON(`1540`), "num_hidden_layers": rawJSON(`24`),
		"num_attention_heads": rawJSON(`16`), "head_dim": rawJSON(`64`),
	}
)

// pixtralTower: PixtralVisionModel (PixtralVisionConfig defaults: hidden
// 1024, intermediate 4096, 24 layers, 16 heads, 3 channels, 1024-pixel
// images, 16-pixel patches; RMSNorms, bias-free attention and SwiGLU MLP,
// patch convolution without bias) and Mistral3MultiModalProjector (RMSNorm,
// patch merger of spatial_merge_size² patches, two linears with
// multimodal_projector_bias). Mistral3Config builds Mistral Small 3.1's
// tower when vision_config is absent.
var pixtralTower = visionTower{
	modelType:     "pixtral",
	defaults:      Vision{Layers: 24, Hidden: 1024, Intermediate: 4096, Heads: 16, ImageSize: 1024, PatchSize: 16},
	defaultConfig: mistral3Pixtral,
	ints:          []visionKey{{key: "num_channels", def: 3, lo: 1, hi: 64}},
	count: func(in visionInputs) (int64, int64, error) {
		merge, err := in.top.int("spatial_merge_size", 2, 1, 64)
		if err != nil {
			return 0, 0, err
		}
		bias, err := in.top.boolean("multimodal_projector_bias", false)
		if err != nil {
			return 0, 0, err
		}
		// vision_feature_layer: an int, or a list whose features are
		// concatenated before linear_1.
		featureLayers := int64(1)
		if r := in.top.value("vision_feature_layer"); r != nil && r[0] == '[' {
			var items []json.RawMessage
			if err := json.Unmarshal(r, &items); err != nil || len(items) == 0 {
				return 0, 0, fmt.Errorf("vision_feature_layer: want an integer or a non-empty list of integers")
			}
			featureLayers = int64(len(items))
		}
		a, H, I, L, P, T := in.a, in.H, in.I, in.L, in.P, int64(in.text.Hidden)
		tower := a.add(
			a.mul(int64(in.ints["num_channels"]), P, P, H), // patch_conv
			H, // ln_pre
			a.mul(L, a.add(a.mul(4, H, H), a.mul(3, H, I), a.mul(2, H))))
		m := int64(merge)
		projector := a.add(
			H,                           // norm
			a.mul(H, m, m, H),           // patch_merger.merging_layer
			a.mul(H, featureLayers, T),  // linear_1
			a.mul(T, T),                 // linear_2
			boolCount(bias)*a.mul(2, T)) // their biases
		return tower, projector, nil
	},
}
