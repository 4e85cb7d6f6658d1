package hardware_test

import (
	"fmt"

	"github.com/gpuplan/gpuplan/hardware"
)

func ExampleLookupGPU() {
	g, err := hardware.LookupGPU("h100-80gb-sxm")
	if err != nil {
		panic(err)
	}
	bf16, _ := g.TFLOPS(hardware.MathBF16)
	fmt.Printf("%s: %.2f GiB visible to CUDA (estimated: %v), %.0f GB/s, %.0f dense BF16 TFLOPS\n",
		g.ID, g.CUDAMemory.GiB(), g.CUDAMemoryEstimated, g.MemoryBandwidth.GBps(), bf16)

	_, err = hardware.LookupGPU("H100")
	fmt.Println(err)
	// Output:
	// h100-sxm: 79.19 GiB visible to CUDA (estimated: false), 3350 GB/s, 989 dense BF16 TFLOPS
	// GPU "H100" is ambiguous: it could mean h100-sxm, h100-pcie, h100-nvl; pass one of these ids to --gpu
}

func ExampleLookupVM() {
	v, _ := hardware.LookupVM("nd96isr_h100_v5")
	p, _ := hardware.Prices().PAYG(v.Name, "eastus")
	fmt.Printf("%s: %d x %s, %.2f USD/hour = %.2f USD per GPU-hour (as of %s)\n", v.Name, v.GPUCount, v.GPU, p.USDPerHour, p.USDPerHour/v.GPUs(), p.AsOf)
	// Output:
	// Standard_ND96isr_H100_v5: 8 x h100-sxm, 98.32 USD/hour = 12.29 USD per GPU-hour (as of 2026-11-09)
}
