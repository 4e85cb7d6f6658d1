package model

import "github.com/gpuplan/gpuplan/units"

// TensorInventory is what a checkpoint's headers (safetensors or GGUF) say
// about the stored weights. When present, weight memory is taken from it
// exactly instead of being derived from parameter counts and a precision.
type TensorInventory struct {
	// Format is "safetensors" or "gguf".
	Format string `json:"format"`
	// Source is the file, URL or repository the headers were read from.
	Source string `json:"source"`
	// Tensors lists every tensor in the checkpoint.
	Tensors []TensorInfo `json:"-"`
	// Params is the number of weight elements across all tensors, counting
	// packed quantized elements as the weights they encode where the format
	// says so (GGUF); for safetensors it is the stored element count.
	Params int64 `json:"params"`
	// Bytes is the stored size of all tensors.
	Bytes units.Bytes `json:"bytes"`
	// ByDType sums elements and bytes per stored dtype ("BF16", "F8_E4M3",
	// "Q4_K", ...).
	ByDType map[string]DTypeTotal `json:"by_dtype"`
}

// TensorInfo is one tensor from a header.
type TensorInfo struct {
	Name  string      `json:"name"`
	DType string      `json:"dtype"` // as the file spells it: "BF16", "F8_E4M3", "Q4_K"
	Shape []int64     `json:"shape"`
	Bytes units.Bytes `json:"bytes"`
}

// DTypeTotal is the element and byte total of one stored dtype.
type DTypeTotal struct {
	Elements int64       `json:"elements"`
	Bytes    units.Bytes `json:"bytes"`
}
