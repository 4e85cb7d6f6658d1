package model

import "math"

// Params is a model's exact parameter count, in elements, the way
// transformers counts it: the sum of numel() over the instantiated model's
// parameters, tied tensors once, buffers (rotary tables, DeepSeek-V3's
// e_score_correction_bias) not at all.
type Params struct {
	// Total is every parameter the engine loads for inference: embeddings,
	// decoder layers, output head, vision tower and projector. It excludes
	// multi-token-prediction modules, which transformers does not build and
	// vLLM loads only for speculative decoding (see TotalWithMTP).
	Total int64 `json:"total"`
	// TotalWithMTP adds the multi-token-prediction modules' own parameters
	// (group "mtp") to Total. It equals Total for models without them.
	TotalWithMTP int64 `json:"total_with_mtp"`
	// Active is the parameters one token touches: Total minus the routed
	// experts it does not use, routed × (E − k) / E. Embeddings are
	// included. Equal to Total for dense models.
	Active int64 `json:"active"`
	// ActiveNonEmbedding is Active minus the input embedding matrix, the
	// convention of the gpt-oss model card (whose "active parameters" count
	// the unembedding but not the embedding).
	ActiveNonEmbedding int64 `json:"active_non_embedding"`
	// Groups splits the count by role; only non-zero groups are present.
	// Keys: "embed" (input embedding), "lm_head" (output head, absent when
	// tied), "attn" (attention projections, biases, sinks), "mlp" (dense
	// MLPs, shared experts and their gate), "router" (expert routers),
	// "routed_experts", "norm" (every normalization weight and bias,
	// including per-head q/k norms and MLA's latent norms), "vision"
	// (vision tower and projector), "mtp" (multi-token-prediction modules,
	// not part of Total). Groups other than "mtp" sum to Total.
	Groups map[string]int64 `json:"groups"`
}

// Group keys of Params.Groups.
const (
	GroupEmbed         = "embed"
	GroupLMHead        = "lm_head"
	GroupAttn          = "attn"
	GroupMLP           = "mlp"
	GroupRouter        = "router"
	GroupRoutedExperts = "routed_experts"
	GroupNorm          = "norm"
	GroupVision        = "vision"
	GroupMTP           = "mtp"
)

// Params returns the exact parameter counts. The Spec should have passed
// Validate (ParseConfig's Specs have); for a Spec whose shape overflows
// int64 the counts saturate at math.MaxInt64.
func (s *Spec) Params() Params {
	p, _ := s.params()
	return p
}

// countAcc does int64 arithmetic that saturates and remembers overflow, so that
// a hostile shape cannot wrap around into a plausible-looking count.
type countAcc struct{ overflow bool }

func (a *countAcc) mul(xs ...int64) int64 {
	r := int64(1)
	for _, x := range xs {
		if x < 0 {
			a.overflow = true
			return math.MaxInt64
		}
		if x != 0 && r > math.MaxInt64/x {
			a.overflow = true
			return math.MaxInt64
		}
		r *= x
	}
	return r
}

func (a *countAcc) add(xs ...int64) int64 {
	r := int64(0)
	for _, x := range xs {
		if x < 0 || r > math.MaxInt64-x {
			a.overflow = true
			return math.MaxInt64
		}
		r += x
	}
	return r
}

