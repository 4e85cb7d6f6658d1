package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/deploy"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/plan"
)

type deployFlags struct {
	model                modelFlags
	eng                  engineFlags
	load                 workloadFlags
	planFile, outDir     string
	target, vm, region   enumFlag
	stdout               bool
	ggufURL              string
	context              int64
	o                    deploy.Options
	minReplicas          string
	prometheus           enumFlag
	imageArch, gpuDriver enumFlag
	migProfile           enumFlag
	startupWindow        time.Duration
	big                  bigFlags
}

func newDeployCmd(a *app) *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "deploy (--plan plan.json | MODEL --vm SIZE) --target TARGET (--out-dir DIR | --stdout)",
		Short: "AKS / LeaderWorkerSet / KEDA / KAITO / Container Apps files for a plan",
		Long: `Turn a plan into files a platform team reviews and applies: the AKS GPU node
pool (az CLI script and Bicep) with the engine's Deployment, Service, PDB, PVC, KEDA
autoscaler and ServiceMonitor (--target aks); a LeaderWorkerSet when one VM
cannot hold the model (aks-multinode); a KAITO Workspace (kaito); or an Azure
Container Apps serverless-GPU app (containerapps). With an Azure CPU size as
--vm, MODEL runs on llama.cpp through Ollama in an AKS CPU node pool (aks only):
--gguf-url is the file the pod downloads, --context Ollama's num_ctx per slot
and --concurrency its parallel slots. Nothing is applied.

The input is a plan.json from 'gpuplan plan --save', or MODEL with --vm, which
the planner evaluates (same sizing and compatibility rules). Offers that cannot
be deployed as asked are refused with exit code 3 and the reasons. No file ever
contains the Hugging Face token: the scripts read HF_TOKEN from your shell.`,
		Example: `  gpuplan deploy --plan plan.json --target aks --out-dir deploy/
  gpuplan deploy --plan plan.json --target aks --prometheus operator --spot --stdout
  gpuplan deploy llama-3.1-8b-instruct --vm Standard_NC24ads_A100_v4 --input-tokens 1000 --output-tokens 200 --context 8192 --target kaito --stdout
  gpuplan deploy --plan plan.json --target containerapps --region swedencentral --out-dir aca/
  gpuplan deploy qwen2.5-0.5b --vm Standard_D8as_v7 --context 4096 --concurrency 2 --gguf-url https://example.com/qwen2.5-0.5b-q8_0.gguf --out-dir cpu/`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case f.planFile != "" && len(args) > 0:
				return usageErrf("give either --plan or MODEL --vm, not both")
			case f.planFile == "" && len(args) != 1:
				return usageErrf("deploy needs --plan plan.json, or one MODEL with --vm")
			case f.planFile == "" && f.vm.value == "":
				return usageErrf("MODEL needs --vm SIZE (the offer to deploy); or pass --plan plan.json")
			case f.stdout == (f.outDir != ""):
				return usageErrf("give exactly one of --out-dir DIR and --stdout")
			case f.target.value == "" && f.planFile == "" && !isCPUSize(f.vm.value):
				return usageErrf(targetRequired)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runDeploy(cmd, a, args, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.planFile, "plan", "", "plan.json written by 'gpuplan plan --save'")
	addEnumFlag(fl, &f.target, targetEnum, "target", "", "aks, aks-multinode, kaito or containerapps")
	fl.StringVar(&f.outDir, "out-dir", "", "write one file per artifact into this new (or empty) `DIR`")
	fl.BoolVar(&f.stdout, "stdout", false, "print every artifact as one multi-document YAML stream")
	// MODEL --vm: the planner's request.
	addEnumFlag(fl, &f.vm, vmEnum, "vm", "", "Azure VM size to deploy MODEL on (evaluated by the planner)")
	f.model.register(fl, modelHelp{
		precision: "weights precision (default: the checkpoint's own; quantize only when asked)",
		kvDType:   "KV-cache dtype (with MODEL): auto, bf16, fp16, fp8"})
	fl.Int64Var(&f.context, "context", 0, "maximum model length: the longest request (prompt + answer) the endpoint must accept; required with MODEL")
	f.load.register(fl, workloadHelp{input: "prompt tokens per request (with MODEL)", output: "completion tokens per request (with MODEL)",
		concurrency: "concurrent users (with MODEL; default 1 when --rps is not given)", rps: "requests per second (with MODEL)"})
	fl.StringVar(&f.ggufURL, "gguf-url", "", "https URL of the .gguf file the pod downloads (required with a CPU --vm)")
	f.eng.register(fl, schedHelp)
	addMoEFlags(fl, &f.big)
	addSpecFlags(fl, &f.big)
	// Shared.
	o := &f.o
	fl.StringVar(&o.Name, "name", "", "base name of every object (default: from the model id)")
	fl.StringVar(&o.Namespace, "namespace", "", "Kubernetes namespace (default: --name)")
	fl.StringVar(&o.Image, "image", "", "engine image (default: the engine profile's image for the GPU vendor and host CPU)")
	addEnumFlag(fl, &f.imageArch, imageArchEnum, "image-arch", "", "CPU architecture of --image: x86-64, arm64 or multi")
	fl.BoolVar(&o.RequireNative, "require-native", false, "refuse precisions that would run only weight-only")
	fl.StringVar(&o.HFTokenSecret, "hf-secret", "", "name of the Secret holding the Hugging Face token (default hf-token)")
	fl.DurationVar(&f.startupWindow, "startup-window", 0, "startup-probe window (default: from the plan's predicted cold start)")
	// AKS.
	fl.StringVar(&o.ResourceGroup, "resource-group", "", "Azure resource group (default: $RESOURCE_GROUP when the script runs)")
	fl.StringVar(&o.ClusterName, "cluster", "", "AKS cluster name (default: $CLUSTER_NAME when the script runs)")
	fl.StringVar(&o.NodePool, "nodepool", "", "GPU node pool name, 1-12 lowercase letters and digits (default gpunp)")
	fl.BoolVar(&o.Spot, "spot", false, "Spot node pool (eviction policy Delete)")
	fl.Float64Var(&o.SpotMaxPrice, "spot-max-price", 0, "Spot price cap in USD/hour (default -1: up to pay-as-you-go)")
	addEnumFlag(fl, &f.gpuDriver, gpuDriverEnum, "gpu-driver", "", "install (AKS-managed NVIDIA driver) or none (GPU Operator); default install, none on AMD")
	addEnumFlag(fl, &f.migProfile, migProfileEnum, "mig-profile", "", "partition every GPU: MIG1g, MIG2g, MIG3g, MIG4g or MIG7g")
	fl.StringVar(&f.minReplicas, "min-replicas", "", "autoscaling floor (default 1; 0 on containerapps)")
	fl.IntVar(&o.MaxReplicas, "max-replicas", 0, "autoscaling ceiling (default: the plan's replicas)")
	fl.StringVar(&o.StorageClass, "storage-class", "", "model-cache PVC storage class (default azurefile-csi-premium)")
	addEnumFlag(fl, &f.prometheus, prometheusEnum, "prometheus", string(deploy.PrometheusManaged), "managed (Azure Monitor), operator (Prometheus Operator) or none")
	fl.StringVar(&o.PrometheusURL, "prometheus-url", "", "Prometheus query endpoint KEDA reads")
	fl.StringVar(&o.KEDAIdentityClientID, "keda-identity-client-id", "", "client id of KEDA's workload identity (managed Prometheus)")
	fl.IntVar(&o.QueueThreshold, "queue-threshold", 0, "waiting requests per replica KEDA targets (default 5)")
	// KAITO.
	fl.StringVar(&o.KAITOVersion, "kaito-version", "", "KAITO version (default 0.6.0, the AKS add-on's)")
	fl.StringVar(&o.KAITOPreset, "kaito-preset", "", "KAITO preset name (default: from the model id)")
	// Container Apps.
	addEnumFlag(fl, &f.region, regionEnum, "region", "", "Azure region: the planner's with MODEL, the Container Apps region (default: the plan's)")
	fl.StringVar(&o.Environment, "aca-environment", "", "Container Apps environment name (default NAME-env)")
	fl.StringVar(&o.Profile, "aca-profile", "", "serverless GPU workload profile type (default: from the VM)")
	fl.BoolVar(&o.ExternalIngress, "external-ingress", false, "expose the Container Apps endpoint publicly")
	return cmd
}

