package plan

import (
	"fmt"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
)

// Verdict says whether a combination runs.
type Verdict string

// Verdicts of Check.
const (
	// Native: the precision runs as defined on this GPU.
	Native Verdict = "native"
	// WeightOnly: it runs, but the math is 16-bit after dequantizing (e.g.
	// FP8 weights through W8A16 kernels on Ampere): memory shrinks, compute
	// does not speed up.
	WeightOnly Verdict = "weight_only"
	// Incompatible: it cannot run; Reasons say why.
	Incompatible Verdict = "incompatible"
	// UnknownSupport: no source says whether it runs; not a rejection.
	UnknownSupport Verdict = "unknown"
)

// Combination is what Check judges: a model on a VM's GPUs at a precision,
// split TP × PP, under an engine.
type Combination struct {
	Model     *model.Spec
	GPU       hardware.GPU
	VM        *hardware.VMSize // nil when only the chip is known
	Precision dtype.Precision
	TP, PP    int
	Engine    memory.Engine
	// ImageArch is the CPU architecture of the engine image: "" or
	// "x86-64" (the default vLLM image), "arm64", or "multi" for a
	// multi-arch image.
	ImageArch string
	// RequireNative refuses weight-only execution (the user asked for
	// native FP8/INT8 math).
	RequireNative bool
}

// Compatibility is Check's answer.
type Compatibility struct {
	Verdict Verdict `json:"verdict"`
	// Compute is the dtype the matrix math runs in.
	Compute dtype.DType `json:"compute_dtype,omitempty"`
	// Reasons explain an incompatible or unknown verdict, or a caveat.
	Reasons []string `json:"reasons,omitempty"`
}

// OK reports whether the combination can run (unknown support counts as
// runnable but is labelled).
func (c Compatibility) OK() bool { return c.Verdict != Incompatible }

// Check is the one compatibility function that plan and deploy share: it
// decides whether a combination runs natively, runs non-natively, or cannot
// run, and why. Memory fit is not judged here (memory.Estimate does that).
func Check(c Combination) Compatibility {
	var out Compatibility
	reject := func(format string, args ...any) {
		out.Verdict = Incompatible
		out.Reasons = append(out.Reasons, fmt.Sprintf(format, args...))
	}

	sup := c.GPU.Support(c.Precision)
	out.Compute = sup.Compute
	switch sup.Level {
	case hardware.SupportNative:
		out.Verdict = Native
	case hardware.SupportWeightOnly:
		out.Verdict = WeightOnly
		out.Reasons = append(out.Reasons, sup.Reason)
		if c.RequireNative {
			reject("%s runs only weight-only on %s and native execution was required", c.Precision.Name, c.GPU.ID)
		}
		if c.Model != nil && c.Model.MoE != nil && c.Precision.Weight == dtype.FP8 {
			// vLLM's FP8 MoE kernels need FP8 tensor cores; the Marlin
			// W8A16 fallback covers dense layers only (hardware source
			// key vllm-fp8-moe-ampere).
			reject("FP8 mixture-of-experts models do not run on %s: vLLM's Ampere FP8 path (Marlin W8A16) has no MoE kernels", c.GPU.ID)
		}
	case hardware.SupportUnsupported:
		reject("%s", sup.Reason)
	default:
		out.Verdict = UnknownSupport
		out.Reasons = append(out.Reasons, "support unknown: "+sup.Reason)
	}

	if c.TP < 1 || c.PP < 1 {
		reject("tensor- and pipeline-parallel sizes must be at least 1")
		return out
	}
	if m := c.Model; m != nil {
		// vLLM requires the query heads to split evenly, and the KV heads to
		// either split evenly or be replicated a whole number of times
		// (vllm/config: verify_with_parallel_config; QKVParallelLinear).
		if m.Heads > 0 && m.Heads%c.TP != 0 {
			reject("TP %d does not divide the %d attention heads", c.TP, m.Heads)
		}
		if m.MLA == nil && m.KVHeads > 0 && m.KVHeads%c.TP != 0 && c.TP%m.KVHeads != 0 {
			reject("TP %d neither divides nor is a multiple of the %d KV heads", c.TP, m.KVHeads)
		}
		if m.Layers > 0 && c.PP > m.Layers {
			reject("PP %d exceeds the %d layers", c.PP, m.Layers)
		}
	}

	if c.Engine == memory.TRTLLM && c.GPU.Vendor != hardware.VendorNVIDIA {
		reject("TensorRT-LLM runs only on NVIDIA GPUs")
	}
	if c.Engine == memory.VLLM && c.GPU.Vendor == hardware.VendorAMD && c.ImageArch != "" && c.ImageArch != string(hardware.CPUx86) && c.ImageArch != "multi" {
		reject("vLLM's ROCm image is built for x86-64 hosts")
	}

	if vm := c.VM; vm != nil {
		if vm.Retired() {
			reject("%s is retired", vm.Name)
		}
		if vm.CPUArch == hardware.CPUArm64 && c.ImageArch != "arm64" && c.ImageArch != "multi" {
			reject("%s has Arm (arm64) host CPUs; the default engine image is x86-64 only: pass an arm64 or multi-arch image", vm.Name)
		}
		gpus := vm.GPUs()
		if gpus > 0 && gpus < 1 && c.TP*c.PP > 1 {
			reject("%s has a fraction (%s) of one GPU: no tensor or pipeline parallelism", vm.Name, vm.GPUFraction)
		}
	}
	return out
}
