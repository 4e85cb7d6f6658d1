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

// ComputeCapabilityAtLeast reports whether an NVIDIA chip's compute
// capability is at least major.minor (false for AMD chips and unknown
// values). Engine kernel tables (engine/data/kernels.yaml) key rows on it.
func (g GPU) ComputeCapabilityAtLeast(major, minor int) bool {
	a, b, ok := g.ccVersion()
	if !ok || g.Vendor != VendorNVIDIA {
		return false
	}
	return a > major || (a == major && b >= minor)
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
