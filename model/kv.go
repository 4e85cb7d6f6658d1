package model

import (
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/units"
)

// KVKind is the layout of one layer's KV cache.
type KVKind string

// KV-cache layouts.
const (
	// KVFull keeps keys and values for every token.
	KVFull KVKind = "full"
	// KVSliding needs keys and values only for the last Window tokens.
	KVSliding KVKind = "sliding"
	// KVChunked needs keys and values only within the current chunk of
	// Window tokens (Llama 4's chunked-local attention).
	KVChunked KVKind = "chunked"
	// KVMLA keeps one compressed latent plus the shared rotary key per
	// token (DeepSeek's multi-head latent attention).
	KVMLA KVKind = "mla"
	// KVNone keeps nothing.
	KVNone KVKind = "none"
)

// KVLayer describes one decoder layer's KV cache per token, before any
// tensor-parallel split.
type KVLayer struct {
	// Index is the decoder layer index.
	Index int `json:"index"`
	// Kind is the cache layout.
	Kind KVKind `json:"kind"`
	// KVHeads is the number of key/value heads stored: the GQA group count,
	// or 1 for MLA (vLLM's ModelConfig.get_num_kv_heads returns 1 for MLA
	// models because the latent is shared by all heads).
	KVHeads int `json:"kv_heads"`
	// KeyDim and ValueDim are the elements per head stored for the key and
	// the value. For MLA, KeyDim is kv_lora_rank + qk_rope_head_dim (the
	// latent and the rotary key, stored together) and ValueDim is 0:
	// values are decompressed from the same latent.
	KeyDim   int `json:"key_dim"`
	ValueDim int `json:"value_dim"`
	// Window is the sliding window or attention chunk in tokens for
	// sliding and chunked layers; 0 otherwise.
	Window int `json:"window,omitempty"`
}

// ElementsPerToken is the number of cache elements one token occupies in
// this layer: KVHeads × (KeyDim + ValueDim).
func (l KVLayer) ElementsPerToken() int64 {
	var a countAcc
	return a.mul(int64(l.KVHeads), int64(l.KeyDim+l.ValueDim))
}

// KVLayers describes every decoder layer's KV cache, in layer order.
func (s *Spec) KVLayers() []KVLayer {
	if s.Layers <= 0 || s.Layers > maxLayers {
		return nil
	}
	out := make([]KVLayer, s.Layers)
	for i := range out {
		l := KVLayer{Index: i}
		switch {
		case s.AttentionAt(i) == AttentionNone:
			l.Kind = KVNone
		case s.MLA != nil:
			l.Kind = KVMLA
			l.KVHeads = 1
			l.KeyDim = s.MLA.KVLoRARank + s.MLA.QKRopeHeadDim
		default:
			l.KVHeads = s.KVHeads
			l.KeyDim = s.HeadDim
			l.ValueDim = s.HeadDim
			switch s.AttentionAt(i) {
			case AttentionSliding:
				l.Kind = KVSliding
				l.Window = s.SlidingWindow
			case AttentionChunked:
				l.Kind = KVChunked
				l.Window = s.AttentionChunk
			default:
				l.Kind = KVFull
			}
		}
		out[i] = l
	}
	return out
}

// KVBytesPerToken is the KV cache of one token across all layers, with no
// window cap and before any tensor-parallel split, in the given cache
// format (KVAuto resolves to ComputeDType).
func (s *Spec) KVBytesPerToken(kv dtype.KVDType) units.BytesPerToken {
	var a countAcc
	per := kv.Bytes(s.ComputeDType())
	var total int64
	for _, l := range s.KVLayers() {
		total = a.add(total, a.mul(l.ElementsPerToken(), per))
	}
	return units.BytesPerToken(total)
}

// KVBytesReference is the KV cache the reference implementation (Hugging
// Face transformers' DynamicCache) holds after tokens tokens: full and MLA
// layers keep every token, sliding and chunked layers keep at most
// Window − 1 (DynamicSlidingWindowLayer stores the last window − 1 states,
// which is what the H200 ground-truth run measured: gpt-oss-20b's sliding
// layers held 127 of 256 tokens with a 128-token window). MLA layers are
// sized in the compressed layout vLLM uses, not transformers' expanded
// one. vLLM's block-granular accounting is the memory package's job.
func (s *Spec) KVBytesReference(tokens int64, kv dtype.KVDType) units.Bytes {
	if tokens <= 0 {
		return 0
	}
	var a countAcc
	per := kv.Bytes(s.ComputeDType())
	var total int64
	for _, l := range s.KVLayers() {
		total = a.add(total, a.mul(l.CachedTokensReference(tokens), l.ElementsPerToken(), per))
	}
	return units.Bytes(total)
}

// CachedTokensReference is how many of tokens processed tokens this layer
// holds in transformers' DynamicCache: all of them for full and MLA layers,
// at most Window − 1 for sliding and chunked layers, none for KVNone.
func (l KVLayer) CachedTokensReference(tokens int64) int64 {
	if tokens <= 0 {
		return 0
	}
	switch l.Kind {
	case KVNone:
		return 0
	case KVSliding, KVChunked:
		if keep := int64(l.Window) - 1; keep < tokens {
			return max(keep, 0)
		}
	}
	return tokens
}
