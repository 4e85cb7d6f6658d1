package deploy

import (
	"fmt"
	"math"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/plan"
	"github.com/gpuplan/gpuplan/units"
)

// Defaults that are choices of this tool rather than facts; docs/deploy.md
// lists them.
const (
	defaultNodePool = "gpunp" // the AKS GPU docs' example pool name
	defaultHFSecret = "hf-token"
	// HFTokenKey is the key of the Hugging Face token in the Secret. KAITO
	// reads modelAccessSecret under this key (kaito examples/inference
	// kaito_workspace_llama-3.3_70b_instruct.yaml), so one Secret serves
	// every target.
	HFTokenKey            = "HF_TOKEN"
	defaultStorageClass   = "azurefile-csi-premium"
	defaultQueueThreshold = 5
)

// bundleBuilder builds one Bundle: the plan, options and resolved
// hardware and engine that every target builder (AKS, KAITO, Container
// Apps) shares, and the files, notes and refusals it collects.
type bundleBuilder struct {
	c    plan.Candidate
	o    Options
	hw   *hardware.Catalog
	vm   hardware.VMSize
	gpu  hardware.GPU
	prec dtype.Precision
	// eng is the plan's engine profile; it supplies the image, the server
	// command, the port and the health and metrics endpoints.
	eng engine.Engine

	name, namespace string
	image           string

	artifacts []Artifact
	notes     []string
	refusals  []string
	// invalidErr is set by target checks that find bad options.
	invalidErr error
}

func (d *bundleBuilder) refuse(format string, args ...any) {
	d.refusals = append(d.refusals, fmt.Sprintf(format, args...))
}

func (d *bundleBuilder) note(format string, args ...any) {
	d.notes = append(d.notes, fmt.Sprintf(format, args...))
}

func (d *bundleBuilder) add(name string, kind ArtifactKind, content []byte) {
	d.artifacts = append(d.artifacts, Artifact{Name: name, Kind: kind, Content: content})
}

// newBundleBuilder resolves the candidate against the catalog and runs the
// checks every target shares.
func newBundleBuilder(c plan.Candidate, o Options) (*bundleBuilder, error) {
	d := &bundleBuilder{c: c, o: o, hw: o.Hardware}
	if d.hw == nil {
		d.hw = hardware.Default()
	}
	vm, err := d.hw.LookupVM(c.VM)
	if err != nil {
		return nil, fmt.Errorf("plan vm: %w", err)
	}
	d.vm = vm
	gpuID := c.GPU
	if gpuID == "" {
		gpuID = vm.GPU
	}
	if d.gpu, err = d.hw.LookupGPU(gpuID); err != nil {
		return nil, fmt.Errorf("plan gpu: %w", err)
	}
	if vm.GPU != "" && vm.GPU != d.gpu.ID {
		return nil, fmt.Errorf("plan says gpu %s but %s carries %s: the plan does not match the catalog", d.gpu.ID, vm.Name, vm.GPU)
	}
	engID := c.Engine.Name
	if c.Engine.Version != "" {
		engID += "@" + c.Engine.Version
	}
	if d.eng, err = engine.Lookup(engID); err != nil {
		if d.eng, err = engine.Lookup(c.Engine.Name); err != nil {
			return nil, fmt.Errorf("plan engine: %w", err)
		}
	}
	precName := c.Engine.Precision
	if precName == "" {
		precName = "bf16"
	}
	if d.prec, err = dtype.LookupPrecision(precName); err != nil {
		return nil, fmt.Errorf("plan engine.precision: %w", err)
	}

	if err := checkIdentifiers(planValues{modelID: c.Model.ID, revision: c.Model.Revision, version: c.Engine.Version}, d.imageOverride()); err != nil {
		return nil, err
	}
	d.name = o.Name
	if d.name == "" {
		d.name = defaultName(c.Model.ID)
	}
	if err := checkName("--name", d.name); err != nil {
		return nil, err
	}
	d.namespace = o.Namespace
	if d.namespace == "" {
		d.namespace = d.name
	}
	if err := checkName("--namespace", d.namespace); err != nil {
		return nil, err
	}
	if o.Prometheus == "" {
		d.o.Prometheus = PrometheusManaged
	}
	switch d.o.Prometheus {
	case PrometheusManaged, PrometheusOperator, PrometheusNone:
	default:
		return nil, invalid("--prometheus %q: use managed, operator or none", o.Prometheus)
	}
	if d.o.HFTokenSecret == "" {
		d.o.HFTokenSecret = defaultHFSecret
	}
	if errs := validationDNS1123Subdomain(d.o.HFTokenSecret); errs != "" {
		return nil, invalid("--hf-secret %q: %s", d.o.HFTokenSecret, errs)
	}
	if o.QueueThreshold < 0 {
		return nil, invalid("--queue-threshold must be positive")
	}
	if d.o.QueueThreshold == 0 {
		d.o.QueueThreshold = defaultQueueThreshold
	}
	switch o.ImageArch {
	case "", string(hardware.CPUx86), string(hardware.CPUArm64), "multi":
	default:
		return nil, invalid("--image-arch %q: use x86-64, arm64 or multi", o.ImageArch)
	}
	if o.StartupWindow < 0 {
		return nil, invalid("--startup-window must be positive")
	}

	d.checkShared()
	d.image = d.engineImage()
	return d, nil
}

