package perf

import (
	"errors"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/hardware"
)

func ndH100(t testing.TB) hardware.Fabric {
	t.Helper()
	f, ok := hardware.LookupFabric("Standard_ND96isr_H100_v5")
	if !ok {
		t.Fatal("no ND H100 v5 fabric")
	}
	return f
}

// multiVM returns deployments that cross VMs on ND H100 v5: a TP group
// over InfiniBand, pipeline stages on two VMs, and both.
func multiVM(t *testing.T) []Request {
	base := Request{GPU: gpu(t, "h100-sxm"), Engine: profile(t, "trtllm"), KVDType: "fp8", Precision: precision(t, "fp8")}
	var out []Request
	for _, c := range []struct {
		model  string
		tp, pp int
	}{
		{"meta-llama/Llama-3.1-405B", 16, 1},
		{"meta-llama/Llama-3.1-405B", 8, 2},
		{"meta-llama/Llama-3.1-70B", 4, 4},
		{"deepseek-ai/DeepSeek-V3", 16, 1},
	} {
		for _, w := range []Workload{{InputTokens: 1000, OutputTokens: 1000, Concurrency: 1}, {InputTokens: 1000, OutputTokens: 1000, Concurrency: 64}, {InputTokens: 4000, OutputTokens: 500, Max: true}} {
			r := base
			r.Model, r.TP, r.PP, r.Workload = spec(t, c.model), c.tp, c.pp, w
			out = append(out, r)
		}
	}
	return out
}

// TestFasterFabricNeverSlower: doubling the network's or the NVLink's
// bandwidth, or halving a step's latency, never lowers throughput nor
// raises TPOT or TTFT.
func TestFasterFabricNeverSlower(t *testing.T) {
	edits := map[string]func(*hardware.Fabric){
		"network 2× bandwidth": func(f *hardware.Fabric) { f.ScaleOut.BitsPerSPerNIC *= 2 },
		"NVLink 2× bandwidth":  func(f *hardware.Fabric) { f.ScaleUp.BytesPerS *= 2 },
		"network ½ latency":    func(f *hardware.Fabric) { f.ScaleOut.StepLatencyUS /= 2 },
		"NVLink ½ latency":     func(f *hardware.Fabric) { f.ScaleUp.StepLatencyUS /= 2 },
	}
	for _, r := range multiVM(t) {
		f := ndH100(t)
		r.Fabric, r.GPUsPerVM = &f, 8
		slow := mustPredict(t, r)
		for name, edit := range edits {
			g := ndH100(t)
			edit(&g)
			r2 := r
			r2.Fabric = &g
			fast := mustPredict(t, r2)
			if fast.OutputTokensPerS < slow.OutputTokensPerS*(1-1e-9) || fast.TPOT.Mean > slow.TPOT.Mean*(1+1e-9) || fast.TTFT.Mean > slow.TTFT.Mean*(1+1e-9) {
				t.Errorf("%s tp%d pp%d %+v, %s: %.1f tok/s TPOT %.2f ms TTFT %.1f ms, was %.1f tok/s %.2f ms %.1f ms",
					r.Model.ID, r.TP, r.PP, r.Workload, name, fast.OutputTokensPerS, fast.TPOT.Mean, fast.TTFT.Mean, slow.OutputTokensPerS, slow.TPOT.Mean, slow.TTFT.Mean)
			}
		}
	}
}

// TestInfiniBandNeverFasterThanNVLink moves the same TP group from one
// NVLink domain onto two VMs joined by InfiniBand: it is never faster, and
// strictly slower per token at low load, where the all-reduces' latency
// shows.
func TestInfiniBandNeverFasterThanNVLink(t *testing.T) {
	for _, r := range multiVM(t) {
		if r.PP > 1 {
			continue
		}
		one := ndH100(t)
		one.DomainGPUs = r.TP // the whole group in one NVLink domain
		split := ndH100(t)
		r.GPUsPerVM = r.TP
		r.Fabric = &one
		nv := mustPredict(t, r)
		r.Fabric, r.GPUsPerVM = &split, 8
		ib := mustPredict(t, r)
		if ib.OutputTokensPerS > nv.OutputTokensPerS*(1+1e-9) || ib.TPOT.Mean < nv.TPOT.Mean*(1-1e-9) {
			t.Errorf("%s tp%d %+v: over InfiniBand %.1f tok/s TPOT %.2f ms, one NVLink domain %.1f tok/s %.2f ms",
				r.Model.ID, r.TP, r.Workload, ib.OutputTokensPerS, ib.TPOT.Mean, nv.OutputTokensPerS, nv.TPOT.Mean)
		}
		if r.Workload.Concurrency == 1 && ib.TPOT.Mean <= nv.TPOT.Mean {
			t.Errorf("%s tp%d at concurrency 1: TPOT over InfiniBand %.3f ms is not above NVLink's %.3f ms", r.Model.ID, r.TP, ib.TPOT.Mean, nv.TPOT.Mean)
		}
	}
	// Smaller TP groups too: TP 8 as 2 VMs × 4 GPUs against one VM.
	r := Request{Model: spec(t, "meta-llama/Llama-3.1-70B"), GPU: gpu(t, "h100-sxm"), Engine: profile(t, "trtllm"), TP: 8,
		Workload: Workload{InputTokens: 1000, OutputTokens: 1000, Concurrency: 16}}
	f := ndH100(t)
	r.Fabric, r.GPUsPerVM = &f, 8
	nv := mustPredict(t, r)
	half := ndH100(t)
	half.DomainGPUs = 4
	r.Fabric, r.GPUsPerVM = &half, 4
	ib := mustPredict(t, r)
	if ib.TPOT.Mean <= nv.TPOT.Mean {
		t.Errorf("TP 8 as 2 × 4 GPUs over InfiniBand: TPOT %.3f ms, not above one VM's %.3f ms", ib.TPOT.Mean, nv.TPOT.Mean)
	}
}

