package hardware

import (
	"fmt"
	"sort"
	"sync"
)

// Link is one kind of connection between GPUs, as numbers.
type Link struct {
	// Kind is "nvlink", "pcie", "infinity-fabric" or "infiniband".
	Kind string `json:"kind"`
	// Generation is the NVLink generation (0 otherwise).
	Generation int `json:"generation,omitempty"`
	// Rate names an InfiniBand rate ("NDR", "HDR").
	Rate string `json:"rate,omitempty"`
	// BytesPerS is the bandwidth per GPU and per direction of a scale-up
	// link (zero for scale-out links, which state their NICs instead).
	BytesPerS BytesPerSecond `json:"bytes_per_s,omitempty"`
	// NICs and BitsPerSPerNIC describe a scale-out network: adapters per
	// VM and each one's signalling rate in bits per second.
	NICs           int     `json:"nics,omitempty"`
	BitsPerSPerNIC float64 `json:"bits_per_s_per_nic,omitempty"`
	// StepLatencyUS is NCCL's modelled latency of one ring step over the
	// link type with the LL128 protocol (small messages);
	// SimpleStepLatencyUS with the Simple protocol (large messages).
	StepLatencyUS       float64 `json:"step_latency_us"`
	SimpleStepLatencyUS float64 `json:"simple_step_latency_us"`
}

// Fabric is the interconnect of one VM size: the GPU-to-GPU link inside a
// scale-up domain and the VM-to-VM network.
type Fabric struct {
	// VM is the ARM size name.
	VM string `json:"vm"`
	// DomainGPUs is how many GPUs share one scale-up domain: the VM's GPUs,
	// or more where several VMs share one NVLink domain (GB200 NVL72).
	DomainGPUs int    `json:"domain_gpus"`
	ScaleUp    Link   `json:"scale_up"`
	ScaleOut   Link   `json:"scale_out"`
	Source     string `json:"source"`
	AsOf       Date   `json:"as_of"`
}

// ScaleOutBytesPerSPerGPU is the VM-to-VM bandwidth one GPU can use, per
// direction: the VM's NICs shared by its GPUs (gpusPerVM > 0).
func (f Fabric) ScaleOutBytesPerSPerGPU(gpusPerVM int) float64 {
	if gpusPerVM <= 0 || f.ScaleOut.NICs <= 0 {
		return 0
	}
	return float64(f.ScaleOut.NICs) * f.ScaleOut.BitsPerSPerNIC / 8 / float64(gpusPerVM)
}

var (
	fabricsOnce sync.Once
	fabricIx    fabricIndex
	fabricsErr  error
)

// fabricIndex is the loaded fabrics, by lower-case VM name and alias, and
// the largest VM size with a fabric per chip.
type fabricIndex struct {
	all    []Fabric
	byName map[string]int
	byGPU  map[string]gpuFabric
}

type gpuFabric struct {
	i, gpus int
}

func loadFabrics() (fabricIndex, error) {
	ix := fabricIndex{byName: map[string]int{}, byGPU: map[string]gpuFabric{}}
	if err := readData("data/fabrics.yaml", &ix.all); err != nil {
		return ix, err
	}
	sort.Slice(ix.all, func(i, j int) bool { return ix.all[i].VM < ix.all[j].VM })
	c := Default()
	for i, f := range ix.all {
		v, err := c.LookupVM(f.VM)
		if err != nil {
			return ix, fmt.Errorf("fabrics.yaml: %w", err)
		}
		if _, dup := ix.byName[normalizeVMName(v.Name)]; dup {
			return ix, fmt.Errorf("fabrics.yaml: %s listed twice", f.VM)
		}
		if err := c.checkSource(f.Source); err != nil {
			return ix, fmt.Errorf("fabrics.yaml %s: %w", f.VM, err)
		}
		if f.DomainGPUs < v.GPUCount || f.ScaleUp.BytesPerS <= 0 || f.ScaleUp.StepLatencyUS <= 0 {
			return ix, fmt.Errorf("fabrics.yaml %s: domain_gpus (at least the VM's GPUs), scale_up.bytes_per_s and scale_up.step_latency_us must be positive", f.VM)
		}
		if f.ScaleOut.Kind != "" && (f.ScaleOut.NICs <= 0 || f.ScaleOut.BitsPerSPerNIC <= 0 || f.ScaleOut.StepLatencyUS < f.ScaleUp.StepLatencyUS) {
			return ix, fmt.Errorf("fabrics.yaml %s: a scale_out link needs nics, bits_per_s_per_nic and a step latency no lower than the scale-up link's", f.VM)
		}
		for _, n := range append([]string{v.Name}, v.Aliases...) {
			ix.byName[normalizeVMName(n)] = i
		}
		if g := ix.byGPU[v.GPU]; v.GPUCount > g.gpus && !v.Retired() {
			ix.byGPU[v.GPU] = gpuFabric{i: i, gpus: v.GPUCount}
		}
	}
	return ix, nil
}

func fabricIndexOf() fabricIndex {
	fabricsOnce.Do(func() { fabricIx, fabricsErr = loadFabrics() })
	if fabricsErr != nil {
		panic(fabricsErr)
	}
	return fabricIx
}

// Fabrics returns the interconnects of the VM sizes that have them, sorted
// by VM name.
func Fabrics() []Fabric { return append([]Fabric(nil), fabricIndexOf().all...) }

// LookupFabric returns the interconnect of a VM size (its ARM name or an
// alias, case-insensitive, with or without the "Standard_" prefix).
func LookupFabric(vm string) (Fabric, bool) {
	ix := fabricIndexOf()
	i, ok := ix.byName[normalizeVMName(vm)]
	if !ok {
		return Fabric{}, false
	}
	return ix.all[i], true
}

// FabricForGPU returns the fabric of the largest available VM size (most
// GPUs) built on a chip, with that size's GPU count: a deployment that
// needs more GPUs than one VM holds spans VMs of that size.
func FabricForGPU(gpuID string) (Fabric, int, bool) {
	ix := fabricIndexOf()
	g, ok := ix.byGPU[gpuID]
	if !ok {
		return Fabric{}, 0, false
	}
	return ix.all[g.i], g.gpus, true
}
