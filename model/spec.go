package model

import (
	"fmt"

	"github.com/gpuplan/gpuplan/dtype"
)

// Spec is a model's architecture as far as serving it needs: enough to count
// its parameters exactly, size its KV cache per layer, and know how its
// weights are stored. ParseConfig builds one from a Hugging Face config.json;
// the catalog and the checkpoint loaders fill the same type.
//
// Counts follow the module tree of the Hugging Face transformers class for
// the model (the reference implementation): a Spec built from a config gives
// the same total as summing numel() over the instantiated model's
// parameters, with tied tensors counted once.
type Spec struct {
	// ID is the model's name, usually a Hugging Face repository id.
	ID string `json:"id"`
	// Source says where the Spec came from (a file path, URL or "catalog").
	Source string `json:"source,omitempty"`
	// Revision is the repository revision (commit or tag) when known.
	Revision string `json:"revision,omitempty"`

	// Architecture is the first entry of config.json's "architectures"
	// (e.g. "LlamaForCausalLM"); empty when the config does not say.
	Architecture string `json:"architecture,omitempty"`
	// ModelType is config.json's top-level "model_type" ("llama", "gemma3").
	ModelType string `json:"model_type"`
	// TextModelType is the model_type of the language model: the same as
	// ModelType for text-only models, text_config.model_type (or the
	// implied one) for multimodal wrappers ("gemma3_text", "llama4_text").
	TextModelType string `json:"text_model_type,omitempty"`
	// DType is the release dtype (torch_dtype / dtype in config.json), the
	// format the unquantized tensors are stored and computed in. Empty when
	// the config does not say (gpt-oss); see ComputeDType.
	DType dtype.DType `json:"dtype,omitempty"`

	// Layers is the number of decoder layers (num_hidden_layers), not
	// counting multi-token-prediction modules.
	Layers int `json:"layers"`
	// Hidden is the residual-stream width (hidden_size).
	Hidden int `json:"hidden"`
	// Intermediate is the width of the dense MLP: every layer's MLP in a
	// dense model, the dense layers' MLP in a mixture-of-experts model
	// (intermediate_size; Llama 4's intermediate_size_mlp).
	Intermediate int `json:"intermediate"`
	// Heads is the number of query heads.
	Heads int `json:"heads"`
	// KVHeads is the number of key/value heads (GQA groups). For MLA models
	// it is the config's value (equal to Heads); the cache stores one latent
	// vector per token instead, see KVLayers.
	KVHeads int `json:"kv_heads"`
	// HeadDim is the query/key width of one head. For MLA it is
	// qk_nope_head_dim + qk_rope_head_dim.
	HeadDim int `json:"head_dim"`
	// Vocab is the vocabulary size (rows of the embedding matrix).
	Vocab int `json:"vocab"`
	// TiedEmbeddings is true when the output head reuses the input
	// embedding matrix (counted once).
	TiedEmbeddings bool `json:"tied_embeddings"`
	// MaxPositionEmbeddings is the longest context the config declares.
	MaxPositionEmbeddings int `json:"max_position_embeddings,omitempty"`

	// LayerAttention gives each decoder layer's attention kind; its length
	// is Layers. Nil means every layer uses full attention.
	LayerAttention []AttentionKind `json:"layer_attention,omitempty"`
	// SlidingWindow is the window of sliding-attention layers, in tokens.
	SlidingWindow int `json:"sliding_window,omitempty"`
	// AttentionChunk is the chunk size of chunked-local attention layers
	// (Llama 4's attention_chunk_size), in tokens.
	AttentionChunk int `json:"attention_chunk,omitempty"`

	// Structural details that change parameter counts.

	// QKVBias is true when the q, k and v projections carry biases.
	QKVBias bool `json:"qkv_bias,omitempty"`
	// OutBias is true when the attention output projection carries a bias.
	OutBias bool `json:"out_bias,omitempty"`
	// QKNorm is true when each layer normalizes queries and keys per head
	// with learned weights of HeadDim elements each (Qwen3, Gemma 3).
	QKNorm bool `json:"qk_norm,omitempty"`
	// AttentionSinks is true when each layer learns one sink logit per
	// query head (gpt-oss).
	AttentionSinks bool `json:"attention_sinks,omitempty"`
	// MLPGated is true for gated MLPs (gate, up and down projections:
	// SwiGLU, GeGLU); false for two-matrix MLPs (fc1, fc2: Phi-2, Falcon).
	MLPGated bool `json:"mlp_gated"`
	// MLPBias is true when the dense MLP projections carry biases.
	MLPBias bool `json:"mlp_bias,omitempty"`
	// Norm is the normalization kind of every decoder norm.
	Norm NormKind `json:"norm"`
	// NormsPerLayer is the number of hidden-width norms in each decoder
	// layer (2 for pre-norm blocks, 4 for Gemma 2/3's sandwich norms, 1 for
	// Phi-2 and Falcon-7B's parallel blocks). A final norm is always counted.
	NormsPerLayer int `json:"norms_per_layer"`
	// LMHeadBias is true when the output head has a bias (Phi-2).
	LMHeadBias bool `json:"lm_head_bias,omitempty"`

	// MoE describes the mixture-of-experts layers; nil for dense models.
	MoE *MoE `json:"moe,omitempty"`
	// MLA describes multi-head latent attention (DeepSeek V2/V3, Kimi-VL);
	// nil for ordinary attention.
	MLA *MLA `json:"mla,omitempty"`
	// Vision describes the vision tower and projector that the engine loads
	// with the language model; nil for text-only models.
	Vision *Vision `json:"vision,omitempty"`
	// MTPLayers is the number of multi-token-prediction modules stored in
	// the checkpoint (DeepSeek V3's num_nextn_predict_layers). Transformers
	// and vLLM (without speculative decoding) do not load them; their
	// parameters are reported separately, see Params.
	MTPLayers int `json:"mtp_layers,omitempty"`

	// Quant is the checkpoint's quantization_config; nil when unquantized.
	Quant *Quantization `json:"quantization,omitempty"`
	// Inventory is what the checkpoint headers say about the stored
	// tensors, filled by the safetensors and GGUF loaders; nil when only a
	// config was read.
	Inventory *TensorInventory `json:"inventory,omitempty"`
}

