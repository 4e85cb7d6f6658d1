package model

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/internal/termtext"
	"github.com/gpuplan/gpuplan/model/gguf"
	"github.com/gpuplan/gpuplan/units"
)

// checkGGUFCounts bounds the metadata counts SpecFromGGUF loops over or
// sizes slices by, with the same limits Spec.Validate applies to configs.
func checkGGUFCounts(h *gguf.Hyperparameters) error {
	a := h.Architecture
	for _, c := range []struct {
		key   string
		v     uint64
		limit uint64
	}{
		{a + ".block_count", h.BlockCount, maxLayers},
		{a + ".leading_dense_block_count", h.LeadingDenseBlockCount, maxLayers},
		{a + ".embedding_length", h.EmbeddingLength, maxHidden},
		{a + ".attention.head_count", h.HeadCount, maxHeads},
		{a + ".attention.head_count_kv", h.HeadCountKV, maxHeads},
		{a + ".attention.key_length", h.KeyLength, maxHeadDim},
		{a + ".attention.value_length", h.ValueLength, maxHeadDim},
		{a + ".vocab_size", h.VocabSize, maxVocab},
		{a + ".expert_count", h.ExpertCount, maxExperts},
		{a + ".expert_used_count", h.ExpertUsedCount, maxExperts},
		{a + ".feed_forward_length", h.FeedForwardLength, maxWidth},
		{a + ".expert_feed_forward_length", h.ExpertFeedForwardLength, maxWidth},
	} {
		if c.v > c.limit {
			return fmt.Errorf("%w: %s is %d, beyond any released model (at most %d); the file is corrupt or hostile", gguf.ErrFormat, c.key, c.v, c.limit)
		}
	}
	return nil
}

