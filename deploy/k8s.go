package deploy

import (
	"fmt"
	"math"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/gpuplan/gpuplan/hardware"
)

// Taint and labels shared by the node pool and the pods.
const (
	// gpuTaint is the taint the AKS GPU docs put on GPU pools
	// (use-nvidia-gpu.md: --node-taints sku=gpu:NoSchedule).
	gpuTaintKey, gpuTaintValue = "sku", "gpu"
	// spotTaintKey is the taint AKS adds to Spot pools
	// (kubernetes.azure.com/scalesetpriority=spot:NoSchedule, spot-node-pool.md).
	spotTaintKey, spotTaintValue = "kubernetes.azure.com/scalesetpriority", "spot"
	// agentPoolLabel is the AKS-reserved node label naming the node's pool
	// (use-labels.md, "Reserved system labels").
	agentPoolLabel = "kubernetes.azure.com/agentpool"
	// poolLabelKey is the label deploy puts on its node pool.
	poolLabelKey = "gpuplan.io/deployment"
)

func (d *bundleBuilder) selectorLabels() map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":     d.eng.Info().EngineName,
		"app.kubernetes.io/instance": d.name,
	}
}

func (d *bundleBuilder) labels() map[string]string {
	l := d.selectorLabels()
	l["app.kubernetes.io/component"] = "inference"
	return l
}

func (d *bundleBuilder) annotations() map[string]string {
	return map[string]string{
		"gpuplan.io/model":     d.c.Model.ID,
		"gpuplan.io/vm":        d.vm.Name,
		"gpuplan.io/gpu":       d.gpu.ID,
		"gpuplan.io/precision": d.prec.Name,
	}
}

func (d *bundleBuilder) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: d.namespace, Labels: d.labels()}
}

func (d *bundleBuilder) namespaceObject() *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: d.namespace, Labels: map[string]string{"app.kubernetes.io/instance": d.name}},
	}
}

func (d *bundleBuilder) cachePVCName() string { return d.name + "-model-cache" }

// pvc is the Hugging Face cache shared by every replica: ReadWriteMany so
// that pods on several nodes mount it (Azure Files, the AKS built-in
// azurefile-csi-premium class).
func (d *bundleBuilder) pvc() *corev1.PersistentVolumeClaim {
	size := resource.NewQuantity(int64(d.cacheRequest()), resource.BinarySI)
	sc := d.storageClass()
	p := &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: d.meta(d.cachePVCName()),
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			StorageClassName: &sc,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: *size}},
		},
	}
	return p
}

// hfCacheDir is where the vLLM image keeps the Hugging Face cache (it runs
// as root; the vLLM docs mount ~/.cache/huggingface there).
const hfCacheDir = "/root/.cache/huggingface"

// shmSize is the memory-backed /dev/shm the vLLM Kubernetes docs give the
// server: 2Gi in the NVIDIA example, 8Gi in the AMD one, 15Gi per pod in
// the LeaderWorkerSet example (docs/deployment/k8s.md, frameworks/lws.md).
func (d *bundleBuilder) shmSize(multiNode bool) resource.Quantity {
	switch {
	case multiNode:
		return resource.MustParse("15Gi")
	case d.gpu.Vendor == hardware.VendorAMD:
		return resource.MustParse("8Gi")
	}
	return resource.MustParse("2Gi")
}

func (d *bundleBuilder) volumes(multiNode bool) []corev1.Volume {
	shm := d.shmSize(multiNode)
	return []corev1.Volume{
		{Name: "model-cache", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: d.cachePVCName()}}},
		{Name: "dshm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &shm}}},
	}
}

func volumeMounts() []corev1.VolumeMount {
	return []corev1.VolumeMount{
		{Name: "model-cache", MountPath: hfCacheDir},
		{Name: "dshm", MountPath: "/dev/shm"},
	}
}

// hfTokenEnv references the token Secret; optional, so models that are not
// gated start without it.
func (d *bundleBuilder) hfTokenEnv() corev1.EnvVar {
	optional := true
	return corev1.EnvVar{Name: "HF_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: d.o.HFTokenSecret}, Key: HFTokenKey, Optional: &optional,
	}}}
}

func (d *bundleBuilder) gpuResources(n int64) corev1.ResourceRequirements {
	q := *resource.NewQuantity(n, resource.DecimalSI)
	name := corev1.ResourceName(d.gpuResource())
	return corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{name: q},
		Requests: corev1.ResourceList{name: q.DeepCopy()},
	}
}

