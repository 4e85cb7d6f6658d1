package hardware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gpuplan/gpuplan/units"
)

// Availability is a yes/no/unknown fact about a VM size.
type Availability string

// Availability values.
const (
	Yes     Availability = "yes"
	No      Availability = "no"
	Unknown Availability = "unknown"
)

// VM size status values.
const (
	StatusAvailable = "available"
	StatusRetired   = "retired"
	StatusUnknown   = "unknown"
)

// VMSize is an Azure VM size with GPUs.
type VMSize struct {
	// Name is the ARM size name ("Standard_ND96isr_H100_v5").
	Name string `json:"name"`
	// Aliases are other ARM names for the same size.
	Aliases []string `json:"aliases,omitempty"`
	// Series is the family as Azure's size pages name it ("ND H100 v5").
	Series string `json:"series"`
	// GPU is the chip's canonical id (see LookupGPU).
	GPU string `json:"gpu"`
	// GPUCount is the number of whole GPUs; 0 for a fractional size.
	GPUCount int `json:"gpu_count"`
	// GPUFraction is "1/6", "1/3" or "1/2" for partial-GPU sizes.
	GPUFraction string `json:"gpu_fraction,omitempty"`
	// GPUMemory is the GPU memory of the whole VM as Azure states it
	// (decimal GB unless the page says GiB); zero when not stated.
	GPUMemory units.Bytes `json:"gpu_memory_bytes,omitempty"`
	VCPU      int         `json:"vcpu"`
	// CPU is the host processor as the size page names it.
	CPU     string      `json:"cpu,omitempty"`
	CPUArch CPUArch     `json:"cpu_arch,omitempty"`
	RAM     units.Bytes `json:"ram_bytes"`
	// GPUInterconnect is the GPU-to-GPU link as the page states it.
	GPUInterconnect string `json:"gpu_interconnect,omitempty"`
	// InfiniBand is the scale-out network ("8 x 400 Gb/s NDR"), "none", or
	// empty when not stated.
	InfiniBand string `json:"infiniband,omitempty"`
	// LocalNVMe is the total local NVMe capacity; TempDisk the temporary
	// (resource) disk. Zero when not stated.
	LocalNVMe units.Bytes `json:"local_nvme_bytes,omitempty"`
	TempDisk  units.Bytes `json:"temp_disk_bytes,omitempty"`
	// NetworkBitsPerS is the expected network bandwidth the size page
	// states (data/vm-network.yaml); zero when not stated. It caps reads
	// from remote storage such as Blob at cold start.
	NetworkBitsPerS float64 `json:"network_bits_per_s,omitempty"`
	// QuotaFamily is the Azure vCPU quota family (az vm list-usage).
	QuotaFamily string `json:"quota_family,omitempty"`
	// AKS: AKS installs GPU drivers for the size. KAITO: the size is in
	// KAITO's SKU list. ContainerApps: a Container Apps GPU workload
	// profile runs on it.
	AKS           Availability `json:"aks"`
	KAITO         Availability `json:"kaito"`
	ContainerApps Availability `json:"container_apps"`
	// Status is "available", "retired" or "unknown".
	Status         string   `json:"status"`
	RetirementDate Date     `json:"retirement_date,omitempty"`
	Source         string   `json:"source"`
	AsOf           Date     `json:"as_of"`
	Notes          []string `json:"notes,omitempty"`
}

// GPUs returns the number of GPUs as a number: 2 for two whole GPUs, 1/6 for
// a sixth of one. Zero means unknown.
func (v VMSize) GPUs() float64 {
	if v.GPUFraction != "" {
		f, err := parseFraction(v.GPUFraction)
		if err != nil {
			return 0
		}
		return f
	}
	return float64(v.GPUCount)
}

func parseFraction(s string) (float64, error) {
	n, d, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("GPU fraction %q: want N/D such as 1/6", s)
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(n))
	b, err2 := strconv.Atoi(strings.TrimSpace(d))
	if err1 != nil || err2 != nil || a <= 0 || b <= 0 || a >= b {
		return 0, fmt.Errorf("GPU fraction %q: want N/D with 0 < N < D", s)
	}
	return float64(a) / float64(b), nil
}

// Retired reports whether the size is retired.
func (v VMSize) Retired() bool { return v.Status == StatusRetired }

// ContainerAppsProfile is an Azure Container Apps GPU workload profile.
type ContainerAppsProfile struct {
	// Type is the workload profile type ("Consumption-GPU-NC24-A100").
	Type string `json:"type"`
	// Kind is "consumption" (serverless, per-second billing, scale to zero)
	// or "dedicated" (per node).
	Kind string `json:"kind"`
	// GPU is the chip id; GPUs the GPUs per replica or node.
	GPU  string `json:"gpu"`
	GPUs int    `json:"gpus"`
	// VMSize is the VM size the profile corresponds to, when known.
	VMSize string      `json:"vm_size,omitempty"`
	VCPU   int         `json:"vcpu,omitempty"`
	RAM    units.Bytes `json:"ram_bytes,omitempty"`
	// Regions are ARM region names.
	Regions []string `json:"regions"`
	Source  string   `json:"source"`
	AsOf    Date     `json:"as_of"`
	Notes   []string `json:"notes,omitempty"`
}

