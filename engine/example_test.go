package engine_test

import (
	"fmt"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
)

func ExampleLookup() {
	e, err := engine.Lookup("sglang")
	if err != nil {
		fmt.Println(err)
		return
	}
	p := e.Info()
	fmt.Println(p.ID(), p.DisplayName, p.Endpoints.Port, p.Flags.MaxSeqsFlag, p.Flags.MaxTokensFlag)
	_, err = engine.Lookup("ollama")
	fmt.Println(err)
	// Output:
	// sglang@0.4 SGLang 30000 --max-running-requests --chunked-prefill-size
	// unknown engine "ollama" (known: llamacpp@de4c07f, sglang@0.4, trtllm@0.17, trtllm@1.0, vllm@0.19, vllm@0.22; the version after @ is optional)
}

func ExampleCheck() {
	cat, _ := model.EmbeddedCatalog()
	mixtral, _, _ := cat.Lookup("mixtral-8x7b")
	a100, _ := hardware.LookupGPU("a100-80gb-sxm")
	fp8, _ := dtype.LookupPrecision("fp8")
	c := engine.Check(engine.Combination{Model: mixtral, Precision: fp8, Target: engine.OnGPU(a100), TP: 1, PP: 1})
	fmt.Println(c.Verdict, c.OK())
	for _, r := range c.Reasons {
		fmt.Println(r.Kind)
	}
	// Output:
	// incompatible false
	// caveat
	// moe_not_supported
}
