package plan_test

import (
	"fmt"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/plan"
)

// The report `gpuplan plan llama-3.1-8b-instruct --context 8192
// --concurrency 32 --input-tokens 1000 --output-tokens 200 --tpot-slo-ms 50
// --managed gpt-4.1-mini` prints, built from the library: the cheapest
// self-hosted rows and Azure OpenAI at the same request rate.
func ExampleReport() {
	cat, err := model.EmbeddedCatalog()
	if err != nil {
		panic(err)
	}
	spec, _, err := cat.Lookup("llama-3.1-8b-instruct")
	if err != nil {
		panic(err)
	}
	req := plan.Request{
		Model: spec, Context: 8192, InputTokens: 1000, OutputTokens: 200, Concurrency: 32, TPOTSLOMs: 50,
		Prices: hardware.Default().Prices(),
	}
	res, err := plan.Search(req)
	if err != nil {
		panic(err)
	}
	r := plan.Report{Result: res}
	r.Managed, err = plan.CompareManaged(cost.Default(), []string{"gpt-4.1-mini"}, cost.Global, plan.RequestRate(res, req), 1000, 200, 24)
	if err != nil {
		panic(err)
	}
	for _, row := range r.Rows[:2] {
		c := row.Candidate
		fmt.Printf("%s × %d, %s: $%s a month\n", c.VM, c.VMCount, c.Engine.Precision, cost.FormatAmount(*c.Prices.USDPerMonth))
	}
	m := r.Managed[0]
	fmt.Printf("%s at %.0f RPM: %d PTU\n", m.Model, m.PeakRPM, m.Comparison.Estimate.PTU)
	// Output:
	// Standard_NC24ads_A100_v4 × 1, fp8: $2,681.29 a month
	// Standard_NC24ads_A100_v4 × 1, bf16: $2,681.29 a month
	// gpt-4.1-mini at 480 RPM: 60 PTU
}