// Probe timings (docs/deploy.md, "Probes"): /health answers once the engine
// is up; a 5 s timeout tolerates a busy event loop under load.
const (
	probeTimeout     = 5
	readinessPeriod  = 5
	livenessPeriod   = 10
	probeFailures    = 3
	httpPortName     = "http"
	scrapeInterval   = "30s"
	maxStabilization = 3600 // autoscaling/v2 caps stabilizationWindowSeconds at one hour
)

func httpProbe(path string, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(httpPortName)}},
		PeriodSeconds:    period,
		TimeoutSeconds:   probeTimeout,
		FailureThreshold: failures,
	}
}

// startupFailures turns the startup window into a failure threshold at
// startupPeriod.
func (d *bundleBuilder) startupFailures() int32 {
	n := math.Ceil(d.startupWindow().Seconds() / startupPeriod.Seconds())
	return int32(max(n, 1))
}

func (d *bundleBuilder) probes(c *corev1.Container) {
	health := d.eng.Info().Endpoints.Health
	c.StartupProbe = httpProbe(health, int32(startupPeriod/time.Second), d.startupFailures())
	c.ReadinessProbe = httpProbe(health, readinessPeriod, probeFailures)
	c.LivenessProbe = httpProbe(health, livenessPeriod, probeFailures)
}

func (d *bundleBuilder) tolerations() []corev1.Toleration {
	t := []corev1.Toleration{{Key: gpuTaintKey, Operator: corev1.TolerationOpEqual, Value: gpuTaintValue, Effect: corev1.TaintEffectNoSchedule}}
	if d.o.Spot {
		t = append(t, corev1.Toleration{Key: spotTaintKey, Operator: corev1.TolerationOpEqual, Value: spotTaintValue, Effect: corev1.TaintEffectNoSchedule})
	}
	return t
}

func (d *bundleBuilder) nodeSelector() map[string]string {
	return map[string]string{agentPoolLabel: d.nodePool()}
}

// serverContainer is the OpenAI server container of a single-node replica.
func (d *bundleBuilder) serverContainer(gpus int64) corev1.Container {
	cmd := d.serve()
	c := corev1.Container{
		Name:         d.eng.Info().EngineName,
		Image:        d.image,
		Command:      cmd.Command,
		Args:         cmd.Args,
		Ports:        []corev1.ContainerPort{{Name: httpPortName, ContainerPort: d.port(), Protocol: corev1.ProtocolTCP}},
		Env:          []corev1.EnvVar{d.hfTokenEnv()},
		Resources:    d.gpuResources(gpus),
		VolumeMounts: volumeMounts(),
	}
	d.probes(&c)
	return c
}

func (d *bundleBuilder) deploymentObject(gpus int64) *appsv1.Deployment {
	replicas := int32(d.c.Replicas)
	maxSurge := intstr.FromInt32(0)
	maxUnavailable := intstr.FromInt32(1)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: withAnnotations(d.meta(d.name), d.annotations()),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: d.selectorLabels()},
			// A surge pod would need spare GPUs the pool does not have:
			// replace one replica at a time instead.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: &maxSurge, MaxUnavailable: &maxUnavailable,
			}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: d.labels(), Annotations: d.annotations()},
				Spec: corev1.PodSpec{
					Containers:   []corev1.Container{d.serverContainer(gpus)},
					Volumes:      d.volumes(false),
					NodeSelector: d.nodeSelector(),
					Tolerations:  d.tolerations(),
				},
			},
		},
	}
}

func withAnnotations(m metav1.ObjectMeta, a map[string]string) metav1.ObjectMeta {
	m.Annotations = a
	return m
}

func (d *bundleBuilder) service(selector map[string]string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: d.meta(d.name),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selector,
			Ports: []corev1.ServicePort{{
				Name: httpPortName, Port: d.port(), TargetPort: intstr.FromString(httpPortName), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

// pdb lets node drains evict one replica at a time; with a single replica
// that means a short outage rather than a drain blocked forever.
func (d *bundleBuilder) pdb(selector map[string]string) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: d.meta(d.name),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: selector},
		},
	}
}