func boolCount(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// params computes the counts and reports whether any step overflowed.
func (s *Spec) params() (Params, bool) {
	var a countAcc
	H := int64(s.Hidden)
	V := int64(s.Vocab)
	g := map[string]int64{}

	g[GroupEmbed] = a.mul(V, H)
	if !s.TiedEmbeddings {
		g[GroupLMHead] = a.add(a.mul(V, H), boolCount(s.LMHeadBias)*V)
	}

	attn, attnNorm := s.attentionParams(&a)
	normWidth := int64(1)
	if s.Norm == NormLayer {
		normWidth = 2 // weight and bias
	}
	layerNorms := a.add(a.mul(int64(s.NormsPerLayer), H, normWidth), attnNorm)
	L := int64(s.Layers)
	g[GroupAttn] = a.mul(L, attn)
	g[GroupNorm] = a.add(a.mul(L, layerNorms), a.mul(H, normWidth)) // + final norm

	dense := s.denseMLPParams(&a, int64(s.Intermediate))
	moeLayers := int64(s.MoELayers())
	denseLayers := L - moeLayers
	g[GroupMLP] = a.mul(denseLayers, dense)

	var perExpert, experts, active int64
	if m := s.MoE; m != nil && moeLayers > 0 {
		E, Ie := int64(m.Experts), int64(m.ExpertIntermediate)
		perExpert = a.mul(3, H, Ie)
		if m.ExpertBias {
			perExpert = a.add(perExpert, a.mul(2, Ie), H) // gate_up bias + down bias
		}
		experts = E
		active = int64(m.ExpertsPerToken)
		g[GroupRoutedExperts] = a.mul(moeLayers, E, perExpert)
		g[GroupRouter] = a.mul(moeLayers, a.add(a.mul(E, H), boolCount(m.RouterBias)*E))
		g[GroupMLP] = a.add(g[GroupMLP], a.mul(moeLayers, s.sharedExpertParams(&a)))
	}

	if v := s.Vision; v != nil {
		g[GroupVision] = a.add(v.TowerParams, v.ProjectorParams)
	}

	if s.MTPLayers > 0 {
		// One DeepSeek MTP module (DeepSeek-V3 README_WEIGHTS.md; vLLM
		// deepseek_mtp.py): enorm and hnorm (RMSNorm, H each), eh_proj
		// (2H → H, no bias), shared_head.norm (H), and one decoder layer of
		// the same structure as the main model's layer at that index. Its
		// embed_tokens and shared_head.head share the main model's
		// embedding and output head and are not counted again.
		layer := a.add(attn, layerNorms)
		if s.MoE != nil && s.MoE.Experts > 0 { // index Layers is past every dense layer
			m := s.MoE
			layer = a.add(layer,
				a.mul(int64(m.Experts), perExpert),
				a.mul(int64(m.Experts), H), boolCount(m.RouterBias)*int64(m.Experts),
				s.sharedExpertParams(&a))
		} else {
			layer = a.add(layer, dense)
		}
		module := a.add(layer, a.mul(2, H, H), a.mul(3, H))
		g[GroupMTP] = a.mul(int64(s.MTPLayers), module)
	}

	var total int64
	for k, v := range g {
		if k != GroupMTP {
			total = a.add(total, v)
		}
	}
	for k, v := range g {
		if v == 0 {
			delete(g, k)
		}
	}
	p := Params{Total: total, Groups: g}
	p.TotalWithMTP = a.add(total, g[GroupMTP])
	p.Active = total
	if experts > 0 {
		inactive := a.mul(moeLayers, experts-active, perExpert)
		p.Active = total - inactive
	}
	p.ActiveNonEmbedding = p.Active - g[GroupEmbed]
	return p, a.overflow
}

// attentionParams returns the attention parameters of one layer and the
// norm weights that live inside the attention block (per-head q/k norms,
// MLA's latent norms).
func (s *Spec) attentionParams(a *countAcc) (attn, norms int64) {
	H := int64(s.Hidden)
	heads := int64(s.Heads)
	normWidth := int64(1)
	if s.Norm == NormLayer {
		normWidth = 2
	}
	if m := s.MLA; m != nil {
		// DeepseekV2Attention / DeepseekV3Attention in transformers: biases
		// (attention_bias) sit on q_a_proj, kv_a_proj_with_mqa and o_proj.
		qk := int64(m.QKNopeHeadDim + m.QKRopeHeadDim)
		qr, kvr := int64(m.QLoRARank), int64(m.KVLoRARank)
		rope, nope, v := int64(m.QKRopeHeadDim), int64(m.QKNopeHeadDim), int64(m.VHeadDim)
		if qr > 0 {
			attn = a.add(a.mul(H, qr), boolCount(s.QKVBias)*qr, a.mul(qr, heads, qk))
			norms = qr // q_a_layernorm
		} else {
			attn = a.mul(H, heads, qk)
		}
		attn = a.add(attn,
			a.mul(H, kvr+rope), boolCount(s.QKVBias)*(kvr+rope), // kv_a_proj_with_mqa
			a.mul(kvr, heads, nope+v),                  // kv_b_proj
			a.mul(heads, v, H), boolCount(s.OutBias)*H) // o_proj
		norms = a.add(norms, kvr) // kv_a_layernorm
	} else {
		qdim := a.mul(heads, int64(s.HeadDim))
		kvdim := a.mul(int64(s.KVHeads), int64(s.HeadDim))
		attn = a.add(a.mul(H, qdim), a.mul(2, H, kvdim), a.mul(qdim, H))
		if s.QKVBias {
			attn = a.add(attn, qdim, a.mul(2, kvdim))
		}
		if s.OutBias {
			attn = a.add(attn, H)
		}
	}
	if s.AttentionSinks {
		attn = a.add(attn, heads)
	}
	if s.QKNorm {
		norms = a.add(norms, a.mul(2, int64(s.HeadDim), normWidth))
	}
	return attn, norms
}

// denseMLPParams returns the parameters of one dense MLP of width inter.
func (s *Spec) denseMLPParams(a *countAcc, inter int64) int64 {
	H := int64(s.Hidden)
	if s.MLPGated {
		p := a.mul(3, H, inter)
		if s.MLPBias {
			p = a.add(p, a.mul(2, inter), H)
		}
		return p
	}
	p := a.mul(2, H, inter)
	if s.MLPBias {
		p = a.add(p, inter, H)
	}
	return p
}

// sharedExpertParams returns one MoE layer's shared-expert parameters: a
// gated MLP of width SharedIntermediate without biases, plus Qwen2-MoE's
// sigmoid gate (Hidden → 1, no bias).
func (s *Spec) sharedExpertParams(a *countAcc) int64 {
	m := s.MoE
	if m == nil {
		return 0
	}
	H := int64(s.Hidden)
	p := a.mul(3, H, int64(m.SharedIntermediate))
	if m.SharedExpertGate {
		p = a.add(p, H)
	}
	return p
}
