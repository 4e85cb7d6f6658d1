package cost_test

import (
	"fmt"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/hardware"
)

// Microsoft's worked example: gpt-5.2, Data Zone, 1,000 peak RPM, 200
// prompt and 20 response tokens.
func ExamplePTUSize() {
	for _, cache := range []float64{0, 0.5} {
		e, err := cost.PTUSize("gpt-5.2", cost.Workload{RPM: 1000, InputTokens: 200, OutputTokens: 20, CacheRate: cache}, cost.DataZone)
		if err != nil {
			panic(err)
		}
		fmt.Printf("cache %.0f%%: normalized TPM %.0f, raw %.2f → %d PTU\n", cache*100, e.NormalizedTPM, e.RawPTU, e.PTU)
	}
	// Output:
	// cache 0%: normalized TPM 360000, raw 105.88 → 110 PTU
	// cache 50%: normalized TPM 260000, raw 76.47 → 80 PTU
}

// A month of gpt-4.1 on Global Standard: 1M prompt tokens (200k from the
// prompt cache) and 1M response tokens.
func ExamplePAYGMonthly() {
	m, err := cost.PAYGMonthly("gpt-4.1", cost.Global, 1e6, 1e6, 2e5)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s as of %s, third-party: %v\n", m, m.AsOf, m.ThirdParty)
	// Output: 9.70 USD as of 2026-06-01, third-party: true
}

// Two ND H100 v5 VMs around the clock, and 12 hours a day.
func ExampleSelfHostMonthly() {
	perHour := cost.Money{Amount: 98.32, Currency: "USD", AsOf: hardware.MustDate("2026-11-09")}
	for _, h := range []float64{24, 12} {
		m, _ := cost.SelfHostMonthly(perHour, 2, h)
		fmt.Printf("%v h/day: %s\n", h, m)
	}
	// Output:
	// 24 h/day: 143,547.20 USD
	// 12 h/day: 71,773.60 USD
}

// One A100 VM at $3.673/h serving 1,000 input and 250 output tokens per
// second, with a fifth of GPU time in prefill.
func ExamplePerMillionTokens() {
	perHour := cost.Money{Amount: 3.673, Currency: "USD"}
	tc, _ := cost.PerMillionTokens(perHour, cost.Load{InputTokensPerS: 1000, OutputTokensPerS: 250, PrefillTime: 1, DecodeTime: 4})
	fmt.Printf("blended %.4f, input %.4f, output %.4f USD per million tokens\n", tc.Blended.Amount, tc.Input.Amount, tc.Output.Amount)
	// Output: blended 0.8162, input 0.2041, output 3.2649 USD per million tokens
}

// The report `gpuplan ptu gpt-5.2 --deployment datazone --rpm 1000
// --input-tokens 200 --output-tokens 20` prints, built from the library:
// Microsoft's worked example at its peak all month.
func ExampleNewPTUReport() {
	b := cost.Default()
	w := cost.Workload{RPM: 1000, InputTokens: 200, OutputTokens: 20}
	v, err := cost.VolumeFromHours(w, 24)
	if err != nil {
		panic(err)
	}
	c, err := b.Compare("gpt-5.2", w, cost.DataZone, v)
	if err != nil {
		panic(err)
	}
	r := cost.NewPTUReport(b, c, nil)
	fmt.Printf("%s %s: normalized TPM %.0f → %d PTU\n", r.ModelName, r.SKUName, r.Sizing.NormalizedTPM, r.Sizing.PTU)
	for _, t := range r.PTUMonthly {
		if t.MonthlyUSD == nil {
			fmt.Printf("%s: unknown (%s)\n", t.Term, t.Unknown)
			continue
		}
		fmt.Printf("%s: $%s a month\n", t.Term, cost.FormatAmount(*t.MonthlyUSD))
	}
	if p := r.PAYGMonthly.MonthlyUSD; p != nil {
		fmt.Printf("pay-as-you-go: $%s a month\n", cost.FormatAmount(*p))
	}
	fmt.Println(r.RuleOfThumb.Verdict)
	// Output:
	// gpt-5.2 DataZoneProvisionedManaged: normalized TPM 360000 → 110 PTU
	// hourly: $88,330.00 a month
	// reserved-1m: $28,600.00 a month
	// reserved-1y: $24,310.00 a month
	// cannot judge: the pay-as-you-go price is unknown
}
