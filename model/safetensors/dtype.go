package safetensors

import "sort"

// dtypeBits is the element width of every dtype the reference
// implementation knows (huggingface/safetensors, safetensors/src/tensor.rs,
// enum Dtype and Dtype::bitsize). F4, F6_E2M3 and F6_E3M2 are the OCP
// microscaling element formats and are narrower than a byte, so a tensor's
// size is elements × bits / 8 and must come out whole.
var dtypeBits = map[string]int64{
	"BOOL":    8,
	"F4":      4,
	"F6_E2M3": 6,
	"F6_E3M2": 6,
	"U8":      8,
	"I8":      8,
	"F8_E5M2": 8,
	"F8_E4M3": 8,
	"F8_E8M0": 8,
	"I16":     16,
	"U16":     16,
	"F16":     16,
	"BF16":    16,
	"I32":     32,
	"U32":     32,
	"F32":     32,
	"C64":     64,
	"F64":     64,
	"I64":     64,
	"U64":     64,
}

// DTypeBits returns the width in bits of one element of the named dtype
// (spelled as in the file: "BF16", "F8_E4M3", ...) and whether the dtype is
// known.
func DTypeBits(dtype string) (int64, bool) {
	b, ok := dtypeBits[dtype]
	return b, ok
}

// DTypes lists the known dtype names, sorted.
func DTypes() []string {
	out := make([]string, 0, len(dtypeBits))
	for k := range dtypeBits {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
