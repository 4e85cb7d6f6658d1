package ggufwrite

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gpuplan/gpuplan/model/gguf"
)

// TinyLlama-1.1B's published shape (config.json of
// TinyLlama/TinyLlama-1.1B-Chat-v1.0: 22 layers, hidden 2048,
// intermediate 5632, 32 heads, 4 KV heads, vocab 32000).
var tinyLlama = Shape{Arch: "llama", Layers: 22, Hidden: 2048, FFN: 5632, Heads: 32, KVHeads: 4, Vocab: 32000, ContextLength: 2048}

func mustType(t *testing.T, name string) gguf.GGMLType {
	t.Helper()
	ty, err := TypeByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return ty
}

func TestWrittenFileParses(t *testing.T) {
	cases := []struct {
		name  string
		shape Shape
		// params is the element count from the published architecture:
		// embeddings + layers × (attention + FFN + norms) + final norm (+ output).
		params int64
	}{
		{"llama-1.1b-q8_0", func() Shape { s := tinyLlama; s.Type = mustType(t, "Q8_0"); return s }(),
			// 32000×2048×2 + 22×(2048×2048×2 + 2048×256×2 + 3×2048×5632 + 2×2048) + 2048
			32000*2048*2 + 22*(2048*2048*2+2048*256*2+3*2048*5632+2*2048) + 2048},
		{"qwen2-tied-q4_0", Shape{Arch: "qwen2", Layers: 2, Hidden: 896, FFN: 4864, Heads: 14, KVHeads: 2, Vocab: 1024, Tied: true, Type: mustType(t, "Q4_0")},
			// embeddings + 2×(q,o 896² + k,v 896×128 + biases 896+128+128 + FFN + 2 norms) + final norm
			1024*896 + 2*(896*896*2+896*128*2+896+128*2+3*896*4864+2*896) + 896},
		{"gemma2-f16", Shape{Arch: "gemma2", Layers: 2, Hidden: 256, FFN: 512, Heads: 4, KVHeads: 2, HeadDim: 128, Vocab: 512, SlidingWindow: 64, Type: mustType(t, "F16")},
			512*256 + 2*(256*512*2+256*256*2+3*256*512+4*256) + 256},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.gguf")
			size, err := Write(path, c.shape)
			if err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() != size {
				t.Fatalf("file is %d bytes, Write said %d", st.Size(), size)
			}
			f, err := gguf.ReadFile(path)
			if err != nil {
				t.Fatalf("model/gguf cannot parse the written file: %v", err)
			}
			all, _ := f.Totals()
			if all.Elements != c.params {
				t.Errorf("elements = %d, want %d", all.Elements, c.params)
			}
			if f.DataOffset+f.DataBytes != size {
				t.Errorf("data ends at %d, file is %d bytes", f.DataOffset+f.DataBytes, size)
			}
			hp, err := f.Hyperparameters()
			if err != nil {
				t.Fatal(err)
			}
			if hp.Architecture != c.shape.Arch || int(hp.BlockCount) != c.shape.Layers || int(hp.HeadCountKV) != c.shape.KVHeads || int(hp.VocabSize) != c.shape.Vocab {
				t.Errorf("hyperparameters %+v do not match %+v", hp, c.shape)
			}
			if hp.TiedEmbeddings != (c.shape.Tied || c.shape.Arch == "gemma2") {
				t.Errorf("tied = %v", hp.TiedEmbeddings)
			}
			// Norms are 1.0, everything else reads as zero: check each
			// tensor's first and last 4 KiB (the whole of small ones).
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			for _, tn := range f.Tensors {
				one := tn.Type == 0 && strings.HasSuffix(tn.Name, "norm.weight")
				want := uint32(0)
				if one {
					want = math.Float32bits(1)
				}
				start := f.DataOffset + int64(tn.Offset)
				for _, r := range [][2]int64{{0, min(4096, tn.Bytes)}, {max(0, tn.Bytes-4096), tn.Bytes}} {
					data := make([]byte, r[1]-r[0])
					if _, err := fh.ReadAt(data, start+r[0]); err != nil {
						t.Fatal(err)
					}
					for i := 0; i+4 <= len(data); i += 4 {
						if got := binary.LittleEndian.Uint32(data[i:]); got != want {
							t.Fatalf("%s word at %d = %#x, want %#x", tn.Name, r[0]+int64(i), got, want)
						}
					}
				}
			}
		})
	}
}

func TestFileIsSparse(t *testing.T) {
	s := tinyLlama
	s.Type = mustType(t, "Q8_0")
	path := filepath.Join(t.TempDir(), "m.gguf")
	size, err := Write(path, s)
	if err != nil {
		t.Fatal(err)
	}
	// Q8_0 is 34 bytes per 32 weights: 1.1B weights are about 1.17 GB.
	if size < 1_100_000_000 || size > 1_250_000_000 {
		t.Fatalf("size = %d, want about 1.17 GB", size)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	if used := st.Blocks * 512; used > 64<<20 {
		t.Errorf("file uses %d bytes of disk, want a sparse file under 64 MiB", used)
	}
}

func TestVocabulary(t *testing.T) {
	toks, scores, types := Vocabulary(300)
	if len(toks) != 300 || len(scores) != 300 || len(types) != 300 {
		t.Fatal("lengths")
	}
	if toks[0] != "<0x00>" || toks[0x0A] != "<0x0A>" || toks[255] != "<0xFF>" || types[255] != tokByte {
		t.Errorf("byte tokens misplaced: %q %q %q", toks[0], toks[0x0A], toks[255])
	}
	if toks[UnknownID(300)] != "<unk>" || toks[BOSID(300)] != "<s>" || toks[EOSID(300)] != "</s>" || types[EOSID(300)] != tokControl {
		t.Errorf("specials misplaced: %q", toks[297:])
	}
	seen := map[string]bool{}
	for _, tk := range toks {
		if seen[tk] {
			t.Fatalf("duplicate token %q", tk)
		}
		seen[tk] = true
	}
}

func TestInvalidShapes(t *testing.T) {
	bad := []Shape{
		{Arch: "mamba", Layers: 1, Hidden: 64, FFN: 64, Heads: 1, KVHeads: 1, Vocab: 300, Type: gguf.GGMLType(1)},
		{Arch: "llama", Layers: 1, Hidden: 64, FFN: 64, Heads: 3, KVHeads: 2, Vocab: 300, Type: gguf.GGMLType(1)},
		{Arch: "llama", Layers: 1, Hidden: 64, FFN: 64, Heads: 1, KVHeads: 1, Vocab: 100, Type: gguf.GGMLType(1)},
		// Q4_K needs rows of 256.
		{Arch: "llama", Layers: 1, Hidden: 64, FFN: 64, Heads: 1, KVHeads: 1, Vocab: 300, Type: gguf.GGMLType(12)},
	}
	for _, s := range bad {
		path := filepath.Join(t.TempDir(), "m.gguf")
		if _, err := Write(path, s); err == nil {
			t.Errorf("Write(%+v) succeeded", s)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("Write(%+v) left a file", s)
		}
	}
}
