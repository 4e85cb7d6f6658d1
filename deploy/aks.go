package deploy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/units"
)

// nodePoolPattern is the agent-pool name rule of the AKS API
// (ManagedClusterAgentPoolProfile.name: ^[a-z][a-z0-9]{0,11}$).
var nodePoolPattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)

func (d *bundleBuilder) nodePool() string {
	if d.o.NodePool != "" {
		return d.o.NodePool
	}
	return defaultNodePool
}

// poolShape is how replicas map onto nodes and devices.
type poolShape struct {
	podGPUs      int64 // devices each pod requests
	podsPerNode  int   // single-node: replicas per VM
	nodesPerRepl int   // multi-node: VMs per replica
	mig          *migProfile
}

func (s poolShape) nodesFor(replicas int) int {
	if s.nodesPerRepl > 1 {
		return replicas * s.nodesPerRepl
	}
	return (replicas + s.podsPerNode - 1) / s.podsPerNode
}

// shape checks the candidate against the target's model of a node pool.
func (d *bundleBuilder) shape() (poolShape, bool) {
	c := d.c
	multi := d.o.Target == TargetAKSMultiNode
	gpusPerRepl := c.Engine.TP * c.Engine.PP
	if c.GPUsPerReplica > 0 && c.GPUsPerReplica != gpusPerRepl {
		d.refuse("the plan's gpus_per_replica (%d) is not tensor_parallel_size x pipeline_parallel_size (%d)", c.GPUsPerReplica, gpusPerRepl)
		return poolShape{}, false
	}
	switch {
	case multi && c.NodesPerReplica <= 1:
		d.refuse("one %s holds a replica (nodes_per_replica 1): multi-node serving is only for models one VM cannot hold; use --target aks", d.vm.Name)
		return poolShape{}, false
	case !multi && c.NodesPerReplica > 1:
		d.refuse("each replica needs %d x %s (nodes_per_replica %d): use --target aks-multinode", c.NodesPerReplica, d.vm.Name, c.NodesPerReplica)
		return poolShape{}, false
	}
	if multi {
		if gpusPerRepl%c.NodesPerReplica != 0 || gpusPerRepl/c.NodesPerReplica > d.vm.GPUCount {
			d.refuse("TP %d x PP %d = %d GPUs do not split evenly over %d x %s (%d GPUs each)", c.Engine.TP, c.Engine.PP, gpusPerRepl, c.NodesPerReplica, d.vm.Name, d.vm.GPUCount)
			return poolShape{}, false
		}
		return poolShape{podGPUs: int64(gpusPerRepl / c.NodesPerReplica), podsPerNode: 1, nodesPerRepl: c.NodesPerReplica}, true
	}
	if g := d.vm.GPUs(); g > 0 && g < 1 {
		return poolShape{podGPUs: 1, podsPerNode: 1, nodesPerRepl: 1}, true
	}
	if d.vm.GPUCount < 1 {
		d.refuse("the GPU count of %s is not in the catalog", d.vm.Name)
		return poolShape{}, false
	}
	if gpusPerRepl > d.vm.GPUCount {
		d.refuse("a replica needs %d GPUs but %s has %d", gpusPerRepl, d.vm.Name, d.vm.GPUCount)
		return poolShape{}, false
	}
	s := poolShape{podGPUs: int64(gpusPerRepl), podsPerNode: d.vm.GPUCount / gpusPerRepl, nodesPerRepl: 1}
	if d.o.MIGProfile != "" {
		m, ok := d.checkMIG(gpusPerRepl)
		if !ok {
			return poolShape{}, false
		}
		s.mig = &m
		s.podGPUs = 1
		s.podsPerNode = d.vm.GPUCount * m.Instances
	}
	return s, true
}

