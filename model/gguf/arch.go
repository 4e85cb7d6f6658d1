package gguf

import (
	"fmt"
	"slices"
)

// Hyperparameters are the llama.cpp metadata that describe a model's
// architecture, read from the keys gguf-py defines (Keys.LLM,
// Keys.Attention, Keys.Rope in gguf-py/gguf/constants.py), with "{arch}"
// replaced by general.architecture. A zero means the key is absent.
type Hyperparameters struct {
	// Architecture is general.architecture ("llama", "qwen3moe", ...).
	Architecture string
	// Name is general.name.
	Name string

	BlockCount      uint64 // {arch}.block_count: transformer layers
	EmbeddingLength uint64 // {arch}.embedding_length: hidden size
	ContextLength   uint64 // {arch}.context_length: trained context
	// FeedForwardLength is {arch}.feed_forward_length; when the file gives
	// one value per layer, it is the largest and FeedForwardPerLayer holds
	// them all.
	FeedForwardLength   uint64
	FeedForwardPerLayer []uint64
	// HeadCount and HeadCountKV are {arch}.attention.head_count and
	// head_count_kv, likewise possibly per layer (0 in a layer means the
	// layer has no attention, e.g. a recurrent layer of a hybrid model).
	HeadCount           uint64
	HeadCountPerLayer   []uint64
	HeadCountKV         uint64
	HeadCountKVPerLayer []uint64
	// KeyLength and ValueLength are the per-head K and V widths
	// ({arch}.attention.key_length / value_length); llama.cpp defaults
	// both to embedding_length / head_count when absent.
	KeyLength   uint64
	ValueLength uint64

	// Mixture of experts.
	ExpertCount                   uint64 // {arch}.expert_count
	ExpertUsedCount               uint64 // {arch}.expert_used_count
	ExpertSharedCount             uint64 // {arch}.expert_shared_count
	ExpertFeedForwardLength       uint64 // {arch}.expert_feed_forward_length
	ExpertSharedFeedForwardLength uint64 // {arch}.expert_shared_feed_forward_length
	LeadingDenseBlockCount        uint64 // {arch}.leading_dense_block_count

	// Multi-head latent attention (DeepSeek V2/V3).
	QLoraRank      uint64 // {arch}.attention.q_lora_rank
	KVLoraRank     uint64 // {arch}.attention.kv_lora_rank
	KeyLengthMLA   uint64 // {arch}.attention.key_length_mla
	ValueLengthMLA uint64 // {arch}.attention.value_length_mla

	// SlidingWindow is {arch}.attention.sliding_window (tokens).
	SlidingWindow uint64
	// SlidingWindowPattern is {arch}.attention.sliding_window_pattern when
	// it is a number (every Nth layer is global); SlidingWindowLayers when
	// it is a per-layer bool array (true = sliding-window layer).
	SlidingWindowPattern uint64
	SlidingWindowLayers  []bool

	RopeDimensionCount uint64 // {arch}.rope.dimension_count

	// VocabSize is the number of embedding rows: {arch}.vocab_size, else
	// the token embedding's row count, else the tokenizer's token count.
	VocabSize uint64
	// TokenCount is the length of tokenizer.ggml.tokens.
	TokenCount uint64

	// FileType is general.file_type (see FileTypeName); HasFileType says
	// whether the key was present.
	FileType    uint64
	HasFileType bool

	// TiedEmbeddings is true when the file has no separate output matrix
	// (output.weight), so llama.cpp reuses token_embd.weight.
	TiedEmbeddings bool

	// SplitCount is split.count for a model split over several files.
	SplitCount uint64
}

// FileTypeName names the file type ("Q4_K_M"), or "" without one.
func (h *Hyperparameters) FileTypeName() string {
	if !h.HasFileType {
		return ""
	}
	return FileTypeName(h.FileType)
}

// Missing lists the keys a decoder-only architecture needs that the file
// lacks.
func (h *Hyperparameters) Missing() []string {
	var out []string
	a := h.Architecture
	if h.BlockCount == 0 {
		out = append(out, a+".block_count")
	}
	if h.EmbeddingLength == 0 {
		out = append(out, a+".embedding_length")
	}
	if h.HeadCount == 0 {
		out = append(out, a+".attention.head_count")
	}
	return out
}

