package model

// falconFamily: Falcon, including the pre-transformers RefinedWeb configs
// (vLLM's RWConfig reads them): RefinedWeb for Falcon-40B, RefinedWebModel
// for Falcon-7B.
var falconFamily = family{
	name: "falcon",
	text: map[string]textBuilder{
		"falcon":          buildFalcon,
		"RefinedWeb":      buildFalcon,
		"RefinedWebModel": buildFalcon,
	},
	gguf: []ggufArch{{name: "falcon", modelType: "falcon"}},
}

// buildFalcon: FalconConfig defaults (vocab 65024, hidden 4544, 32 layers,
// 71 heads, multi-query, parallel attention, no biases, MLP width 4 ×
// hidden, 2048 positions, tied). Old configs name layers n_layer, heads
// n_head, KV heads n_head_kv and the width n_embed; model_type RefinedWeb
// meant the new decoder architecture (vLLM's RWConfig).
func buildFalcon(o jsonObject, s *Spec) error {
	var err error
	geti := func(keys []string, def, hi int) int {
		if err != nil {
			return 0
		}
		var v int
		v, err = o.intAlt(keys, def, 0, hi)
		return v
	}
	s.Vocab = geti([]string{"vocab_size"}, 65024, maxVocab)
	s.Hidden = geti([]string{"hidden_size", "n_embed"}, 4544, maxHidden)
	s.Layers = geti([]string{"num_hidden_layers", "n_layer"}, 32, maxLayers)
	s.Heads = geti([]string{"num_attention_heads", "n_head"}, 71, maxHeads)
	kv := geti([]string{"num_kv_heads", "n_head_kv"}, 0, maxHeads)
	s.Intermediate = geti([]string{"ffn_hidden_size"}, 0, maxWidth)
	s.MaxPositionEmbeddings = geti([]string{"max_position_embeddings"}, 2048, 1<<40)
	lnParallel := geti([]string{"num_ln_in_parallel_attn"}, 0, 16)
	if err != nil {
		return err
	}
	newArch, err := o.boolean("new_decoder_architecture", s.ModelType == "RefinedWeb" || s.TextModelType == "RefinedWeb")
	if err != nil {
		return err
	}
	multiQuery, err := o.boolean("multi_query", true)
	if err != nil {
		return err
	}
	parallel, err := o.boolean("parallel_attn", true)
	if err != nil {
		return err
	}
	bias, err := o.boolean("bias", false)
	if err != nil {
		return err
	}
	if s.TiedEmbeddings, err = o.boolean("tie_word_embeddings", true); err != nil {
		return err
	}
	if s.Intermediate == 0 {
		s.Intermediate = 4 * s.Hidden
	}
	if s.Heads > 0 {
		s.HeadDim = s.Hidden / s.Heads
	}
	// FalconAttention: the new architecture has num_kv_heads groups;
	// otherwise multi-query shares one K/V head, else one per head.
	switch {
	case newArch:
		s.KVHeads = kv
		if s.KVHeads == 0 {
			s.KVHeads = s.Heads
		}
	case multiQuery:
		s.KVHeads = 1
	default:
		s.KVHeads = s.Heads
	}
	s.QKVBias, s.OutBias, s.MLPBias = bias, bias, bias
	s.Norm = NormLayer
	// FalconDecoderLayer: two LayerNorms unless attention and MLP run in
	// parallel from one (num_ln_in_parallel_attn defaults to 2 with the new
	// architecture).
	if lnParallel == 0 && newArch {
		lnParallel = 2
	}
	s.NormsPerLayer = 1
	if !parallel || lnParallel == 2 {
		s.NormsPerLayer = 2
	}
	return nil
}
