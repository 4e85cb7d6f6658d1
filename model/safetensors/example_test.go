package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/gpuplan/gpuplan/model/safetensors"
)

// A two-tensor file: 8-byte length, JSON header, then 40 bytes of data.
func ExampleReadHeader() {
	js := []byte(`{"__metadata__":{"format":"pt"},` +
		`"embed.weight":{"dtype":"BF16","shape":[4,4],"data_offsets":[0,32]},` +
		`"norm.weight":{"dtype":"F32","shape":[2],"data_offsets":[32,40]}}`)
	file := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	file = append(file, js...)
	file = append(file, make([]byte, 40)...)

	h, err := safetensors.ReadHeader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		fmt.Println(err)
		return
	}
	all, by := h.Totals()
	fmt.Println(len(h.Tensors), "tensors,", all.Elements, "elements,", all.Bytes, "bytes")
	fmt.Println("BF16:", by["BF16"].Elements, "elements")
	// Output:
	// 2 tensors, 18 elements, 40 bytes
	// BF16: 16 elements
}