// checkShared runs engine.Check (the compatibility verdict the planner
// used) and the deploy-time checks every target needs.
func (d *bundleBuilder) checkShared() {
	c := d.c
	if _, err := d.eng.Serve(d.serveConfig()); err != nil {
		d.refuse("%v", err)
	}
	// With no --image the engine's default image runs, whatever
	// --image-arch says.
	imageArch := d.o.ImageArch
	if d.o.Image == "" {
		imageArch = ""
	}
	comp := engine.Check(engine.Combination{
		Model: d.o.Model, Target: engine.Target{GPU: d.gpu, CPU: d.vm.CPUArch}, VM: &d.vm, Precision: d.prec,
		TP: c.Engine.TP, PP: c.Engine.PP, Engine: d.eng,
		ImageArch: imageArch, RequireNative: d.o.RequireNative,
	})
	if !comp.OK() {
		for _, r := range comp.Refusals() {
			d.refuse("%s", r)
		}
	} else if comp.Verdict == engine.WeightOnly || comp.Verdict == engine.Unknown {
		for _, r := range comp.Texts() {
			d.note("Compatibility (%s): %s", comp.Verdict, r)
		}
	}

	// A partial GPU (NVads A10 v5) shows up as one GPU with the slice's
	// memory; refuse when the weights alone do not fit in what vLLM may use.
	if g := d.vm.GPUs(); g > 0 && g < 1 {
		usable := float64(d.vm.GPUMemory) * c.Engine.GPUMemoryUtilization
		if d.vm.GPUMemory <= 0 {
			d.refuse("%s has %s of a GPU and its memory is not in the catalog: cannot check that the model fits", d.vm.Name, d.vm.GPUFraction)
		} else if float64(c.WeightsBytesPerGPU) > usable {
			d.refuse("%s has %s of an %s (%s); the weights alone need %s per GPU, more than the %.0f%% %s may use (%s)",
				d.vm.Name, d.vm.GPUFraction, d.gpu.Name, gb(d.vm.GPUMemory), gib(units.Bytes(c.WeightsBytesPerGPU)),
				c.Engine.GPUMemoryUtilization*100, d.eng.Info().DisplayName, gib(units.Bytes(usable)))
		} else {
			d.note("%s is a partial GPU (%s) with a GRID licence driver; the pod requests one whole device as the VM sees it.", d.vm.Name, d.vm.GPUFraction)
		}
	}
}

// imageOverride is the image the artifacts use instead of the engine
// profile's: --image, else the plan's engine.image.
func (d *bundleBuilder) imageOverride() string {
	if d.o.Image != "" {
		return d.o.Image
	}
	return d.c.Engine.Image
}

