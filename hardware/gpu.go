package hardware

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/units"
)

// Vendor is the GPU maker; it decides the Kubernetes device-plugin resource.
type Vendor string

// Vendors.
const (
	VendorNVIDIA Vendor = "nvidia"
	VendorAMD    Vendor = "amd"
)

// CPUArch is a host processor architecture.
type CPUArch string

// Host architectures. Grace-based GB200/GB300 hosts are Arm, so container
// images must be multi-arch there.
const (
	CPUx86   CPUArch = "x86-64"
	CPUArm64 CPUArch = "arm64"
)

// Math is a matrix-math input type with its own peak rate on a chip.
type Math string

// Math types keyed in GPU.DenseTFLOPS and GPU.NativeMath.
const (
	MathFP32 Math = "fp32"
	MathTF32 Math = "tf32"
	MathFP16 Math = "fp16"
	MathBF16 Math = "bf16"
	MathFP8  Math = "fp8"
	MathINT8 Math = "int8"
	MathFP4  Math = "fp4"
	MathINT4 Math = "int4"
)

// BytesPerSecond is a bandwidth.
type BytesPerSecond float64

// GBps returns the bandwidth in decimal GB/s, the unit datasheets use.
func (b BytesPerSecond) GBps() float64 { return float64(b) / 1e9 }

// Interconnect is how a GPU talks to its peers in the same VM.
type Interconnect struct {
	// Kind is "nvlink", "pcie", "infinity-fabric" or "" (unknown).
	Kind string `json:"kind,omitempty"`
	// NVLinkGeneration is 2 (V100) … 5 (Blackwell); 0 when not NVLink.
	NVLinkGeneration int `json:"nvlink_generation,omitempty"`
	// Bandwidth is the GPU-to-GPU bandwidth per GPU, both directions
	// summed (the way NVIDIA quotes NVLink: 900 GB/s on H100 SXM). Zero
	// means unknown.
	Bandwidth BytesPerSecond `json:"bandwidth_bytes_per_s,omitempty"`
	// Note carries what the source says when it is not a number.
	Note string `json:"note,omitempty"`
}

// Measurement is a measured achievable rate on a chip.
type Measurement struct {
	// Kind is "matmul" (dense GEMM rate) or "copy" (device memory copy).
	Kind string `json:"kind"`
	// Math is the matmul input type; empty for copies.
	Math Math `json:"math,omitempty"`
	// TFLOPS is the measured matmul rate.
	TFLOPS float64 `json:"tflops,omitempty"`
	// BytesPerS is the measured copy rate, bytes read plus written.
	BytesPerS BytesPerSecond `json:"bytes_per_s,omitempty"`
	Source    string         `json:"source"`
	AsOf      Date           `json:"as_of"`
	Note      string         `json:"note,omitempty"`
}

// GPU is one accelerator chip. Zero or empty numeric fields mean unknown:
// the sources read do not state them (supply them with --catalog).
type GPU struct {
	// ID is the canonical id used by --gpu ("h100-nvl").
	ID string `json:"id"`
	// Name is the display name.
	Name string `json:"name"`
	// Aliases are other spellings that mean exactly this chip.
	Aliases      []string `json:"aliases,omitempty"`
	Vendor       Vendor   `json:"vendor"`
	Architecture string   `json:"architecture,omitempty"`
	// ComputeCapability is the CUDA compute capability ("9.0"; "10.x" when
	// the minor version is not sourced) or the AMD GFX target ("gfx942").
	ComputeCapability string `json:"compute_capability,omitempty"`
	// DatasheetMemory is the memory as the datasheet or Azure page states
	// it, in decimal GB (80 GB = 80e9 bytes).
	DatasheetMemory units.Bytes `json:"datasheet_memory_bytes"`
	// DriverMemory is the total the driver reports (nvidia-smi
	// memory.total, rocm-smi VRAM total); zero when unknown.
	DriverMemory units.Bytes `json:"driver_memory_bytes,omitempty"`
	// CUDAMemory is the total CUDA (or HIP) reports to a process, which is
	// what vLLM multiplies by --gpu-memory-utilization.
	CUDAMemory units.Bytes `json:"cuda_memory_bytes,omitempty"`
	// CUDAMemoryEstimated is true when CUDAMemory is derived rather than
	// measured; CUDAMemoryNote says how.
	CUDAMemoryEstimated bool   `json:"cuda_memory_estimated"`
	CUDAMemoryNote      string `json:"cuda_memory_note,omitempty"`
	// MemoryBandwidth is the datasheet peak; zero when unknown.
	MemoryBandwidth BytesPerSecond `json:"memory_bandwidth_bytes_per_s,omitempty"`
	// DenseTFLOPS holds peak dense (no 2:4 sparsity) rates by math type;
	// a missing key is unknown (see TFLOPS for the fp16/bf16 rule).
	DenseTFLOPS map[Math]float64 `json:"dense_tflops,omitempty"`
	// NativeMath lists the math types the chip's matrix units run natively.
	NativeMath   []Math       `json:"native_math,omitempty"`
	Interconnect Interconnect `json:"interconnect"`
	// HostCPU is the architecture of the host CPUs the chip ships with on
	// Azure; empty when no catalog VM carries the chip.
	HostCPU CPUArch `json:"host_cpu_arch,omitempty"`
	// DevicePluginResource is the Kubernetes extended resource name.
	DevicePluginResource string        `json:"device_plugin_resource"`
	Measured             []Measurement `json:"measured,omitempty"`
	// Sources maps a field's JSON name to its source when it differs from
	// Source.
	Sources map[string]string `json:"sources,omitempty"`
	Source  string            `json:"source"`
	AsOf    Date              `json:"as_of"`
	Notes   []string          `json:"notes,omitempty"`
}

