package deploy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/plan"
)

// Target is where the artifacts deploy to.
type Target string

// Targets. The ids are the planner's (plan.Targets): the planner judges
// each candidate per target and writes the target into plan.json, and
// deploy imports plan, so plan's list is the one list and deploy's
// constants and Targets are views of it.
const (
	// TargetAKS is one AKS GPU node pool with a vLLM Deployment; every
	// replica fits on one VM.
	TargetAKS Target = plan.TargetAKS
	// TargetAKSMultiNode serves one replica across several VMs with a
	// LeaderWorkerSet (only when one VM cannot hold the model).
	TargetAKSMultiNode Target = plan.TargetAKSMultinode
	// TargetKAITO is a KAITO Workspace on AKS.
	TargetKAITO Target = plan.TargetKAITO
	// TargetContainerApps is an Azure Container Apps serverless-GPU app.
	TargetContainerApps Target = plan.TargetContainerApps
)

// Targets lists every target in documentation order: plan.Targets.
func Targets() []Target {
	out := make([]Target, len(plan.Targets))
	for i, t := range plan.Targets {
		out[i] = Target(t)
	}
	return out
}

// ParseTarget reads a --target value.
func ParseTarget(s string) (Target, error) {
	t := Target(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Targets(), t) {
		return t, nil
	}
	names := make([]string, 0, 4)
	for _, x := range Targets() {
		names = append(names, string(x))
	}
	return "", fmt.Errorf("%w: unknown target %q (use %s)", ErrInvalidOptions, s, strings.Join(names, ", "))
}

// Prometheus says which Prometheus scrapes vLLM and feeds KEDA.
type Prometheus string

// Prometheus choices.
const (
	// PrometheusManaged is Azure Monitor managed service for Prometheus: it
	// reads ServiceMonitors in the azmonitoring.coreos.com group, and KEDA
	// queries it with Azure workload identity.
	PrometheusManaged Prometheus = "managed"
	// PrometheusOperator is a self-run Prometheus Operator
	// (monitoring.coreos.com ServiceMonitors, in-cluster query URL).
	PrometheusOperator Prometheus = "operator"
	// PrometheusNone leaves out the ServiceMonitor and the KEDA autoscaler.
	PrometheusNone Prometheus = "none"
)

// PrometheusChoices lists the --prometheus values.
func PrometheusChoices() []string {
	return []string{string(PrometheusManaged), string(PrometheusOperator), string(PrometheusNone)}
}

// ParsePrometheus reads a --prometheus value ("" is managed).
func ParsePrometheus(s string) (Prometheus, error) {
	switch p := Prometheus(s); p {
	case "":
		return PrometheusManaged, nil
	case PrometheusManaged, PrometheusOperator, PrometheusNone:
		return p, nil
	}
	return "", fmt.Errorf("--prometheus %q: use managed, operator or none", s)
}

// GPUDrivers lists the --gpu-driver values.
func GPUDrivers() []string { return []string{GPUDriverInstall, GPUDriverNone} }

// CheckGPUDriver checks a --gpu-driver value, case-insensitively ("" is
// the vendor's default).
func CheckGPUDriver(s string) error {
	switch strings.ToLower(s) {
	case "", GPUDriverInstall, GPUDriverNone:
		return nil
	}
	return fmt.Errorf("--gpu-driver %q: use install or none", s)
}

// GPU driver choices for the AKS node pool (--gpu-driver).
const (
	GPUDriverInstall = "install" // AKS installs and manages the NVIDIA driver
	GPUDriverNone    = "none"    // skip it (GPU Operator, AMD GPU Operator)
)