// engineImage is --image, else the engine profile's image for the GPU
// vendor and host architecture (one value per engine and vendor, owned by
// the engine package). A plan.json that records another image (older
// plans wrote rocm/vllm:latest for MI300X) is overruled, with a note.
func (d *bundleBuilder) engineImage() string {
	if d.o.Image != "" {
		return d.o.Image
	}
	img, err := d.eng.Info().Image(engine.Target{GPU: d.gpu, CPU: d.vm.CPUArch})
	if err != nil {
		d.refuse("%v", err)
		return ""
	}
	if d.c.Engine.Image != "" && d.c.Engine.Image != img {
		d.note("plan.json records image %s; %s's image for %s is %s, which is used (pass --image to choose another)", d.c.Engine.Image, d.eng.Info().ID(), engine.ImageKey(d.gpu.Vendor, d.vm.CPUArch), img)
	}
	return img
}

// gpuResource is the device-plugin resource name.
func (d *bundleBuilder) gpuResource() string {
	if d.c.DevicePluginResource != "" {
		return d.c.DevicePluginResource
	}
	return d.gpu.DevicePluginResource
}

// serveConfig is the plan's engine section as the engine's server
// configuration.
func (d *bundleBuilder) serveConfig() engine.ServeConfig {
	e := d.c.Engine
	return engine.ServeConfig{
		Model: d.c.Model.ID, Revision: d.c.Model.Revision, TP: e.TP, PP: e.PP,
		MaxModelLen: e.MaxModelLen, Utilization: e.GPUMemoryUtilization,
		DType: d.dtypeArg(), KVCacheDType: e.KVCacheDType, Quantization: e.Quantization,
		Scheduler:     engine.Scheduler{MaxSeqs: e.MaxNumSeqs, MaxTokens: e.MaxNumBatchedTokens, MicroBatch: e.MicroBatchTokens, Flags: d.eng.Info().Flags},
		PrefixCaching: e.PrefixCaching, DPAttention: e.DPAttention, ExpertParallel: e.ExpertParallelSize,
		Speculative: speculative(e.Speculative),
	}
}

// serve is the engine's server command built from the plan (checkShared
// has refused a configuration the engine cannot express).
func (d *bundleBuilder) serve() engine.Command {
	cmd, _ := d.eng.Serve(d.serveConfig())
	return cmd
}

// port is the engine server's port.
func (d *bundleBuilder) port() int32 { return int32(d.eng.Info().Endpoints.Port) }

// dtypeArg is vLLM's --dtype: "half" on GPUs without bfloat16 (T4, V100:
// compute capability below 8.0, te-support-matrix), otherwise the plan's.
func (d *bundleBuilder) dtypeArg() string {
	if !d.gpu.Native(hardware.MathBF16) {
		return "half"
	}
	return d.c.Engine.DType
}

// startupWindow is how long the startup probe lets vLLM start: twice the
// predicted cold start widened by the prediction's error band, and never
// less than minStartupWindow (the first start also downloads the weights,
// which the load-time prediction does not cover). Without a prediction it
// is fallbackStartupWindow. --startup-window overrides it.
func (d *bundleBuilder) startupWindow() time.Duration {
	if d.o.StartupWindow > 0 {
		return d.o.StartupWindow
	}
	p := d.c.Predictions
	if p.ColdStartS <= 0 {
		return fallbackStartupWindow
	}
	band := p.ErrorBandFraction
	if band < 0 {
		band = 0
	}
	w := time.Duration(math.Ceil(startupSafetyFactor*p.ColdStartS*(1+band))) * time.Second
	return max(w, minStartupWindow)
}

// Startup-probe policy (docs/deploy.md, "Probes").
const (
	startupSafetyFactor   = 2.0
	minStartupWindow      = 10 * time.Minute
	fallbackStartupWindow = 30 * time.Minute
	startupPeriod         = 10 * time.Second
)

