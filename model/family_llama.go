package model

// llamaFamily: Llama 1-3 and IBM Granite (Llama's shape with activation
// multipliers). Mixtral GGUFs share llama.cpp's "llama" architecture and are
// told apart by their expert count in SpecFromGGUF.
var llamaFamily = family{
	name: "llama",
	text: map[string]textBuilder{
		"llama":   buildLlama,
		"granite": buildGranite,
	},
	gguf: []ggufArch{
		{name: "llama", modelType: "llama"},
		{name: "granite", modelType: "granite"},
	},
}

// buildLlama: LlamaConfig defaults (vocab 32000, hidden 4096, intermediate
// 11008, 32 layers, 32 heads, 2048 positions, untied, no biases).
func buildLlama(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 32000, hidden: 4096, inter: 11008, layers: 32, heads: 32, maxPos: 2048}); err != nil {
		return err
	}
	return readBias(o, s, false)
}

// buildGranite: GraniteConfig has LlamaConfig's defaults; its embedding,
// residual, attention and logits multipliers scale activations and add no
// parameters.
func buildGranite(o jsonObject, s *Spec) error { return buildLlama(o, s) }
