package deploy

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
)

// CPU deployments: an AKS CPU node pool of the planned Azure CPU size
// running Ollama (which serves GGUF files with its bundled llama.cpp and
// the OpenAI-compatible API), one pod per node, requests sized from
// llama.cpp's own buffers (engine.LlamaCPPBuffers), probes on Ollama's
// root endpoint. Ollama's documented server settings are environment
// variables: OLLAMA_HOST, OLLAMA_NUM_PARALLEL, OLLAMA_CONTEXT_LENGTH,
// OLLAMA_KEEP_ALIVE (https://github.com/ollama/ollama/blob/v0.9.0/envconfig/config.go).

// DefaultOllamaImage is the Ollama release whose llama.cpp the memory
// rules model (multi-arch: amd64 and arm64); the llama.cpp engine profile
// owns it.
const DefaultOllamaImage = engine.OllamaImage

// CPUOptions describe a CPU deployment.
type CPUOptions struct {
	// Name defaults to one derived from Model (the model id).
	Name, Namespace, Model string
	// ResourceGroup and ClusterName default the script's RESOURCE_GROUP
	// and CLUSTER_NAME (empty: the script requires them from the shell).
	ResourceGroup, ClusterName string
	// VM is the Azure CPU size of the node pool.
	VM string
	// GGUFURL is an https URL of the model's GGUF file, fetched into the
	// pod's volume by an init container and registered with Ollama.
	GGUFURL string
	// Context is num_ctx per slot; Parallel the slots (OLLAMA_NUM_PARALLEL).
	Context, Parallel int
	// NeedBytes is llama.cpp's buffers (model, KV, compute, output) and
	// WeightBytes the weights alone.
	NeedBytes, WeightBytes int64
	Image                  string
	Spot                   bool
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$`)

// cpuPodReserveBytes is what the pod needs beyond llama.cpp's buffers:
// the Ollama server process and page cache for reading the file (an
// estimate).
const cpuPodReserveBytes = 512 << 20

// GenerateCPU builds the node pool script and Kubernetes objects, or
// refuses (a *RefusedError) what cannot work on the VM.
func GenerateCPU(o CPUOptions) (*Bundle, error) {
	if o.Name == "" && o.Model != "" {
		o.Name = defaultName(o.Model)
	}
	if !dnsLabel.MatchString(o.Name) {
		return nil, invalid("--name %q must be a DNS label of at most 40 lowercase letters, digits and '-'", o.Name)
	}
	if o.Namespace == "" {
		o.Namespace = o.Name
	}
	if !dnsLabel.MatchString(o.Namespace) {
		return nil, invalid("--namespace %q must be a DNS label", o.Namespace)
	}
	u, err := url.Parse(o.GGUFURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || !strings.HasSuffix(strings.ToLower(u.Path), ".gguf") {
		return nil, invalid("the model must be an https URL of a .gguf file, got %q", o.GGUFURL)
	}
	if o.Context < 1 || o.Parallel < 1 || o.NeedBytes <= 0 || o.WeightBytes <= 0 {
		return nil, invalid("context, parallel slots and the memory figures must be positive")
	}
	if o.Image == "" {
		o.Image = DefaultOllamaImage
	}
	vm, ok := hardware.DefaultCPUs().LookupVM(o.VM)
	if !ok {
		return nil, invalid("%q is not an Azure CPU size in the catalog", o.VM)
	}
	mem := vm.MemoryBytes()
	var refusals []string
	if o.WeightBytes > mem {
		refusals = append(refusals, fmt.Sprintf("the weights (%.2f GiB) exceed %s's %.0f GiB of memory", float64(o.WeightBytes)/(1<<30), vm.Name, vm.MemoryGiB))
	} else if o.NeedBytes+cpuPodReserveBytes > mem {
		refusals = append(refusals, fmt.Sprintf("llama.cpp needs %.2f GiB for %d slots of %d tokens (plus %.1f GiB for the server), more than %s's %.0f GiB; lower the context or concurrency, or pick a larger size",
			float64(o.NeedBytes)/(1<<30), o.Parallel, o.Context, float64(cpuPodReserveBytes)/(1<<30), vm.Name, vm.MemoryGiB))
	}
	if len(refusals) > 0 {
		return nil, &RefusedError{Target: TargetAKS, VM: vm.Name, Reasons: refusals}
	}
	pool := strings.ReplaceAll(o.Name, "-", "")
	if len(pool) > 12 {
		pool = pool[:12]
	}
	if pool == "" || pool[0] < 'a' || pool[0] > 'z' {
		pool = "cpu" + pool
		pool = pool[:min(len(pool), 12)]
	}
	b := &Bundle{Target: TargetAKS}
	b.Candidate.Model.ID, b.Candidate.VM = o.Model, vm.Name
	if o.Model == "" {
		b.Candidate.Model.ID = o.Name
	}
	var sh strings.Builder
	sh.WriteString("#!/usr/bin/env bash\n# AKS CPU node pool for " + o.Name + " (llama.cpp via Ollama on " + vm.Name + ").\nset -euo pipefail\n")
	writeShellVar(&sh, "RESOURCE_GROUP", o.ResourceGroup, "the resource group of the AKS cluster")
	writeShellVar(&sh, "CLUSTER_NAME", o.ClusterName, "the AKS cluster name")
	fmt.Fprintf(&sh, "az aks nodepool add --resource-group \"$RESOURCE_GROUP\" --cluster-name \"$CLUSTER_NAME\" \\\n  --name %s --node-vm-size %s --node-count 1 --mode User \\\n  --labels gpuplan.io/pool=%s", shellQuote(pool), shellQuote(vm.Name), shellQuote(o.Name))
	if o.Spot {
		sh.WriteString(" \\\n  --priority Spot --eviction-policy Delete --spot-max-price -1")
	}
	sh.WriteString("\n")
	b.Artifacts = append(b.Artifacts, Artifact{Name: "00-nodepool.sh", Kind: KindShell, Content: []byte(sh.String())})

	cpuReq := resource.NewMilliQuantity(int64(max(1, vm.VCPU-1))*1000, resource.DecimalSI)
	memReq := resource.NewQuantity(o.NeedBytes+cpuPodReserveBytes, resource.BinarySI)
	labels := map[string]string{"app.kubernetes.io/name": o.Name, "app.kubernetes.io/managed-by": "gpuplan"}
	probe := func(period, failures int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}},
			PeriodSeconds: period, FailureThreshold: failures, TimeoutSeconds: 5}
	}
	modelfile := fmt.Sprintf("FROM /models/model.gguf\nPARAMETER num_ctx %d\n", o.Context)
	vol := corev1.Volume{Name: "models", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	env := []corev1.EnvVar{
		{Name: "OLLAMA_HOST", Value: "0.0.0.0:11434"},
		{Name: "OLLAMA_NUM_PARALLEL", Value: strconv.Itoa(o.Parallel)},
		{Name: "OLLAMA_CONTEXT_LENGTH", Value: strconv.Itoa(o.Context)},
		{Name: "OLLAMA_KEEP_ALIVE", Value: "-1"},
		{Name: "OLLAMA_MODELS", Value: "/models/ollama"},
	}
	one := int32(1)
	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"gpuplan.io/pool": o.Name},
					Volumes:      []corev1.Volume{vol},
					InitContainers: []corev1.Container{{
						Name: "fetch-gguf", Image: "docker.io/curlimages/curl:8.11.1",
						Command:      []string{"curl", "-fL", "--retry", "5", "-o", "/models/model.gguf", o.GGUFURL},
						VolumeMounts: []corev1.VolumeMount{{Name: "models", MountPath: "/models"}},
					}},
					Containers: []corev1.Container{{
						Name: "ollama", Image: o.Image, Env: env,
						// Start the server, register the GGUF under the deployment's
						// name, then keep serving.
						Command: []string{"/bin/sh", "-c", "ollama serve & printf '%s' \"$MODELFILE\" > /models/Modelfile && until ollama list >/dev/null 2>&1; do sleep 1; done && ollama create \"$MODEL_NAME\" -f /models/Modelfile && wait"},
						Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: 11434}},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: *cpuReq, corev1.ResourceMemory: *memReq},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: *memReq},
						},
						StartupProbe:   probe(10, 60),
						ReadinessProbe: probe(10, 3),
						LivenessProbe:  probe(20, 3),
						VolumeMounts:   []corev1.VolumeMount{{Name: "models", MountPath: "/models"}},
					}},
				},
			},
		},
	}
	dep.Spec.Template.Spec.Containers[0].Env = append(dep.Spec.Template.Spec.Containers[0].Env,
		corev1.EnvVar{Name: "MODELFILE", Value: modelfile}, corev1.EnvVar{Name: "MODEL_NAME", Value: o.Name})
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: labels},
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: o.Namespace}}
	y, err := marshalObjects([]string{fmt.Sprintf("%s on %s: Ollama (llama.cpp) with %d slots of %d tokens; memory request = llama.cpp's buffers %.2f GiB + %.1f GiB for the server.",
		o.Name, vm.Name, o.Parallel, o.Context, float64(o.NeedBytes)/(1<<30), float64(cpuPodReserveBytes)/(1<<30))}, ns, dep, svc)
	if err != nil {
		return nil, err
	}
	b.Artifacts = append(b.Artifacts, Artifact{Name: "30-deployment.yaml", Kind: KindKubernetes, Content: y})
	b.Notes = append(b.Notes, fmt.Sprintf("The OpenAI-compatible API is http://%s.%s.svc/v1 with model %q.", o.Name, o.Namespace, o.Name))
	return b, nil
}