// TestMultiVMLayout checks where the GPUs land and that the estimate says
// so: TP 16 on ND H100 v5 spans two NVLink domains; TP 8 × PP 2 keeps each
// TP group inside a VM and sends one pipeline hop over the network; a TP
// that does not divide into domains is refused.
func TestMultiVMLayout(t *testing.T) {
	f := ndH100(t)
	tests := []struct {
		tp, pp             int
		domains, crossHops int
		vms                int
	}{
		{8, 1, 1, 0, 1},
		{16, 1, 2, 0, 2},
		{8, 2, 1, 1, 2},
		{4, 4, 1, 1, 2},
		{2, 8, 1, 1, 2},
		{16, 2, 2, 1, 4},
	}
	for _, tc := range tests {
		got, err := layout(&f, 8, tc.tp, tc.pp)
		if err != nil {
			t.Fatal(err)
		}
		if got.tpDomains != tc.domains || got.ppCrossHops != tc.crossHops || got.vms != tc.vms {
			t.Errorf("tp%d pp%d: %d domains, %d crossing hops, %d VMs; want %d, %d, %d", tc.tp, tc.pp, got.tpDomains, got.ppCrossHops, got.vms, tc.domains, tc.crossHops, tc.vms)
		}
	}
	if _, err := layout(&f, 8, 12, 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("tp 12 over 8-GPU domains: %v, want ErrInvalid", err)
	}
	// Without a fabric in the request, 16 H100s resolve to two ND H100 v5.
	e := mustPredict(t, Request{Model: spec(t, "meta-llama/Llama-3.1-405B"), GPU: gpu(t, "h100-sxm"), Engine: profile(t, "trtllm"), TP: 16, Precision: precision(t, "fp8"),
		Workload: Workload{InputTokens: 1000, OutputTokens: 1000, Concurrency: 8}})
	if !strings.Contains(strings.Join(e.Assumptions, "\n"), "2 VMs of Standard_ND96isr_H100_v5") {
		t.Errorf("TP 16 on H100 does not say it spans two ND H100 v5 VMs: %q", e.Assumptions)
	}
}

// TestPeerLatencyCapMatchesFit keeps peerLatencyMaxPeers at the widest
// TP group among the embedded points of each engine with a fitted per-peer
// all-reduce cost, taking the narrowest of those: the cap is one for every
// engine, so it stops where the least widely measured engine's data stop
// (vLLM's TP 4; SGLang's runs reach TP 8) and the term is extrapolated past
// no engine's data.
func TestPeerLatencyCapMatchesFit(t *testing.T) {
	peered := map[string]bool{}
	for _, f := range fittedEngineFactors {
		for _, l := range f.Links {
			if l.PeerLatencyUS > 0 {
				peered[f.key()] = true
			}
		}
	}
	widest := map[string]int{}
	for _, p := range Embedded().Points {
		k := strings.ToLower(p.Engine) + "|" + p.EngineVersion
		if peered[k] {
			widest[k] = max(widest[k], p.TP)
		}
	}
	if len(widest) == 0 {
		t.Fatal("no embedded point of an engine with a per-peer all-reduce cost")
	}
	narrowest, which := 0, ""
	for _, k := range sortedKeys(widest) {
		if narrowest == 0 || widest[k] < narrowest {
			narrowest, which = widest[k], k
		}
	}
	if peerLatencyMaxPeers != narrowest-1 {
		t.Errorf("peerLatencyMaxPeers = %d, the narrowest engine's widest group is TP %d (%s, %d peers)", peerLatencyMaxPeers, narrowest, which, narrowest-1)
	}
}
