package perf

import (
	"fmt"
	"math"

	"github.com/gpuplan/gpuplan/hardware"
)

// NCCL's base latency of one collective call, by algorithm, with the LL128
// protocol (NVIDIA/nccl src/graph/tuning.cc, baseLat): ring 10 µs, tree
// 4.4 µs. Inside one NVLink domain the engines replace NCCL with their own
// one-shot all-reduce kernels (the fitted AllReduceLatencyUS); across VMs
// those kernels do not reach, and the call falls back to NCCL.
const (
	ncclRingBaseUS = 10.0
	ncclTreeBaseUS = 4.4
	// ncclTreeBusFraction is NCCL's tree bus-bandwidth discount (busBw ×
	// 0.9) and its algorithm bandwidth is half the bus bandwidth
	// (tuning.cc: ratio .5 for trees).
	ncclTreeBusFraction = 0.9
)

// Engine costs of crossing VMs beyond NCCL's model: what the engines add
// per collective and per pipeline hand-off once a replica spans VMs
// (host-side launch and synchronisation of the cross-node NCCL
// communicator, the distributed executor's transport between stages). Not
// a datasheet figure: each is the one constant that reconciles the model
// with vLLM 0.17 on two ND H100 v5 VMs (testdata/multivm-vllm-nd-h100.json;
// TP 16: 29 ms per token against 10 ms at TP 8, over 160 cross-VM
// all-reduces per token; TP 8 × PP 2: 15 ms against 10 ms, over two
// cross-VM hand-offs per token, the activations out and the sampled token
// back). They are in sample on those runs; TestMultiVMAccuracy also
// holds out public SGLang DeepSeek-R1 runs across two H100 nodes
// (testdata/moe-sglang-public.json), which the constants never saw.
const (
	crossVMCollectiveUS = 110
	crossVMHopMS        = 2.4
)

// topology is how one replica's GPUs sit on scale-up domains (NVLink
// domains: one VM, or a GB200 NVL72 rack) joined by the VM-to-VM network.
type topology struct {
	fabric *hardware.Fabric // nil: the whole replica is one domain
	// tpDomains is how many domains one tensor-parallel group spans (1:
	// inside one); tpPerDomain the group's GPUs per domain.
	tpDomains, tpPerDomain int
	// ppCrossHops is how many pipeline stage boundaries cross domains.
	ppCrossHops int
	// vms is how many VMs the replica occupies.
	vms int
	// scaleOutPerGPU is the network bandwidth one GPU can use, bytes per
	// second per direction; upStep and netStep NCCL's step latencies over
	// the scale-up link and the network, seconds.
	scaleOutPerGPU, upStep, netStep float64
}

// multiDomain reports whether any collective or pipeline hop crosses the
// network.
func (t topology) multiDomain() bool { return t.tpDomains > 1 || t.ppCrossHops > 0 }

// layout places TP × PP GPUs on domains of f: a TP group fills a domain
// before spilling into the next, pipeline stages follow one another.
func layout(f *hardware.Fabric, gpusPerVM, tp, pp int) (topology, error) {
	t := topology{tpDomains: 1, tpPerDomain: tp, vms: 1}
	if f == nil {
		return t, nil
	}
	t.fabric = f
	dom := f.DomainGPUs
	if gpusPerVM <= 0 || gpusPerVM > dom {
		gpusPerVM = dom
	}
	t.vms = (tp*pp + gpusPerVM - 1) / gpusPerVM
	t.upStep = f.ScaleUp.StepLatencyUS / 1e6
	t.netStep = f.ScaleOut.StepLatencyUS / 1e6
	t.scaleOutPerGPU = f.ScaleOutBytesPerSPerGPU(gpusPerVM)
	if tp > dom {
		if tp%dom != 0 {
			return t, fmt.Errorf("%w: --tp %d spans %s's %d-GPU NVLink domains unevenly; use a multiple of %d", ErrInvalid, tp, f.VM, dom, dom)
		}
		t.tpDomains, t.tpPerDomain = tp/dom, dom
		t.ppCrossHops = pp - 1
	} else if pp > 1 {
		stagesPerDomain := max(dom/tp, 1)
		t.ppCrossHops = (pp+stagesPerDomain-1)/stagesPerDomain - 1
	}
	if t.multiDomain() && t.scaleOutPerGPU <= 0 {
		return t, fmt.Errorf("%w: %d GPUs span more than one of %s's NVLink domains, and the size has no network between VMs", ErrInvalid, tp*pp, f.VM)
	}
	return t, nil
}

// allReduce is the time of one all-reduce of `pre` prompt tokens' and `dec`
// decode tokens' hidden states (hidden × actBytes each) across the TP
// group, seconds.
//
// Inside one domain it is the engine's own kernel: a fixed cost per call
// plus a ring moving 2(TP−1)/TP of the message over each link direction at
// the fitted efficiencies (prompt tokens: large messages; decode tokens:
// small ones). Across domains it is NCCL's cost model (tuning.cc): the
// faster of a ring — base latency, 2(n−1) steps of which 2(m−1) cross the
// network, and 2(n−1)/n of the message at the bus bandwidth — and a tree —
// base latency, 2((g−1) scale-up + log2(m) network) steps, and the message
// at half of 0.9 × the bus bandwidth. The bus bandwidth of a group of g GPUs
// per domain is the smaller of the scale-up link and g network shares (one
// ring channel per NIC), times the engine's link efficiency.
func (d *resolvedRequest) allReduce(r rates, pre, dec float64) float64 {
	tp := float64(d.tp)
	msg := d.hidden * d.actBytes
	t := d.topo
	if t.tpDomains <= 1 {
		ring := 2 * (tp - 1) / tp * msg
		return r.arLatency + ring*(pre/r.link+dec/r.linkDec)
	}
	m, g := float64(t.tpDomains), float64(t.tpPerDomain)
	bus := math.Min(d.linkPerDirection, g*t.scaleOutPerGPU)
	effPre, effDec := r.link/d.linkPerDirection, r.linkDec/d.linkPerDirection
	data := msg * (pre/(bus*effPre) + dec/(bus*effDec))
	steps, inter := 2*(tp-1), 2*(m-1)
	ring := ncclRingBaseUS/1e6 + (steps-inter)*t.upStep + inter*t.netStep + 2*(tp-1)/tp*data
	tree := ncclTreeBaseUS/1e6 + 2*((g-1)*t.upStep+math.Log2(m)*t.netStep) + data/(0.5*ncclTreeBusFraction)
	return math.Min(ring, tree) + crossVMCollectiveUS/1e6
}

// ppHops is the time of a micro-batch's hand-offs between pipeline stages
// (tokens hidden states each), seconds: inside a domain over the scale-up
// link at the engine's efficiency plus the fixed call cost; across domains
// each GPU sends its copy over its share of the network after one network
// step's latency.
func (d *resolvedRequest) ppHops(r rates, tokens float64) float64 {
	if d.pp <= 1 {
		return 0
	}
	bytes := tokens * d.hidden * d.actBytes
	cross := float64(d.topo.ppCrossHops)
	intra := float64(d.pp-1) - cross
	t := intra * (r.arLatency + bytes/r.link)
	if cross > 0 {
		eff := r.link / d.linkPerDirection
		t += cross * (r.arLatency + d.topo.netStep + bytes/(d.topo.scaleOutPerGPU*eff) + crossVMHopMS/1e3)
		// The sampled tokens return from the last stage's VM to the
		// first's for the next iteration.
		t += d.topo.netStep + crossVMHopMS/1e3
	}
	return t
}