// SpecFromGGUF builds a Spec from a GGUF file's llama.cpp metadata and
// tensor table. Shapes come from the metadata; structure (biases, norms,
// gated MLPs, which layers are MoE, expert and shared-expert widths) from
// the tensor names and shapes; Spec.Inventory is the exact tensor table.
// What could only be assumed is listed in Spec.Source.
func SpecFromGGUF(f *gguf.File, source string) (*Spec, error) {
	h, err := f.Hyperparameters()
	if err != nil {
		return nil, err
	}
	if missing := h.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("GGUF metadata lacks %s, so the architecture is unknown; pass the model's config.json (or its Hugging Face id) instead", strings.Join(missing, ", "))
	}
	// Counts first: the loops below go per layer and the slices are sized
	// by them, so a hostile block_count of 2^31 must stop here, not after
	// billions of iterations and a 32 GiB allocation.
	if err := checkGGUFCounts(h); err != nil {
		return nil, err
	}
	tensors := make(map[string]gguf.Tensor, len(f.Tensors))
	for _, t := range f.Tensors {
		tensors[t.Name] = t
	}
	has := func(name string) bool { _, ok := tensors[name]; return ok }
	blk := func(i int, name string) string { return fmt.Sprintf("blk.%d.%s", i, name) }
	var approx []string

	s := &Spec{
		ID:                    strings.TrimSpace(termtext.Printable(h.Name)), // general.name may be any text
		ModelType:             h.Architecture,
		Layers:                int(min(h.BlockCount, 1<<31)),
		Hidden:                int(min(h.EmbeddingLength, 1<<31)),
		Heads:                 int(min(h.HeadCount, 1<<31)),
		KVHeads:               int(min(h.HeadCountKV, 1<<31)),
		Vocab:                 int(min(h.VocabSize, 1<<31)),
		Intermediate:          int(min(h.FeedForwardLength, 1<<31)),
		MaxPositionEmbeddings: int(min(h.ContextLength, 1<<40)),
		TiedEmbeddings:        h.TiedEmbeddings,
		MLPGated:              true,
		Norm:                  NormRMS,
	}
	arch, known := ggufArchs[h.Architecture]
	if known && arch.modelType != "" {
		s.ModelType = arch.modelType
		if h.Architecture == "deepseek2" && h.ExpertCount > 0 && isSigmoidGating(f) {
			s.ModelType = "deepseek_v3" // V3 routes with a sigmoid; llama.cpp stores both as deepseek2
		}
		if h.Architecture == "llama" && h.ExpertCount > 0 {
			s.ModelType = "mixtral"
		}
	} else {
		approx = append(approx, fmt.Sprintf("architecture %q has no Hugging Face equivalent known to gpuplan; counts follow its tensor table", h.Architecture))
	}
	s.TextModelType = s.ModelType
	if s.ID == "" {
		s.ID = strings.TrimSuffix(path.Base(filepath.ToSlash(source)), ".gguf")
	}
	if s.KVHeads == 0 {
		s.KVHeads = s.Heads
	}
	if s.Vocab == 0 {
		approx = append(approx, "vocabulary size missing")
	}
	if len(h.FeedForwardPerLayer) > 0 && slices.Min(h.FeedForwardPerLayer) != slices.Max(h.FeedForwardPerLayer) {
		approx = append(approx, "feed-forward width varies per layer; the largest is used")
	}
	if len(h.HeadCountPerLayer) > 0 && slices.Min(h.HeadCountPerLayer) != slices.Max(h.HeadCountPerLayer) {
		approx = append(approx, "head count varies per layer; the largest is used")
	}

	// Head width: key_length, else n_embd / n_head (llama.cpp's default).
	s.HeadDim = int(min(h.KeyLength, 1<<31))
	if s.HeadDim == 0 && s.Heads > 0 {
		s.HeadDim = s.Hidden / s.Heads
	}
	if h.ValueLength != 0 && h.ValueLength != h.KeyLength && h.KVLoraRank == 0 {
		approx = append(approx, fmt.Sprintf("value width %d differs from key width %d; the key width is used for both", h.ValueLength, h.KeyLength))
	}

	// Multi-head latent attention. Newer conversions store the absorbed
	// layout (key_length = kv_lora_rank + rope) and the original widths in
	// key_length_mla / value_length_mla; older ones store the original
	// widths in key_length / value_length.
	if h.KVLoraRank > 0 {
		qk, v := h.KeyLengthMLA, h.ValueLengthMLA
		if qk == 0 {
			qk, v = h.KeyLength, h.ValueLength
		}
		rope := h.RopeDimensionCount
		if rope == 0 || qk <= rope {
			return nil, fmt.Errorf("MLA model with key width %d and rotary width %d: cannot split the head", qk, rope)
		}
		s.MLA = &MLA{QLoRARank: int(min(h.QLoraRank, 1<<31)), KVLoRARank: int(min(h.KVLoraRank, 1<<31)),
			QKNopeHeadDim: int(qk - rope), QKRopeHeadDim: int(rope), VHeadDim: int(min(v, 1<<31))}
		s.HeadDim = int(qk)
		s.KVHeads = s.Heads
	}

	// Structure from the first layer that has attention.
	l0 := 0
	for i := 0; i < s.Layers; i++ {
		if has(blk(i, "attn_q.weight")) || has(blk(i, "attn_qkv.weight")) || has(blk(i, "attn_q_a.weight")) || has(blk(i, "attn_q_b.weight")) {
			l0 = i
			break
		}
	}
	s.QKVBias = has(blk(l0, "attn_q.bias")) || has(blk(l0, "attn_qkv.bias"))
	s.OutBias = has(blk(l0, "attn_output.bias"))
	s.QKNorm = has(blk(l0, "attn_q_norm.weight")) && has(blk(l0, "attn_k_norm.weight"))
	s.AttentionSinks = has(blk(l0, "attn_sinks.weight")) || has(blk(l0, "attn_sinks"))
	if has(blk(l0, "attn_norm.bias")) {
		s.Norm = NormLayer
	}
	for _, n := range []string{"attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"} {
		if has(blk(l0, n+".weight")) {
			s.NormsPerLayer++
		}
	}
	if s.NormsPerLayer == 0 {
		s.NormsPerLayer = 2
		approx = append(approx, "norm tensors not recognised; 2 norms per layer assumed")
	}
	s.LMHeadBias = has("output.bias")
	gated, dense, anyMLP := false, false, false
	for i := 0; i < s.Layers; i++ {
		if has(blk(i, "ffn_up.weight")) || has(blk(i, "ffn_up_exps.weight")) {
			anyMLP = true
			gated = gated || has(blk(i, "ffn_gate.weight")) || has(blk(i, "ffn_gate_exps.weight"))
			s.MLPBias = s.MLPBias || has(blk(i, "ffn_up.bias"))
		}
		if !dense && has(blk(i, "ffn_up.weight")) {
			dense = true
			if t := tensors[blk(i, "ffn_up.weight")]; len(t.Dims) == 2 {
				s.Intermediate = int(min(t.Dims[1], 1<<31)) // [n_embd, n_ff]
			}
		}
	}
	if anyMLP {
		s.MLPGated = gated
	} else {
		approx = append(approx, "MLP tensors not recognised; a gated MLP is assumed")
	}

	if h.ExpertCount > 0 {
		m := &MoE{Experts: int(min(h.ExpertCount, 1<<31)), ExpertsPerToken: int(min(h.ExpertUsedCount, 1<<31)),
			ExpertIntermediate: int(min(h.ExpertFeedForwardLength, 1<<31)), SharedExperts: int(min(h.ExpertSharedCount, 1<<31))}
		moeSeen := false
		for i := 0; i < s.Layers; i++ {
			if !has(blk(i, "ffn_gate_inp.weight")) {
				m.DenseLayers = append(m.DenseLayers, i)
				continue
			}
			if !moeSeen {
				moeSeen = true
				// ffn_up_exps is [n_embd, n_ff_exp, n_expert] in ggml order.
				if t, ok := tensors[blk(i, "ffn_up_exps.weight")]; ok && len(t.Dims) == 3 {
					m.ExpertIntermediate = int(min(t.Dims[1], 1<<31))
				}
				if t, ok := tensors[blk(i, "ffn_up_shexp.weight")]; ok && len(t.Dims) == 2 {
					m.SharedIntermediate = int(min(t.Dims[1], 1<<31))
					if m.SharedExperts == 0 {
						m.SharedExperts = 1
					}
				}
				m.SharedExpertGate = has(blk(i, "ffn_gate_inp_shexp.weight"))
				m.RouterBias = has(blk(i, "ffn_gate_inp.bias"))
				m.ExpertBias = has(blk(i, "ffn_up_exps.bias"))
			}
		}
		if !moeSeen {
			// No router tensors found: fall back on the metadata.
			m.DenseLayers = nil
			for i := 0; i < int(min(h.LeadingDenseBlockCount, uint64(s.Layers))); i++ {
				m.DenseLayers = append(m.DenseLayers, i)
			}
			approx = append(approx, "router tensors not found; MoE layers assumed from leading_dense_block_count")
		}
		if m.ExpertIntermediate == 0 {
			m.ExpertIntermediate = s.Intermediate
		}
		if m.ExpertsPerToken == 0 {
			approx = append(approx, "experts used per token missing")
		}
		s.MoE = m
	}

	if err := ggufAttention(s, h, arch, &approx); err != nil {
		return nil, err
	}

	switch {
	case h.HasFileType && h.FileType == 0:
		s.DType = dtype.FP32
	case h.HasFileType && h.FileType == 1:
		s.DType = dtype.FP16
	case h.HasFileType && h.FileType == 32:
		s.DType = dtype.BF16
	}
	if quantizedGGUF(f) {
		s.Quant = &Quantization{Method: dtype.CheckpointGGUF, Format: h.FileTypeName()}
		s.Quant.TensorTypes, s.Quant.BitsPerWeight = ggufMix(f)
		if s.Quant.Format == "" && len(s.Quant.TensorTypes) > 0 {
			s.Quant.Format = s.Quant.TensorTypes[0]
		}
	}
	s.Inventory = ggufInventory(source, f)
	s.Source = "gguf " + source + " (architecture " + h.Architecture + " from llama.cpp metadata, structure from the tensor table, weights exact"
	if len(approx) > 0 {
		s.Source += "; approximate: " + strings.Join(approx, "; ")
	}
	s.Source += ")"
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("GGUF metadata does not describe a usable architecture: %w", err)
	}
	return s, nil
}

