package model

// textShape holds a config class's defaults for the common keys. kvHeads 0
// means "as many as heads"; headDim 0 means hidden / heads.
type textShape struct {
	vocab, hidden, inter, layers, heads, kvHeads, headDim, maxPos int
	tie                                                           bool
}

// readTextShape reads the common keys into s.
func readTextShape(o jsonObject, s *Spec, d textShape) error {
	var err error
	get := func(dst *int, key string, def, hi int) {
		if err == nil {
			*dst, err = o.int(key, def, 0, hi)
		}
	}
	get(&s.Vocab, "vocab_size", d.vocab, maxVocab)
	get(&s.Hidden, "hidden_size", d.hidden, maxHidden)
	get(&s.Intermediate, "intermediate_size", d.inter, maxWidth)
	get(&s.Layers, "num_hidden_layers", d.layers, maxLayers)
	get(&s.Heads, "num_attention_heads", d.heads, maxHeads)
	get(&s.KVHeads, "num_key_value_heads", d.kvHeads, maxHeads)
	get(&s.HeadDim, "head_dim", d.headDim, maxHeadDim)
	get(&s.MaxPositionEmbeddings, "max_position_embeddings", d.maxPos, 1<<40)
	if err != nil {
		return err
	}
	if s.TiedEmbeddings, err = o.boolean("tie_word_embeddings", d.tie); err != nil {
		return err
	}
	fillHeads(s)
	return nil
}

// fillHeads applies transformers' fallbacks: num_key_value_heads None means
// multi-head attention; head_dim None means hidden_size // heads.
func fillHeads(s *Spec) {
	if s.KVHeads == 0 {
		s.KVHeads = s.Heads
	}
	if s.HeadDim == 0 && s.Heads > 0 {
		s.HeadDim = s.Hidden / s.Heads
	}
}

// llamaLike sets the structure shared by Llama-style decoders: RMSNorm
// before attention and MLP, SwiGLU MLP.
func llamaLike(s *Spec) {
	s.Norm = NormRMS
	s.NormsPerLayer = 2
	s.MLPGated = true
}

// readBias reads attention_bias (q, k, v and o biases) and mlp_bias.
func readBias(o jsonObject, s *Spec, attnDef bool) error {
	b, err := o.boolean("attention_bias", attnDef)
	if err != nil {
		return err
	}
	s.QKVBias, s.OutBias = b, b
	s.MLPBias, err = o.boolean("mlp_bias", false)
	return err
}