// Options tune the artifacts. The zero value of every field means "derive
// it from the candidate" (or the documented default).
type Options struct {
	Target Target

	// Name is the base name of every object (a DNS-1123 label, at most
	// maxNameLen characters); default: derived from the model id.
	Name string
	// Namespace defaults to Name.
	Namespace string

	// Image overrides the engine image the plan's version profile implies.
	Image string
	// ImageArch is the image's CPU architecture ("x86-64", "arm64",
	// "multi"); empty means the default vLLM image (x86-64 only).
	ImageArch string
	// RequireNative refuses precisions that would run only weight-only.
	RequireNative bool

	// AKS node pool.
	ResourceGroup string // default: ${RESOURCE_GROUP} in the script
	ClusterName   string // default: ${CLUSTER_NAME}
	NodePool      string // default: defaultNodePool
	Spot          bool
	// SpotMaxPrice is the Spot price cap in USD per hour; 0 means -1 (pay
	// up to the pay-as-you-go price).
	SpotMaxPrice float64
	// GPUDriver is GPUDriverInstall or GPUDriverNone; default install on
	// NVIDIA, none on AMD (AKS enforces that, use-amd-gpus.md).
	GPUDriver string
	// MIGProfile partitions every GPU ("MIG1g" … "MIG7g").
	MIGProfile string
	// MinReplicas and MaxReplicas bound autoscaling; defaults 1 and the
	// plan's replicas. MinReplicas may be 0 (scale to zero).
	MinReplicas *int
	MaxReplicas int
	// StorageClass of the model-cache PVC; default azurefile-csi-premium.
	StorageClass string
	// HFTokenSecret names the Secret holding the Hugging Face token under
	// key HFTokenKey; default "hf-token". The token itself is never written.
	HFTokenSecret string

	// Prometheus and KEDA.
	Prometheus    Prometheus // default PrometheusManaged
	PrometheusURL string     // query endpoint; a placeholder when empty
	// KEDAIdentityClientID is the client id of the user-assigned identity
	// KEDA uses to query Azure Managed Prometheus.
	KEDAIdentityClientID string
	// QueueThreshold is the target of waiting requests per replica;
	// default defaultQueueThreshold.
	QueueThreshold int

	// KAITO.
	KAITOVersion string // default "0.6.0", the AKS add-on's version
	KAITOPreset  string // override the preset name

	// Container Apps.
	Region          string // default: the plan's region
	Environment     string // Container Apps environment; default Name+"-env"
	Profile         string // workload profile type; default from the VM
	ExternalIngress bool

	// StartupWindow overrides the startup-probe window derived from the
	// plan's predicted cold start.
	StartupWindow time.Duration

	// Model is the architecture, when known, for the compatibility check
	// (head divisibility, MoE FP8); nil skips those checks.
	Model *model.Spec
	// Hardware is the catalog the candidate's VM and GPU are looked up in;
	// nil means hardware.Default().
	Hardware *hardware.Catalog
}

// ArtifactKind says what an artifact is, for readers and tests.
type ArtifactKind string

// Artifact kinds.
const (
	KindKubernetes ArtifactKind = "kubernetes" // YAML of Kubernetes objects
	KindShell      ArtifactKind = "shell"      // bash script of az/kubectl commands
	KindBicep      ArtifactKind = "bicep"
	KindYAML       ArtifactKind = "yaml" // non-Kubernetes YAML (Container Apps app)
	KindMarkdown   ArtifactKind = "markdown"
)

// Artifact is one output file.
type Artifact struct {
	// Name is the file name, ordered so that a directory listing is the
	// apply order ("00-nodepool.sh", "30-deployment.yaml").
	Name    string       `json:"name"`
	Kind    ArtifactKind `json:"kind"`
	Content []byte       `json:"-"`
}

// Bundle is everything deploy generates for one candidate and target.
type Bundle struct {
	Target    Target
	Candidate plan.Candidate
	Artifacts []Artifact
	// Notes are caveats and next steps, also written to README.md.
	Notes []string
}

// ErrRefused marks a candidate that cannot be deployed as asked; the CLI
// exits 3.
var ErrRefused = errors.New("refused as undeployable")

// ErrInvalidOptions marks bad options (a usage error; the CLI exits 2).
var ErrInvalidOptions = errors.New("invalid deploy options")

// RefusedError lists why a candidate cannot be deployed to a target.
type RefusedError struct {
	Target  Target
	VM      string
	Reasons []string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("cannot deploy %s to %s: %s", e.VM, e.Target, strings.Join(e.Reasons, "; "))
}

// Unwrap makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Unwrap() error { return ErrRefused }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
}