// AttentionKind is how one decoder layer attends, which decides how much KV
// cache it keeps.
type AttentionKind string

// Attention kinds, named after transformers' layer_types values.
const (
	// AttentionFull attends to every previous token.
	AttentionFull AttentionKind = "full"
	// AttentionSliding attends to the last SlidingWindow tokens.
	AttentionSliding AttentionKind = "sliding"
	// AttentionChunked attends within fixed chunks of AttentionChunk tokens
	// (Llama 4's chunked-local layers).
	AttentionChunked AttentionKind = "chunked"
	// AttentionNone keeps no KV cache (a layer without attention, or one
	// that reuses another layer's cache).
	AttentionNone AttentionKind = "none"
)

// NormKind is the kind of normalization layer, which decides whether it has
// a bias vector.
type NormKind string

// Normalization kinds.
const (
	// NormRMS is RMSNorm: one weight vector.
	NormRMS NormKind = "rms"
	// NormLayer is LayerNorm with weight and bias vectors.
	NormLayer NormKind = "layernorm"
)

// MoE describes the mixture-of-experts MLP layers.
type MoE struct {
	// Experts is the number of routed experts in each MoE layer.
	Experts int `json:"experts"`
	// ExpertsPerToken is how many routed experts each token uses (top-k).
	ExpertsPerToken int `json:"experts_per_token"`
	// ExpertIntermediate is the MLP width of one routed expert.
	ExpertIntermediate int `json:"expert_intermediate"`
	// SharedExperts is the number of always-on shared experts (DeepSeek's
	// n_shared_experts; 1 for Llama 4 and Qwen2-MoE). Informational: the
	// parameters follow SharedIntermediate.
	SharedExperts int `json:"shared_experts,omitempty"`
	// SharedIntermediate is the total MLP width of the shared experts
	// (DeepSeek: moe_intermediate_size × n_shared_experts; Qwen2-MoE:
	// shared_expert_intermediate_size); 0 when there are none.
	SharedIntermediate int `json:"shared_intermediate,omitempty"`
	// SharedExpertGate is true when the shared expert's output is scaled by
	// a learned sigmoid gate of Hidden weights (Qwen2-MoE).
	SharedExpertGate bool `json:"shared_expert_gate,omitempty"`
	// DenseLayers lists, in increasing order, the decoder layers that use a
	// dense MLP of width Intermediate instead of experts (DeepSeek's first
	// first_k_dense_replace layers, Qwen's mlp_only_layers, Llama 4's
	// non-MoE layers). Every other layer is an MoE layer.
	DenseLayers []int `json:"dense_layers,omitempty"`
	// RouterBias is true when the router has a bias vector (gpt-oss).
	RouterBias bool `json:"router_bias,omitempty"`
	// ExpertBias is true when the routed experts' projections have biases
	// (gpt-oss).
	ExpertBias bool `json:"expert_bias,omitempty"`
}

