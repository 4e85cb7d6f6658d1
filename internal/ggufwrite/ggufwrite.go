// Package ggufwrite writes runnable GGUF models of real shapes for tests:
// every weight is zero except the norm weights (1.0), the tokenizer is a
// SentencePiece ("llama") vocabulary with byte fallback, and the file is
// sparse, so a 1.1B-parameter model costs a few kilobytes of disk until
// something copies it.
//
// The layout is the GGUF v3 format as specified in ggml's docs/gguf.md
// (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): magic,
// version, tensor and key/value counts, typed key/values, tensor infos,
// padding to general.alignment (32 by default), then the tensor data with
// each tensor's offset a multiple of the alignment. Key names are the ones
// gguf-py defines (gguf-py/gguf/constants.py in ggml-org/llama.cpp), and
// the tensors per architecture are the ones llama.cpp's loader requires
// (llm_load_tensors / llama_model::load_tensors in src/llama-model.cpp of
// the llama.cpp that Ollama v0.9.0 vendors, commit de4c07f).
//
// A zero block decodes to zeros in every supported type (each block's
// scales are zero), so the data section needs no writes except the norms.
// With zero embeddings the hidden state stays zero, RMS norm maps zero to
// zero and the logits are all zero: the model samples uniformly, which is
// meaningless text but exercises every kernel at its real size.
package ggufwrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/gpuplan/gpuplan/model/gguf"
)

// Shape is an architecture and its sizes.
type Shape struct {
	// Arch is general.architecture: "llama", "qwen2" or "gemma2".
	Arch string
	// Name is general.name.
	Name string

	Layers  int // {arch}.block_count
	Hidden  int // {arch}.embedding_length
	FFN     int // {arch}.feed_forward_length
	Heads   int // {arch}.attention.head_count
	KVHeads int // {arch}.attention.head_count_kv
	// HeadDim is the per-head width; 0 means Hidden/Heads. When it differs
	// from Hidden/Heads (Gemma 2), key_length and value_length are written.
	HeadDim int
	// Vocab is the token count (at least 259: three specials and 256 bytes).
	Vocab int
	// ContextLength is {arch}.context_length (trained context).
	ContextLength int
	// Tied leaves out output.weight, so llama.cpp reuses token_embd.weight.
	// Gemma 2 is always tied.
	Tied bool
	// SlidingWindow is gemma2.attention.sliding_window (0: not written).
	SlidingWindow int

	// Type stores every 2-D matrix (embeddings, attention, FFN, output):
	// F16, Q8_0, Q4_0, Q4_K or Q6_K. 1-D tensors (norms, biases) are F32,
	// as llama.cpp's converters store them.
	Type gguf.GGMLType
	// Wide, when set, stores attn_v, ffn_down and the output head in a
	// wider type, a simplified form of llama.cpp's _M recipes (Q4_K_M keeps
	// these in Q6_K: llama_tensor_get_type in src/llama-quant.cpp), so the
	// file mixes two matrix types as real Q4_K_M files do.
	Wide gguf.GGMLType
}

// Tensor is one tensor of a shape: its name, ggml dimensions (ne[0] is the
// row length) and type.
type Tensor struct {
	Name string
	Dims []uint64
	Type gguf.GGMLType
	// One means every element is 1.0 (norm weights); otherwise zeros.
	One bool
}

// supported are the matrix types the writer produces; zero bytes decode to
// zero in each (ggml-common.h block layouts: the scale fields come first
// and a zero scale zeroes the block).
var supported = map[string]bool{"F16": true, "Q8_0": true, "Q4_0": true, "Q4_K": true, "Q6_K": true, "F32": true}

