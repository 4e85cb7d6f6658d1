package gguf_test

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/gpuplan/gpuplan/model/gguf"
)

// A minimal GGUF v3 file: one metadata key and one Q8_0 tensor of 64×2
// weights (4 blocks of 32, 34 bytes each).
func ExampleParse() {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	str := func(s string) { le(uint64(len(s))); b.WriteString(s) }
	b.WriteString("GGUF")
	le(uint32(3)) // version
	le(uint64(1)) // tensors
	le(uint64(1)) // metadata entries
	str("general.architecture")
	le(uint32(8)) // string
	str("llama")
	str("blk.0.attn_q.weight")
	le(uint32(2))         // dimensions
	le([]uint64{64, 2})   // ne[0], ne[1]
	le(uint32(8))         // GGML_TYPE_Q8_0
	le(uint64(0))         // offset in the data section
	for b.Len()%32 != 0 { // pad to the default alignment
		b.WriteByte(0)
	}
	b.Write(make([]byte, 4*34)) // tensor data

	f, err := gguf.Parse(bytes.NewReader(b.Bytes()), int64(b.Len()), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	t := f.Tensors[0]
	fmt.Println(t.Name, t.Type, t.Elements, "weights in", t.Bytes, "bytes")
	h, _ := f.Hyperparameters()
	fmt.Println("architecture:", h.Architecture)
	// Output:
	// blk.0.attn_q.weight Q8_0 128 weights in 136 bytes
	// architecture: llama
}