// targetRequired is the usage error for a GPU offer without --target.
const targetRequired = "--target is required: aks, aks-multinode, kaito or containerapps (aks, the default, for an Azure CPU size)"

func runDeploy(cmd *cobra.Command, a *app, args []string, f deployFlags) error {
	var c plan.Candidate
	var err error
	if f.planFile == "" {
		if vm, ok := hardware.DefaultCPUs().LookupVM(f.vm.value); ok {
			return runDeployCPU(cmd, a, args[0], f, vm)
		}
	} else {
		if c, err = plan.Load(f.planFile); err != nil {
			return err
		}
		// A CPU row (plan --save --pick-cpu) deploys like MODEL --vm CPU-SIZE.
		if vm, ok := hardware.DefaultCPUs().LookupVM(c.VM); ok {
			return runDeployCPUPlan(cmd, a, f, c, vm)
		}
		if f.target.value == "" {
			return usageErrf(targetRequired)
		}
	}
	o := f.o
	o.Region = f.region.value
	o.ImageArch, o.GPUDriver, o.MIGProfile = f.imageArch.value, f.gpuDriver.value, f.migProfile.value
	if o.Target, err = deploy.ParseTarget(f.target.value); err != nil {
		return usageErr(err)
	}
	o.Prometheus = deploy.Prometheus(f.prometheus.value)
	o.StartupWindow = f.startupWindow
	if f.minReplicas != "" {
		var n int
		if _, err := fmt.Sscan(f.minReplicas, &n); err != nil {
			return usageErrf("--min-replicas %q: want a whole number", f.minReplicas)
		}
		o.MinReplicas = &n
	}
	mc, hc, err := a.loadCatalogs()
	if err != nil {
		return err
	}
	o.Hardware = hc

	if f.planFile != "" {
		// Scheduler knobs given here override the plan's (the plan's
		// predictions were made with its own).
		if f.eng.maxNumSeqs > 0 {
			c.Engine.MaxNumSeqs = f.eng.maxNumSeqs
		}
		if f.eng.maxNumBatchedTokens > 0 {
			c.Engine.MaxNumBatchedTokens = f.eng.maxNumBatchedTokens
		}
		if f.load.cacheRate > 0 {
			c.Engine.PrefixCaching = true
		}
		// The architecture sharpens the compatibility check when the
		// catalog knows the model; otherwise those checks are skipped.
		if spec, _, err := mc.Lookup(c.Model.ID); err == nil {
			o.Model = spec
		}
	} else {
		if c, o.Model, err = a.evaluateOffer(cmd, args[0], f); err != nil {
			return err
		}
	}

	b, err := deploy.Generate(c, o)
	if err != nil {
		return deployExit(err)
	}
	return a.writeBundle(f, b, c.Model.ID, c.VM)
}

