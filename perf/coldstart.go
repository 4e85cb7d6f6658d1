package perf

import (
	"fmt"
	"math"
	"strings"

	"github.com/gpuplan/gpuplan/units"
)

// LoadSource is where a replica reads its weights from at start-up, with
// the throughput assumed for it and where that figure comes from.
type LoadSource struct {
	// Name is "nvme", "blob" or "hf" for the built-in sources.
	Name        string  `json:"name"`
	Description string  `json:"description"`
	BytesPerS   float64 `json:"bytes_per_s"`
	// Basis says where the throughput comes from and what it leaves out.
	Basis string `json:"basis"`
	// Remote sources are read over the VM's network, so its bandwidth
	// caps them (CappedByNetwork).
	Remote bool `json:"remote,omitempty"`
}

// CappedByNetwork returns s limited to a VM's network bandwidth (bits per
// second, as the size page states it) when s is read over the network and
// the VM is slower: a storage account that serves 120 Gbps still reaches an
// 80 Gbps VM at 80 Gbps at most. Local sources, and an unknown bandwidth
// (0), leave s as it is.
func (s LoadSource) CappedByNetwork(vm string, bitsPerS float64) LoadSource {
	if !s.Remote || !(bitsPerS > 0) || bitsPerS/8 >= s.BytesPerS {
		return s
	}
	s.BytesPerS = bitsPerS / 8
	s.Basis += fmt.Sprintf("; capped by %s's network bandwidth, %.0f Mbps (%.3g GB/s), as its Azure size page states", vm, bitsPerS/1e6, bitsPerS/8e9)
	return s
}

// Built-in load sources. Each throughput is a stated ceiling, not a
// measurement of any particular VM: pass a measured figure when you have
// one (gpuplan perf --load-throughput).
var loadSources = []LoadSource{
	{Name: "nvme", Description: "local NVMe disk of the VM",
		BytesPerS: 7.88e9,
		Basis:     "one PCIe 4.0 x4 NVMe drive's link ceiling: 16 GT/s × 4 lanes × 128/130 ÷ 8 = 7.88 GB/s (PCI Express Base Specification 4.0); striping several drives can go faster, a slower drive or a single-threaded loader slower"},
	{Name: "blob", Description: "Azure Blob Storage (block blobs, general-purpose v2 account)",
		BytesPerS: 15e9, Remote: true,
		Basis: "Azure Storage scalability targets: a single block blob reads up to the account's egress limit, 120 Gbps (15 GB/s) by default in most US, Europe and Asia regions (learn.microsoft.com/azure/storage/common/scalability-targets-standard-account); the VM's own network bandwidth caps it further"},
	{Name: "hf", Description: "Hugging Face Hub download",
		BytesPerS: 500e6, Remote: true,
		Basis: "about 500 MB/s, the rate the huggingface/hf_transfer README says the Python client cannot go beyond; slower links and throttled mirrors are common"},
}

// LoadSources returns the built-in load sources.
func LoadSources() []LoadSource { return append([]LoadSource(nil), loadSources...) }

// LookupLoadSource resolves a --load-from value.
func LookupLoadSource(name string) (LoadSource, error) {
	k := strings.ToLower(strings.TrimSpace(name))
	var names []string
	for _, s := range loadSources {
		if s.Name == k {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return LoadSource{}, fmt.Errorf("unknown weight source %q (known: %s)", name, strings.Join(names, ", "))
}

// ColdStartEstimate is the time to bring a replica's weights in.
type ColdStartEstimate struct {
	Source LoadSource `json:"source"`
	// Bytes is what is read: the whole model's weights once per replica.
	Bytes units.Bytes `json:"bytes"`
	// Seconds is Bytes ÷ the source's throughput.
	Seconds float64 `json:"seconds"`
	// Assumptions lists what the figure leaves out.
	Assumptions []string `json:"assumptions"`
}

// ColdStart estimates how long reading weights from src takes. It covers
// the transfer only: engine start-up (CUDA context, graph capture,
// TensorRT engine build or deserialisation) comes on top.
func ColdStart(weights units.Bytes, src LoadSource) (ColdStartEstimate, error) {
	if weights <= 0 {
		return ColdStartEstimate{}, fmt.Errorf("%w: weights must be positive", ErrInvalid)
	}
	if !(src.BytesPerS > 0) || math.IsInf(src.BytesPerS, 0) {
		return ColdStartEstimate{}, fmt.Errorf("%w: the throughput of weight source %q must be a positive number of bytes per second", ErrInvalid, src.Name)
	}
	return ColdStartEstimate{
		Source: src, Bytes: weights, Seconds: float64(weights) / src.BytesPerS,
		Assumptions: []string{
			fmt.Sprintf("%s at %.3g GB/s: %s", src.Description, src.BytesPerS/1e9, src.Basis),
			"transfer only: engine start-up (CUDA context, CUDA-graph capture, TensorRT engine build) comes on top",
		},
	}, nil
}
