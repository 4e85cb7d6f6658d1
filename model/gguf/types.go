package gguf

import (
	"fmt"
	"math"
)

// GGMLType is a tensor storage type (enum ggml_type in ggml/include/ggml.h).
type GGMLType uint32

// typeInfo is a ggml type's name and block layout: BlockSize elements are
// stored in TypeSize bytes.
type typeInfo struct {
	name      string
	blockSize int64
	typeSize  int64
}

// qkK is the K-quant super-block size (QK_K in ggml-common.h).
const qkK = 256

// ggmlTypes gives every ggml type's (block size, bytes per block). Values
// are GGML_QUANT_SIZES from gguf-py/gguf/constants.py (ggml-org/llama.cpp
// @0024aa74), checked against the block structs and their static_asserts
// in ggml/src/ggml-common.h (@01243c58); e.g. block_q4_K is two fp16 scales,
// 12 bytes of 6-bit sub-scales and 128 bytes of nibbles = 144 bytes per 256
// weights. Q8_1 follows ggml-common.h (two fp16, 36 bytes); gguf-py still
// lists 4+4+32 from when its scales were fp32. Q8_1 and Q8_K are
// intermediate formats that files do not normally hold.
var ggmlTypes = map[GGMLType]typeInfo{
	0:  {"F32", 1, 4},
	1:  {"F16", 1, 2},
	2:  {"Q4_0", 32, 2 + 16},
	3:  {"Q4_1", 32, 2 + 2 + 16},
	6:  {"Q5_0", 32, 2 + 4 + 16},
	7:  {"Q5_1", 32, 2 + 2 + 4 + 16},
	8:  {"Q8_0", 32, 2 + 32},
	9:  {"Q8_1", 32, 2 + 2 + 32},
	10: {"Q2_K", qkK, 2 + 2 + qkK/16 + qkK/4},
	11: {"Q3_K", qkK, 2 + qkK/4 + qkK/8 + 12},
	12: {"Q4_K", qkK, 2 + 2 + qkK/2 + 12},
	13: {"Q5_K", qkK, 2 + 2 + qkK/2 + qkK/8 + 12},
	14: {"Q6_K", qkK, 2 + qkK/2 + qkK/4 + qkK/16},
	15: {"Q8_K", qkK, 4 + qkK + qkK/8},
	16: {"IQ2_XXS", qkK, 2 + qkK/4},
	17: {"IQ2_XS", qkK, 2 + qkK/4 + qkK/32},
	18: {"IQ3_XXS", qkK, 2 + qkK/4 + qkK/8},
	19: {"IQ1_S", qkK, 2 + qkK/8 + qkK/16},
	20: {"IQ4_NL", 32, 2 + 16},
	21: {"IQ3_S", qkK, 2 + qkK/4 + qkK/8 + qkK/32 + 4},
	22: {"IQ2_S", qkK, 2 + qkK/4 + qkK/16},
	23: {"IQ4_XS", qkK, 2 + 2 + qkK/2 + qkK/64},
	24: {"I8", 1, 1},
	25: {"I16", 1, 2},
	26: {"I32", 1, 4},
	27: {"I64", 1, 8},
	28: {"F64", 1, 8},
	29: {"IQ1_M", qkK, qkK/8 + qkK/16 + qkK/32},
	30: {"BF16", 1, 2},
	34: {"TQ1_0", qkK, 2 + 4*13},
	35: {"TQ2_0", qkK, 2 + 64},
	39: {"MXFP4", 32, 1 + 16},  // one e8m0 scale + 32 e2m1 nibbles
	40: {"NVFP4", 64, 4 + 32},  // four e4m3 sub-block scales + 64 nibbles
	41: {"Q1_0", 128, 2 + 16},  // fp16 scale + 128 sign bits
	42: {"Q2_0", 64, 2 + 64/4}, // fp16 scale + 64 2-bit values (ggml-common.h block_q2_0)
}

// removedTypes were assigned once and then dropped from GGUF files
// (comments in enum ggml_type): their data is repacked at load time now.
var removedTypes = map[GGMLType]string{
	4: "Q4_2", 5: "Q4_3",
	31: "Q4_0_4_4", 32: "Q4_0_4_8", 33: "Q4_0_8_8",
	36: "IQ4_NL_4_4", 37: "IQ4_NL_4_8", 38: "IQ4_NL_8_8",
}

// Known reports whether t is a type this package can size.
func (t GGMLType) Known() bool { _, ok := ggmlTypes[t]; return ok }

// String returns the type's ggml name ("Q4_K"), or a description of an
// unknown or removed value.
func (t GGMLType) String() string {
	if ti, ok := ggmlTypes[t]; ok {
		return ti.name
	}
	if n, ok := removedTypes[t]; ok {
		return n + " (removed)"
	}
	return fmt.Sprintf("ggml_type(%d)", uint32(t))
}

// BlockSize is the number of elements in one block (1 for plain types).
func (t GGMLType) BlockSize() int64 { return ggmlTypes[t].blockSize }

// TypeSize is the number of bytes in one block.
func (t GGMLType) TypeSize() int64 { return ggmlTypes[t].typeSize }

// BitsPerWeight is the stored bits per element, block scales included.
func (t GGMLType) BitsPerWeight() float64 {
	ti, ok := ggmlTypes[t]
	if !ok {
		return 0
	}
	return float64(ti.typeSize*8) / float64(ti.blockSize)
}

// TypeByName finds a type by its ggml name ("Q4_K"), case-sensitively.
func TypeByName(name string) (GGMLType, bool) {
	for t, ti := range ggmlTypes {
		if ti.name == name {
			return t, true
		}
	}
	return 0, false
}

// tensorBytes is ggml_nbytes for a contiguous tensor: rows of
// ne[0]/block_size blocks, times the other dimensions. It fails when ne[0]
// is not a whole number of blocks or the size overflows int64.
func tensorBytes(t GGMLType, dims []uint64) (elements, size int64, err error) {
	ti, ok := ggmlTypes[t]
	if !ok {
		if n, removed := removedTypes[t]; removed {
			return 0, 0, fmt.Errorf("tensor type %s was removed from GGUF files by llama.cpp; re-convert the model with a current llama.cpp", n)
		}
		return 0, 0, fmt.Errorf("unknown ggml tensor type %d (newer than this program, or corrupt)", uint32(t))
	}
	elements = 1
	for _, d := range dims {
		if d > math.MaxInt64 {
			return 0, 0, fmt.Errorf("dimension %d does not fit in int64", d)
		}
		if d != 0 && elements > math.MaxInt64/int64(d) {
			return 0, 0, fmt.Errorf("shape %v overflows int64 elements", dims)
		}
		elements *= int64(d)
	}
	ne0 := int64(1)
	if len(dims) > 0 {
		ne0 = int64(dims[0])
	}
	if ne0%ti.blockSize != 0 {
		return 0, 0, fmt.Errorf("row of %d elements is not a multiple of %s's block size %d", ne0, ti.name, ti.blockSize)
	}
	blocks := elements / ti.blockSize
	if blocks > math.MaxInt64/ti.typeSize {
		return 0, 0, fmt.Errorf("shape %v of %s overflows int64 bytes", dims, ti.name)
	}
	return elements, blocks * ti.typeSize, nil
}
