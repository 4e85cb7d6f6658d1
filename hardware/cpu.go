package hardware

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
)

// CPU is a server CPU model that Azure CPU VM sizes run on.
type CPU struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Vendor string `json:"vendor"`
	// Arch is "x86_64" or "arm64".
	Arch string `json:"arch"`
	// ISA lists the vector and matrix extensions inference engines use
	// (lscpu flag names: avx512f, avx512_vnni, amx_int8, sve2, i8mm, ...).
	ISA []string `json:"isa"`
	// LlamaCPPVariant is the ggml CPU backend variant llama.cpp's
	// all-variants build loads on it.
	LlamaCPPVariant string `json:"llamacpp_variant"`
	// TheoreticalGBPerSPerSocket is channels × MT/s × 8 bytes: derived,
	// never measured; TheoreticalBasis says what it rests on.
	TheoreticalGBPerSPerSocket float64 `json:"theoretical_gb_per_s_per_socket"`
	TheoreticalBasis           string  `json:"theoretical_basis"`
	Source                     string  `json:"source"`
	AsOf                       Date    `json:"as_of"`
}

// Has reports whether the CPU has an ISA extension.
func (c CPU) Has(flag string) bool {
	for _, f := range c.ISA {
		if f == flag {
			return true
		}
	}
	return false
}

// HostArch is Arch as the GPU catalog and engine images spell CPU
// architectures (CPUx86 "x86-64", CPUArm64 "arm64").
func (c CPU) HostArch() CPUArch {
	if c.Arch == "arm64" {
		return CPUArm64
	}
	return CPUx86
}

// CPUVM is an Azure VM size without GPUs.
type CPUVM struct {
	Name   string `json:"name"`
	Series string `json:"series"`
	// CPU is the chip's id (see LookupCPU).
	CPU  string `json:"cpu"`
	VCPU int    `json:"vcpu"`
	// ThreadsPerCore is 2 where vCPUs are SMT threads, 1 where each vCPU
	// is a whole core (Fasv6/v7, Cobalt, HB).
	ThreadsPerCore int     `json:"threads_per_core"`
	MemoryGiB      float64 `json:"memory_gib"`
	Source         string  `json:"source"`
	AsOf           Date    `json:"as_of"`
}

// Cores is the number of physical cores the VM gets.
func (v CPUVM) Cores() int { return max(1, v.VCPU/max(1, v.ThreadsPerCore)) }

// MemoryBytes is the VM's memory in bytes.
func (v CPUVM) MemoryBytes() int64 { return int64(v.MemoryGiB * (1 << 30)) }

// CPUBandwidth is one measured memory read bandwidth of a VM size.
type CPUBandwidth struct {
	VM                 string  `json:"vm"`
	ReadGBPerS         float64 `json:"read_gb_per_s"`
	Threads            int     `json:"threads"`
	BufferMiBPerThread int     `json:"buffer_mib_per_thread"`
	Measured           Date    `json:"measured"`
	Source             string  `json:"source"`
}

// Bandwidth is a VM's memory bandwidth with how it was obtained.
type Bandwidth struct {
	GBPerS float64 `json:"gb_per_s"`
	// Kind is "measured" (a read-bandwidth benchmark on this size),
	// "estimate" (scaled from a measured size of the same CPU) or
	// "theoretical" (channels × speed; no measurement of the CPU at all).
	Kind  string `json:"kind"`
	Basis string `json:"basis"`
}

// CPUCatalog is the embedded CPU chips, CPU VM sizes, their measured
// bandwidth and their prices.
type CPUCatalog struct {
	CPUs      []CPU          `json:"cpus"`
	VMs       []CPUVM        `json:"vms"`
	Bandwidth []CPUBandwidth `json:"bandwidth"`
	Prices    []Price        `json:"prices"`
}

var (
	cpuOnce sync.Once
	cpuCat  *CPUCatalog
	cpuErr  error
)

// DefaultCPUs returns the embedded CPU catalog. It panics only if the
// embedded data is malformed, which the package tests rule out.
func DefaultCPUs() *CPUCatalog {
	cpuOnce.Do(func() { cpuCat, cpuErr = loadCPUs() })
	if cpuErr != nil {
		panic(cpuErr)
	}
	return cpuCat
}