// serviceMonitor scrapes the engine's metrics endpoint. Azure Managed Prometheus reads
// only its own group, azmonitoring.coreos.com/v1, with the same schema
// (Azure Monitor "prometheus-metrics-scrape-crd", the CRD the managed
// Prometheus add-on installs).
func (d *bundleBuilder) serviceMonitor() *ServiceMonitor {
	group := "monitoring.coreos.com/v1"
	if d.o.Prometheus == PrometheusManaged {
		group = "azmonitoring.coreos.com/v1"
	}
	return &ServiceMonitor{
		TypeMeta:   metav1.TypeMeta{APIVersion: group, Kind: "ServiceMonitor"},
		ObjectMeta: d.meta(d.name),
		Spec: ServiceMonitorSpec{
			Selector:  metav1.LabelSelector{MatchLabels: d.labels()},
			Endpoints: []MonitorEndpoint{{Port: httpPortName, Path: d.eng.Info().Endpoints.Metrics, Interval: scrapeInterval, Scheme: "http"}},
		},
	}
}

// prometheusURL is the query endpoint KEDA reads, or a placeholder.
func (d *bundleBuilder) prometheusURL() string {
	if d.o.PrometheusURL != "" {
		return d.o.PrometheusURL
	}
	if d.o.Prometheus == PrometheusManaged {
		d.note("KEDA: replace serverAddress %s with the Azure Monitor workspace's Prometheus query endpoint (workspace Overview page), or pass --prometheus-url.", placeholderManagedURL)
		return placeholderManagedURL
	}
	d.note("KEDA: serverAddress assumes the Prometheus Operator's prometheus-operated Service in namespace monitoring; pass --prometheus-url if yours differs.")
	return placeholderOperatorURL
}

const (
	placeholderManagedURL  = "https://REPLACE-WITH-AZURE-MONITOR-WORKSPACE-QUERY-ENDPOINT.prometheus.monitor.azure.com"
	placeholderOperatorURL = "http://prometheus-operated.monitoring.svc:9090"
)

// keda returns the TriggerAuthentication (managed Prometheus only) and the
// ScaledObject scaling target on the engine's queue gauge: requests waiting
// because the running batch is full (vllm:num_requests_waiting, vLLM docs
// design/metrics.md). The scale-down stabilization window equals the
// startup window, so KEDA does not remove a replica faster than a new one
// can start.
func (d *bundleBuilder) keda(target ScaleTarget, lo, hi int) (*TriggerAuthentication, *ScaledObject) {
	var ta *TriggerAuthentication
	trig := ScaleTrigger{
		Type: "prometheus",
		Name: d.eng.Info().EngineName + "-queue",
		Metadata: map[string]string{
			"serverAddress": d.prometheusURL(),
			"query":         fmt.Sprintf(`sum(%s{namespace=%q,service=%q})`, d.eng.Info().Endpoints.QueueMetric, d.namespace, d.name),
			"threshold":     fmt.Sprint(d.o.QueueThreshold),
		},
	}
	if d.o.Prometheus == PrometheusManaged {
		ta = &TriggerAuthentication{
			TypeMeta:   metav1.TypeMeta{APIVersion: "keda.sh/v1alpha1", Kind: "TriggerAuthentication"},
			ObjectMeta: d.meta(d.name + "-prometheus"),
			Spec:       TriggerAuthenticationSpec{PodIdentity: &PodIdentity{Provider: "azure-workload"}},
		}
		if d.o.KEDAIdentityClientID != "" {
			id := d.o.KEDAIdentityClientID
			ta.Spec.PodIdentity.IdentityID = &id
		}
		trig.AuthenticationRef = &AuthenticationRef{Name: ta.Name}
		d.note("KEDA reads Azure Managed Prometheus with workload identity: its identity needs the Monitoring Data Reader role on the Azure Monitor workspace (AKS docs, autoscale-gpu-workloads-with-keda).")
	}
	minR, maxR := int32(lo), int32(hi)
	window := int32(min(d.startupWindow().Seconds(), maxStabilization))
	so := &ScaledObject{
		TypeMeta:   metav1.TypeMeta{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject"},
		ObjectMeta: d.meta(d.name),
		Spec: ScaledObjectSpec{
			ScaleTargetRef:  target,
			MinReplicaCount: &minR,
			MaxReplicaCount: &maxR,
			Advanced: &AdvancedConfig{HorizontalPodAutoscalerConfig: &HPAConfig{Behavior: &HPABehavior{
				ScaleDown: &HPAScalingRules{StabilizationWindowSeconds: &window},
			}}},
			Triggers: []ScaleTrigger{trig},
		},
	}
	return ta, so
}