// ggufAttention sets each layer's attention kind from head_count_kv
// (0 = no attention), the sliding-window metadata and llama.cpp's
// per-architecture patterns registered with each family.
func ggufAttention(s *Spec, h *gguf.Hyperparameters, arch ggufArch, approx *[]string) error {
	kinds := make([]AttentionKind, s.Layers)
	for i := range kinds {
		kinds[i] = AttentionFull
		if i < len(h.HeadCountKVPerLayer) && h.HeadCountKVPerLayer[i] == 0 {
			kinds[i] = AttentionNone
		}
	}
	if len(h.HeadCountKVPerLayer) > 0 && len(h.HeadCountKVPerLayer) != s.Layers {
		return fmt.Errorf("head_count_kv has %d entries for %d layers", len(h.HeadCountKVPerLayer), s.Layers)
	}
	slide := func(i int) {
		if kinds[i] == AttentionFull {
			kinds[i] = AttentionSliding
		}
	}
	pattern := func(n int, set func(int)) {
		for i := range kinds {
			if inPattern(i, n) {
				set(i)
			}
		}
	}
	switch {
	case arch.chunk > 0:
		s.AttentionChunk = arch.chunk
		pattern(arch.chunkPattern, func(i int) {
			if kinds[i] == AttentionFull {
				kinds[i] = AttentionChunked
			}
		})
		*approx = append(*approx, fmt.Sprintf("attention chunk of %d tokens on %d of every %d layers, as llama.cpp assumes for %s", arch.chunk, arch.chunkPattern-1, arch.chunkPattern, h.Architecture))
	case h.SlidingWindow == 0:
	case len(h.SlidingWindowLayers) > 0:
		if len(h.SlidingWindowLayers) != s.Layers {
			return fmt.Errorf("sliding_window_pattern has %d entries for %d layers", len(h.SlidingWindowLayers), s.Layers)
		}
		for i, sl := range h.SlidingWindowLayers {
			if sl {
				slide(i)
			}
		}
	case h.SlidingWindowPattern > 0:
		pattern(int(min(h.SlidingWindowPattern, 1<<20)), slide)
	default:
		if arch.slidingPattern > 0 {
			pattern(arch.slidingPattern, slide)
		} else {
			*approx = append(*approx, "sliding_window is set but llama.cpp applies no sliding pattern for this architecture; all layers counted as full attention (an upper bound on KV cache)")
		}
	}
	if h.SlidingWindow > 0 {
		s.SlidingWindow = int(min(h.SlidingWindow, 1<<40))
	}
	for _, k := range kinds {
		if k != AttentionFull {
			s.LayerAttention = kinds
			break
		}
	}
	if s.LayerAttention != nil && !slices.Contains(s.LayerAttention, AttentionSliding) {
		s.SlidingWindow = 0
	}
	return nil
}