// fileType maps a matrix type to general.file_type (enum llama_ftype in
// llama.cpp's include/llama.h: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2,
// MOSTLY_Q8_0 7, MOSTLY_Q4_K_M 15, MOSTLY_Q6_K 18).
var fileType = map[string]uint32{"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7, "Q4_K": 15, "Q6_K": 18}

func (s Shape) headDim() int {
	if s.HeadDim > 0 {
		return s.HeadDim
	}
	return s.Hidden / s.Heads
}

// Validate checks that the shape is one llama.cpp can load.
func (s Shape) Validate() error {
	switch s.Arch {
	case "llama", "qwen2", "gemma2":
	default:
		return fmt.Errorf("ggufwrite: architecture %q not supported (llama, qwen2, gemma2)", s.Arch)
	}
	if s.Layers < 1 || s.Hidden < 1 || s.FFN < 1 || s.Heads < 1 || s.KVHeads < 1 || s.Vocab < 259 {
		return fmt.Errorf("ggufwrite: shape %+v has a zero size or fewer than 259 tokens", s)
	}
	if s.Heads%s.KVHeads != 0 {
		return fmt.Errorf("ggufwrite: %d heads are not a multiple of %d KV heads", s.Heads, s.KVHeads)
	}
	if !supported[s.Type.String()] {
		return fmt.Errorf("ggufwrite: matrix type %s not supported (F16, Q8_0, Q4_0, Q4_K, Q6_K)", s.Type)
	}
	if s.Wide != 0 && !supported[s.Wide.String()] {
		return fmt.Errorf("ggufwrite: wide matrix type %s not supported (F16, Q8_0, Q4_0, Q4_K, Q6_K)", s.Wide)
	}
	for _, t := range s.Tensors() {
		if int64(t.Dims[0])%t.Type.BlockSize() != 0 {
			return fmt.Errorf("ggufwrite: %s row of %d is not a multiple of %s's block of %d", t.Name, t.Dims[0], t.Type, t.Type.BlockSize())
		}
	}
	return nil
}

// Tensors lists the tensors llama.cpp's loader reads for the shape, in the
// order they are written.
func (s Shape) Tensors() []Tensor {
	h, kv := uint64(s.Hidden), uint64(s.KVHeads*s.headDim())
	q := uint64(s.Heads * s.headDim())
	ff, v := uint64(s.FFN), uint64(s.Vocab)
	norm := func(name string, n uint64) Tensor {
		return Tensor{Name: name, Dims: []uint64{n}, Type: gguf.GGMLType(0), One: true}
	}
	mat := func(name string, cols, rows uint64) Tensor {
		t := Tensor{Name: name, Dims: []uint64{cols, rows}, Type: s.Type}
		if s.Wide != 0 && (name == "output.weight" || strings.HasSuffix(name, ".attn_v.weight") || strings.HasSuffix(name, ".ffn_down.weight")) {
			t.Type = s.Wide
		}
		return t
	}
	bias := func(name string, n uint64) Tensor {
		return Tensor{Name: name, Dims: []uint64{n}, Type: gguf.GGMLType(0)}
	}
	ts := []Tensor{mat("token_embd.weight", h, v), norm("output_norm.weight", h)}
	if !s.Tied && s.Arch != "gemma2" {
		ts = append(ts, mat("output.weight", h, v))
	}
	for i := 0; i < s.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		ts = append(ts,
			norm(p+"attn_norm.weight", h),
			mat(p+"attn_q.weight", h, q),
			mat(p+"attn_k.weight", h, kv),
			mat(p+"attn_v.weight", h, kv),
			mat(p+"attn_output.weight", q, h))
		if s.Arch == "qwen2" {
			ts = append(ts, bias(p+"attn_q.bias", q), bias(p+"attn_k.bias", kv), bias(p+"attn_v.bias", kv))
		}
		if s.Arch == "gemma2" {
			ts = append(ts, norm(p+"post_attention_norm.weight", h))
		}
		ts = append(ts,
			norm(p+"ffn_norm.weight", h),
			mat(p+"ffn_gate.weight", h, ff),
			mat(p+"ffn_up.weight", h, ff),
			mat(p+"ffn_down.weight", ff, h))
		if s.Arch == "gemma2" {
			ts = append(ts, norm(p+"post_ffw_norm.weight", h))
		}
	}
	return ts
}

// Alignment is the data alignment the writer uses (GGUF's default,
// GGUF_DEFAULT_ALIGNMENT in ggml's gguf.h).
const Alignment = 32