// writeBundle prints the artifacts (--stdout) or writes them into a new or
// empty --out-dir, for the GPU and CPU paths alike.
func (a *app) writeBundle(f deployFlags, b *deploy.Bundle, modelID, vm string) error {
	if f.stdout {
		_, err := b.WriteTo(a.Stdout)
		return err
	}
	if err := b.WriteDir(f.outDir); err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "Wrote %d files to %s (%s, %s on %s):\n", len(b.Artifacts), f.outDir, b.Target, modelID, vm)
	for _, art := range b.Artifacts {
		fmt.Fprintf(a.Stdout, "  %s\n", art.Name)
	}
	for _, n := range b.Notes {
		fmt.Fprintln(a.Stdout, "Note:", n)
	}
	return nil
}

// evaluateOffer runs the planner on MODEL and --vm, so deploy never sizes
// anything itself.
func (a *app) evaluateOffer(cmd *cobra.Command, ref string, f deployFlags) (plan.Candidate, *model.Spec, error) {
	w, err := f.load.resolve("MODEL --vm needs --input-tokens and --output-tokens (the load the planner sizes for)", loadAtMostOne)
	if err != nil {
		return plan.Candidate{}, nil, err
	}
	spec, err := a.resolveModel(cmd.Context(), ref)
	if err != nil {
		return plan.Candidate{}, nil, err
	}
	if err := requireDeployContext(f.context, spec); err != nil {
		return plan.Candidate{}, nil, err
	}
	_, hc, err := a.loadCatalogs()
	if err != nil {
		return plan.Candidate{}, nil, err
	}
	book, warnings := a.priceBook(hc, "USD")
	for _, w := range warnings {
		fmt.Fprintln(a.Stderr, "Warning:", w)
	}
	req := plan.Request{
		Model: spec, Context: f.context, InputTokens: w.InputTokens, OutputTokens: w.OutputTokens,
		Concurrency: w.Concurrency, RPS: w.RPS, Hardware: hc, Prices: book, ImageArch: f.imageArch.value,
		MaxNumSeqs: f.eng.maxNumSeqs, MaxNumBatchedTokens: f.eng.maxNumBatchedTokens, CacheRate: w.CacheRate,
	}
	if err := f.big.applyPlan(cmd.Context(), a.resolveModel, &req); err != nil {
		return plan.Candidate{}, nil, err
	}
	if req.Concurrency == 0 && req.RPS == 0 {
		req.Concurrency = 1
	}
	if f.region.value != "" {
		if req.Region, err = hardware.NormalizeRegion(f.region.value); err != nil {
			return plan.Candidate{}, nil, usageErr(err)
		}
	}
	sf, err := f.model.resolve()
	if err != nil {
		return plan.Candidate{}, nil, err
	}
	if sf.Precision != nil {
		req.Precisions = []dtype.Precision{*sf.Precision}
	} else {
		// Deploy what the checkpoint is unless a quantization is asked for.
		req.CheckpointOnly = true
	}
	req.KVDType = sf.KVDType
	if req.Engine, err = f.eng.resolve(); err != nil {
		return plan.Candidate{}, nil, err
	}
	c, err := plan.EvaluateOffer(req, f.vm.value)
	switch {
	case errors.Is(err, plan.ErrInfeasible):
		return plan.Candidate{}, nil, infeasibleErr(err)
	case errors.Is(err, plan.ErrInvalid):
		return plan.Candidate{}, nil, usageErr(err)
	case err != nil:
		return plan.Candidate{}, nil, err
	}
	c.GPUPlanVersion = version
	c.SchemaVersion = plan.SchemaVersion
	return c, spec, nil
}

// deployExit gives a deploy generator's error its exit code: a refusal
// (the model does not fit, the target cannot run it) is infeasible, bad
// options are a usage error (exit 2).
func deployExit(err error) error {
	switch {
	case errors.Is(err, deploy.ErrRefused):
		return infeasibleErr(err)
	case errors.Is(err, deploy.ErrInvalidOptions):
		return usageErr(err)
	}
	return err
}