// MLA describes DeepSeek's multi-head latent attention.
type MLA struct {
	// QLoRARank is the query compression rank; 0 when queries are projected
	// directly (DeepSeek-V2-Lite, Kimi-VL).
	QLoRARank int `json:"q_lora_rank,omitempty"`
	// KVLoRARank is the rank of the compressed key/value latent.
	KVLoRARank int `json:"kv_lora_rank"`
	// QKNopeHeadDim is the per-head query/key width without rotary
	// embedding.
	QKNopeHeadDim int `json:"qk_nope_head_dim"`
	// QKRopeHeadDim is the rotary part of the query/key width, shared by
	// all heads for keys.
	QKRopeHeadDim int `json:"qk_rope_head_dim"`
	// VHeadDim is the per-head value width.
	VHeadDim int `json:"v_head_dim"`
}

// Vision describes the vision encoder and the projector that maps its output
// into the language model. Vision towers that the engine loads count in the
// weights, so their parameters are part of Params.
type Vision struct {
	// ModelType is vision_config.model_type ("siglip_vision_model",
	// "llama4_vision_model", "pixtral", "moonvit").
	ModelType string `json:"model_type"`
	// Layers, Hidden, Intermediate and Heads are the encoder's shape.
	Layers       int `json:"layers"`
	Hidden       int `json:"hidden"`
	Intermediate int `json:"intermediate"`
	Heads        int `json:"heads"`
	// ImageSize and PatchSize are the input resolution and patch edge in
	// pixels, when the config gives them.
	ImageSize int `json:"image_size,omitempty"`
	PatchSize int `json:"patch_size,omitempty"`
	// TowerParams is the parameter count of the vision encoder.
	TowerParams int64 `json:"tower_params"`
	// ProjectorParams is the parameter count of the multimodal projector.
	ProjectorParams int64 `json:"projector_params"`
}

// Limits on the shape of a Spec. Configs are untrusted input, so values far
// beyond any released model are rejected rather than computed with.
const (
	maxLayers     = 4096
	maxHidden     = 1 << 20
	maxHeads      = 1 << 16
	maxHeadDim    = 1 << 16
	maxVocab      = 1 << 24
	maxExperts    = 1 << 16
	maxWidth      = 1 << 24 // MLP widths, LoRA ranks
	maxWindow     = 1 << 40 // sliding windows and chunks are token counts
	maxParamCount = int64(1e14)
)

// ComputeDType is the dtype activations and unquantized weights use: the
// release dtype, or bf16 when the config does not say (the dtype vLLM picks
// for such configs on GPUs that support it).
func (s *Spec) ComputeDType() dtype.DType {
	if s.DType == "" {
		return dtype.BF16
	}
	return s.DType
}

// AttentionAt returns the attention kind of layer i.
func (s *Spec) AttentionAt(i int) AttentionKind {
	if i < 0 || i >= len(s.LayerAttention) {
		return AttentionFull
	}
	return s.LayerAttention[i]
}

// IsMoELayer reports whether decoder layer i uses routed experts.
func (s *Spec) IsMoELayer(i int) bool {
	if s.MoE == nil || s.MoE.Experts == 0 {
		return false
	}
	for _, d := range s.MoE.DenseLayers {
		if d == i {
			return false
		}
	}
	return i >= 0 && i < s.Layers
}

// MoELayers returns the number of decoder layers that use routed experts.
func (s *Spec) MoELayers() int {
	if s.MoE == nil || s.MoE.Experts == 0 {
		return 0
	}
	dense := map[int]bool{}
	for _, d := range s.MoE.DenseLayers {
		if d >= 0 && d < s.Layers {
			dense[d] = true
		}
	}
	return max(s.Layers-len(dense), 0)
}

