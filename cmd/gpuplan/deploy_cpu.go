package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/deploy"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
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

// runDeployCPU is `deploy MODEL --vm CPU-SIZE`: llama.cpp's buffers for
// --context × --concurrency (engine.LlamaCPPBuffers, exact for a local
// GGUF file) size the Ollama pod on an AKS CPU node pool
// (deploy.GenerateCPU), which refuses what the VM cannot hold.
func runDeployCPU(cmd *cobra.Command, a *app, ref string, f deployFlags, vm hardware.CPUVM) error {
	if f.target.value != "" {
		t, err := deploy.ParseTarget(f.target.value)
		if err != nil {
			return usageErr(err)
		}
		if t != deploy.TargetAKS {
			return usageErrf("--target %s: --vm %s is an Azure CPU size, which deploys only with --target aks (an AKS CPU node pool running Ollama); allowed targets for CPU sizes: aks", t, vm.Name)
		}
	}
	var other []string
	local := cmd.LocalFlags()
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if local.Lookup(fl.Name) != nil && !cpuDeployFlags[fl.Name] {
			other = append(other, "--"+fl.Name)
		}
	})
	if len(other) > 0 {
		sort.Strings(other)
		return usageErrf("not used with the CPU size %s (llama.cpp via Ollama on AKS): %s; drop them", vm.Name, strings.Join(other, ", "))
	}
	if cmd.Flags().Changed("engine") && !strings.HasPrefix(strings.ToLower(f.eng.name.value), "llamacpp") {
		return usageErrf("--engine %s: a CPU size runs llama.cpp (Ollama); give --engine llamacpp or leave it out", f.eng.name.value)
	}
	if f.ggufURL == "" {
		return usageErrf("--gguf-url is required with the CPU size %s: the https URL of the .gguf file the pod downloads", vm.Name)
	}
	if f.context < 1 || f.context > 1<<24 {
		return usageErrf("--context must be in [1, %d] with a CPU size: Ollama's num_ctx per slot, got %d", 1<<24, f.context)
	}
	parallel := f.load.concurrency
	if parallel == 0 {
		parallel = 1
	}
	if parallel < 1 || parallel > 1024 {
		return usageErrf("--concurrency must be in [1, 1024] with a CPU size (Ollama's parallel slots), got %d", f.load.concurrency)
	}
	req := engine.LlamaCPPRequest{Context: f.context, Parallel: int64(parallel)}
	r, modelID, _, err := a.llamacppBuffers(cmd.Context(), ref, f.model.precision.value, req)
	if err != nil {
		return err
	}
	b, err := deploy.GenerateCPU(deploy.CPUOptions{
		Name: f.o.Name, Namespace: f.o.Namespace, Model: modelID, VM: vm.Name, GGUFURL: f.ggufURL,
		ResourceGroup: f.o.ResourceGroup, ClusterName: f.o.ClusterName,
		Context: int(f.context), Parallel: parallel, NeedBytes: int64(r.Total), WeightBytes: int64(r.Model),
		Image: f.o.Image, Spot: f.o.Spot,
	})
	switch {
	case errors.Is(err, deploy.ErrRefused):
		return infeasibleErr(err)
	case errors.Is(err, deploy.ErrInvalidOptions):
		return usageErr(err)
	case err != nil:
		return err
	}
	b.Notes = append(b.Notes, fmt.Sprintf("llama.cpp buffers (%s) for %d slots of %d tokens: model %.2f GiB, KV %.2f GiB, compute %.2f GiB, output %.2f GiB.",
		r.Build, parallel, f.context, gib(int64(r.Model)), gib(int64(r.KV)), gib(int64(r.Compute)), gib(int64(r.Output))))
	return a.writeBundle(f, b, modelID, vm.Name)
}

func gib(b int64) float64 { return float64(b) / (1 << 30) }
