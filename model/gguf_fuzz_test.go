package model

import (
	"bytes"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/model/gguf"
)

// hugeBlockCountGGUF is a GGUF whose llama.block_count is 2^31: it once
// hung the CLI (a loop per layer before the 4,096-layer check, then a
// 32 GiB allocation).
func hugeBlockCountGGUF() []byte { return tinyLlamaGGUF(1 << 31) }

// tinyLlamaGGUF is a whole (header and data) llama GGUF with the given
// block_count and one small tensor.
func tinyLlamaGGUF(blocks uint32) []byte {
	kvs := []rsKV{
		{"general.architecture", "llama"},
		{"general.name", "huge"},
		{"llama.block_count", blocks},
		{"llama.embedding_length", uint32(64)},
		{"llama.attention.head_count", uint32(4)},
		{"llama.feed_forward_length", uint32(128)},
	}
	v := rsGGUF(kvs, []rsGGUFTensor{{"token_embd.weight", []uint64{64, 32}, 8}})
	return append(bytes.Clone(v.head), make([]byte, v.size-int64(len(v.head)))...)
}

// TestSpecFromGGUFNameIsPrintable: general.name becomes the Spec's id,
// which is printed in tables and written into deploy files: its control
// characters are replaced.
func TestSpecFromGGUFNameIsPrintable(t *testing.T) {
	kvs := []rsKV{
		{"general.architecture", "llama"},
		{"general.name", "nice\x1b[2J\nrm -rf ~\u2028x"},
		{"llama.block_count", uint32(1)},
		{"llama.embedding_length", uint32(64)},
		{"llama.attention.head_count", uint32(4)},
		{"llama.feed_forward_length", uint32(128)},
	}
	v := rsGGUF(kvs, []rsGGUFTensor{{"token_embd.weight", []uint64{64, 32}, 8}})
	b := append(bytes.Clone(v.head), make([]byte, v.size-int64(len(v.head)))...)
	f, err := gguf.ParseBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := SpecFromGGUF(f, "x.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "nice [2J rm -rf ~ x" {
		t.Errorf("ID = %q", s.ID)
	}
}

// TestSpecFromGGUFHugeCounts: absurd counts are refused at once.
func TestSpecFromGGUFHugeCounts(t *testing.T) {
	b := hugeBlockCountGGUF()
	f, err := gguf.ParseBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := SpecFromGGUF(f, "huge.gguf")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("block_count is 2147483648")) {
			t.Fatalf("err = %v, want the block_count refused", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SpecFromGGUF still running after 5 s on block_count 2^31")
	}
}

// FuzzSpecFromGGUF turns arbitrary GGUF bytes into a Spec: it may fail,
// but never panic or hang. The corpus holds a real-shaped file and the
// block_count 2^31 case.
func FuzzSpecFromGGUF(f *testing.F) {
	f.Add(tinyLlamaGGUF(1))
	f.Add(hugeBlockCountGGUF())
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := gguf.ParseBytes(b)
		if err != nil {
			return
		}
		spec, err := SpecFromGGUF(file, "fuzz.gguf")
		if err == nil && spec.Layers > maxLayers {
			t.Fatalf("accepted %d layers", spec.Layers)
		}
	})
}
