package bench_test

import (
	"fmt"

	"github.com/gpuplan/gpuplan/bench"
)

func ExampleSummarize() {
	l := bench.Summarize([]float64{12, 10, 11, 40})
	fmt.Printf("mean %.2f p50 %.2f p99 %.2f\n", l.Mean, l.P50, l.P99)
	// Output: mean 18.25 p50 11.50 p99 39.16
}

func ExamplePairedTable_DropInterval() {
	// 200 prompts: both right on 170, only the baseline on 12, only the
	// candidate on 3, both wrong on 15.
	t := bench.PairedTable{BothRight: 170, OnlyBaseline: 12, OnlyCandidate: 3, BothWrong: 15}
	_, upper := t.DropInterval(bench.Z95OneSided)
	fmt.Printf("drop %.3f, one-sided 95%% upper bound %.3f, gate at 0.02 passes: %v\n", t.Drop(), upper, upper <= 0.02)
	// Output: drop 0.045, one-sided 95% upper bound 0.080, gate at 0.02 passes: false
}

func ExampleTarget_Endpoint() {
	t := bench.Target{URL: "https://myres.openai.azure.com", AzureDeployment: "gpt-4o", API: bench.APIChat}
	u, _ := t.Endpoint()
	fmt.Println(u)
	// Output: https://myres.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21
}