// flexBytes reads a memory size either as a JSON number of bytes or as a
// string with a unit ("28GiB", "80GB"), so data files and overlays can copy
// figures the way sources print them.
type flexBytes units.Bytes

func (f *flexBytes) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := units.ParseBytes(s)
		if err != nil {
			return err
		}
		*f = flexBytes(v)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("memory size: want a byte count or a string such as \"80GB\": %w", err)
	}
	if n < 0 || n > math.MaxInt64/2 || n != math.Trunc(n) {
		return fmt.Errorf("memory size %v: want a whole, non-negative byte count", n)
	}
	*f = flexBytes(n)
	return nil
}

// strictUnmarshal decodes b into v rejecting unknown fields, so a typo in a
// data file or overlay is an error rather than a silently ignored value.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the object")
	}
	return nil
}

// UnmarshalJSON accepts memory fields as byte counts or unit strings.
func (v *VMSize) UnmarshalJSON(b []byte) error {
	type plain VMSize
	var aux struct {
		*plain
		GPUMemory flexBytes `json:"gpu_memory_bytes"`
		RAM       flexBytes `json:"ram_bytes"`
		LocalNVMe flexBytes `json:"local_nvme_bytes"`
		TempDisk  flexBytes `json:"temp_disk_bytes"`
	}
	aux.plain = (*plain)(v)
	if err := strictUnmarshal(b, &aux); err != nil {
		return err
	}
	v.GPUMemory, v.RAM = units.Bytes(aux.GPUMemory), units.Bytes(aux.RAM)
	v.LocalNVMe, v.TempDisk = units.Bytes(aux.LocalNVMe), units.Bytes(aux.TempDisk)
	return nil
}

// UnmarshalJSON accepts memory fields as byte counts or unit strings.
func (p *ContainerAppsProfile) UnmarshalJSON(b []byte) error {
	type plain ContainerAppsProfile
	var aux struct {
		*plain
		RAM flexBytes `json:"ram_bytes"`
	}
	aux.plain = (*plain)(p)
	if err := strictUnmarshal(b, &aux); err != nil {
		return err
	}
	p.RAM = units.Bytes(aux.RAM)
	return nil
}

// UnmarshalJSON accepts memory fields as byte counts or unit strings
// ("79.19GiB"), which is convenient in --catalog overlays.
func (g *GPU) UnmarshalJSON(b []byte) error {
	type plain GPU
	var aux struct {
		*plain
		DatasheetMemory flexBytes `json:"datasheet_memory_bytes"`
		DriverMemory    flexBytes `json:"driver_memory_bytes"`
		CUDAMemory      flexBytes `json:"cuda_memory_bytes"`
	}
	aux.plain = (*plain)(g)
	if err := strictUnmarshal(b, &aux); err != nil {
		return err
	}
	g.DatasheetMemory = units.Bytes(aux.DatasheetMemory)
	g.DriverMemory = units.Bytes(aux.DriverMemory)
	g.CUDAMemory = units.Bytes(aux.CUDAMemory)
	return nil
}

// normalizeVMName lower-cases a size name and adds the "standard_" prefix,
// so "ND96isr_H100_v5" and "standard_nd96isr_h100_v5" name the same size.
func normalizeVMName(s string) string {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.ReplaceAll(k, " ", "_")
	if !strings.HasPrefix(k, "standard_") {
		k = "standard_" + k
	}
	return k
}

func lookupVM(vms []VMSize, name string) (VMSize, error) {
	k := normalizeVMName(name)
	for _, v := range vms {
		if normalizeVMName(v.Name) == k {
			return v, nil
		}
		for _, a := range v.Aliases {
			if normalizeVMName(a) == k {
				return v, nil
			}
		}
	}
	return VMSize{}, fmt.Errorf("unknown Azure VM size %q; list known sizes with `gpuplan gpus`, or add it with --catalog", name)
}

// VMSizes returns every VM size in catalog order.
func (c *Catalog) VMSizes() []VMSize {
	out := make([]VMSize, len(c.vms))
	for i, v := range c.vms {
		v.Aliases = append([]string(nil), v.Aliases...)
		v.Notes = append([]string(nil), v.Notes...)
		out[i] = v
	}
	return out
}

// LookupVM finds a size by ARM name, case-insensitively and with or without
// the "Standard_" prefix.
func (c *Catalog) LookupVM(name string) (VMSize, error) { return lookupVM(c.vms, name) }

// VMSizesFor returns the sizes carrying chip id (canonical), catalog order.
func (c *Catalog) VMSizesFor(gpuID string) []VMSize {
	var out []VMSize
	for _, v := range c.VMSizes() {
		if v.GPU == gpuID {
			out = append(out, v)
		}
	}
	return out
}

// ContainerAppsProfiles returns the Container Apps GPU workload profiles.
func (c *Catalog) ContainerAppsProfiles() []ContainerAppsProfile {
	out := make([]ContainerAppsProfile, len(c.profiles))
	for i, p := range c.profiles {
		p.Regions = append([]string(nil), p.Regions...)
		p.Notes = append([]string(nil), p.Notes...)
		out[i] = p
	}
	return out
}

// VMSizes returns the embedded catalog's VM sizes.
func VMSizes() []VMSize { return Default().VMSizes() }

// LookupVM finds a size in the embedded catalog (see Catalog.LookupVM).
func LookupVM(name string) (VMSize, error) { return Default().LookupVM(name) }
