package gguf

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gpuplan/gpuplan/dtype"
)

type llamaFixture struct {
	Source string `json:"source"`
	Config struct {
		Hidden  uint64 `json:"hidden_size"`
		FFN     uint64 `json:"intermediate_size"`
		Layers  int    `json:"num_hidden_layers"`
		Heads   uint64 `json:"num_attention_heads"`
		KVHeads uint64 `json:"num_key_value_heads"`
		Vocab   uint64 `json:"vocab_size"`
	} `json:"config"`
	ParamsTotal int64 `json:"params_total"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

// llamaGGUF lays out a Llama-3.1-8B-shaped GGUF with a Q4_K_M-like type
// mix, with llama.cpp's tensor names and ggml dimension order.
func llamaGGUF(t *testing.T, f llamaFixture) ([]wkv, []wtensor) {
	c := f.Config
	kvDim := c.KVHeads * (c.Hidden / c.Heads)
	ts := []wtensor{{"token_embd.weight", []uint64{c.Hidden, c.Vocab}, 12}}
	for l := 0; l < c.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			wtensor{p + "attn_norm.weight", []uint64{c.Hidden}, 0},
			wtensor{p + "attn_q.weight", []uint64{c.Hidden, c.Hidden}, 12},
			wtensor{p + "attn_k.weight", []uint64{c.Hidden, kvDim}, 12},
			wtensor{p + "attn_v.weight", []uint64{c.Hidden, kvDim}, 14},
			wtensor{p + "attn_output.weight", []uint64{c.Hidden, c.Hidden}, 12},
			wtensor{p + "ffn_norm.weight", []uint64{c.Hidden}, 0},
			wtensor{p + "ffn_gate.weight", []uint64{c.Hidden, c.FFN}, 12},
			wtensor{p + "ffn_up.weight", []uint64{c.Hidden, c.FFN}, 12},
			wtensor{p + "ffn_down.weight", []uint64{c.FFN, c.Hidden}, 14},
		)
	}
	ts = append(ts, wtensor{"output_norm.weight", []uint64{c.Hidden}, 0}, wtensor{"output.weight", []uint64{c.Hidden, c.Vocab}, 14})
	kvs := []wkv{
		{"general.architecture", TypeString, "llama"},
		{"general.name", TypeString, "Llama 3.1 8B shaped test file"},
		{"general.file_type", TypeUint32, uint64(15)},
		{"llama.block_count", TypeUint32, uint64(c.Layers)},
		{"llama.context_length", TypeUint32, uint64(131072)},
		{"llama.embedding_length", TypeUint32, c.Hidden},
		{"llama.feed_forward_length", TypeUint32, c.FFN},
		{"llama.attention.head_count", TypeUint32, c.Heads},
		{"llama.attention.head_count_kv", TypeUint32, c.KVHeads},
		{"llama.rope.dimension_count", TypeUint32, c.Hidden / c.Heads},
		{"llama.rope.freq_base", TypeFloat32, 500000.0},
		{"llama.attention.layer_norm_rms_epsilon", TypeFloat32, 1e-5},
		{"tokenizer.ggml.model", TypeString, "gpt2"},
		{"tokenizer.ggml.tokens", TypeArray, strs("t", int(c.Vocab))},
		{"tokenizer.ggml.bos_token_id", TypeUint32, uint64(128000)},
		{"general.quantization_version", TypeUint32, uint64(2)},
	}
	return kvs, ts
}

// TestParseLlama31_8B checks the tensor table of a Llama-3.1-8B-shaped file:
// the element total must be the parameter count measured with the
// reference implementation, and each type's bytes must match the bits per
// weight ggml-common.h states for it.
func TestParseLlama31_8B(t *testing.T) {
	var fx llamaFixture
	readJSON(t, "testdata/llama-3.1-8b.json", &fx)
	var bpw struct {
		BPW map[string]float64 `json:"bpw"`
	}
	readJSON(t, "testdata/ggml-bpw.json", &bpw)

	kvs, ts := llamaGGUF(t, fx)
	head, data := build(3, kvs, ts, DefaultAlignment)
	v := &virtual{head: head, size: int64(len(head)) + data}
	f, err := Parse(v, v.size, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.reads) != 1 {
		t.Errorf("%d reads, want 1 (the %d-byte header fits in the first read)", len(v.reads), len(head))
	}
	all, by := f.Totals()
	if all.Elements != fx.ParamsTotal {
		t.Errorf("elements = %d, want %d (%s)", all.Elements, fx.ParamsTotal, fx.Source)
	}
	for _, name := range []string{"Q4_K", "Q6_K"} {
		want := float64(by[name].Elements) * bpw.BPW[name] / 8
		if float64(by[name].Bytes) != want {
			t.Errorf("%s bytes = %d, want %.0f (%g bits per weight)", name, by[name].Bytes, want, bpw.BPW[name])
		}
	}
	if by["F32"].Bytes != 4*by["F32"].Elements || by["F32"].Elements != int64(65*fx.Config.Hidden) {
		t.Errorf("F32 = %+v, want 65 norms of %d elements", by["F32"], fx.Config.Hidden)
	}
	if all.Bytes != by["Q4_K"].Bytes+by["Q6_K"].Bytes+by["F32"].Bytes {
		t.Errorf("total bytes %d is not the sum over types", all.Bytes)
	}
	if f.DataOffset != int64(len(head)) || f.DataBytes != data || f.DataOffset%DefaultAlignment != 0 {
		t.Errorf("data offset %d size %d; want %d, %d", f.DataOffset, f.DataBytes, len(head), data)
	}

	h, err := f.Hyperparameters()
	if err != nil {
		t.Fatal(err)
	}
	want := &Hyperparameters{
		Architecture: "llama", Name: "Llama 3.1 8B shaped test file",
		BlockCount: 32, EmbeddingLength: 4096, ContextLength: 131072, FeedForwardLength: 14336,
		HeadCount: 32, HeadCountKV: 8, RopeDimensionCount: 128,
		VocabSize: 128256, TokenCount: 128256, FileType: 15, HasFileType: true,
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("hyperparameters (-want +got):\n%s", diff)
	}
	if h.FileTypeName() != "Q4_K_M" || len(h.Missing()) != 0 {
		t.Errorf("file type %q, missing %v", h.FileTypeName(), h.Missing())
	}
	tok, _ := f.Get("tokenizer.ggml.tokens")
	if _, kept := tok.Elems(); kept || tok.Len != 128256 {
		t.Errorf("token array: len %d kept %v; want 128256, not kept", tok.Len, kept)
	}
	rope, _ := f.Get("llama.rope.freq_base")
	if x, ok := rope.Float(); !ok || x != 500000 {
		t.Errorf("rope.freq_base = %v", rope)
	}
}

func TestBitsPerWeight(t *testing.T) {
	var bpw struct {
		Source string             `json:"source"`
		BPW    map[string]float64 `json:"bpw"`
	}
	readJSON(t, "testdata/ggml-bpw.json", &bpw)
	for name, want := range bpw.BPW {
		typ, ok := TypeByName(name)
		if !ok {
			t.Errorf("type %s unknown", name)
			continue
		}
		if got := typ.BitsPerWeight(); got != want {
			t.Errorf("%s: %g bits per weight, want %g (%s)", name, got, want, bpw.Source)
		}
	}
	// Plain types and the 32-element legacy blocks, from their structs.
	plain := map[string]float64{"F32": 32, "F16": 16, "BF16": 16, "Q8_0": 8.5, "Q4_0": 4.5, "Q4_1": 5, "Q5_0": 5.5, "Q5_1": 6, "MXFP4": 4.25, "NVFP4": 4.5}
	for name, want := range plain {
		typ, _ := TypeByName(name)
		if got := typ.BitsPerWeight(); got != want {
			t.Errorf("%s: %g bits per weight, want %g", name, got, want)
		}
	}
}

// header builds raw header bytes by hand for malformed-input cases.
func header(version uint32, nTensors, nKV uint64, rest ...[]byte) []byte {
	var w writer
	w.WriteString("GGUF")
	w.u32(version)
	w.u64(nTensors)
	w.u64(nKV)
	for _, r := range rest {
		w.Write(r)
	}
	return w.Bytes()
}

func kvBytes(key string, t ValueType, body []byte) []byte {
	var w writer
	w.str(key)
	w.u32(uint32(t))
	w.Write(body)
	return w.Bytes()
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func tensorBytesRaw(name string, dims []uint64, typ uint32, off uint64) []byte {
	var w writer
	w.str(name)
	w.u32(uint32(len(dims)))
	for _, d := range dims {
		w.u64(d)
	}
	w.u32(typ)
	w.u64(off)
	return w.Bytes()
}

func TestParseInvalid(t *testing.T) {
	arch := kvBytes("general.architecture", TypeString, cat(le64(5), []byte("llama")))
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "corrupt or truncated"},
		{"bad magic", []byte("GGML\x03\x00\x00\x00"), `magic is "GGML"`},
		{"version 1", header(1, 0, 0), "version 1 is no longer supported"},
		{"version 4", header(4, 0, 0), "newer than this program"},
		{"byte-swapped version", header(0x03000000, 0, 0), "big-endian"},
		{"truncated counts", []byte("GGUF\x03\x00\x00\x00\x01"), "corrupt or truncated"},
		{"huge tensor count", header(3, 1<<60, 0), "header claims 1152921504606846976 tensors"},
		{"huge KV count", header(3, 0, 1<<62), "header claims 4611686018427387904 metadata entries"},
		{"more tensors than fit", header(3, 1000, 0), "a header with 1000 tensors needs 24000 bytes"},
		{"more entries than fit", header(3, 0, 1000), "a header with 1000 metadata entries needs 14000 bytes"},
		{"huge key length", header(3, 0, 1, le64(1<<62), make([]byte, 16)), "metadata key at offset 24 needs 4611686018427387904 bytes"},
		{"empty key", header(3, 0, 1, kvBytes("", TypeUint8, []byte{1}), make([]byte, 4)), "empty key"},
		{"duplicate key", header(3, 0, 2, arch, arch), `"general.architecture" appears twice`},
		{"unknown value type", header(3, 0, 1, kvBytes("k", 13, []byte{0})), "unknown value type 13"},
		{"huge string value", header(3, 0, 1, kvBytes("k", TypeString, le64(1<<40))), "needs 1099511627776 bytes"},
		{"huge array", header(3, 0, 1, kvBytes("k", TypeArray, cat(le32(uint32(TypeUint64)), le64(1<<40)))), "with 1099511627776 array elements of type u64 needs"},
		{"huge string array", header(3, 0, 1, kvBytes("k", TypeArray, cat(le32(uint32(TypeString)), le64(1<<40)))), "array elements of type str"},
		{"nested array", header(3, 0, 1, kvBytes("k", TypeArray, cat(le32(uint32(TypeArray)), le64(1)))), "array of arrays"},
		{"array of unknown type", header(3, 0, 1, kvBytes("k", TypeArray, cat(le32(99), le64(1)))), "array of unknown type 99"},
		{"string array element too long", header(3, 0, 1, kvBytes("k", TypeArray, cat(le32(uint32(TypeString)), le64(1), le64(1<<50)))), "needs 1125899906842624 bytes"},
		{"alignment not power of two", header(3, 0, 1, kvBytes("general.alignment", TypeUint32, le32(48))), "power of two"},
		{"alignment wrong type", header(3, 0, 1, kvBytes("general.alignment", TypeUint64, le64(32))), "must be a u32"},
		{"tensor name too long", header(3, 1, 0, tensorBytesRaw(strings.Repeat("x", 64), []uint64{32}, 0, 0)), "ggml allows at most 63"},
		{"five dimensions", header(3, 1, 0, tensorBytesRaw("t", []uint64{1, 1, 1, 1, 1}, 0, 0)), "5 dimensions"},
		{"unknown ggml type", header(3, 1, 0, tensorBytesRaw("t", []uint64{32}, 43, 0)), "unknown ggml tensor type 43"},
		{"removed ggml type", header(3, 1, 0, tensorBytesRaw("t", []uint64{32}, 31, 0)), "Q4_0_4_4 was removed"},
		{"row not a whole block", header(3, 1, 0, tensorBytesRaw("t", []uint64{100, 2}, 12, 0)), "not a multiple of Q4_K's block size 256"},
		{"element overflow", header(3, 1, 0, tensorBytesRaw("t", []uint64{1 << 32, 1 << 32}, 0, 0)), "overflows int64 elements"},
		{"dimension beyond int64", header(3, 1, 0, tensorBytesRaw("t", []uint64{1 << 63}, 0, 0)), "does not fit in int64"},
		{"byte overflow", header(3, 1, 0, tensorBytesRaw("t", []uint64{1 << 31, 1 << 31}, 0, 0)), "overflows int64 bytes"},
		{"duplicate tensor", header(3, 2, 0, tensorBytesRaw("t", []uint64{8}, 0, 0), tensorBytesRaw("t", []uint64{8}, 0, 32)), `tensor name "t" appears twice`},
		{"offset out of order", header(3, 2, 0, tensorBytesRaw("a", []uint64{8}, 0, 32), tensorBytesRaw("b", []uint64{8}, 0, 0)), `tensor "a" has data offset 32, expected 0`},
		{"offset not padded", header(3, 2, 0, tensorBytesRaw("a", []uint64{8}, 0, 0), tensorBytesRaw("b", []uint64{8}, 0, 8)), `tensor "b" has data offset 8, expected 32`},
		{"tensor data past end", header(3, 1, 0, tensorBytesRaw("a", []uint64{1024}, 0, 0)), "tensor data ends at byte"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBytes(tc.in)
			if err == nil {
				t.Fatalf("parsed; want error containing %q", tc.want)
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%v does not wrap ErrFormat", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	kvs := []wkv{{"general.architecture", TypeString, "llama"}, {"tokenizer.ggml.tokens", TypeArray, strs("token", 200000)}}
	head, data := build(3, kvs, []wtensor{{"w", []uint64{256, 4}, 14}}, DefaultAlignment)
	size := int64(len(head)) + data

	t.Run("header over limit", func(t *testing.T) {
		v := &virtual{head: head, size: size}
		_, err := Parse(v, size, &Options{MaxHeaderBytes: 1 << 20})
		if !errors.Is(err, ErrHeaderTooLarge) {
			t.Fatalf("err = %v, want ErrHeaderTooLarge", err)
		}
		var read int64
		for _, r := range v.reads {
			read += r[1]
		}
		if read > 1<<20 {
			t.Errorf("read %d bytes, over the 1 MiB limit", read)
		}
	})
	t.Run("reads grow geometrically", func(t *testing.T) {
		v := &virtual{head: head, size: size}
		f, err := Parse(v, -1, &Options{FirstReadBytes: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		// 2.8 MB of header from a 64 KiB start: 64K, 128K, ... 2M, 4M.
		if len(v.reads) > 7 {
			t.Errorf("%d reads: %v", len(v.reads), v.reads)
		}
		for i := 1; i < len(v.reads); i++ {
			if v.reads[i][0] != v.reads[i-1][0]+v.reads[i-1][1] {
				t.Errorf("read %d at %d is not contiguous with the previous one", i, v.reads[i][0])
			}
		}
		if tok, _ := f.Get("tokenizer.ggml.tokens"); tok.Len != 200000 {
			t.Errorf("tokens = %d", tok.Len)
		}
	})
	t.Run("size unknown, file truncated in header", func(t *testing.T) {
		v := &virtual{head: head[:len(head)/2], size: int64(len(head) / 2)}
		_, err := Parse(v, -1, nil)
		if err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestKeptElementBudget: many small arrays stop being kept once the
// file-wide budget is spent, but their lengths stay known.
func TestKeptElementBudget(t *testing.T) {
	var kvs []wkv
	arr := warr{et: TypeUint8}
	for i := 0; i < MaxKeptArray; i++ {
		arr.elems = append(arr.elems, uint64(i%256))
	}
	n := maxKeptElements/MaxKeptArray + 2
	for i := 0; i < n; i++ {
		kvs = append(kvs, wkv{fmt.Sprintf("k%d", i), TypeArray, arr})
	}
	head, _ := build(3, kvs, nil, DefaultAlignment)
	f, err := ParseBytes(head)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, kv := range f.KV {
		if kv.Value.Len != MaxKeptArray {
			t.Fatalf("%s: len %d", kv.Key, kv.Value.Len)
		}
		if _, ok := kv.Value.Elems(); ok {
			kept++
		}
	}
	if kept != maxKeptElements/MaxKeptArray {
		t.Errorf("%d arrays kept, want %d", kept, maxKeptElements/MaxKeptArray)
	}
}

func TestHyperparametersVariants(t *testing.T) {
	kvs := []wkv{
		{"general.architecture", TypeString, "gemma3"},
		{"gemma3.block_count", TypeUint32, uint64(4)},
		{"gemma3.embedding_length", TypeUint64, uint64(2560)},
		{"gemma3.attention.head_count", TypeInt32, int64(8)},
		{"gemma3.attention.head_count_kv", TypeArray, u32s(4, 4, 0, 2)},
		{"gemma3.feed_forward_length", TypeArray, u32s(10240, 10240, 10240, 8192)},
		{"gemma3.attention.key_length", TypeUint32, uint64(256)},
		{"gemma3.attention.value_length", TypeUint32, uint64(256)},
		{"gemma3.attention.sliding_window", TypeUint32, uint64(1024)},
		{"gemma3.attention.sliding_window_pattern", TypeArray, warr{TypeBool, []any{true, true, false, true}}},
		{"gemma3.expert_count", TypeUint32, uint64(0)},
		{"gemma3.vocab_size", TypeUint32, uint64(262208)},
	}
	head, _ := build(3, kvs, []wtensor{{"token_embd.weight", []uint64{256, 8}, 0}}, DefaultAlignment)
	f, err := ParseBytes(append(head, make([]byte, 256*8*4)...))
	if err != nil {
		t.Fatal(err)
	}
	h, err := f.Hyperparameters()
	if err != nil {
		t.Fatal(err)
	}
	if h.HeadCountKV != 4 || fmt.Sprint(h.HeadCountKVPerLayer) != "[4 4 0 2]" {
		t.Errorf("head_count_kv = %d %v", h.HeadCountKV, h.HeadCountKVPerLayer)
	}
	if h.FeedForwardLength != 10240 || len(h.FeedForwardPerLayer) != 4 {
		t.Errorf("ffn = %d %v", h.FeedForwardLength, h.FeedForwardPerLayer)
	}
	if h.HeadCount != 8 || h.EmbeddingLength != 2560 || h.KeyLength != 256 || h.SlidingWindow != 1024 {
		t.Errorf("h = %+v", h)
	}
	if fmt.Sprint(h.SlidingWindowLayers) != "[true true false true]" {
		t.Errorf("sliding layers = %v", h.SlidingWindowLayers)
	}
	if h.VocabSize != 262208 || !h.TiedEmbeddings || h.HasFileType {
		t.Errorf("vocab %d tied %v hasFileType %v", h.VocabSize, h.TiedEmbeddings, h.HasFileType)
	}

	bad := []struct {
		name string
		kvs  []wkv
		want string
	}{
		{"no architecture", []wkv{{"general.name", TypeString, "x"}}, "no general.architecture"},
		{"architecture not a string", []wkv{{"general.architecture", TypeUint32, uint64(1)}}, "not a non-empty string"},
		{"block count as string", []wkv{{"general.architecture", TypeString, "llama"}, {"llama.block_count", TypeString, "32"}}, "llama.block_count is str"},
		{"negative head count", []wkv{{"general.architecture", TypeString, "llama"}, {"llama.attention.head_count", TypeInt32, int64(-1)}}, "head_count is i32"},
		{"float array head count", []wkv{{"general.architecture", TypeString, "llama"}, {"llama.attention.head_count_kv", TypeArray, warr{TypeFloat32, []any{1.0}}}}, "not of at most 4096 non-negative integers"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			head, _ := build(3, tc.kvs, nil, DefaultAlignment)
			f, err := ParseBytes(head)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Hyperparameters(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	head, _ = build(3, []wkv{{"general.architecture", TypeString, "llama"}}, nil, DefaultAlignment)
	f, _ = ParseBytes(head)
	h, _ = f.Hyperparameters()
	if diff := cmp.Diff([]string{"llama.block_count", "llama.embedding_length", "llama.attention.head_count"}, h.Missing()); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
}

func TestValues(t *testing.T) {
	kvs := []wkv{
		{"u8", TypeUint8, uint64(200)},
		{"i8", TypeInt8, int64(-3)},
		{"u16", TypeUint16, uint64(60000)},
		{"i16", TypeInt16, int64(-300)},
		{"i32", TypeInt32, int64(-70000)},
		{"u64", TypeUint64, uint64(1 << 40)},
		{"i64", TypeInt64, int64(-1 << 40)},
		{"f64", TypeFloat64, 0.25},
		{"b", TypeBool, true},
		{"s", TypeString, "héllo"},
		{"arr", TypeArray, warr{TypeInt16, []any{int64(-1), int64(2)}}},
	}
	head, _ := build(2, kvs, nil, DefaultAlignment)
	f, err := ParseBytes(head)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 {
		t.Errorf("version %d", f.Version)
	}
	get := func(k string) Value { v, _ := f.Get(k); return v }
	if n, ok := get("u8").Uint(); !ok || n != 200 {
		t.Errorf("u8 = %d %v", n, ok)
	}
	if n, ok := get("i8").Int(); !ok || n != -3 {
		t.Errorf("i8 = %d", n)
	}
	if _, ok := get("i8").Uint(); ok {
		t.Error("negative i8 read as unsigned")
	}
	if n, _ := get("u16").Uint(); n != 60000 {
		t.Errorf("u16 = %d", n)
	}
	if n, _ := get("i16").Int(); n != -300 {
		t.Errorf("i16 = %d", n)
	}
	if n, _ := get("i32").Int(); n != -70000 {
		t.Errorf("i32 = %d", n)
	}
	if n, _ := get("u64").Uint(); n != 1<<40 {
		t.Errorf("u64 = %d", n)
	}
	if n, _ := get("i64").Int(); n != -1<<40 {
		t.Errorf("i64 = %d", n)
	}
	if x, _ := get("f64").Float(); x != 0.25 {
		t.Errorf("f64 = %g", x)
	}
	if b, ok := get("b").Bool(); !ok || !b {
		t.Errorf("b = %v", b)
	}
	if s, ok := get("s").Text(); !ok || s != "héllo" {
		t.Errorf("s = %q", s)
	}
	arr := get("arr")
	el, ok := arr.Elems()
	if !ok || len(el) != 2 || arr.String() != "[2 × i16]" {
		t.Fatalf("arr = %v", arr)
	}
	if n, _ := el[0].Int(); n != -1 {
		t.Errorf("arr[0] = %d", n)
	}
	if _, ok := arr.Uints(); ok {
		t.Error("array with a negative element read as unsigned")
	}
	if diff := cmp.Diff([]string{"arr", "b", "f64", "i16", "i32", "i64", "i8", "s", "u16", "u64", "u8"}, f.Keys()); diff != "" {
		t.Errorf("keys: %s", diff)
	}
}

func TestReadFileAndSplit(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, kvs []wkv, ts []wtensor) string {
		head, data := build(3, kvs, ts, DefaultAlignment)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, head, 0o644); err != nil {
			t.Fatal(err)
		}
		// Extend sparsely: the data section costs no disk.
		if err := os.Truncate(p, int64(len(head))+data); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := []wkv{{"general.architecture", TypeString, "llama"}, {"split.count", TypeUint16, uint64(3)}, {"split.tensors.count", TypeInt32, int64(3)}}
	part := func(no uint64) []wkv {
		return append(append([]wkv(nil), base...), wkv{"split.no", TypeUint16, no})
	}
	p1 := write("m-00001-of-00003.gguf", part(0), []wtensor{{"token_embd.weight", []uint64{4096, 1000}, 8}})
	write("m-00002-of-00003.gguf", part(1), []wtensor{{"blk.0.ffn_up.weight", []uint64{4096, 4096}, 12}})
	write("m-00003-of-00003.gguf", part(2), []wtensor{{"output.weight", []uint64{4096, 1000}, 14}})

	single, err := ReadFile(p1)
	if err != nil {
		t.Fatal(err)
	}
	if len(single.Tensors) != 1 || single.Size <= single.DataOffset {
		t.Errorf("first part alone: %d tensors, size %d", len(single.Tensors), single.Size)
	}
	open := func(_ context.Context, name string) (io.ReaderAt, int64, error) {
		fh, err := os.Open(name)
		if err != nil {
			return nil, 0, err
		}
		st, _ := fh.Stat()
		return fh, st.Size(), nil
	}
	f, err := Open(context.Background(), open, p1, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, by := f.Totals()
	wantBytes := int64(4096*1000/32*34 + 4096*4096/256*144 + 4096*1000/256*210)
	if len(f.Tensors) != 3 || all.Bytes != wantBytes || by["Q8_0"].Elements != 4096*1000 {
		t.Errorf("%d tensors, %d bytes (want %d), by %v", len(f.Tensors), all.Bytes, wantBytes, by)
	}
	h, err := f.Hyperparameters()
	if err != nil {
		t.Fatal(err)
	}
	if h.TiedEmbeddings || h.SplitCount != 3 {
		t.Errorf("tied %v split %d; the output matrix is in part 3", h.TiedEmbeddings, h.SplitCount)
	}

	// Opening a later part, or a part list with a hole, fails clearly.
	if _, err := Open(context.Background(), open, filepath.Join(dir, "m-00002-of-00003.gguf"), nil); err == nil || !strings.Contains(err.Error(), "open the first part") {
		t.Errorf("err = %v", err)
	}
	os.Remove(filepath.Join(dir, "m-00003-of-00003.gguf"))
	if _, err := Open(context.Background(), open, p1, nil); err == nil || !strings.Contains(err.Error(), "m-00003-of-00003.gguf") {
		t.Errorf("err = %v", err)
	}
	renamed := filepath.Join(dir, "renamed.gguf")
	os.Rename(p1, renamed)
	if _, err := Open(context.Background(), open, renamed, nil); err == nil || !strings.Contains(err.Error(), "does not follow") {
		t.Errorf("err = %v", err)
	}
}

func TestSplitNames(t *testing.T) {
	names, ok := SplitNames("https://h/x/Model-Q4_K_M-00002-of-00003.gguf")
	if !ok || len(names) != 3 || names[0] != "https://h/x/Model-Q4_K_M-00001-of-00003.gguf" {
		t.Errorf("names = %v", names)
	}
	for _, bad := range []string{"model.gguf", "m-00004-of-00003.gguf", "m-00000-of-00003.gguf", "m-1-of-3.gguf"} {
		if _, ok := SplitNames(bad); ok {
			t.Errorf("%s taken as a split name", bad)
		}
	}
}

// TestDTypeConsistency: the dtype package's GGUF precisions must agree
// with the block layouts here.
func TestDTypeConsistency(t *testing.T) {
	for _, p := range dtype.Precisions() {
		if !p.GGUF {
			continue
		}
		typ, ok := TypeByName(strings.ToUpper(p.Name))
		if !ok {
			t.Errorf("precision %s has no ggml type", p.Name)
			continue
		}
		if got := typ.BitsPerWeight(); got != p.BitsPerWeight {
			t.Errorf("precision %s: dtype says %g bits per weight, ggml layout gives %g", p.Name, p.BitsPerWeight, got)
		}
	}
}
