package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/deploy"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/plan"
)

// isCPUSize reports whether --vm names an Azure CPU size in the catalog.
func isCPUSize(vm string) bool {
	_, ok := hardware.DefaultCPUs().LookupVM(vm)
	return ok
}

// cpuDeployFlags are the deploy flags a CPU size honours; every other flag
// configures a GPU platform (driver, MIG, KEDA, KAITO, Container Apps) or
// the GPU planner, and is refused rather than silently dropped.
var cpuDeployFlags = map[string]bool{
	"vm": true, "context": true, "concurrency": true, "gguf-url": true, "precision": true,
	"target": true, "out-dir": true, "stdout": true, "name": true, "namespace": true,
	"image": true, "spot": true, "resource-group": true, "cluster": true, "engine": true,
}

// cpuPlanFlags are the deploy flags a CPU row of a plan.json honours: the
// VM, context, slots and precision come from the plan.
var cpuPlanFlags = map[string]bool{
	"plan": true, "gguf-url": true, "target": true, "out-dir": true, "stdout": true, "name": true,
	"namespace": true, "image": true, "spot": true, "resource-group": true, "cluster": true,
}

// cpuDeploy is one CPU deployment: MODEL (a catalog id, Hugging Face id
// or local GGUF file) at a GGUF precision with Parallel slots of Context
// tokens on an Azure CPU size.
type cpuDeploy struct {
	ref, precision string
	context        int64
	parallel       int
	vm             hardware.CPUVM
	image          string
}

// runDeployCPU is `deploy MODEL --vm CPU-SIZE`.
func runDeployCPU(cmd *cobra.Command, a *app, ref string, f deployFlags, vm hardware.CPUVM) error {
	if err := checkCPUDeployFlags(cmd, f, vm.Name, cpuDeployFlags, ""); err != nil {
		return err
	}
	if cmd.Flags().Changed("engine") && !strings.HasPrefix(strings.ToLower(f.eng.name.value), "llamacpp") {
		return usageErrf("--engine %s: a CPU size runs llama.cpp (Ollama); give --engine llamacpp or leave it out", f.eng.name.value)
	}
	parallel := f.load.concurrency
	if parallel == 0 {
		parallel = 1
	}
	return a.deployCPU(cmd, f, cpuDeploy{ref: ref, precision: f.model.precision.value, context: f.context, parallel: parallel, vm: vm, image: f.o.Image})
}

// runDeployCPUPlan is `deploy --plan plan.json` for a CPU row saved by
// `plan --save --pick-cpu`: the same artifacts as `deploy MODEL --vm
// CPU-SIZE` with the plan's precision, context and slots.
func runDeployCPUPlan(cmd *cobra.Command, a *app, f deployFlags, c plan.Candidate, vm hardware.CPUVM) error {
	if err := checkCPUDeployFlags(cmd, f, vm.Name, cpuPlanFlags, "; the VM, context, slots and precision come from the plan"); err != nil {
		return err
	}
	if c.Engine.Name != "llamacpp" {
		return usageErrf("%s: the row is for the CPU size %s but names engine %q; CPU rows run llama.cpp (Ollama): re-run 'gpuplan plan --save FILE --pick-cpu RANK'", f.planFile, vm.Name, c.Engine.Name)
	}
	image := f.o.Image
	if image == "" {
		image = c.Engine.Image
	}
	return a.deployCPU(cmd, f, cpuDeploy{ref: c.Model.ID, precision: c.Engine.Precision, context: c.Engine.MaxModelLen, parallel: c.Engine.MaxNumSeqs, vm: vm, image: image})
}

// checkCPUDeployFlags refuses a target other than aks and every flag not
// in allowed (a GPU platform's or the planner's), so none is silently
// dropped.
func checkCPUDeployFlags(cmd *cobra.Command, f deployFlags, vm string, allowed map[string]bool, why string) error {
	if f.target.value != "" {
		t, err := deploy.ParseTarget(f.target.value)
		if err != nil {
			return usageErr(err)
		}
		if t != deploy.TargetAKS {
			return usageErrf("--target %s: --vm %s is an Azure CPU size, which deploys only with --target aks (an AKS CPU node pool running Ollama); allowed targets for CPU sizes: aks", t, vm)
		}
	}
	var other []string
	local := cmd.LocalFlags()
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if local.Lookup(fl.Name) != nil && !allowed[fl.Name] {
			other = append(other, "--"+fl.Name)
		}
	})
	if len(other) > 0 {
		sort.Strings(other)
		return usageErrf("not used with the CPU size %s (llama.cpp via Ollama on AKS): %s; drop them%s", vm, strings.Join(other, ", "), why)
	}
	if f.ggufURL == "" {
		return usageErrf("--gguf-url is required with the CPU size %s: the https URL of the .gguf file the pod downloads", vm)
	}
	return nil
}

// deployCPU sizes the Ollama pod with llama.cpp's buffers for the context
// × slots (engine.LlamaCPPBuffers, exact for a local GGUF file) on an AKS
// CPU node pool (deploy.GenerateCPU), which refuses what the VM cannot
// hold.
func (a *app) deployCPU(cmd *cobra.Command, f deployFlags, d cpuDeploy) error {
	if d.context < 1 || d.context > 1<<24 {
		return usageErrf("--context must be in [1, %d] with a CPU size: Ollama's num_ctx per slot, got %d", 1<<24, d.context)
	}
	if d.parallel < 1 || d.parallel > 1024 {
		return usageErrf("--concurrency must be in [1, 1024] with a CPU size (Ollama's parallel slots), got %d", d.parallel)
	}
	req := engine.LlamaCPPRequest{Context: d.context, Parallel: int64(d.parallel)}
	r, modelID, _, err := a.llamacppBuffers(cmd.Context(), d.ref, d.precision, req)
	if err != nil {
		return err
	}
	b, err := deploy.GenerateCPU(deploy.CPUOptions{
		Name: f.o.Name, Namespace: f.o.Namespace, Model: modelID, VM: d.vm.Name, GGUFURL: f.ggufURL,
		ResourceGroup: f.o.ResourceGroup, ClusterName: f.o.ClusterName,
		Context: int(d.context), Parallel: d.parallel, NeedBytes: int64(r.Total), WeightBytes: int64(r.Model),
		Image: d.image, Spot: f.o.Spot,
	})
	if err != nil {
		return deployExit(err)
	}
	b.Notes = append(b.Notes, fmt.Sprintf("llama.cpp buffers (%s) for %d slots of %d tokens: model %.2f GiB, KV %.2f GiB, compute %.2f GiB, output %.2f GiB.",
		r.Build, d.parallel, d.context, gib(int64(r.Model)), gib(int64(r.KV)), gib(int64(r.Compute)), gib(int64(r.Output))))
	return a.writeBundle(f, b, modelID, d.vm.Name)
}

func gib(b int64) float64 { return float64(b) / (1 << 30) }