func (d *bundleBuilder) checkMIG(gpusPerRepl int) (migProfile, bool) {
	m, _ := lookupMIG(d.o.MIGProfile)
	if !migCapable(d.gpu.ID) {
		d.refuse("MIG (%s) runs on %s node pools on AKS; %s has %s", m.Name, migGPUNames(), d.vm.Name, d.gpu.Name)
		return m, false
	}
	if gpusPerRepl != 1 {
		d.refuse("the plan gives each replica %d whole GPUs; a MIG pod gets one %s slice", gpusPerRepl, m.Name)
		return m, false
	}
	slice := units.Bytes(float64(d.gpu.DatasheetMemory) * m.MemFrac)
	usable := float64(slice) * d.c.Engine.GPUMemoryUtilization
	if float64(d.c.WeightsBytesPerGPU) > usable {
		d.refuse("a %s slice of %s has %s; the weights need %s, more than the %.0f%% %s may use", m.Name, d.gpu.Name, gb(slice), gib(units.Bytes(d.c.WeightsBytesPerGPU)), d.c.Engine.GPUMemoryUtilization*100, d.eng.Info().DisplayName)
		return m, false
	}
	d.note("MIG profile %s: each pod gets one slice (%s of %s, %d per GPU). The plan's KV-cache and speed predictions were made for a whole GPU and do not hold on a slice; re-plan with --gpu-memory %.2fGiB. Install the NVIDIA device plugin with migStrategy=single (%s).",
		m.Name, gb(slice), d.gpu.Name, m.Instances, slice.GiB(), migDocs())
	return m, true
}

func (d *bundleBuilder) checkAKS() {
	switch d.vm.AKS {
	case hardware.No:
		d.refuse("AKS does not support %s node pools (NVv4 and other unsupported sizes; https://learn.microsoft.com/azure/aks/use-nvidia-gpu)", d.vm.Name)
	case hardware.Unknown:
		d.note("No AKS document states node-pool support for %s (%s); expect to skip the AKS driver (--gpu-driver None) and bring your own.", d.vm.Name, strings.Join(d.vm.Notes, " "))
	}
	if !nodePoolPattern.MatchString(d.nodePool()) {
		d.invalidErr = invalid("--nodepool %q: AKS pool names are 1-12 lowercase letters and digits, starting with a letter", d.nodePool())
	}
	switch strings.ToLower(d.o.GPUDriver) {
	case "", GPUDriverInstall, GPUDriverNone:
	default:
		d.invalidErr = invalid("--gpu-driver %q: use install or none", d.o.GPUDriver)
	}
	if d.o.MIGProfile != "" {
		if _, ok := lookupMIG(d.o.MIGProfile); !ok {
			d.invalidErr = invalid("--mig-profile %q: use %s", d.o.MIGProfile, strings.Join(migProfileNames(), ", "))
		}
	}
	if d.gpu.Vendor == hardware.VendorAMD && strings.EqualFold(d.o.GPUDriver, GPUDriverInstall) {
		d.refuse("AKS does not install AMD GPU drivers and enforces --gpu-driver none on AMD pools (https://learn.microsoft.com/azure/aks/use-amd-gpus); install the AMD GPU Operator instead")
	}
	if d.o.SpotMaxPrice < 0 && d.o.SpotMaxPrice != -1 {
		d.invalidErr = invalid("--spot-max-price must be -1 (up to the pay-as-you-go price) or a positive USD price")
	}
}

// gpuDriver is the API value (GPUDriver enum: Install | None).
func (d *bundleBuilder) gpuDriver() string {
	switch {
	case strings.EqualFold(d.o.GPUDriver, GPUDriverNone), d.o.GPUDriver == "" && d.gpu.Vendor == hardware.VendorAMD:
		return "None"
	}
	return "Install"
}

func (d *bundleBuilder) spotPrice() string {
	if d.o.SpotMaxPrice > 0 {
		return strconv.FormatFloat(d.o.SpotMaxPrice, 'f', -1, 64)
	}
	return "-1"
}

