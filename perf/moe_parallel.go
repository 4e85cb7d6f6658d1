package perf

import (
	"fmt"
	"math"

	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
)

// moeLayout is how an MoE model's layers are spread over the TP group:
// experts split by TP (the default) or by EP, attention split by TP or run
// data-parallel (each GPU its own sequences). memory.Estimate sizes the
// same layouts.
type moeLayout struct {
	ep int
	dp bool
	// moeLayers and denseLayers count the stage's layers with routed
	// experts and with a dense MLP.
	moeLayers, denseLayers float64
}

// active reports whether the layout differs from plain tensor parallelism.
func (m moeLayout) active() bool { return m.ep > 1 || m.dp }

// moeParallel applies --ep and --dp-attention to a shaped deployment. With
// DP attention every GPU reads the whole attention block each iteration and
// the routed experts are split by EP only (EP 1: each GPU a full copy that
// only its own tokens reach). The KV reads were already shaped per GPU as
// whole-head caches of 1/TP of the sequences (shape).
func (d *resolvedRequest) moeParallel(r Request, b memory.Budget) {
	d.moe = moeLayout{ep: max(r.EP, 1), dp: r.DPAttention}
	if d.experts > 0 {
		dense := 0.0
		for _, l := range d.spec.MoE.DenseLayers {
			if float64(l) < d.stageLayers {
				dense++
			}
		}
		d.moe.denseLayers, d.moe.moeLayers = dense, d.stageLayers-dense
	}
	if !d.moe.dp || d.experts == 0 {
		return
	}
	tp := float64(d.tp)
	frac := d.stageLayers / float64(d.spec.Layers)
	attn := float64(b.Weights.ByGroup[model.GroupAttn])
	d.denseBytes += attn * (1 - 1/tp) * frac
	d.routedBytes = float64(b.Weights.ByGroup[model.GroupRoutedExperts]) / float64(d.moe.ep) * frac
	d.notes = append(d.notes, fmt.Sprintf("DP attention: each of the %d GPUs runs whole-head attention on its own sequences; routed experts split %d ways (EP %d)", d.tp, d.moe.ep, d.moe.ep))
}

// expertImbalance is how much more expert work the busiest EP rank gets
// than the mean when `tokens` tokens each pick k of E experts uniformly:
// a rank's count is binomial with mean μ = tokens·k/EP, and the largest of
// EP such counts exceeds μ by about σ·√(2 ln EP) (the Gaussian maximum),
// σ = √(μ(1 − 1/EP)). With experts split by TP every GPU holds a slice of
// every expert and there is no imbalance.
func (d *resolvedRequest) expertImbalance(tokens float64) float64 {
	ep := float64(d.moe.ep)
	if ep <= 1 || tokens <= 0 {
		return 1
	}
	mu := tokens * d.topK / ep
	return 1 + math.Sqrt(mu*(1-1/ep)*2*math.Log(ep))/mu
}

// expertTouchTokens is how many tokens' routing reaches one GPU's experts:
// all of the iteration's, except with DP attention and no EP, where each
// GPU's full copy of the experts serves only its own 1/TP of the tokens.
func (d *resolvedRequest) expertTouchTokens(tokens float64) float64 {
	if d.moe.dp && d.moe.ep == 1 {
		return tokens / float64(d.tp)
	}
	return tokens
}

// moeComm is the communication of one iteration's layers under an EP or
// DP-attention layout, seconds (the default layout's two all-reduces per
// layer are costed by step).
//
//   - MoE layers with EP > 1 replace the all-reduce after the MLP with a
//     dispatch and a combine all-to-all: each GPU sends its 1/TP of the
//     tokens, k copies each, (EP−1)/EP of them to other ranks;
//   - attention keeps its all-reduce under TP, and has none under DP
//     attention;
//   - dense-MLP layers under DP attention gather and scatter the tokens
//     across the group: one all-reduce's worth.
//
// Across VMs the share of the all-to-all that leaves the NVLink domain
// moves at the GPU's network share.
func (d *resolvedRequest) moeComm(r rates, pre, dec float64) float64 {
	ar := d.allReduce(r, pre, dec)
	m := d.moe
	var a2a float64
	if m.ep > 1 {
		tp, ep := float64(d.tp), float64(m.ep)
		perTok := d.topK * d.hidden * d.actBytes * (ep - 1) / ep / tp
		bytesPre, bytesDec := pre*perTok, dec*perTok
		t := r.arLatency + bytesPre/r.link + bytesDec/r.linkDec
		if d.topo.tpDomains > 1 {
			// The ranks outside this domain: (m−1)/m of the peers.
			out := float64(d.topo.tpDomains-1) / float64(d.topo.tpDomains)
			eff := r.link / d.linkPerDirection
			effDec := r.linkDec / d.linkPerDirection
			t = math.Max(t, d.topo.netStep+ncclRingBaseUS/1e6+out*(bytesPre/(d.topo.scaleOutPerGPU*eff)+bytesDec/(d.topo.scaleOutPerGPU*effDec)))
		}
		a2a = 2 * t
	}
	var moeLayer, denseLayer float64
	switch {
	case m.dp:
		moeLayer, denseLayer = a2a, ar
	default:
		moeLayer, denseLayer = ar+a2a, 2*ar
		if m.ep <= 1 {
			moeLayer = 2 * ar
		}
	}
	return m.moeLayers*moeLayer + m.denseLayers*denseLayer
}
