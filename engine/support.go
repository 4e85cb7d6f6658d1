package engine

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
)

// Target is where an engine runs: a GPU, or CPUs of an architecture when
// GPU.ID is empty.
type Target struct {
	GPU hardware.GPU
	// CPU is the host architecture: the CPU-serving architecture when GPU
	// is empty, else the GPU host's (x86-64 when unknown).
	CPU hardware.CPUArch
}

// OnGPU targets a GPU; its host architecture is the chip's Azure host.
func OnGPU(g hardware.GPU) Target { return Target{GPU: g, CPU: g.HostCPU} }

// OnCPU targets CPU-only serving on an architecture.
func OnCPU(arch hardware.CPUArch) Target { return Target{CPU: arch} }

// IsCPU reports whether the target is CPU-only.
func (t Target) IsCPU() bool { return t.GPU.ID == "" && t.GPU.Vendor == "" }

// Name is the GPU id or "cpu/<arch>".
func (t Target) Name() string {
	if t.IsCPU() {
		return "cpu/" + string(t.hostArch())
	}
	if t.GPU.ID != "" {
		return t.GPU.ID
	}
	return t.GPU.Name
}

func (t Target) vendor() hardware.Vendor {
	if t.IsCPU() {
		return ""
	}
	return t.GPU.Vendor
}

func (t Target) hostArch() hardware.CPUArch {
	if t.CPU == "" {
		return hardware.CPUx86
	}
	return t.CPU
}

// Level says how an engine runs a precision on a target: the one enum for
// it, with one spelling per value, shared by the kernel table
// (data/kernels.yaml `level`), Check's verdict (Compatibility.Verdict),
// plan.json's `compatibility` and the `gpus` support table.
type Level string

// Levels.
const (
	// Native: the precision runs as defined (its compute type on the
	// target's matrix units, with kernels for this architecture).
	Native Level = "native"
	// WeightOnly: the weights are stored this way but the math runs in
	// 16-bit after dequantizing, so memory shrinks but compute does not
	// speed up.
	WeightOnly Level = "weight_only"
	// Incompatible: the engine cannot run it here (in Check's verdict, for
	// any of the Reasons).
	Incompatible Level = "incompatible"
	// Unknown: no source says either way; not a refusal.
	Unknown Level = "unknown"
)

// Support is the kernel table's answer for one precision on one target.
type Support struct {
	Level Level `json:"level"`
	// Compute is the type the matrix math runs in; empty if unsupported.
	Compute dtype.DType `json:"compute_dtype,omitempty"`
	// Reason explains the verdict; Source is the key of its source in
	// data/kernels.yaml.
	Reason string `json:"reason"`
	Source string `json:"source,omitempty"`
	// MoERefused, when set, says why mixture-of-experts models cannot run
	// this precision here although dense ones can.
	MoERefused string `json:"moe_refused,omitempty"`
}

// OK reports whether the precision can run at all.
func (s Support) OK() bool { return s.Level == Native || s.Level == WeightOnly }

//go:embed data/kernels.yaml
var dataFS embed.FS

// KernelSource is a source entry of data/kernels.yaml.
type KernelSource struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	URL   string `json:"url"`
	AsOf  string `json:"as_of"`
}

// kernelRule is one row of a kernel table; the first row whose conditions
// all hold answers.
type kernelRule struct {
	// Precision is a --precision name, "gguf" for every GGUF tensor type,
	// or "*" for any.
	Precision string `json:"precision"`
	// Vendor restricts the row to GPU vendors or "cpu".
	Vendor []string `json:"vendor,omitempty"`
	// Native requires the chip to run this math natively; NotNative that
	// it does not.
	Native    hardware.Math `json:"native,omitempty"`
	NotNative hardware.Math `json:"not_native,omitempty"`
	// MinCC is the lowest NVIDIA compute capability ("8.0").
	MinCC string `json:"min_cc,omitempty"`
	Level Level  `json:"level"`
	// Compute is a dtype, or "half" for bf16 where the chip has it and
	// fp16 elsewhere.
	Compute    string `json:"compute,omitempty"`
	Reason     string `json:"reason"`
	Source     string `json:"source"`
	MoERefused string `json:"moe_refused,omitempty"`
}

type kernelData struct {
	Sources []KernelSource          `json:"sources"`
	Tables  map[string][]kernelRule `json:"tables"`
}

var (
	kernelsOnce sync.Once
	kernels     kernelData
	kernelsErr  error
)