func (d *bundleBuilder) buildAKS() error {
	d.checkAKS()
	if d.invalidErr != nil {
		return d.invalidErr
	}
	lo, hi, err := d.replicaBounds()
	if err != nil {
		return err
	}
	s, ok := d.shape()
	if !ok {
		return nil
	}
	minNodes, maxNodes := s.nodesFor(lo), s.nodesFor(hi)
	count := min(max(d.c.VMCount, minNodes), maxNodes)
	d.nodePoolScript(s, count, minNodes, maxNodes)
	d.nodePoolBicep(s, count, minNodes, maxNodes)

	multi := d.o.Target == TargetAKSMultiNode
	ns, err := marshalObjects(nil, d.namespaceObject())
	if err != nil {
		return err
	}
	d.add("10-namespace.yaml", KindKubernetes, ns)
	pvc, err := marshalObjects([]string{"Model cache: " + d.cacheComment()}, d.pvc())
	if err != nil {
		return err
	}
	d.add("20-pvc.yaml", KindKubernetes, pvc)

	var workload []byte
	var target ScaleTarget
	selector := d.selectorLabels()
	if multi && d.eng.Info().MultiNodeScript == "" {
		d.refuse("%s has no multi-node recipe in gpuplan (only vLLM's Ray helper is known): re-plan with a VM that holds one replica, or --engine vllm", d.eng.Info().ID())
		return nil
	}
	if multi {
		lws := d.leaderWorkerSet(s.podGPUs)
		workload, err = marshalObjects(d.workloadHeader(s), lws)
		target = ScaleTarget{APIVersion: lws.APIVersion, Kind: lws.Kind, Name: lws.Name}
		selector = d.leaderSelector()
		d.multiNodeNotes()
	} else {
		workload, err = marshalObjects(d.workloadHeader(s), d.deploymentObject(s.podGPUs))
		target = ScaleTarget{Name: d.name}
	}
	if err != nil {
		return err
	}
	if multi {
		d.add("30-leaderworkerset.yaml", KindKubernetes, workload)
	} else {
		d.add("30-deployment.yaml", KindKubernetes, workload)
	}
	svc, err := marshalObjects(nil, d.service(selector))
	if err != nil {
		return err
	}
	d.add("40-service.yaml", KindKubernetes, svc)
	pdbSel := d.selectorLabels()
	if multi {
		pdbSel = map[string]string{lwsNameLabel: d.name}
	}
	pdb, err := marshalObjects(nil, d.pdb(pdbSel))
	if err != nil {
		return err
	}
	d.add("50-pdb.yaml", KindKubernetes, pdb)

	if d.o.Prometheus != PrometheusNone {
		sm, err := marshalObjects(nil, d.serviceMonitor())
		if err != nil {
			return err
		}
		d.add("60-servicemonitor.yaml", KindKubernetes, sm)
		if d.eng.Info().Endpoints.QueueMetric == "" {
			d.note("No autoscaling: %s exports no queue gauge for KEDA to scale on; the Deployment keeps %d replicas.", d.eng.Info().DisplayName, hi)
			return nil
		}
		ta, so := d.keda(target, lo, hi)
		var objs []any
		if ta != nil {
			objs = append(objs, ta)
		}
		objs = append(objs, so)
		k, err := marshalObjects([]string{fmt.Sprintf("Autoscaling on %s's queue: %d to %d replicas, target %d waiting requests per replica.", d.eng.Info().DisplayName, lo, hi, d.o.QueueThreshold)}, objs...)
		if err != nil {
			return err
		}
		d.add("70-keda.yaml", KindKubernetes, k)
		if d.o.Prometheus == PrometheusOperator {
			d.note("Prometheus Operator: the Prometheus resource must select this ServiceMonitor (its serviceMonitorSelector and serviceMonitorNamespaceSelector); add the labels it expects, such as a Helm release label.")
		}
		d.note("KEDA must run on the cluster (AKS add-on: az aks update --enable-keda, https://learn.microsoft.com/azure/aks/keda-deploy-add-on-cli).")
	} else {
		kind := "Deployment"
		if multi {
			kind = "LeaderWorkerSet"
		}
		d.note("--prometheus none: no ServiceMonitor and no autoscaler; the %s keeps the plan's %d replica(s).", kind, d.c.Replicas)
	}
	if d.gpu.Vendor == hardware.VendorAMD {
		d.note("AMD: AKS installs no AMD driver or device plugin; install the AMD GPU Operator so nodes advertise amd.com/gpu (https://learn.microsoft.com/azure/aks/use-amd-gpus). The image is the %s ROCm build %s.", d.eng.Info().DisplayName, d.image)
	} else if d.gpuDriver() == "Install" {
		d.note("NVIDIA: AKS installs the driver; install the NVIDIA device plugin DaemonSet (tolerating sku=gpu:NoSchedule) so nodes advertise nvidia.com/gpu (https://learn.microsoft.com/azure/aks/use-nvidia-gpu).")
	} else {
		d.note("--gpu-driver None: install the NVIDIA GPU Operator, which brings the driver and the device plugin (https://learn.microsoft.com/azure/aks/nvidia-gpu-operator).")
	}
	return nil
}

