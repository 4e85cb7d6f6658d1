package plan

import (
	"fmt"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/perf"
)

// layout is one way to spread a replica's work over its GPUs beyond TP ×
// PP: MoE expert parallelism and data-parallel attention, and speculative
// decoding. The searcher evaluates the default layout always, and for MoE
// models on engines that run it, DP attention with EP = TP as well.
type layout struct {
	ep int
	dp bool
}

// String is the layout's note in a row's reason.
func (l layout) String() string {
	switch {
	case l.dp && l.ep > 1:
		return fmt.Sprintf(", DP attention + EP %d", l.ep)
	case l.dp:
		return ", DP attention"
	case l.ep > 1:
		return fmt.Sprintf(", EP %d", l.ep)
	}
	return ""
}

// layoutsFor returns the MoE layouts to try at a TP degree, and records
// once why none beyond the default applies.
func (s *searcher) layoutsFor(family string, tp int) []layout {
	r := s.r
	out := []layout{{ep: max(r.EP, 1), dp: r.DPAttention}}
	if r.EP > 1 || r.DPAttention || tp < 2 {
		return out // the user chose, or nothing to split
	}
	if r.Model.MoE == nil || r.Model.MoE.Experts <= 0 {
		return out
	}
	if !r.Engine.Info().MoELayouts {
		// Plan-wide, not a reason against one family: an assumption line.
		s.layoutNote = fmt.Sprintf("expert parallelism and DP attention were not searched: %s is modelled with experts and attention split by TP only", r.Engine.Info().ID())
		return out
	}
	if r.Model.MoE.Experts%tp != 0 {
		return out
	}
	return append(out, layout{ep: tp, dp: true})
}

// fabricFor is the fabric of a multi-VM replica on vm, or an explanation
// when the size has no VM-to-VM network.
func fabricFor(vm hardware.VMSize) (*hardware.Fabric, error) {
	f, ok := hardware.LookupFabric(vm.Name)
	if !ok || f.ScaleOut.NICs <= 0 {
		return nil, fmt.Errorf("%s has no stated VM-to-VM network (InfiniBand) in hardware/data/fabrics.yaml: a replica cannot span VMs of it", vm.Name)
	}
	return &f, nil
}

// applyLayout sets the current layout, fabric and speculative decoding on a
// perf request.
func (s *searcher) applyLayout(req *perf.Request) {
	req.EP, req.DPAttention = s.cur.ep, s.cur.dp
	req.Fabric, req.GPUsPerVM = s.curFabric, s.curGPUsPerVM
	req.Speculative = s.r.Speculative
}

// engineLayout fills a candidate's engine fields from the current layout.
func (s *searcher) engineLayout(e *Engine) {
	if s.cur.ep > 1 {
		e.ExpertParallelSize = s.cur.ep
	}
	e.DPAttention = s.cur.dp
	if sp := s.r.Speculative; sp != nil {
		e.Speculative = &SpeculativeConfig{Method: sp.Method, Tokens: sp.Tokens, AcceptanceRate: sp.AcceptanceRate}
		if sp.Draft != nil {
			e.Speculative.Model = sp.Draft.ID
		}
	}
}