// kvs is the metadata of the shape, in write order.
func (s Shape) kvs() []kv {
	a := s.Arch
	name := s.Name
	if name == "" {
		name = fmt.Sprintf("gpuplan-test-%s-%dx%d", a, s.Layers, s.Hidden)
	}
	ctx := s.ContextLength
	if ctx == 0 {
		ctx = 4096
	}
	out := []kv{
		{"general.architecture", vString, a},
		{"general.name", vString, name},
		{"general.file_type", vUint32, fileType[s.Type.String()]},
		{"general.alignment", vUint32, uint32(Alignment)},
		{a + ".context_length", vUint32, uint32(ctx)},
		{a + ".embedding_length", vUint32, uint32(s.Hidden)},
		{a + ".block_count", vUint32, uint32(s.Layers)},
		{a + ".feed_forward_length", vUint32, uint32(s.FFN)},
		{a + ".attention.head_count", vUint32, uint32(s.Heads)},
		{a + ".attention.head_count_kv", vUint32, uint32(s.KVHeads)},
		{a + ".attention.layer_norm_rms_epsilon", vFloat32, float32(1e-6)},
		{a + ".rope.freq_base", vFloat32, float32(10000)},
		{a + ".rope.dimension_count", vUint32, uint32(s.headDim())},
	}
	if s.HeadDim > 0 && s.HeadDim != s.Hidden/s.Heads {
		out = append(out,
			kv{a + ".attention.key_length", vUint32, uint32(s.HeadDim)},
			kv{a + ".attention.value_length", vUint32, uint32(s.HeadDim)})
	}
	if a == "gemma2" {
		if s.SlidingWindow > 0 {
			out = append(out, kv{a + ".attention.sliding_window", vUint32, uint32(s.SlidingWindow)})
		}
		// Gemma 2's published soft-caps (config.json attn_logit_softcapping
		// 50, final_logit_softcapping 30).
		out = append(out,
			kv{a + ".attn_logit_softcapping", vFloat32, float32(50)},
			kv{a + ".final_logit_softcapping", vFloat32, float32(30)})
	}
	tokens, scores, types := Vocabulary(s.Vocab)
	out = append(out,
		kv{"tokenizer.ggml.model", vString, "llama"},
		kv{"tokenizer.ggml.tokens", vArray, tokens},
		kv{"tokenizer.ggml.scores", vArray, scores},
		kv{"tokenizer.ggml.token_type", vArray, types},
		kv{"tokenizer.ggml.unknown_token_id", vUint32, uint32(0)},
		kv{"tokenizer.ggml.bos_token_id", vUint32, uint32(1)},
		kv{"tokenizer.ggml.eos_token_id", vUint32, uint32(2)},
		kv{"tokenizer.ggml.add_bos_token", vBool, true},
		kv{"tokenizer.ggml.add_eos_token", vBool, false},
	)
	return out
}

// Token types (enum llama_token_type / gguf-py TokenType): normal 1,
// unknown 2, control 3, byte 6.
const (
	tokNormal  int32 = 1
	tokUnknown int32 = 2
	tokControl int32 = 3
	tokByte    int32 = 6
)

// Vocabulary returns a SentencePiece vocabulary of n tokens with byte
// fallback: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF> (which
// SentencePiece's byte_fallback uses for any text the other pieces miss),
// then unique filler pieces "▁t<i>" with decreasing scores.
func Vocabulary(n int) (tokens []string, scores []float32, types []int32) {
	tokens = append(tokens, "<unk>", "<s>", "</s>")
	types = append(types, tokUnknown, tokControl, tokControl)
	for b := 0; b < 256; b++ {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		types = append(types, tokByte)
	}
	for i := len(tokens); i < n; i++ {
		tokens = append(tokens, fmt.Sprintf("\u2581t%d", i))
		types = append(types, tokNormal)
	}
	tokens, types = tokens[:n], types[:n]
	scores = make([]float32, n)
	for i := range scores {
		scores[i] = -float32(i)
	}
	return tokens, scores, types
}

