package hardware

import (
	"math"
	"testing"
)

// TestFabrics checks the fabric rows against the Azure size pages they
// cite: ND H100 v5 and ND H200 v5 carry 8 × 400 Gb/s NDR InfiniBand (50 GB/s
// per GPU each way) and NVLink 4 at 900 GB/s both ways; ND A100 v4 8 × 200
// Gb/s HDR; ND GB200 v6 4 GPUs per VM in a 72-GPU NVLink domain.
func TestFabrics(t *testing.T) {
	tests := []struct {
		vm             string
		gpusPerVM      int
		domain         int
		upGBps, outGBs float64
	}{
		{"Standard_ND96isr_H100_v5", 8, 8, 450, 50},
		{"nd96isr_h200_v5", 8, 8, 450, 50},
		{"Standard_ND96amsr_A100_v4", 8, 8, 300, 25},
		{"Standard_ND128isr_NDR_GB200_v6", 4, 72, 900, 50},
	}
	for _, tc := range tests {
		f, ok := LookupFabric(tc.vm)
		if !ok {
			t.Fatalf("%s: no fabric", tc.vm)
		}
		if f.DomainGPUs != tc.domain || f.ScaleUp.BytesPerS.GBps() != tc.upGBps {
			t.Errorf("%s: domain %d, scale-up %.0f GB/s; want %d, %.0f", tc.vm, f.DomainGPUs, f.ScaleUp.BytesPerS.GBps(), tc.domain, tc.upGBps)
		}
		if got := f.ScaleOutBytesPerSPerGPU(tc.gpusPerVM) / 1e9; math.Abs(got-tc.outGBs) > 1e-9 {
			t.Errorf("%s: scale-out %.1f GB/s per GPU, want %.1f", tc.vm, got, tc.outGBs)
		}
		if f.ScaleOut.StepLatencyUS < f.ScaleUp.StepLatencyUS || f.ScaleOut.BitsPerSPerNIC/8/1e9 > f.ScaleUp.BytesPerS.GBps() {
			t.Errorf("%s: the network is faster than the NVLink domain", tc.vm)
		}
	}
	if _, ok := LookupFabric("Standard_NC4as_T4_v3"); ok {
		t.Error("a single-GPU size without a network has no fabric row")
	}
	f, n, ok := FabricForGPU("h100-sxm")
	if !ok || n != 8 || f.VM != "Standard_ND96isr_H100_v5" {
		t.Errorf("FabricForGPU(h100-sxm) = %s, %d, %v; want ND96isr_H100_v5 with 8 GPUs", f.VM, n, ok)
	}
	if _, _, ok := FabricForGPU("l40s"); ok {
		t.Error("l40s has no VM size with a fabric row")
	}
}
