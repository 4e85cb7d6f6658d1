// Package dtype names the numeric formats gpuplan reasons about: the storage
// format of a tensor element (DType), the KV-cache format (KVDType) and the
// deployable precision of a whole model (Precision: which weights format, which
// compute format, and how an engine is told to use it).
package dtype

import (
	"fmt"
	"strings"
)

// DType is the storage format of one tensor element.
type DType string

// Element formats. Bits include the per-block scales of block-quantized
// formats so that bytes = elements × Bits / 8 holds for a whole tensor.
const (
	FP32 DType = "fp32"
	FP16 DType = "fp16"
	BF16 DType = "bf16"
	FP8  DType = "fp8" // e4m3 (NVIDIA e4m3fn, AMD e4m3fnuz); e5m2 has the same size
	INT8 DType = "int8"
	INT4 DType = "int4"
	// MXFP4 is the OCP microscaling format: 4-bit e2m1 elements with one
	// 8-bit e8m0 scale per block of 32 (OCP MX spec v1.0, section 5.3), i.e.
	// 4 + 8/32 = 4.25 bits per element. gpt-oss ships its experts this way.
	MXFP4 DType = "mxfp4"
	// NVFP4 is NVIDIA's Blackwell format: e2m1 elements with one fp8 e4m3
	// scale per block of 16 (NVIDIA Blackwell / TensorRT Model Optimizer
	// docs), 4 + 8/16 = 4.5 bits per element; the per-tensor fp32 scale is
	// negligible.
	NVFP4 DType = "nvfp4"
)

// Bits returns the storage size of one element in bits, scales included for
// block formats. It is 0 for an unknown format.
func (d DType) Bits() float64 {
	switch d {
	case FP32:
		return 32
	case FP16, BF16:
		return 16
	case FP8, INT8:
		return 8
	case INT4:
		return 4
	case MXFP4:
		return 4.25
	case NVFP4:
		return 4.5
	}
	return 0
}

// ParseDType reads an element format, accepting the spellings used by
// PyTorch, safetensors and Hugging Face configs ("bfloat16", "BF16",
// "float16", "F8_E4M3", "half", "float").
func ParseDType(s string) (DType, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.TrimPrefix(k, "torch.")
	switch k {
	case "fp32", "f32", "float32", "float":
		return FP32, nil
	case "fp16", "f16", "float16", "half":
		return FP16, nil
	case "bf16", "bfloat16":
		return BF16, nil
	case "fp8", "f8_e4m3", "f8_e5m2", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "fp8_e4m3", "fp8_e5m2", "e4m3", "e5m2":
		return FP8, nil
	case "int8", "i8", "u8", "uint8":
		return INT8, nil
	case "int4", "i4", "uint4":
		return INT4, nil
	case "mxfp4":
		return MXFP4, nil
	case "nvfp4":
		return NVFP4, nil
	}
	return "", fmt.Errorf("unknown data type %q (known: fp32, fp16, bf16, fp8, int8, int4, mxfp4, nvfp4)", s)
}

// KVDType is the KV-cache format requested from the engine. KVAuto means
// "the model's compute dtype", which is what vLLM's --kv-cache-dtype auto does.
type KVDType string

// KV-cache formats, named like vLLM's --kv-cache-dtype values.
const (
	KVAuto KVDType = "auto"
	KVBF16 KVDType = "bf16"
	KVFP16 KVDType = "fp16"
	KVFP8  KVDType = "fp8"
)

// KVDTypes lists the KV-cache formats --kv-dtype takes, in the order help
// and errors list them.
func KVDTypes() []KVDType { return []KVDType{KVAuto, KVBF16, KVFP16, KVFP8} }

// ParseKVDType reads a KV-cache format; "fp8_e4m3" and "fp8_e5m2" are fp8.
func ParseKVDType(s string) (KVDType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return KVAuto, nil
	case "bf16", "bfloat16":
		return KVBF16, nil
	case "fp16", "float16", "half":
		return KVFP16, nil
	case "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc":
		return KVFP8, nil
	}
	known := make([]string, 0, 4)
	for _, k := range KVDTypes() {
		known = append(known, string(k))
	}
	return "", fmt.Errorf("unknown KV-cache dtype %q (known: %s)", s, strings.Join(known, ", "))
}

// Resolve turns KVAuto into the concrete element format given the model's
// compute dtype (the dtype activations run in: bf16 or fp16, fp32 when the
// whole model runs in fp32).
func (k KVDType) Resolve(compute DType) DType {
	switch k {
	case KVBF16:
		return BF16
	case KVFP16:
		return FP16
	case KVFP8:
		return FP8
	}
	if compute == "" {
		return BF16
	}
	return compute
}

// Bytes returns the size in bytes of one KV element once resolved.
func (k KVDType) Bytes(compute DType) int64 { return int64(k.Resolve(compute).Bits()) / 8 }
