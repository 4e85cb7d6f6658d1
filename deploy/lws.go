package deploy

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// lwsNameLabel is the label LWS puts on every pod of a set, used by the
// leader Service in vLLM's LWS example (docs/deployment/frameworks/lws.md).
const lwsNameLabel = "leaderworkerset.sigs.k8s.io/name"

func (d *bundleBuilder) leaderSelector() map[string]string {
	return map[string]string{lwsNameLabel: d.name, "role": "leader"}
}

// leaderWorkerSet serves each replica on NodesPerReplica VMs: the leader
// starts the Ray head and then vLLM with the plan's TP × PP; workers join
// the leader's Ray cluster ($(LWS_LEADER_ADDRESS) and $(LWS_GROUP_SIZE)
// are injected by LWS).
func (d *bundleBuilder) leaderWorkerSet(podGPUs int64) *LeaderWorkerSet {
	// The multi-node script is the engine's (vLLM's Ray helper, vLLM docs
	// frameworks/lws.md); aks.go refuses engines without one.
	multiNodeScript := d.eng.Info().MultiNodeScript
	cmd := d.serve()
	var serve []string
	for _, a := range append(append([]string(nil), cmd.Command...), cmd.Args...) {
		serve = append(serve, shellQuote(a))
	}
	leaderCmd := fmt.Sprintf("bash %s leader --ray_cluster_size=$(LWS_GROUP_SIZE); exec %s", multiNodeScript, strings.Join(serve, " "))
	workerCmd := fmt.Sprintf("bash %s worker --ray_address=$(LWS_LEADER_ADDRESS)", multiNodeScript)

	leader := corev1.Container{
		Name:         d.eng.Info().EngineName + "-leader",
		Image:        d.image,
		Command:      []string{"sh", "-c", leaderCmd},
		Ports:        []corev1.ContainerPort{{Name: httpPortName, ContainerPort: d.port(), Protocol: corev1.ProtocolTCP}},
		Env:          []corev1.EnvVar{d.hfTokenEnv()},
		Resources:    d.gpuResources(podGPUs),
		VolumeMounts: volumeMounts(),
	}
	d.probes(&leader)
	worker := corev1.Container{
		Name:         d.eng.Info().EngineName + "-worker",
		Image:        d.image,
		Command:      []string{"sh", "-c", workerCmd},
		Env:          []corev1.EnvVar{d.hfTokenEnv()},
		Resources:    d.gpuResources(podGPUs),
		VolumeMounts: volumeMounts(),
	}
	podSpec := func(c corev1.Container) corev1.PodSpec {
		return corev1.PodSpec{
			Containers:   []corev1.Container{c},
			Volumes:      d.volumes(true),
			NodeSelector: d.nodeSelector(),
			Tolerations:  d.tolerations(),
		}
	}
	leaderLabels := d.labels()
	leaderLabels["role"] = "leader"
	workerLabels := d.labels()
	workerLabels["role"] = "worker"
	replicas := int32(d.c.Replicas)
	size := int32(d.c.NodesPerReplica)
	return &LeaderWorkerSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "leaderworkerset.x-k8s.io/v1", Kind: "LeaderWorkerSet"},
		ObjectMeta: withAnnotations(d.meta(d.name), d.annotations()),
		Spec: LeaderWorkerSetSpec{
			Replicas:      &replicas,
			StartupPolicy: "LeaderCreated",
			LeaderWorkerTemplate: LeaderWorkerTemplate{
				Size:          &size,
				RestartPolicy: "RecreateGroupOnPodRestart",
				LeaderTemplate: &corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: leaderLabels, Annotations: d.annotations()},
					Spec:       podSpec(leader),
				},
				WorkerTemplate: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: workerLabels, Annotations: d.annotations()},
					Spec:       podSpec(worker),
				},
			},
		},
	}
}

func (d *bundleBuilder) multiNodeNotes() {
	d.note("LeaderWorkerSet must be installed on the cluster (lws.sigs.k8s.io/docs/installation). Each replica is a group of %d pods (one leader, the rest workers), one per %s. The leader runs %s from the %s image; check your image ships it.", d.c.NodesPerReplica, d.vm.Name, d.eng.Info().MultiNodeScript, d.eng.Info().DisplayName)
	ib := d.vm.InfiniBand
	if ib != "" && ib != "none" {
		d.note("InfiniBand (%s): tensor and pipeline traffic between the group's VMs should use it. Register the AKSInfinibandSupport feature so the pool's VMs land on one InfiniBand network (https://learn.microsoft.com/azure/aks/use-amd-gpus), and expose the RDMA devices to the pods (for example with the NVIDIA Network Operator); without them NCCL falls back to TCP between nodes.", ib)
	} else {
		d.note("%s has no InfiniBand in the catalog: traffic between the group's VMs goes over Ethernet, which the plan's multi-node speed prediction should account for.", d.vm.Name)
	}
}