func (d *bundleBuilder) cacheComment() string {
	b, why := d.cacheBytes()
	return fmt.Sprintf("%s for %s (%s), plus %.0f%% headroom, in whole GiB (storage class %s).", gib(b), d.c.Model.ID, why, cacheHeadroom*100, d.storageClass())
}

func (d *bundleBuilder) workloadHeader(s poolShape) []string {
	h := []string{
		fmt.Sprintf("%s on %s (%d x %s per VM), %s, TP %d x PP %d.", d.c.Model.ID, d.vm.Name, d.vm.GPUCount, d.gpu.Name, d.prec.Name, d.c.Engine.TP, d.c.Engine.PP),
		fmt.Sprintf("Image %s (engine version profile %s). Startup probe window %s.", d.image, d.c.Engine.Version, d.startupWindow()),
	}
	if s.podsPerNode > 1 && s.nodesPerRepl == 1 {
		h = append(h, fmt.Sprintf("%d replicas fit on one VM (%d GPU each).", s.podsPerNode, s.podGPUs))
	}
	return h
}

// nodePoolScript writes the az CLI commands for the GPU pool and the
// token Secret. Every flag is listed, with its documentation, in
// testdata/azure-reference.yaml (TestAzureFlagsAreDocumented).
func (d *bundleBuilder) nodePoolScript(s poolShape, count, minNodes, maxNodes int) {
	var b strings.Builder
	b.WriteString("#!/usr/bin/env bash\n")
	commentf(&b, "# ", "GPU node pool for %s: %s x %s (%s).", d.c.Model.ID, d.vm.Name, d.gpu.Name, d.gpuResource())
	b.WriteString("# Generated by gpuplan deploy; review before running. Nothing here contains a secret.\n")
	b.WriteString("set -euo pipefail\n\n")
	writeShellVar(&b, "RESOURCE_GROUP", d.o.ResourceGroup, "the resource group of the AKS cluster")
	writeShellVar(&b, "CLUSTER_NAME", d.o.ClusterName, "the AKS cluster name")
	b.WriteString("\n")
	if d.vm.InfiniBand != "" && d.vm.InfiniBand != "none" && d.o.Target == TargetAKSMultiNode {
		b.WriteString("# InfiniBand: register AKSInfinibandSupport once per subscription so the pool's VMs share one\n")
		b.WriteString("# InfiniBand network (https://learn.microsoft.com/azure/aks/use-amd-gpus):\n")
		b.WriteString("#   az feature register --name AKSInfinibandSupport --namespace Microsoft.ContainerService\n\n")
	}
	fmt.Fprintf(&b, "# Taints and VM size are fixed at creation (https://learn.microsoft.com/azure/aks/use-nvidia-gpu). Autoscaler bounds: %d-%d nodes.\n", minNodes, maxNodes)
	args := [][2]string{
		{"--resource-group", `"$RESOURCE_GROUP"`},
		{"--cluster-name", `"$CLUSTER_NAME"`},
		{"--name", d.nodePool()},
		{"--mode", "User"},
		{"--node-vm-size", d.vm.Name},
		{"--node-count", strconv.Itoa(count)},
		{"--node-taints", gpuTaintKey + "=" + gpuTaintValue + ":NoSchedule"},
		{"--labels", poolLabelKey + "=" + d.name},
		{"--enable-cluster-autoscaler", ""},
		{"--min-count", strconv.Itoa(minNodes)},
		{"--max-count", strconv.Itoa(maxNodes)},
		{"--gpu-driver", d.gpuDriver()},
	}
	if d.o.Spot {
		args = append(args, [2]string{"--priority", "Spot"}, [2]string{"--eviction-policy", "Delete"}, [2]string{"--spot-max-price", d.spotPrice()})
	}
	if s.mig != nil {
		args = append(args, [2]string{"--gpu-instance-profile", s.mig.Name})
	}
	b.WriteString("az aks nodepool add")
	for _, a := range args {
		b.WriteString(" \\\n  " + a[0])
		if a[1] != "" {
			b.WriteString(" " + a[1])
		}
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "# Namespace, then the Hugging Face token Secret for gated models (key %s). The token is read\n", HFTokenKey)
	b.WriteString("# from your shell's HF_TOKEN when you run this script; it is never written to these files.\n")
	fmt.Fprintf(&b, "kubectl create namespace %s --dry-run=client -o yaml | kubectl apply -f -\n", d.namespace)
	b.WriteString("if [[ -n \"${HF_TOKEN:-}\" ]]; then\n")
	fmt.Fprintf(&b, "  kubectl create secret generic %s --namespace %s \\\n    --from-literal=%s=\"$HF_TOKEN\" --dry-run=client -o yaml | kubectl apply -f -\n", d.o.HFTokenSecret, d.namespace, HFTokenKey)
	b.WriteString("fi\n")
	d.add("00-nodepool.sh", KindShell, []byte(b.String()))
}