// isSigmoidGating reports {arch}.expert_gating_func == 2 (sigmoid,
// LLAMA_EXPERT_GATING_FUNC_TYPE_SIGMOID; gguf-py ExpertGatingFuncType).
func isSigmoidGating(f *gguf.File) bool {
	v, ok := f.Get("deepseek2.expert_gating_func")
	if !ok {
		return false
	}
	n, ok := v.Uint()
	return ok && n == 2
}

// quantizedGGUF reports whether any tensor is stored in a block-quantized
// type (anything but the plain float and integer types).
func quantizedGGUF(f *gguf.File) bool {
	for _, t := range f.Tensors {
		switch t.Type.String() {
		case "F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64":
		default:
			return true
		}
	}
	return false
}

// ggufMix returns a file's storage types that hold at least 1% of its
// bytes, most bytes first (F32 vectors left out), and its bits per
// element over every tensor: what llama.cpp actually loads.
func ggufMix(f *gguf.File) ([]string, float64) {
	all, by := f.Totals()
	type tb struct {
		name  string
		bytes int64
	}
	var types []tb
	for name, t := range by {
		if name == "F32" || all.Bytes == 0 || float64(t.Bytes) < 0.01*float64(all.Bytes) {
			continue
		}
		types = append(types, tb{name, t.Bytes})
	}
	sort.Slice(types, func(i, j int) bool {
		if types[i].bytes != types[j].bytes {
			return types[i].bytes > types[j].bytes
		}
		return types[i].name < types[j].name
	})
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = t.name
	}
	bpw := 0.0
	if all.Elements > 0 {
		bpw = float64(all.Bytes) * 8 / float64(all.Elements)
	}
	return out, bpw
}

// ggufInventory converts a GGUF tensor table. Shapes are given in PyTorch
// order (outermost first), the reverse of ggml's.
func ggufInventory(source string, f *gguf.File) *TensorInventory {
	inv := &TensorInventory{Format: "gguf", Source: source, ByDType: map[string]DTypeTotal{}}
	for _, t := range f.Tensors {
		shape := make([]int64, len(t.Dims))
		for i, d := range t.Dims {
			shape[len(shape)-1-i] = int64(d) // Parse checked each fits int64
		}
		inv.Tensors = append(inv.Tensors, TensorInfo{Name: t.Name, DType: t.Type.String(), Shape: shape, Bytes: units.Bytes(t.Bytes)})
	}
	all, by := f.Totals()
	inv.Params, inv.Bytes = all.Elements, units.Bytes(all.Bytes)
	for k, v := range by {
		inv.ByDType[k] = DTypeTotal{Elements: v.Elements, Bytes: units.Bytes(v.Bytes)}
	}
	return inv
}