// cacheBytes is what the model cache must hold: the checkpoint as
// downloaded. A plan that quantizes at load time (checkpoint "runtime")
// downloads the 16-bit release, two bytes per parameter.
func (d *bundleBuilder) cacheBytes() (units.Bytes, string) {
	if d.c.Engine.Checkpoint == string(dtype.CheckpointRuntime) && d.c.Model.ParamsTotal > 0 {
		return units.Bytes(d.c.Model.ParamsTotal * 2), "the 16-bit checkpoint (quantized at load): 2 bytes x params_total"
	}
	return units.Bytes(d.c.WeightsBytes), "weights_bytes from the plan"
}

// cacheRequest sizes the PVC: the checkpoint plus cacheHeadroom (tokenizer,
// config and generation files, and room to fetch a new revision beside the
// old one), rounded up to whole GiB; premium Azure Files shares have a
// 100 GiB minimum (Azure Files planning: premium share minimum size).
func (d *bundleBuilder) cacheRequest() units.Bytes {
	b, _ := d.cacheBytes()
	need := units.Bytes(math.Ceil(float64(b) * (1 + cacheHeadroom)))
	gibs := (need + units.GiB - 1) / units.GiB
	if gibs < 1 {
		gibs = 1
	}
	if d.storageClass() == defaultStorageClass && gibs < premiumFilesMinGiB {
		gibs = premiumFilesMinGiB
	}
	return gibs * units.GiB
}

const (
	cacheHeadroom      = 0.10
	premiumFilesMinGiB = 100
)

func (d *bundleBuilder) storageClass() string {
	if d.o.StorageClass != "" {
		return d.o.StorageClass
	}
	return defaultStorageClass
}

// MaxReplicas bounds the replicas one deployment may ask for: a
// hand-edited or hostile plan.json with a million replicas would otherwise
// become a node pool and autoscaler bounds no cluster can hold (AKS allows
// 1,000 nodes per node pool and 5,000 per cluster; AKS quotas-skus-regions).
const MaxReplicas = 1000

// replicaBounds are the autoscaling bounds in replicas.
func (d *bundleBuilder) replicaBounds() (lo, hi int, err error) {
	lo, hi = 1, d.c.Replicas
	if d.o.MinReplicas != nil {
		lo = *d.o.MinReplicas
	}
	if d.o.MaxReplicas > 0 {
		hi = d.o.MaxReplicas
	}
	if lo < 0 {
		return 0, 0, invalid("--min-replicas must be 0 or more")
	}
	if hi < 1 || hi < lo {
		return 0, 0, invalid("--max-replicas (%d) must be at least 1 and at least --min-replicas (%d)", hi, lo)
	}
	if hi > MaxReplicas {
		what := "--max-replicas"
		if d.o.MaxReplicas == 0 {
			what = "the plan's replicas"
		}
		return 0, 0, invalid("%s is %d; at most %d replicas are generated (split the load over several deployments)", what, hi, MaxReplicas)
	}
	return lo, hi, nil
}

func validationDNS1123Subdomain(s string) string {
	return strings.Join(validation.IsDNS1123Subdomain(s), "; ")
}

func gib(b units.Bytes) string { return fmt.Sprintf("%.2f GiB", b.GiB()) }
func gb(b units.Bytes) string  { return fmt.Sprintf("%.0f GB", float64(b)/1e9) }

// speculative converts the plan's speculative-decoding section.
func speculative(s *plan.SpeculativeConfig) *engine.Speculative {
	if s == nil {
		return nil
	}
	return &engine.Speculative{Method: s.Method, Model: s.Model, Tokens: s.Tokens}
}

// sourceURLs turns a hardware source field ("key; key" or URLs) into the
// pages behind it, so a message names what a user can open rather than a
// key of hardware/data/sources.yaml.
func (d *bundleBuilder) sourceURLs(src string) string {
	var out []string
	for _, k := range strings.Split(src, ";") {
		k = strings.TrimSpace(k)
		if r, ok := d.hw.Source(k); ok && r.URL != "" {
			k = r.URL
		}
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}
