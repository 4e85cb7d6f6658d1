package engine

import (
	"fmt"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
)

// Combination is what Check judges: a model at a precision on a target
// (one GPU type, or CPUs), split TP × PP, under an engine, optionally on a
// concrete VM size.
type Combination struct {
	Model     *model.Spec
	Precision dtype.Precision
	Target    Target
	// Engine is nil for the default profile.
	Engine Engine
	TP, PP int
	// VM is the Azure size when known (retired sizes, Arm hosts and GPU
	// fractions are judged); nil when only the chip is known.
	VM *hardware.VMSize
	// ImageArch is the CPU architecture of a user-supplied engine image:
	// "" for the engine's default image, "x86-64", "arm64" or "multi".
	ImageArch string
	// RequireNative refuses weight-only execution.
	RequireNative bool
}

// ReasonKind types a reason so callers can group or map it (plan's "why
// not" kinds, exit codes) without parsing text.
type ReasonKind string

// Reason kinds.
const (
	// KindPrecision: the engine has no kernels for the precision here.
	KindPrecision ReasonKind = "precision_not_supported"
	// KindNotNative: only weight-only execution, and native was required.
	KindNotNative ReasonKind = "not_native"
	// KindMoE: the precision's path has no mixture-of-experts kernels here.
	KindMoE ReasonKind = "moe_not_supported"
	// KindParallelism: the TP/PP split does not suit the model or VM.
	KindParallelism ReasonKind = "parallelism"
	// KindImage: no engine image runs on the host.
	KindImage ReasonKind = "image"
	// KindRetired: the VM size is retired.
	KindRetired ReasonKind = "retired"
	// KindCaveat: a note on a runnable combination.
	KindCaveat ReasonKind = "caveat"
)

// Reason is one typed explanation.
type Reason struct {
	Kind ReasonKind `json:"kind"`
	Text string     `json:"text"`
}

// Compatibility is Check's answer.
type Compatibility struct {
	Verdict Level `json:"verdict"`
	// Compute is the dtype the matrix math runs in.
	Compute dtype.DType `json:"compute_dtype,omitempty"`
	// Reasons explain a refusal, or caveat a runnable verdict.
	Reasons []Reason `json:"reasons,omitempty"`
}

// OK reports whether the combination can run (unknown support counts as
// runnable but is labelled).
func (c Compatibility) OK() bool { return c.Verdict != Incompatible }

// Texts returns the reasons' texts.
func (c Compatibility) Texts() []string {
	out := make([]string, len(c.Reasons))
	for i, r := range c.Reasons {
		out[i] = r.Text
	}
	return out
}

// Refusals returns the texts of the reasons that refuse (not caveats).
func (c Compatibility) Refusals() []string {
	var out []string
	for _, r := range c.Reasons {
		if r.Kind != KindCaveat {
			out = append(out, r.Text)
		}
	}
	return out
}

// Has reports whether a reason of kind k is present.
func (c Compatibility) Has(k ReasonKind) bool {
	for _, r := range c.Reasons {
		if r.Kind == k {
			return true
		}
	}
	return false
}

// Error is the refusal as one sentence, for commands that stop on it.
func (c Compatibility) Error() string {
	return strings.Join(c.Refusals(), "; ")
}

