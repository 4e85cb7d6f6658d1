package model

// phiFamily: Phi-1/2 ("phi", llama.cpp "phi2") and Phi-3.
var phiFamily = family{
	name: "phi",
	text: map[string]textBuilder{
		"phi":  buildPhi,
		"phi3": buildPhi3,
	},
	gguf: []ggufArch{
		{name: "phi2", modelType: "phi"},
		{name: "phi3", modelType: "phi3"},
	},
}

// buildPhi: PhiConfig defaults (vocab 51200, hidden 2048, intermediate
// 8192, 24 layers, 32 heads, untied). PhiDecoderLayer: one LayerNorm, q, k,
// v and dense projections with biases, fc1/fc2 MLP with biases, parallel
// attention and MLP; the output head has a bias; qk_layernorm adds a
// LayerNorm of head_dim on queries and keys.
func buildPhi(o jsonObject, s *Spec) error {
	if err := readTextShape(o, s, textShape{vocab: 51200, hidden: 2048, inter: 8192, layers: 24, heads: 32, maxPos: 2048}); err != nil {
		return err
	}
	s.Norm, s.NormsPerLayer = NormLayer, 1
	s.QKVBias, s.OutBias, s.MLPBias, s.LMHeadBias = true, true, true, true
	var err error
	s.QKNorm, err = o.boolean("qk_layernorm", false)
	return err
}

// buildPhi3: Phi3Config defaults (vocab 32064, hidden 3072, intermediate
// 8192, 32 layers, 32 heads, 4096 positions, untied, no sliding window).
// Phi3 fuses q/k/v into qkv_proj and gate/up into gate_up_proj, without
// biases: the same counts as separate matrices. A sliding_window applies to
// every layer.
func buildPhi3(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 32064, hidden: 3072, inter: 8192, layers: 32, heads: 32, maxPos: 4096}); err != nil {
		return err
	}
	return allLayersWindow(o, s, 0)
}