// CUDAReserveEstimate is subtracted from the driver-reported total to
// estimate CUDA-visible memory where no CUDA figure is measured. It is the
// largest gap seen between the two on cards where both are known, rounded
// up: L40S 46068 MiB vs vLLM's 44.31 GiB (695 MiB), A100 40GB 40960 MiB vs
// 39.38 GiB (635 MiB), H200 143771 MiB vs 143155.5 MiB (616 MiB), H100 SXM
// 81559 MiB vs 79.19 GiB (468 MiB). The largest gap makes the estimate err
// towards less memory, so a plan never fits only because of the estimate.
const CUDAReserveEstimate = 700 * units.MiB

// TFLOPS returns the dense peak for math m. FP16 and BF16 tensor rates are
// equal on every chip whose source lists both (stas00/ml-engineering's
// table), so one stands in for the other when only one is listed, provided
// the chip runs both natively.
func (g GPU) TFLOPS(m Math) (float64, bool) {
	if v, ok := g.DenseTFLOPS[m]; ok && v > 0 {
		return v, true
	}
	if (m == MathFP16 || m == MathBF16) && g.Native(MathFP16) && g.Native(MathBF16) {
		other := MathBF16
		if m == MathBF16 {
			other = MathFP16
		}
		if v, ok := g.DenseTFLOPS[other]; ok && v > 0 {
			return v, true
		}
	}
	return 0, false
}

// MathFor maps a storage/compute dtype to the math type whose rate applies:
// block FP4 formats use the FP4 rate, everything else its own name.
func MathFor(d dtype.DType) Math {
	switch d {
	case dtype.MXFP4, dtype.NVFP4:
		return MathFP4
	}
	return Math(d)
}

// Native reports whether the chip's matrix units run math m natively.
func (g GPU) Native(m Math) bool {
	for _, n := range g.NativeMath {
		if n == m {
			return true
		}
	}
	return false
}

// AchievableFraction returns the best measured rate divided by the peak:
// for kind "matmul", measured TFLOPS over DenseTFLOPS[m]; for "copy",
// measured copy bytes/s over MemoryBandwidth (m ignored). The second result
// is false when either side is unknown.
func (g GPU) AchievableFraction(kind string, m Math) (float64, bool) {
	best := 0.0
	for _, x := range g.Measured {
		if x.Kind != kind {
			continue
		}
		switch kind {
		case "matmul":
			if x.Math == m && x.TFLOPS > best {
				best = x.TFLOPS
			}
		case "copy":
			if v := float64(x.BytesPerS); v > best {
				best = v
			}
		}
	}
	if best == 0 {
		return 0, false
	}
	var peak float64
	if kind == "copy" {
		peak = float64(g.MemoryBandwidth)
	} else {
		peak, _ = g.TFLOPS(m)
	}
	if peak <= 0 {
		return 0, false
	}
	return best / peak, true
}

// ccVersion parses ComputeCapability into major and minor. "10.x" gives
// (10, 0): the minor version is unknown, and rules only compare majors at
// that level. ok is false for AMD GFX targets and unknown values.
func (g GPU) ccVersion() (major, minor int, ok bool) {
	s := g.ComputeCapability
	maj, min, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	a, err := strconv.Atoi(maj)
	if err != nil {
		return 0, 0, false
	}
	if min == "x" {
		return a, 0, true
	}
	b, err := strconv.Atoi(min)
	if err != nil {
		return 0, 0, false
	}
	return a, b, true
}

// ccAtLeast reports whether an NVIDIA chip's compute capability is at least
// major.minor.
func (g GPU) ccAtLeast(major, minor int) bool {
	a, b, ok := g.ccVersion()
	if !ok || g.Vendor != VendorNVIDIA {
		return false
	}
	return a > major || (a == major && b >= minor)
}

// SupportLevel says how a chip runs a precision.
type SupportLevel string