func writeShellVar(b *strings.Builder, name, value, what string) {
	if value != "" {
		fmt.Fprintf(b, "%s=\"${%s:-%s}\"\n", name, name, shellEscapeDQ(value))
		return
	}
	fmt.Fprintf(b, "%s=\"${%s:?set %s to %s}\"\n", name, name, name, what)
}

// shellEscapeDQ escapes s for a double-quoted bash string.
func shellEscapeDQ(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(s)
}

// agentPoolAPIVersion is the newest stable AKS API version read
// (azure-rest-api-specs containerservice aks/stable/2025-10-01): it has
// gpuProfile.driver and gpuInstanceProfile.
const agentPoolAPIVersion = "2025-10-01"

// nodePoolBicep is the same pool as an agentPools resource on an existing
// cluster. Every property is listed in testdata/azure-reference.yaml.
func (d *bundleBuilder) nodePoolBicep(s poolShape, count, minNodes, maxNodes int) {
	var b strings.Builder
	commentf(&b, "// ", "GPU node pool for %s: %s x %s. Generated by gpuplan deploy.", d.c.Model.ID, d.vm.Name, d.gpu.Name)
	b.WriteString("// Deploy it to the cluster's resource group with clusterName set to the cluster's name.\n\n")
	b.WriteString("@description('Name of the existing AKS cluster.')\nparam clusterName string\n\n")
	b.WriteString("@description('Name of the GPU node pool: 1-12 lowercase letters and digits.')\n")
	fmt.Fprintf(&b, "param nodePoolName string = '%s'\n\n", d.nodePool())
	fmt.Fprintf(&b, "resource aks 'Microsoft.ContainerService/managedClusters@%s' existing = {\n  name: clusterName\n}\n\n", agentPoolAPIVersion)
	fmt.Fprintf(&b, "resource gpuPool 'Microsoft.ContainerService/managedClusters/agentPools@%s' = {\n", agentPoolAPIVersion)
	b.WriteString("  parent: aks\n  name: nodePoolName\n  properties: {\n")
	p := func(k, v string) { fmt.Fprintf(&b, "    %s: %s\n", k, v) }
	p("mode", "'User'")
	p("osType", "'Linux'")
	p("type", "'VirtualMachineScaleSets'")
	p("vmSize", bicepString(d.vm.Name))
	p("count", strconv.Itoa(count))
	p("enableAutoScaling", "true")
	p("minCount", strconv.Itoa(minNodes))
	p("maxCount", strconv.Itoa(maxNodes))
	fmt.Fprintf(&b, "    nodeTaints: [\n      %s\n    ]\n", bicepString(gpuTaintKey+"="+gpuTaintValue+":NoSchedule"))
	fmt.Fprintf(&b, "    nodeLabels: {\n      %s: %s\n    }\n", bicepString(poolLabelKey), bicepString(d.name))
	fmt.Fprintf(&b, "    gpuProfile: {\n      driver: %s\n    }\n", bicepString(d.gpuDriver()))
	if d.o.Spot {
		p("scaleSetPriority", "'Spot'")
		p("scaleSetEvictionPolicy", "'Delete'")
		if d.o.SpotMaxPrice > 0 {
			p("spotMaxPrice", "json('"+d.spotPrice()+"')")
		} else {
			p("spotMaxPrice", "-1")
		}
	}
	if s.mig != nil {
		p("gpuInstanceProfile", bicepString(s.mig.Name))
	}
	b.WriteString("  }\n}\n")
	d.add("00-nodepool.bicep", KindBicep, []byte(b.String()))
}

func bicepString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// shellQuote quotes s for sh when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