// Validate checks that the Spec describes a plausible model: positive
// shapes within generous limits, consistent per-layer lists, and a parameter
// count that fits in int64. ParseConfig returns only Specs that pass it;
// catalog entries and hand-built Specs should call it too.
func (s *Spec) Validate() error {
	name := s.ModelType
	if s.ID != "" {
		name = s.ID
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("model %s: %s", name, fmt.Sprintf(format, a...))
	}
	type check struct {
		field string
		v     int
		lo    int
		hi    int
	}
	checks := []check{
		{"num_hidden_layers", s.Layers, 1, maxLayers},
		{"hidden_size", s.Hidden, 1, maxHidden},
		{"num_attention_heads", s.Heads, 1, maxHeads},
		{"num_key_value_heads", s.KVHeads, 1, maxHeads},
		{"head_dim", s.HeadDim, 1, maxHeadDim},
		{"vocab_size", s.Vocab, 1, maxVocab},
		{"intermediate_size", s.Intermediate, 0, maxWidth},
		{"norms per layer", s.NormsPerLayer, 0, 8},
		{"max_position_embeddings", s.MaxPositionEmbeddings, 0, 1 << 40},
		{"mtp layers", s.MTPLayers, 0, 64},
	}
	for _, c := range checks {
		if c.v < c.lo || c.v > c.hi {
			return bad("%s = %d is out of range [%d, %d]", c.field, c.v, c.lo, c.hi)
		}
	}
	if s.Heads%s.KVHeads != 0 {
		return bad("num_attention_heads (%d) is not a multiple of num_key_value_heads (%d)", s.Heads, s.KVHeads)
	}
	if s.Norm != NormRMS && s.Norm != NormLayer {
		return bad("unknown norm kind %q", s.Norm)
	}
	if s.LayerAttention != nil && len(s.LayerAttention) != s.Layers {
		return bad("%d layer attention kinds for %d layers", len(s.LayerAttention), s.Layers)
	}
	for i, k := range s.LayerAttention {
		switch k {
		case AttentionFull, AttentionNone:
		case AttentionSliding:
			if s.SlidingWindow < 1 || s.SlidingWindow > maxWindow {
				return bad("layer %d uses sliding attention but sliding_window is %d", i, s.SlidingWindow)
			}
		case AttentionChunked:
			if s.AttentionChunk < 1 || s.AttentionChunk > maxWindow {
				return bad("layer %d uses chunked attention but attention_chunk_size is %d", i, s.AttentionChunk)
			}
		default:
			return bad("layer %d has unknown attention kind %q", i, k)
		}
	}
	if s.SlidingWindow < 0 || s.AttentionChunk < 0 {
		return bad("negative sliding_window or attention_chunk_size")
	}
	if m := s.MoE; m != nil {
		if m.Experts < 1 || m.Experts > maxExperts {
			return bad("number of experts %d is out of range [1, %d]", m.Experts, maxExperts)
		}
		if m.ExpertsPerToken < 1 || m.ExpertsPerToken > m.Experts {
			return bad("experts per token %d is out of range [1, %d]", m.ExpertsPerToken, m.Experts)
		}
		if m.ExpertIntermediate < 1 || m.ExpertIntermediate > maxWidth {
			return bad("expert intermediate size %d is out of range [1, %d]", m.ExpertIntermediate, maxWidth)
		}
		if m.SharedIntermediate < 0 || m.SharedIntermediate > maxWidth || m.SharedExperts < 0 || m.SharedExperts > maxExperts {
			return bad("shared expert size %d × %d is out of range", m.SharedExperts, m.SharedIntermediate)
		}
		prev := -1
		for _, d := range m.DenseLayers {
			if d <= prev || d >= s.Layers {
				return bad("dense layer list %v is not increasing within [0, %d)", m.DenseLayers, s.Layers)
			}
			prev = d
		}
		if len(m.DenseLayers) > 0 && s.Intermediate < 1 {
			return bad("dense layers %v need intermediate_size", m.DenseLayers)
		}
	} else if s.Intermediate < 1 {
		return bad("intermediate_size = %d must be positive for a dense model", s.Intermediate)
	}
	if a := s.MLA; a != nil {
		for _, c := range []check{
			{"q_lora_rank", a.QLoRARank, 0, maxWidth},
			{"kv_lora_rank", a.KVLoRARank, 1, maxWidth},
			{"qk_nope_head_dim", a.QKNopeHeadDim, 0, maxHeadDim},
			{"qk_rope_head_dim", a.QKRopeHeadDim, 0, maxHeadDim},
			{"v_head_dim", a.VHeadDim, 1, maxHeadDim},
		} {
			if c.v < c.lo || c.v > c.hi {
				return bad("%s = %d is out of range [%d, %d]", c.field, c.v, c.lo, c.hi)
			}
		}
		if a.QKNopeHeadDim+a.QKRopeHeadDim < 1 {
			return bad("MLA query/key head width is zero")
		}
	}
	if v := s.Vision; v != nil && (v.TowerParams < 0 || v.ProjectorParams < 0 || v.TowerParams > maxParamCount || v.ProjectorParams > maxParamCount) {
		return bad("vision parameter counts %d + %d are out of range", v.TowerParams, v.ProjectorParams)
	}
	p, overflow := s.params()
	if overflow || p.TotalWithMTP > maxParamCount {
		return bad("the shape implies more than %d parameters; the config is not a real model", maxParamCount)
	}
	return nil
}