// Support levels.
const (
	// SupportNative: the precision runs as defined (its compute type on the
	// chip's matrix units, with engine kernels for this architecture).
	SupportNative SupportLevel = "native"
	// SupportWeightOnly: the weights can be stored this way but the math
	// runs in 16-bit after dequantizing (weight-only or emulated), so memory
	// shrinks but compute does not speed up.
	SupportWeightOnly SupportLevel = "weight-only"
	// SupportUnsupported: engines cannot run it on this chip.
	SupportUnsupported SupportLevel = "unsupported"
	// SupportUnknown: no source says either way.
	SupportUnknown SupportLevel = "unknown"
)

// Support is the verdict of GPU.Support.
type Support struct {
	Level SupportLevel `json:"level"`
	// Compute is the type the matrix math actually runs in (e.g. fp16 for
	// an int4 W4A16 model on a T4, which has no bf16); empty if unsupported.
	Compute dtype.DType `json:"compute_dtype,omitempty"`
	// Reason explains the verdict and cites its source key.
	Reason string `json:"reason"`
}

// OK reports whether the precision can run at all.
func (s Support) OK() bool { return s.Level == SupportNative || s.Level == SupportWeightOnly }

// halfType is the 16-bit type weight-only kernels compute in: bf16 where
// the chip has it, else fp16 (vLLM asks for --dtype half on CC < 8.0).
func (g GPU) halfType() dtype.DType {
	if g.Native(MathBF16) {
		return dtype.BF16
	}
	return dtype.FP16
}

// Support says whether the chip runs precision p natively, only as
// weight-only/emulated, or not at all. The rules follow vLLM's quantization
// hardware table (source key vllm-quant-hardware: AWQ Turing+, GPTQ Volta+,
// Marlin GPTQ/AWQ/FP8 Ampere+, INT8 W8A8 Turing+, FP8 W8A8 Ada/Hopper/AMD,
// GGUF everywhere incl. AMD) and TransformerEngine's matrix (source key
// te-support-matrix: BF16 needs CC 8.0, FP8 8.9, NVFP4 Blackwell 10.x).
// Blackwell is not in vLLM's table; it is treated as a superset of Hopper.
func (g GPU) Support(p dtype.Precision) Support {
	nvidia := g.Vendor == VendorNVIDIA
	amd := g.Vendor == VendorAMD
	half := g.halfType()
	if p.GGUF {
		if nvidia || amd {
			return Support{SupportNative, dtype.FP16, "GGUF kernels run on every NVIDIA generation and on AMD GPUs (vllm-quant-hardware)"}
		}
		return Support{SupportUnknown, "", "no source for GGUF on this vendor"}
	}
	switch p.Name {
	case "fp32":
		return Support{SupportNative, dtype.FP32, "every GPU runs fp32"}
	case "fp16":
		if g.Native(MathFP16) {
			return Support{SupportNative, dtype.FP16, "fp16 matrix math is native"}
		}
		return Support{SupportUnknown, "", "fp16 support not recorded for this chip"}
	case "bf16":
		if g.Native(MathBF16) {
			return Support{SupportNative, dtype.BF16, "bf16 matrix math is native"}
		}
		return Support{SupportUnsupported, "", fmt.Sprintf("%s has no bfloat16 (needs CUDA compute capability 8.0+, te-support-matrix); use fp16 (vLLM --dtype half)", g.Name)}
	case "fp8":
		if g.Native(MathFP8) {
			return Support{SupportNative, dtype.FP8, "FP8 W8A8 on FP8 matrix units (CC 8.9+ or MI300X; vllm-quant-hardware)"}
		}
		if nvidia && g.ccAtLeast(8, 0) {
			return Support{SupportWeightOnly, half, "no FP8 matrix units: vLLM runs FP8 checkpoints as W8A16 with Marlin kernels on Ampere (vllm-quant-hardware); dense models only, FP8 MoE is not supported on Ampere (vllm-fp8-moe-ampere)"}
		}
		return Support{SupportUnsupported, "", "FP8 needs Ada/Hopper FP8 units, or Ampere's Marlin W8A16 kernels (vllm-quant-hardware)"}
	case "fp8-w8a16":
		if nvidia && g.ccAtLeast(8, 0) {
			return Support{SupportNative, half, "Marlin FP8 weight-only kernels run on Ampere and newer (vllm-quant-hardware)"}
		}
		if amd {
			return Support{SupportUnknown, "", "vLLM's table lists no FP8 weight-only kernel for AMD; MI300X runs FP8 W8A8 natively instead"}
		}
		return Support{SupportUnsupported, "", "Marlin kernels need compute capability 8.0+ (vllm-quant-hardware)"}
	case "int8":
		if g.Native(MathINT8) && nvidia && g.ccAtLeast(7, 5) {
			return Support{SupportNative, dtype.INT8, "INT8 W8A8 runs on Turing and newer (vllm-quant-hardware)"}
		}
		if amd {
			return Support{SupportUnsupported, "", "vLLM's table lists no INT8 W8A8 kernel for AMD GPUs (vllm-quant-hardware)"}
		}
		return Support{SupportUnsupported, "", "INT8 W8A8 needs Turing or newer (vllm-quant-hardware)"}
	case "int8-w8a16", "int4":
		if nvidia && g.ccAtLeast(7, 0) {
			return Support{SupportNative, half, "GPTQ weight-only kernels run on Volta and newer, AWQ on Turing and newer (vllm-quant-hardware)"}
		}
		if amd {
			return Support{SupportUnsupported, "", "vLLM's table lists AWQ and GPTQ as unsupported on AMD GPUs (vllm-quant-hardware)"}
		}
		return Support{SupportUnknown, "", "no source for weight-only integer kernels on this chip"}
	case "mxfp4":
		if g.Native(MathFP4) {
			return Support{SupportNative, half, "FP4 matrix units (Blackwell) run MXFP4 weights"}
		}
		if nvidia && g.ccAtLeast(8, 0) {
			return Support{SupportNative, half, "MXFP4 is a weight-only format here: weights dequantize to 16-bit through Marlin-class kernels (Ampere and newer, vllm-quant-hardware)"}
		}
		if amd {
			return Support{SupportUnknown, "", "no source read for MXFP4 kernels on this AMD chip"}
		}
		return Support{SupportUnsupported, "", "MXFP4 kernels need compute capability 8.0+ (vllm-quant-hardware, Marlin row)"}
	case "nvfp4":
		if g.Native(MathFP4) && nvidia {
			return Support{SupportNative, dtype.NVFP4, "NVFP4 W4A4 on Blackwell FP4 matrix units (te-support-matrix)"}
		}
		return Support{SupportUnsupported, "", "NVFP4 needs Blackwell FP4 matrix units (CC 10.x, te-support-matrix); no fallback is assumed"}
	}
	return Support{SupportUnknown, "", fmt.Sprintf("no rule for precision %q", p.Name)}
}