func loadCPUs() (*CPUCatalog, error) {
	c := &CPUCatalog{}
	for _, f := range []struct {
		name string
		v    any
	}{{"data/cpus.yaml", &c.CPUs}, {"data/cpuvms.yaml", &c.VMs}, {"data/cpu-bandwidth-sparecores.yaml", &c.Bandwidth}, {"data/cpuprices.yaml", &c.Prices}} {
		if err := readData(f.name, f.v); err != nil {
			return nil, err
		}
	}
	var ms []CPUBandwidth
	if err := readData("data/cpu-bandwidth-microsoft.yaml", &ms); err != nil {
		return nil, err
	}
	c.Bandwidth = append(c.Bandwidth, ms...)
	return c, c.Validate()
}

// Validate checks references and ranges.
func (c *CPUCatalog) Validate() error {
	cpus := map[string]bool{}
	for _, p := range c.CPUs {
		if p.ID == "" || p.Name == "" || len(p.ISA) == 0 || p.Source == "" || p.AsOf.IsZero() {
			return fmt.Errorf("cpu %q: id, name, isa, source and as_of are required", p.ID)
		}
		if cpus[p.ID] {
			return fmt.Errorf("cpu %q listed twice", p.ID)
		}
		cpus[p.ID] = true
	}
	vms := map[string]bool{}
	for _, v := range c.VMs {
		if !cpus[v.CPU] {
			return fmt.Errorf("cpu vm %s: unknown cpu %q", v.Name, v.CPU)
		}
		if v.VCPU < 1 || v.MemoryGiB <= 0 || v.ThreadsPerCore < 1 || v.Source == "" || v.AsOf.IsZero() {
			return fmt.Errorf("cpu vm %s: vcpu, memory, threads per core, source and as_of are required", v.Name)
		}
		if vms[strings.ToLower(v.Name)] {
			return fmt.Errorf("cpu vm %s listed twice", v.Name)
		}
		vms[strings.ToLower(v.Name)] = true
	}
	for _, b := range c.Bandwidth {
		if !vms[strings.ToLower(b.VM)] || b.ReadGBPerS <= 0 || b.Source == "" || b.Measured.IsZero() {
			return fmt.Errorf("bandwidth row %s: unknown size or missing figure, source or date", b.VM)
		}
	}
	for _, p := range c.Prices {
		if !vms[strings.ToLower(p.VM)] {
			return fmt.Errorf("cpu price row: unknown size %s", p.VM)
		}
		if err := checkPrice(p); err != nil {
			return fmt.Errorf("cpu price %s/%s/%s: %w", p.VM, p.Region, p.Kind, err)
		}
	}
	return nil
}

// LookupCPU finds a chip by id, case-insensitively.
func (c *CPUCatalog) LookupCPU(id string) (CPU, error) {
	for _, p := range c.CPUs {
		if strings.EqualFold(p.ID, id) {
			return p, nil
		}
	}
	ids := make([]string, len(c.CPUs))
	for i, p := range c.CPUs {
		ids[i] = p.ID
	}
	return CPU{}, fmt.Errorf("unknown CPU %q; known: %s", id, strings.Join(ids, ", "))
}

// LookupVM finds a CPU VM size by ARM name, with or without "Standard_",
// case-insensitively.
func (c *CPUCatalog) LookupVM(name string) (CPUVM, bool) {
	n := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(name, "Standard_"), "standard_"))
	for _, v := range c.VMs {
		if strings.EqualFold(strings.TrimPrefix(v.Name, "Standard_"), n) {
			return v, true
		}
	}
	return CPUVM{}, false
}

