package guide_test

import (
	"fmt"

	"github.com/gpuplan/gpuplan/cost/guide"
)

// The seed's "70B (fast)" row: one H100 at INT8 under vLLM 0.19 with an
// 8,192-token context, and what gpuplan picks instead.
func ExampleBuild() {
	g, err := guide.Build(guide.Options{})
	if err != nil {
		panic(err)
	}
	for _, r := range g.Rows {
		if r.SizeClass != "70B (fast)" {
			continue
		}
		fmt.Printf("seed: %d× %s, rule fits %v, vLLM fits %v\n", r.ReferenceGPU.GPUs, r.ReferenceGPU.GPU, r.ReferenceGPU.RuleFits, r.ReferenceGPU.Fits)
		fmt.Printf("pick: %s at TP=%d, $%.2f/h as of %s\n", r.Pick.VM, r.Pick.TP, *r.Pick.USDPerHour, r.Pick.PriceAsOf)
	}
	// Output:
	// seed: 1× h100-sxm, rule fits true, vLLM fits false
	// pick: Standard_NC40ads_H100_v5 at TP=1, $6.98/h as of 2026-11-09
}