// Generate builds the artifacts for candidate c. It validates c, resolves
// its VM and GPU in the hardware catalog, runs the shared compatibility
// check and the target's own checks, and returns a *RefusedError (wrapping
// ErrRefused) when the offer cannot be deployed as asked, or an error
// wrapping ErrInvalidOptions for bad options.
func Generate(c plan.Candidate, o Options) (*Bundle, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if o.Target == "" {
		return nil, invalid("no target: choose one of aks, aks-multinode, kaito, containerapps")
	}
	if _, err := ParseTarget(string(o.Target)); err != nil {
		return nil, err
	}
	if err := checkTargetOptions(o); err != nil {
		return nil, err
	}
	if _, cpu := hardware.DefaultCPUs().LookupVM(c.VM); cpu {
		return nil, invalid("%s is an Azure CPU size (a plan's CPU row): it deploys with GenerateCPU (gpuplan deploy --plan FILE --gguf-url URL), not to a GPU target", c.VM)
	}
	d, err := newBundleBuilder(c, o)
	if err != nil {
		return nil, err
	}
	switch o.Target {
	case TargetAKS, TargetAKSMultiNode:
		err = d.buildAKS()
	case TargetKAITO:
		err = d.buildKAITO()
	case TargetContainerApps:
		err = d.buildContainerApps()
	}
	if err != nil {
		return nil, err
	}
	if len(d.refusals) > 0 {
		return nil, &RefusedError{Target: o.Target, VM: c.VM, Reasons: d.refusals}
	}
	if d.c.Predictions.ColdStartS <= 0 && o.StartupWindow == 0 && o.Target != TargetKAITO {
		d.note("The plan has no cold-start prediction: the startup probe allows %s; pass --startup-window to change it.", fallbackStartupWindow)
	}
	d.addReadme()
	return &Bundle{Target: o.Target, Candidate: c, Artifacts: d.artifacts, Notes: d.notes}, nil
}

// checkTargetOptions rejects options the chosen target would ignore, so a
// flag never silently does nothing.
func checkTargetOptions(o Options) error {
	aks := o.Target == TargetAKS || o.Target == TargetAKSMultiNode
	var bad []string
	flag := func(set bool, name string) {
		if set {
			bad = append(bad, name)
		}
	}
	if !aks {
		flag(o.Spot, "--spot")
		flag(o.SpotMaxPrice != 0, "--spot-max-price")
		flag(o.GPUDriver != "", "--gpu-driver")
		flag(o.MIGProfile != "", "--mig-profile")
		flag(o.NodePool != "", "--nodepool")
		flag(o.StorageClass != "", "--storage-class")
		flag(o.PrometheusURL != "", "--prometheus-url")
		flag(o.KEDAIdentityClientID != "", "--keda-identity-client-id")
		flag(o.QueueThreshold != 0, "--queue-threshold")
	}
	if o.Target != TargetKAITO {
		flag(o.KAITOVersion != "", "--kaito-version")
		flag(o.KAITOPreset != "", "--kaito-preset")
	}
	if o.Target != TargetContainerApps {
		flag(o.Environment != "", "--aca-environment")
		flag(o.Profile != "", "--aca-profile")
		flag(o.ExternalIngress, "--external-ingress")
	}
	if o.Target == TargetKAITO {
		flag(o.MinReplicas != nil, "--min-replicas")
		flag(o.MaxReplicas != 0, "--max-replicas")
		flag(o.StartupWindow != 0, "--startup-window")
	}
	if len(bad) > 0 {
		return invalid("%s: not used by --target %s", strings.Join(bad, ", "), o.Target)
	}
	if o.SpotMaxPrice != 0 && !o.Spot {
		return invalid("--spot-max-price needs --spot")
	}
	if o.MIGProfile != "" && o.Target != TargetAKS {
		return invalid("--mig-profile applies to --target aks only")
	}
	return nil
}

// maxNameLen bounds object names: a Service name is a DNS-1035 label of at
// most 63 characters, and LeaderWorkerSet pod names append "-<group>-<index>"
// and the StatefulSet controller-revision hash, so a shorter base leaves room.
const maxNameLen = 40

// defaultName turns a model id into a DNS-1123 label:
// "meta-llama/Llama-3.1-70B-Instruct" → "llama-3-1-70b-instruct".
func defaultName(modelID string) string {
	id := modelID
	if i := strings.LastIndex(id, "/"); i >= 0 && i < len(id)-1 {
		id = id[i+1:]
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(id) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > maxNameLen {
		s = strings.TrimRight(s[:maxNameLen], "-")
	}
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "llm-" + s
		s = strings.TrimRight(s, "-")
	}
	return s
}

func checkName(what, s string) error {
	if len(s) > maxNameLen {
		return invalid("%s %q is longer than %d characters", what, s, maxNameLen)
	}
	if errs := validation.IsDNS1035Label(s); len(errs) > 0 {
		return invalid("%s %q: %s", what, s, strings.Join(errs, "; "))
	}
	return nil
}