// VMBandwidth is the VM's memory read bandwidth: measured on the size when
// there is a measurement; otherwise an estimate scaled by physical cores
// from the measured size of the same CPU nearest in cores (D, E and F
// sizes of one CPU share hosts), capped at the CPU's theoretical figure;
// otherwise (no measurement of the CPU at all: HBv4, HBv5) the theoretical
// per-socket figure, labelled as such.
func (c *CPUCatalog) VMBandwidth(v CPUVM) Bandwidth {
	for _, b := range c.Bandwidth {
		if strings.EqualFold(b.VM, v.Name) {
			return Bandwidth{GBPerS: b.ReadGBPerS, Kind: "measured", Basis: fmt.Sprintf("memory bandwidth measured on %s (%d threads, %s), %s", b.VM, b.Threads, b.Measured, b.Source)}
		}
	}
	cpu, _ := c.LookupCPU(v.CPU)
	var best *CPUVM
	var bestBW CPUBandwidth
	for i := range c.VMs {
		o := &c.VMs[i]
		if o.CPU != v.CPU {
			continue
		}
		for _, b := range c.Bandwidth {
			if !strings.EqualFold(b.VM, o.Name) {
				continue
			}
			if best == nil || math.Abs(math.Log(float64(o.Cores())/float64(v.Cores()))) < math.Abs(math.Log(float64(best.Cores())/float64(v.Cores()))) {
				best, bestBW = o, b
			}
		}
	}
	if best != nil {
		gbs := bestBW.ReadGBPerS * float64(v.Cores()) / float64(best.Cores())
		if best.Cores() >= v.Cores() {
			// Fewer cores than a measured size: bandwidth does not fall
			// below a single chiplet's share on these CPUs (the D2-D16as
			// measurements sit at 38-60 GB/s), so keep the measured figure
			// scaled no lower than it, which is an estimate either way.
			gbs = bestBW.ReadGBPerS * math.Max(float64(v.Cores())/float64(best.Cores()), 0.5)
		}
		if cap := cpu.TheoreticalGBPerSPerSocket; cap > 0 && gbs > cap && v.Cores() > best.Cores() {
			gbs = max(cap, bestBW.ReadGBPerS) // never above one socket's peak when scaling up
		}
		return Bandwidth{GBPerS: gbs, Kind: "estimate", Basis: fmt.Sprintf("scaled by physical cores from %s's measured %.1f GB/s (%d cores → %d)", best.Name, bestBW.ReadGBPerS, best.Cores(), v.Cores())}
	}
	return Bandwidth{GBPerS: cpu.TheoreticalGBPerSPerSocket, Kind: "theoretical", Basis: cpu.TheoreticalBasis}
}

// VMPrice is the VM's hourly price of a kind in a region.
func (c *CPUCatalog) VMPrice(vm, region string, kind PriceKind) (Price, bool) {
	for _, p := range c.Prices {
		if strings.EqualFold(p.VM, vm) && p.Region == region && p.Kind == kind {
			return p, true
		}
	}
	return Price{}, false
}

// SortedVMs returns the VM sizes by series then vCPU.
func (c *CPUCatalog) SortedVMs() []CPUVM {
	out := append([]CPUVM(nil), c.VMs...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Series != out[j].Series {
			return out[i].Series < out[j].Series
		}
		return out[i].VCPU < out[j].VCPU
	})
	return out
}

// CPUHost is a machine measured by `gpuplan probe` (or described by hand)
// in a catalog overlay's cpu_hosts: a CPU target that is not an Azure size.
type CPUHost struct {
	// Name is what --vm selects it by.
	Name     string `json:"name"`
	CPUModel string `json:"cpu_model"`
	// Cores are physical cores (llama.cpp runs one thread per core);
	// Threads the logical CPUs.
	Cores   int      `json:"cores"`
	Threads int      `json:"threads"`
	ISA     []string `json:"isa,omitempty"`
	// MemoryGiB is the machine's memory (MemTotal).
	MemoryGiB float64 `json:"memory_gib"`
	// BandwidthGBPerS is the measured memory read bandwidth.
	BandwidthGBPerS float64 `json:"bandwidth_gb_per_s"`
	// MatrixGFLOPSPerCore is the measured matrix rate per core.
	MatrixGFLOPSPerCore float64 `json:"matrix_gflops_per_core"`
	Measured            Date    `json:"measured"`
	Source              string  `json:"source"`
}

// Validate checks a host's figures.
func (h CPUHost) Validate() error {
	switch {
	case h.Name == "" || len(h.Name) > 128:
		return fmt.Errorf("cpu host: name must be 1-128 characters")
	case h.Cores < 1 || h.Cores > 4096 || h.Threads < h.Cores:
		return fmt.Errorf("cpu host %s: cores must be in [1, 4096] and threads at least cores", h.Name)
	case !(h.BandwidthGBPerS > 0) || h.BandwidthGBPerS > 1e5 || !(h.MatrixGFLOPSPerCore > 0) || h.MatrixGFLOPSPerCore > 1e5:
		return fmt.Errorf("cpu host %s: bandwidth and matrix rate must be positive and plausible", h.Name)
	case h.MemoryGiB < 0 || h.Source == "" || h.Measured.IsZero():
		return fmt.Errorf("cpu host %s: memory, source and measured date are required", h.Name)
	}
	return nil
}