// Hyperparameters reads the architecture metadata. A key of the wrong type
// is an error; an absent key is left zero.
func (f *File) Hyperparameters() (*Hyperparameters, error) {
	h := &Hyperparameters{}
	v, ok := f.Get("general.architecture")
	if !ok {
		return nil, fmt.Errorf("%w: no general.architecture key", ErrFormat)
	}
	if h.Architecture, ok = v.Text(); !ok || h.Architecture == "" {
		return nil, fmt.Errorf("%w: general.architecture is %s, not a non-empty string", ErrFormat, v.Type)
	}
	if v, ok := f.Get("general.name"); ok {
		h.Name, _ = v.Text()
	}
	a := h.Architecture
	var errs []error
	u := func(dst *uint64, key string) {
		v, ok := f.Get(key)
		if !ok {
			return
		}
		n, ok := v.Uint()
		if !ok {
			errs = append(errs, fmt.Errorf("%s is %s %s, not a non-negative integer", key, v.Type, v))
			return
		}
		*dst = n
	}
	layered := func(dst *uint64, per *[]uint64, key string) {
		v, ok := f.Get(key)
		if !ok {
			return
		}
		if v.Type == TypeArray {
			vals, ok := v.Uints()
			if !ok {
				errs = append(errs, fmt.Errorf("%s is an array of %d %s, not of at most %d non-negative integers", key, v.Len, v.ElemType, MaxKeptArray))
				return
			}
			*per = vals
			if len(vals) > 0 {
				*dst = slices.Max(vals)
			}
			return
		}
		u(dst, key)
	}
	u(&h.BlockCount, a+".block_count")
	u(&h.EmbeddingLength, a+".embedding_length")
	u(&h.ContextLength, a+".context_length")
	layered(&h.FeedForwardLength, &h.FeedForwardPerLayer, a+".feed_forward_length")
	layered(&h.HeadCount, &h.HeadCountPerLayer, a+".attention.head_count")
	layered(&h.HeadCountKV, &h.HeadCountKVPerLayer, a+".attention.head_count_kv")
	u(&h.KeyLength, a+".attention.key_length")
	u(&h.ValueLength, a+".attention.value_length")
	u(&h.ExpertCount, a+".expert_count")
	u(&h.ExpertUsedCount, a+".expert_used_count")
	u(&h.ExpertSharedCount, a+".expert_shared_count")
	u(&h.ExpertFeedForwardLength, a+".expert_feed_forward_length")
	u(&h.ExpertSharedFeedForwardLength, a+".expert_shared_feed_forward_length")
	u(&h.LeadingDenseBlockCount, a+".leading_dense_block_count")
	u(&h.QLoraRank, a+".attention.q_lora_rank")
	u(&h.KVLoraRank, a+".attention.kv_lora_rank")
	u(&h.KeyLengthMLA, a+".attention.key_length_mla")
	u(&h.ValueLengthMLA, a+".attention.value_length_mla")
	u(&h.SlidingWindow, a+".attention.sliding_window")
	if v, ok := f.Get(a + ".attention.sliding_window_pattern"); ok {
		if v.Type == TypeArray {
			if h.SlidingWindowLayers, ok = v.Bools(); !ok {
				errs = append(errs, fmt.Errorf("%s.attention.sliding_window_pattern is an array of %s, not of bools", a, v.ElemType))
			}
		} else {
			u(&h.SlidingWindowPattern, a+".attention.sliding_window_pattern")
		}
	}
	u(&h.RopeDimensionCount, a+".rope.dimension_count")
	u(&h.VocabSize, a+".vocab_size")
	if v, ok := f.Get("tokenizer.ggml.tokens"); ok && v.Type == TypeArray {
		h.TokenCount = v.Len
	}
	if h.VocabSize == 0 {
		// token_embd.weight is [n_embd, n_vocab] in ggml order.
		if t, ok := f.Tensor("token_embd.weight"); ok && len(t.Dims) == 2 {
			h.VocabSize = t.Dims[1]
		} else {
			h.VocabSize = h.TokenCount
		}
	}
	if _, ok := f.Get("general.file_type"); ok {
		h.HasFileType = true
		u(&h.FileType, "general.file_type")
	}
	u(&h.SplitCount, "split.count")
	_, hasOutput := f.Tensor("output.weight")
	_, hasEmbd := f.Tensor("token_embd.weight")
	h.TiedEmbeddings = hasEmbd && !hasOutput
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %v", ErrFormat, errs[0])
	}
	return h, nil
}
