package perf

import (
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
)

// attentionMath is the type attention's matrix products (QKᵀ and AV) run
// in: the KV cache's type — FP8 where the cache is FP8 and the chip has
// FP8 units (FP8 context and generation attention kernels), else 16-bit —
// and never a narrower type than the weights' matmuls. FP4 weights do not
// make attention run at the FP4 rate: no engine's attention kernels take
// FP4 operands (the KV cache is BF16 or FP8).
func attentionMath(weights hardware.Math, kv dtype.DType, g hardware.GPU) hardware.Math {
	want := hardware.MathBF16
	if weights == hardware.MathFP16 {
		want = hardware.MathFP16
	}
	if kv == dtype.FP8 {
		if _, ok := g.TFLOPS(hardware.MathFP8); ok {
			want = hardware.MathFP8
		}
	}
	if mathBits(weights) > mathBits(want) {
		return weights
	}
	return want
}

func mathBits(m hardware.Math) int {
	switch m {
	case hardware.MathFP32, hardware.MathTF32:
		return 32
	case hardware.MathFP16, hardware.MathBF16:
		return 16
	case hardware.MathFP8, hardware.MathINT8:
		return 8
	}
	return 4
}
