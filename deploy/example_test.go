package deploy_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/gpuplan/gpuplan/deploy"
	"github.com/gpuplan/gpuplan/plan"
)

// Generate turns a saved plan into reviewable files for a target.
func ExampleGenerate() {
	c, err := plan.Load("testdata/plans/llama-3.1-70b-h100.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := deploy.Generate(c, deploy.Options{Target: deploy.TargetAKS, Prometheus: deploy.PrometheusOperator})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range b.Artifacts {
		fmt.Println(a.Name, a.Kind)
	}
	// Output:
	// 00-nodepool.sh shell
	// 00-nodepool.bicep bicep
	// 10-namespace.yaml kubernetes
	// 20-pvc.yaml kubernetes
	// 30-deployment.yaml kubernetes
	// 40-service.yaml kubernetes
	// 50-pdb.yaml kubernetes
	// 60-servicemonitor.yaml kubernetes
	// 70-keda.yaml kubernetes
	// README.md markdown
}

// A candidate that cannot be deployed as asked is refused with reasons.
func ExampleRefusedError() {
	c, err := plan.Load("testdata/plans/llama-3.1-70b-h100.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = deploy.Generate(c, deploy.Options{Target: deploy.TargetContainerApps})
	var re *deploy.RefusedError
	if errors.As(err, &re) {
		fmt.Println(re.Reasons[0])
	}
	// Output:
	// no Container Apps serverless GPU profile has NVIDIA H100 SXM 80GB (profiles: Consumption-GPU-NC8as-T4, Consumption-GPU-NC24-A100); plan for a T4 or an A100 80GB PCIe, or use --target aks
}

// WriteTo prints the whole bundle as one YAML stream (the CLI's --stdout).
func ExampleBundle_WriteTo() {
	c, _ := plan.Load("testdata/plans/phi-4-a100.json")
	b, err := deploy.Generate(c, deploy.Options{Target: deploy.TargetKAITO})
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := b.WriteTo(os.Stdout)
	_ = n
	if err != nil {
		fmt.Println(err)
	}
}