// Write writes the shape to path as a sparse GGUF file and returns its
// size in bytes. It fails on an invalid shape and leaves no file behind.
func Write(path string, s Shape) (int64, error) {
	if err := s.Validate(); err != nil {
		return 0, err
	}
	head, layout, size, err := s.encode()
	if err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	fail := func(err error) (int64, error) {
		f.Close()
		os.Remove(path)
		return 0, fmt.Errorf("ggufwrite: %s: %w", path, err)
	}
	if _, err := f.Write(head); err != nil {
		return fail(err)
	}
	// Truncate first: everything not written below stays a hole.
	if err := f.Truncate(size); err != nil {
		return fail(err)
	}
	for _, l := range layout {
		if !l.t.One {
			continue
		}
		n := int(l.t.Dims[0])
		buf := make([]byte, 4*n)
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(1))
		}
		if _, err := f.WriteAt(buf, int64(len(head))+l.offset); err != nil {
			return fail(err)
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return 0, err
	}
	return size, nil
}

type placed struct {
	t      Tensor
	offset int64 // from the start of the data section
}

func padTo(n, a int64) int64 { return (n + a - 1) / a * a }

// encode returns the header (with its padding), each tensor's data offset
// and the file's total size.
func (s Shape) encode() ([]byte, []placed, int64, error) {
	var b []byte
	b = append(b, "GGUF"...)
	b = binary.LittleEndian.AppendUint32(b, 3)
	ts := s.Tensors()
	kvs := s.kvs()
	b = binary.LittleEndian.AppendUint64(b, uint64(len(ts)))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(kvs)))
	for _, kv := range kvs {
		var err error
		if b, err = kv.append(b); err != nil {
			return nil, nil, 0, err
		}
	}
	var layout []placed
	var off int64
	for _, t := range ts {
		b = appendString(b, t.Name)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Dims)))
		for _, d := range t.Dims {
			b = binary.LittleEndian.AppendUint64(b, d)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Type))
		b = binary.LittleEndian.AppendUint64(b, uint64(off))
		layout = append(layout, placed{t, off})
		off += padTo(Bytes(t), Alignment)
	}
	for len(b)%Alignment != 0 {
		b = append(b, 0)
	}
	return b, layout, int64(len(b)) + off, nil
}

// Bytes is a tensor's stored size: rows of ne[0]/block elements at the
// type's bytes per block (ggml_nbytes).
func Bytes(t Tensor) int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= int64(d)
	}
	return n / t.Type.BlockSize() * t.Type.TypeSize()
}

// GGUF value types (enum gguf_type in ggml's gguf.h).
const (
	vUint32  uint32 = 4
	vInt32   uint32 = 5
	vFloat32 uint32 = 6
	vBool    uint32 = 7
	vString  uint32 = 8
	vArray   uint32 = 9
)

type kv struct {
	key string
	typ uint32
	val any
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

func (k kv) append(b []byte) ([]byte, error) {
	b = appendString(b, k.key)
	b = binary.LittleEndian.AppendUint32(b, k.typ)
	switch v := k.val.(type) {
	case string:
		return appendString(b, v), nil
	case uint32:
		return binary.LittleEndian.AppendUint32(b, v), nil
	case float32:
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(v)), nil
	case bool:
		if v {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case []string:
		b = binary.LittleEndian.AppendUint32(b, vString)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(v)))
		for _, s := range v {
			b = appendString(b, s)
		}
		return b, nil
	case []float32:
		b = binary.LittleEndian.AppendUint32(b, vFloat32)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(v)))
		for _, f := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
		return b, nil
	case []int32:
		b = binary.LittleEndian.AppendUint32(b, vInt32)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(v)))
		for _, i := range v {
			b = binary.LittleEndian.AppendUint32(b, uint32(i))
		}
		return b, nil
	}
	return nil, errors.New("ggufwrite: unsupported value for " + k.key)
}

// TypeByName is gguf.TypeByName restricted to the writer's matrix types.
func TypeByName(name string) (gguf.GGMLType, error) {
	t, ok := gguf.TypeByName(strings.ToUpper(name))
	if !ok || !supported[t.String()] || t.String() == "F32" {
		return 0, fmt.Errorf("ggufwrite: type %q not supported (F16, Q8_0, Q4_0, Q4_K, Q6_K)", name)
	}
	return t, nil
}