// Check is the one compatibility verdict that size, perf, plan, deploy and
// the web page share: whether a combination runs natively, runs
// weight-only, or cannot run, and why. Memory fit is not judged here
// (memory.Estimate does that).
func Check(c Combination) Compatibility {
	e := c.Engine
	if e == nil {
		e = Default()
	}
	p := e.Info()
	var out Compatibility
	refuse := func(k ReasonKind, format string, args ...any) {
		out.Verdict = Incompatible
		out.Reasons = append(out.Reasons, Reason{k, fmt.Sprintf(format, args...)})
	}
	caveat := func(text string) { out.Reasons = append(out.Reasons, Reason{KindCaveat, text}) }

	sup := p.Support(c.Precision, c.Target)
	out.Compute = sup.Compute
	switch sup.Level {
	case Native:
		out.Verdict = Native
	case WeightOnly:
		out.Verdict = WeightOnly
		caveat(sup.Reason)
		if c.RequireNative {
			refuse(KindNotNative, "%s runs only weight-only on %s and native execution was required", c.Precision.Name, c.Target.Name())
		}
	case Incompatible:
		refuse(KindPrecision, "%s cannot run %s on %s: %s", p.DisplayName, c.Precision.Name, c.Target.Name(), sup.Reason)
	default:
		out.Verdict = Unknown
		caveat("support unknown: " + sup.Reason)
	}
	if sup.MoERefused != "" && c.Model != nil && c.Model.MoE != nil {
		refuse(KindMoE, "%s", expand(sup.MoERefused, c.Target))
	}

	if c.TP < 1 || c.PP < 1 {
		refuse(KindParallelism, "tensor- and pipeline-parallel sizes must be at least 1")
		return out
	}
	if m := c.Model; m != nil {
		// The engines split attention heads evenly over TP ranks and
		// replicate KV heads a whole number of times (vllm/config:
		// verify_with_parallel_config; QKVParallelLinear).
		if m.Heads > 0 && m.Heads%c.TP != 0 {
			refuse(KindParallelism, "TP %d does not divide the %d attention heads", c.TP, m.Heads)
		}
		if m.MLA == nil && m.KVHeads > 0 && m.KVHeads%c.TP != 0 && c.TP%m.KVHeads != 0 {
			refuse(KindParallelism, "TP %d neither divides nor is a multiple of the %d KV heads", c.TP, m.KVHeads)
		}
		if m.Layers > 0 && c.PP > m.Layers {
			refuse(KindParallelism, "PP %d exceeds the %d layers", c.PP, m.Layers)
		}
	}

	host := c.Target.hostArch()
	if vm := c.VM; vm != nil {
		if vm.CPUArch != "" {
			host = vm.CPUArch
		}
		if vm.Retired() {
			refuse(KindRetired, "%s is retired", vm.Name)
		}
		gpus := vm.GPUs()
		if gpus > 0 && gpus < 1 && c.TP*c.PP > 1 {
			refuse(KindParallelism, "%s has a fraction (%s) of one GPU: no tensor or pipeline parallelism", vm.Name, vm.GPUFraction)
		}
	}
	switch c.ImageArch {
	case "":
		t := c.Target
		t.CPU = host
		if _, err := p.Image(t); err != nil {
			if _, x86 := p.Image(Target{GPU: t.GPU, CPU: hardware.CPUx86}); x86 == nil && host == hardware.CPUArm64 {
				who := t.Name()
				if c.VM != nil {
					who = c.VM.Name
				}
				refuse(KindImage, "%s has Arm (arm64) host CPUs; the default engine image is x86-64 only: pass an arm64 or multi-arch image", who)
			} else {
				caveat(err.Error())
			}
		}
	case ImageArchMulti:
	default:
		if hardware.CPUArch(c.ImageArch) != host {
			refuse(KindImage, "the engine image is built for %s but the host CPUs are %s: pass a %s or multi-arch image", c.ImageArch, host, host)
		}
	}
	return out
}

// DefaultPrecision is the precision a model is served in on a target when
// none is asked for: a pre-quantized checkpoint's own, else its release
// dtype as the engine runs it there — bf16 becomes fp16 on GPUs without
// bfloat16 (vLLM's --dtype half on a T4), the only fallback that keeps the
// weights as released.
func DefaultPrecision(s *model.Spec, t Target, e Engine) (dtype.Precision, error) {
	if e == nil {
		e = Default()
	}
	if s == nil {
		return dtype.Precision{}, fmt.Errorf("no model")
	}
	if cp, ok := s.Quant.Precision(); ok {
		return cp, nil
	}
	p, err := dtype.LookupPrecision(string(s.ComputeDType()))
	if err != nil {
		return p, err
	}
	if e.Info().Support(p, t).OK() {
		return p, nil
	}
	if p.Name == "bf16" {
		if fp16, err := dtype.LookupPrecision("fp16"); err == nil && e.Info().Support(fp16, t).OK() {
			return fp16, nil
		}
	}
	return p, nil
}
