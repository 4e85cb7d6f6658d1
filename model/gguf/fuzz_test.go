package gguf

import (
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser. It may not panic or hang,
// and a file that parses must have a consistent tensor layout and readable
// hyperparameters (or a clear error).
func FuzzParse(f *testing.F) {
	small, _ := build(3, []wkv{
		{"general.architecture", TypeString, "llama"},
		{"llama.block_count", TypeUint32, uint64(2)},
		{"llama.attention.head_count_kv", TypeArray, u32s(8, 8)},
		{"tokenizer.ggml.tokens", TypeArray, strs("t", 5)},
		{"general.alignment", TypeUint32, uint64(64)},
	}, []wtensor{{"token_embd.weight", []uint64{32, 4}, 8}, {"blk.0.attn_q.weight", []uint64{256, 2}, 12}}, 64)
	f.Add(small)
	v2, _ := build(2, []wkv{{"k", TypeArray, warr{TypeBool, []any{true, false}}}}, nil, DefaultAlignment)
	f.Add(v2)
	f.Add(header(3, 1, 1, kvBytes("k", TypeArray, cat(le32(uint32(TypeString)), le64(3)))))
	f.Add(header(3, 1, 0, tensorBytesRaw("t", []uint64{1 << 31, 1 << 31}, 0, 0)))
	f.Add([]byte("GGUF"))
	// block_count 2^31: parses; model.SpecFromGGUF must refuse it at once
	// (model.FuzzSpecFromGGUF carries the same case).
	huge, _ := build(3, []wkv{
		{"general.architecture", TypeString, "llama"},
		{"llama.block_count", TypeUint32, uint64(1 << 31)},
	}, nil, DefaultAlignment)
	f.Add(huge)
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := ParseBytes(b)
		if err != nil {
			return
		}
		var next int64
		for _, ts := range file.Tensors {
			if int64(ts.Offset) != next {
				t.Fatalf("tensor %q at %d, expected %d", ts.Name, ts.Offset, next)
			}
			if !ts.Type.Known() || ts.Bytes < 0 || ts.Elements < 0 {
				t.Fatalf("tensor %+v accepted", ts)
			}
			next += pad(ts.Bytes, int64(file.Alignment))
		}
		if next != file.DataBytes {
			t.Fatalf("data bytes %d, tensors need %d", file.DataBytes, next)
		}
		if len(file.Tensors) > 0 && file.DataOffset%int64(file.Alignment) != 0 {
			t.Fatalf("data offset %d not aligned to %d", file.DataOffset, file.Alignment)
		}
		if h, err := file.Hyperparameters(); err == nil {
			_ = h.Missing()
			_ = h.FileTypeName()
		}
		for _, kv := range file.KV {
			_ = kv.Value.String()
		}
	})
}
