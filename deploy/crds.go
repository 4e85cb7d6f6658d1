package deploy

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Local typed structs for the custom resources deploy writes. Importing the
// projects' own Go modules is not possible (sigs.k8s.io/lws is not served)
// or too heavy (KEDA pulls ~390 modules, most of them Kubernetes). Only
// the fields deploy sets are declared; names and JSON tags follow the pinned
// CRDs in testdata/crds, against which the tests validate every object.

// LeaderWorkerSet is leaderworkerset.x-k8s.io/v1 LeaderWorkerSet
// (kubernetes-sigs/lws api/leaderworkerset/v1).
type LeaderWorkerSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              LeaderWorkerSetSpec `json:"spec"`
}

// LeaderWorkerSetSpec is the LeaderWorkerSet spec.
type LeaderWorkerSetSpec struct {
	// Replicas is the number of groups (model replicas).
	Replicas             *int32               `json:"replicas,omitempty"`
	LeaderWorkerTemplate LeaderWorkerTemplate `json:"leaderWorkerTemplate"`
	// StartupPolicy is "LeaderCreated" or "LeaderReady".
	StartupPolicy string `json:"startupPolicy,omitempty"`
}

// LeaderWorkerTemplate defines one group: a leader and Size-1 workers.
type LeaderWorkerTemplate struct {
	LeaderTemplate *corev1.PodTemplateSpec `json:"leaderTemplate,omitempty"`
	WorkerTemplate corev1.PodTemplateSpec  `json:"workerTemplate"`
	// Size is the number of pods per group, leader included.
	Size *int32 `json:"size,omitempty"`
	// RestartPolicy "RecreateGroupOnPodRestart" restarts the whole group
	// when one pod restarts, which a Ray-based vLLM group needs.
	RestartPolicy string `json:"restartPolicy,omitempty"`
}

// ScaledObject is keda.sh/v1alpha1 ScaledObject.
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ScaledObjectSpec `json:"spec"`
}

// ScaledObjectSpec is the ScaledObject spec.
type ScaledObjectSpec struct {
	ScaleTargetRef  ScaleTarget     `json:"scaleTargetRef"`
	PollingInterval *int32          `json:"pollingInterval,omitempty"`
	CooldownPeriod  *int32          `json:"cooldownPeriod,omitempty"`
	MinReplicaCount *int32          `json:"minReplicaCount,omitempty"`
	MaxReplicaCount *int32          `json:"maxReplicaCount,omitempty"`
	Advanced        *AdvancedConfig `json:"advanced,omitempty"`
	Triggers        []ScaleTrigger  `json:"triggers"`
}

// ScaleTarget names the scaled workload.
type ScaleTarget struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name"`
}

// AdvancedConfig carries the HPA behaviour.
type AdvancedConfig struct {
	HorizontalPodAutoscalerConfig *HPAConfig `json:"horizontalPodAutoscalerConfig,omitempty"`
}

// HPAConfig is the HPA KEDA creates.
type HPAConfig struct {
	Behavior *HPABehavior `json:"behavior,omitempty"`
}

// HPABehavior mirrors autoscaling/v2 HorizontalPodAutoscalerBehavior (the
// fields deploy sets).
type HPABehavior struct {
	ScaleUp   *HPAScalingRules `json:"scaleUp,omitempty"`
	ScaleDown *HPAScalingRules `json:"scaleDown,omitempty"`
}

// HPAScalingRules holds a stabilization window.
type HPAScalingRules struct {
	StabilizationWindowSeconds *int32 `json:"stabilizationWindowSeconds,omitempty"`
}

// ScaleTrigger is one KEDA trigger.
type ScaleTrigger struct {
	Type              string             `json:"type"`
	Name              string             `json:"name,omitempty"`
	Metadata          map[string]string  `json:"metadata"`
	AuthenticationRef *AuthenticationRef `json:"authenticationRef,omitempty"`
	MetricType        string             `json:"metricType,omitempty"`
}

// AuthenticationRef points at a TriggerAuthentication.
type AuthenticationRef struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
}

// TriggerAuthentication is keda.sh/v1alpha1 TriggerAuthentication.
type TriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TriggerAuthenticationSpec `json:"spec"`
}

// TriggerAuthenticationSpec holds the pod identity.
type TriggerAuthenticationSpec struct {
	PodIdentity *PodIdentity `json:"podIdentity,omitempty"`
}

// PodIdentity is KEDA's identity provider ("azure-workload").
type PodIdentity struct {
	Provider   string  `json:"provider"`
	IdentityID *string `json:"identityId,omitempty"`
}

// ServiceMonitor is monitoring.coreos.com/v1 ServiceMonitor (or, for Azure
// Managed Prometheus, the same schema in azmonitoring.coreos.com/v1).
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ServiceMonitorSpec `json:"spec"`
}

// ServiceMonitorSpec selects Services and their scrape endpoints.
type ServiceMonitorSpec struct {
	Selector          metav1.LabelSelector `json:"selector"`
	NamespaceSelector *NamespaceSelector   `json:"namespaceSelector,omitempty"`
	Endpoints         []MonitorEndpoint    `json:"endpoints"`
}

// NamespaceSelector limits the namespaces a ServiceMonitor watches.
type NamespaceSelector struct {
	MatchNames []string `json:"matchNames,omitempty"`
}

// MonitorEndpoint is one scrape endpoint.
type MonitorEndpoint struct {
	Port     string `json:"port"`
	Path     string `json:"path,omitempty"`
	Interval string `json:"interval,omitempty"`
	Scheme   string `json:"scheme,omitempty"`
}

// Workspace is kaito.sh/v1beta1 Workspace. Its resource and inference
// sections sit at the top level, not under spec.
type Workspace struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Resource          WorkspaceResource   `json:"resource"`
	Inference         *WorkspaceInference `json:"inference,omitempty"`
}

// WorkspaceResource says which GPU nodes KAITO provisions.
type WorkspaceResource struct {
	// Count is deprecated in v1beta1 but still the way to ask for several
	// nodes per inference instance.
	Count         *int32                `json:"count,omitempty"`
	InstanceType  string                `json:"instanceType,omitempty"`
	LabelSelector *metav1.LabelSelector `json:"labelSelector"`
}

// WorkspaceInference selects the model and its engine configuration.
type WorkspaceInference struct {
	Preset *WorkspacePreset `json:"preset,omitempty"`
	// Config names a ConfigMap holding inference_config.yaml.
	Config string `json:"config,omitempty"`
}

// WorkspacePreset is a preset name (or, from KAITO 0.9.0, a Hugging Face
// id).
type WorkspacePreset struct {
	Name          string         `json:"name"`
	PresetOptions *PresetOptions `json:"presetOptions,omitempty"`
}

// PresetOptions carries the Hugging Face token Secret for gated models.
type PresetOptions struct {
	ModelAccessSecret string `json:"modelAccessSecret,omitempty"`
}
