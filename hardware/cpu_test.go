package hardware

import (
	"math"
	"strings"
	"testing"
)

func TestCPUCatalogLoads(t *testing.T) {
	c := DefaultCPUs()
	if len(c.VMs) != 135 {
		t.Errorf("%d CPU VM sizes, want the reference's 135", len(c.VMs))
	}
	// Every size has a pay-as-you-go price in eastus (the reference CSV
	// lacks HBv5 only in eastus2, westeurope and westus2).
	for _, v := range c.VMs {
		if _, ok := c.VMPrice(v.Name, "eastus", PAYG); !ok {
			t.Errorf("%s has no eastus PAYG price", v.Name)
		}
	}
}

func TestCPUVMFigures(t *testing.T) {
	c := DefaultCPUs()
	cases := []struct {
		vm              string
		cpu             string
		vcpu, cores     int
		memGiB          float64
		paygEastUS      float64
		bwKind          string
		bwGBPerS        float64 // measured figures from the reference table (Spare Cores)
		amx, avx512, ar bool
	}{
		{"Standard_D2as_v6", "epyc-9v74", 2, 1, 8, 0.0908, "measured", 38.2, false, true, false},
		{"standard_f16as_v7", "epyc-9v45", 16, 16, 64, 1.093, "measured", 116.8, false, true, false},
		{"D16s_v6", "xeon-8573c", 16, 8, 64, 0.806, "estimate", 0, true, true, false},
		{"Standard_E32ps_v6", "cobalt-100", 32, 32, 256, 1.475, "measured", 475.4, false, false, true},
	}
	for _, tc := range cases {
		v, ok := c.LookupVM(tc.vm)
		if !ok {
			t.Fatalf("LookupVM(%q) failed", tc.vm)
		}
		if v.CPU != tc.cpu || v.VCPU != tc.vcpu || v.Cores() != tc.cores || v.MemoryGiB != tc.memGiB {
			t.Errorf("%s = %+v (cores %d)", tc.vm, v, v.Cores())
		}
		p, ok := c.VMPrice(v.Name, "eastus", PAYG)
		if !ok || p.USDPerHour != tc.paygEastUS {
			t.Errorf("%s eastus PAYG = %v, want %v", tc.vm, p.USDPerHour, tc.paygEastUS)
		}
		bw := c.VMBandwidth(v)
		if bw.Kind != tc.bwKind || (tc.bwGBPerS > 0 && bw.GBPerS != tc.bwGBPerS) || bw.GBPerS <= 0 || bw.Basis == "" {
			t.Errorf("%s bandwidth = %+v", tc.vm, bw)
		}
		cpu, err := c.LookupCPU(v.CPU)
		if err != nil {
			t.Fatal(err)
		}
		if cpu.Has("amx_int8") != tc.amx || cpu.Has("avx512f") != tc.avx512 || (cpu.Arch == "arm64") != tc.ar {
			t.Errorf("%s ISA %v", cpu.ID, cpu.ISA)
		}
	}
	// D16s_v6 has no measurement: the nearest measured 8573C size by cores
	// is E16s_v6 (same CPU, 8 cores, 118.7 GB/s).
	v, _ := c.LookupVM("D16s_v6")
	bw := c.VMBandwidth(v)
	if math.Abs(bw.GBPerS-118.7) > 0.01 || !strings.Contains(bw.Basis, "Standard_E16s_v6") {
		t.Errorf("D16s_v6 estimate = %+v, want 118.7 from E16s_v6", bw)
	}
	// E20as_v6 (10 cores) is not measured; the nearest measured Genoa size
	// by cores is E32as_v6 (16 cores, 77.7 GB/s): 77.7 × 10/16 = 48.56.
	v, _ = c.LookupVM("E20as_v6")
	if bw := c.VMBandwidth(v); bw.Kind != "estimate" || math.Abs(bw.GBPerS-77.7*10/16) > 0.01 {
		t.Errorf("E20as_v6 = %+v, want 48.56 scaled from E32as_v6", bw)
	}
	if _, ok := c.LookupVM("Standard_ND96isr_H100_v5"); ok {
		t.Error("a GPU size is not a CPU VM")
	}
	if _, err := c.LookupCPU("pentium"); err == nil || !strings.Contains(err.Error(), "epyc-9v74") {
		t.Errorf("unknown CPU error should list ids: %v", err)
	}
}