func loadKernels() (kernelData, error) {
	kernelsOnce.Do(func() {
		b, err := dataFS.ReadFile("data/kernels.yaml")
		if err != nil {
			kernelsErr = err
			return
		}
		if err := yaml.UnmarshalStrict(b, &kernels); err != nil {
			kernelsErr = fmt.Errorf("engine/data/kernels.yaml: %w", err)
			return
		}
		kernelsErr = validateKernels(kernels)
	})
	return kernels, kernelsErr
}

func validateKernels(k kernelData) error {
	keys := map[string]bool{}
	for _, s := range k.Sources {
		if s.Key == "" || !strings.HasPrefix(s.URL, "https://") || s.AsOf == "" {
			return fmt.Errorf("engine/data/kernels.yaml: source %q needs a key, an https URL and as_of", s.Key)
		}
		keys[s.Key] = true
	}
	for name, rows := range k.Tables {
		for i, r := range rows {
			if !keys[r.Source] {
				return fmt.Errorf("engine/data/kernels.yaml: table %s row %d (%s) cites unknown source %q", name, i, r.Precision, r.Source)
			}
			if r.Reason == "" {
				return fmt.Errorf("engine/data/kernels.yaml: table %s row %d (%s) has no reason", name, i, r.Precision)
			}
			switch r.Level {
			case Native, WeightOnly, Incompatible, Unknown:
			default:
				return fmt.Errorf("engine/data/kernels.yaml: table %s row %d: level %q", name, i, r.Level)
			}
		}
	}
	return nil
}

// KernelSources lists the sources the kernel tables cite.
func KernelSources() []KernelSource {
	k, _ := loadKernels()
	return append([]KernelSource(nil), k.Sources...)
}

// Support says whether the engine runs precision pr on target t natively,
// weight-only, or not at all, from the profile's kernel table.
func (p *Profile) Support(pr dtype.Precision, t Target) Support {
	k, err := loadKernels()
	if err != nil {
		return Support{Level: Unknown, Reason: err.Error()}
	}
	name := p.Kernels
	if name == "" {
		name = p.EngineName
	}
	rows, ok := k.Tables[name]
	if !ok {
		return Support{Level: Unknown, Reason: fmt.Sprintf("no kernel table %q for %s", name, p.ID())}
	}
	for _, r := range rows {
		if !r.matches(pr, t) {
			continue
		}
		s := Support{Level: r.Level, Reason: expand(r.Reason, t) + " (" + r.Source + ")", Source: r.Source, MoERefused: r.MoERefused}
		if r.Level == Native || r.Level == WeightOnly {
			s.Compute = computeType(r.Compute, pr, t)
		}
		return s
	}
	return Support{Level: Unknown, Reason: fmt.Sprintf("no source read says whether %s runs %s on %s", p.DisplayName, pr.Name, t.Name())}
}

func (r kernelRule) matches(pr dtype.Precision, t Target) bool {
	switch r.Precision {
	case "*":
	case "gguf":
		if !pr.GGUF {
			return false
		}
	default:
		if r.Precision != pr.Name {
			return false
		}
	}
	if len(r.Vendor) > 0 {
		v := string(t.vendor())
		if v == "" {
			v = "cpu"
		}
		found := false
		for _, x := range r.Vendor {
			if x == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	if r.Native != "" && (t.IsCPU() || !t.GPU.Native(r.Native)) {
		return false
	}
	if r.NotNative != "" && !t.IsCPU() && t.GPU.Native(r.NotNative) {
		return false
	}
	if r.MinCC != "" {
		maj, min, _ := strings.Cut(r.MinCC, ".")
		a, _ := strconv.Atoi(maj)
		b, _ := strconv.Atoi(min)
		if t.IsCPU() || !t.GPU.ComputeCapabilityAtLeast(a, b) {
			return false
		}
	}
	return true
}

// computeType resolves a row's compute: "half" is bf16 where the chip has
// it, else fp16 (vLLM asks for --dtype half below compute capability 8.0);
// "self" is the precision's own compute type.
func computeType(c string, pr dtype.Precision, t Target) dtype.DType {
	switch c {
	case "half":
		if !t.IsCPU() && t.GPU.Native(hardware.MathBF16) {
			return dtype.BF16
		}
		return dtype.FP16
	case "", "self":
		return pr.Compute
	}
	return dtype.DType(c)
}

// expand fills {gpu} in a reason with the target's name.
func expand(s string, t Target) string {
	n := t.GPU.Name
	if n == "" {
		n = t.Name()
	}
	return strings.ReplaceAll(s, "{gpu}", n)
}