// normalizeID lower-cases a chip name and turns spaces and underscores into
// dashes, so "NVIDIA H100 NVL" and "nvidia_h100_nvl" meet "nvidia-h100-nvl".
func normalizeID(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer(" ", "-", "_", "-").Replace(s)
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	return s
}

// lookupGPU resolves id among gpus: exact id, then alias, then (to give a
// helpful error) every chip whose id or alias extends id with "-".
func lookupGPU(gpus []GPU, id string) (GPU, error) {
	k := normalizeID(id)
	if k == "" {
		return GPU{}, fmt.Errorf("empty GPU id (known: %s)", strings.Join(gpuIDs(gpus), ", "))
	}
	for _, g := range gpus {
		if g.ID == k {
			return g, nil
		}
	}
	for _, g := range gpus {
		for _, a := range g.Aliases {
			if normalizeID(a) == k {
				return g, nil
			}
		}
	}
	var choices []string
	for _, g := range gpus {
		names := append([]string{g.ID}, g.Aliases...)
		for _, n := range names {
			if strings.HasPrefix(normalizeID(n), k+"-") {
				choices = append(choices, g.ID)
				break
			}
		}
	}
	if len(choices) > 0 {
		return GPU{}, fmt.Errorf("GPU %q is ambiguous: it could mean %s; pass one of these ids to --gpu", id, strings.Join(choices, ", "))
	}
	return GPU{}, fmt.Errorf("unknown GPU %q (known: %s); add it with --catalog", id, strings.Join(gpuIDs(gpus), ", "))
}

func gpuIDs(gpus []GPU) []string {
	out := make([]string, len(gpus))
	for i, g := range gpus {
		out[i] = g.ID
	}
	return out
}

// finishGPU derives what the data leaves to code: the CUDA-memory estimate
// from the driver total when nothing is measured.
func finishGPU(g *GPU) {
	if g.CUDAMemory == 0 && g.DriverMemory > CUDAReserveEstimate {
		g.CUDAMemory = g.DriverMemory - CUDAReserveEstimate
		g.CUDAMemoryEstimated = true
		g.CUDAMemoryNote = fmt.Sprintf("estimated: driver total %d MiB minus %d MiB, the largest driver-vs-CUDA gap seen on measured cards; measure with torch.cuda.mem_get_info and supply it with --catalog",
			int64(g.DriverMemory/units.MiB), int64(CUDAReserveEstimate/units.MiB))
	}
	if g.DevicePluginResource == "" {
		switch g.Vendor {
		case VendorNVIDIA:
			g.DevicePluginResource = "nvidia.com/gpu"
		case VendorAMD:
			g.DevicePluginResource = "amd.com/gpu"
		}
	}
}
