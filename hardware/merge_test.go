package hardware

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/units"
	"sigs.k8s.io/yaml"
)

var mergeNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func overlayFromYAML(t *testing.T, y string) Overlay {
	t.Helper()
	var o Overlay
	if err := yaml.UnmarshalStrict([]byte(y), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestMergeGPUFieldByField(t *testing.T) {
	c := Default()
	o := overlayFromYAML(t, `
gpus:
- id: NVIDIA H100 NVL          # an alias names the existing chip
  cuda_memory_bytes: 93.10GiB  # a measurement replaces the estimate
  dense_tflops: {fp32: 60}     # merges into the map; other keys stay
  source: https://example.com/my-h100-nvl-run
  as_of: "2026-11-20"
`)
	if err := c.Merge(o, mergeNow); err != nil {
		t.Fatal(err)
	}
	g, err := c.LookupGPU("h100-nvl")
	if err != nil {
		t.Fatal(err)
	}
	if g.CUDAMemory != units.FromGiB(93.10) || g.CUDAMemoryEstimated {
		t.Errorf("CUDA memory = %d estimated %v, want measured 93.10 GiB", g.CUDAMemory, g.CUDAMemoryEstimated)
	}
	if g.DenseTFLOPS[MathFP32] != 60 || g.DenseTFLOPS[MathBF16] != 835 || g.DenseTFLOPS[MathFP8] != 1671 {
		t.Errorf("dense_tflops = %v, want fp32 60 added and the rest kept", g.DenseTFLOPS)
	}
	if g.Sources["cuda_memory_bytes"] != "https://example.com/my-h100-nvl-run" || g.Sources["memory_bandwidth_bytes_per_s"] != "gpu-specs-3p" {
		t.Errorf("per-field sources = %v", g.Sources)
	}
	if g.Source != "nvidia-cuda-gpus; azure-nc-h100-v5; gpu-specs-3p" || g.AsOf != MustDate("2026-08-22") {
		t.Errorf("row source/date changed: %s %s", g.Source, g.AsOf)
	}
	if n := g.Notes[len(g.Notes)-1]; !strings.Contains(n, "cuda_memory_bytes, dense_tflops") || !strings.Contains(n, "2026-11-20") {
		t.Errorf("override note = %q", n)
	}
	// The embedded catalog is untouched.
	if d := mustGPU(t, "h100-nvl"); !d.CUDAMemoryEstimated {
		t.Error("Merge changed the embedded catalog")
	}
}

func TestMergeNullMakesUnknown(t *testing.T) {
	c := Default()
	if err := c.Merge(overlayFromYAML(t, `
gpus:
- {id: h100-nvl, memory_bandwidth_bytes_per_s: null, source: https://example.com/x, as_of: "2026-11-01"}
`), mergeNow); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.LookupGPU("h100-nvl"); g.MemoryBandwidth != 0 {
		t.Errorf("bandwidth = %v, want unknown", g.MemoryBandwidth)
	}
}

func TestMergeAddsChipSizeAndPrice(t *testing.T) {
	c := Default()
	o := overlayFromYAML(t, `
gpus:
- id: rtx-pro-6000
  name: NVIDIA RTX PRO 6000 Blackwell Server Edition
  vendor: nvidia
  compute_capability: "12.0"
  datasheet_memory_bytes: 96GB
  driver_memory_bytes: 97887MiB
  native_math: [fp32, fp16, bf16, fp8]
  interconnect: {kind: pcie}
  source: https://example.com/rtx-pro
  as_of: "2026-10-01"
vm_sizes:
- name: Standard_NC128ds_xl_RTXPRO6000BSE_v6
  series: NC_RTXPRO6000BSE_v6
  gpu: rtx-pro-6000
  gpu_count: 4
  vcpu: 128
  ram_bytes: 1000GiB
  source: https://example.com/size-page
  as_of: "2026-10-01"
prices:
- vm: standard_nc128ds_xl_rtxpro6000bse_v6
  region: West US 3
  kind: payg
  usd_per_hour: 20
  source: https://example.com/quote
  as_of: "2026-11-02"
- vm: Standard_ND96isr_H100_v5
  region: eastus
  kind: payg
  usd_per_hour: 90
  source: https://example.com/quote
  as_of: "2026-11-02"
`)
	if err := c.Merge(o, mergeNow); err != nil {
		t.Fatal(err)
	}
	g, err := c.LookupGPU("rtx-pro-6000")
	if err != nil {
		t.Fatal(err)
	}
	if g.CUDAMemory != (97887-700)*units.MiB || !g.CUDAMemoryEstimated || g.DevicePluginResource != "nvidia.com/gpu" {
		t.Errorf("new chip derived fields: %+v", g)
	}
	v, err := c.LookupVM("Standard_NC128ds_xl_RTXPRO6000BSE_v6")
	if err != nil || v.AKS != Unknown || v.Status != StatusUnknown {
		t.Errorf("new VM = %+v, %v (unstated facts must be unknown)", v, err)
	}
	p, ok := c.Prices().PAYG("Standard_NC128ds_xl_RTXPRO6000BSE_v6", "westus3")
	if !ok || p.USDPerHour != 20 || p.Currency != "USD" {
		t.Errorf("new price = %+v %v", p, ok)
	}
	if p, _ := c.Prices().PAYG("Standard_ND96isr_H100_v5", "eastus"); p.USDPerHour != 90 || p.AsOf != MustDate("2026-11-02") {
		t.Errorf("overridden price = %+v", p)
	}
}

func TestMergeVMFieldAppendsSource(t *testing.T) {
	c := Default()
	if err := c.Merge(overlayFromYAML(t, `
vm_sizes:
- {name: nd96isr_mi300x_v5, quota_family: StandardNDISRMI300Xv5Family, source: https://example.com/quota, as_of: "2026-11-01"}
`), mergeNow); err != nil {
		t.Fatal(err)
	}
	v, _ := c.LookupVM("Standard_ND96isr_MI300X_v5")
	if v.QuotaFamily != "StandardNDISRMI300Xv5Family" || !strings.HasSuffix(v.Source, "; https://example.com/quota") || v.VCPU != 96 {
		t.Errorf("merged VM = %+v", v)
	}
}

func TestMergeRejects(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"no source", `gpus: [{id: t4, dense_tflops: {fp32: 8.1}, as_of: "2026-11-01"}]`, `needs "source"`},
		{"no as_of", `gpus: [{id: t4, dense_tflops: {fp32: 8.1}, source: https://example.com}]`, `needs "as_of"`},
		{"future as_of", `gpus: [{id: t4, dense_tflops: {fp32: 8.1}, source: https://example.com, as_of: "2027-01-01"}]`, "after today"},
		{"unknown source key", `gpus: [{id: t4, dense_tflops: {fp32: 8.1}, source: trust-me, as_of: "2026-11-01"}]`, "neither an http(s) URL"},
		{"unknown field", `gpus: [{id: t4, memory_gb: 16, source: https://example.com, as_of: "2026-11-01"}]`, "unknown field"},
		{"ambiguous id becomes a bad new chip", `gpus: [{id: h100, dense_tflops: {fp32: 1}, source: https://example.com, as_of: "2026-11-01"}]`, "GPU \"h100\""},
		{"vm with unknown chip", `vm_sizes: [{name: Standard_X, gpu: h100, gpu_count: 1, vcpu: 1, ram_bytes: 1GiB, source: https://example.com, as_of: "2026-11-01"}]`, "not a canonical chip id"},
		{"price for unknown vm", `prices: [{vm: Standard_X9, region: eastus, kind: payg, usd_per_hour: 1, source: https://example.com, as_of: "2026-11-01"}]`, "unknown Azure VM size"},
		{"price of unknown kind", `prices: [{vm: Standard_NC24ads_A100_v4, region: eastus, kind: monthly, usd_per_hour: 1, source: https://example.com, as_of: "2026-11-01"}]`, "unknown kind"},
		{"negative price", `prices: [{vm: Standard_NC24ads_A100_v4, region: eastus, kind: payg, usd_per_hour: -1, source: https://example.com, as_of: "2026-11-01"}]`, "not a plausible price"},
		{"bad memory string", `gpus: [{id: t4, cuda_memory_bytes: "lots", source: https://example.com, as_of: "2026-11-01"}]`, "memory size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			before, _ := json.Marshal(c.GPUs())
			err := c.Merge(overlayFromYAML(t, tc.yaml), mergeNow)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Merge err = %v, want %q", err, tc.want)
			}
			after, _ := json.Marshal(c.GPUs())
			if string(before) != string(after) {
				t.Error("a failed Merge changed the catalog")
			}
		})
	}
}

func TestMergeIsAllOrNothing(t *testing.T) {
	c := Default()
	err := c.Merge(overlayFromYAML(t, `
gpus:
- {id: t4, dense_tflops: {fp32: 8.1}, source: https://example.com, as_of: "2026-11-01"}
prices:
- {vm: Standard_X9, region: eastus, kind: payg, usd_per_hour: 1, source: https://example.com, as_of: "2026-11-01"}
`), mergeNow)
	if err == nil {
		t.Fatal("bad price accepted")
	}
	if g, _ := c.LookupGPU("t4"); g.DenseTFLOPS[MathFP32] != 0 {
		t.Error("the good GPU entry was applied although the overlay failed")
	}
}
