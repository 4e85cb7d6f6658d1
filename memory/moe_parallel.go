package memory

import (
	"fmt"
	"math"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

// moeParallelWeights adjusts the per-GPU weights of an MoE model for
// expert parallelism and data-parallel attention.
//
// The TP group's layout, as vLLM (--enable-expert-parallel with
// --data-parallel-size) and SGLang (--ep-size, --enable-dp-attention) run
// DeepSeek and Qwen3 MoE models:
//   - without DP attention, attention and dense MLPs are split by TP, and
//     so are the routed experts whether EP is on or not (EP = TP places
//     whole experts, E/TP per GPU, the same bytes as slicing each expert
//     TP ways; EP < TP slices each of the E/EP expert groups TP/EP ways);
//   - with DP attention, every GPU holds the whole attention block and
//     runs it on its own sequences, dense MLPs stay split by TP, and the
//     routed experts are split by EP only: EP 1 replicates them on every
//     GPU (plain data parallelism), EP = TP gives each GPU E/TP experts.
//
// So at a fixed DP-attention layout, EP N takes (1 − 1/N) of the routed
// experts off every GPU.
func moeParallelWeights(s *model.Spec, p dtype.Precision, r Request, w Weights) (Weights, error) {
	ep := max(r.EP, 1)
	if ep == 1 && !r.DPAttention {
		return w, nil
	}
	params := s.Params()
	routed := params.Groups[model.GroupRoutedExperts]
	if s.MoE == nil || s.MoE.Experts <= 0 || routed <= 0 {
		return w, fmt.Errorf("%w: --ep and --dp-attention need a mixture-of-experts model; %s is dense", ErrInvalid, s.ID)
	}
	if ep > r.TP || r.TP%ep != 0 {
		return w, fmt.Errorf("%w: --ep %d must divide the TP group of %d GPUs (1 … %d)", ErrInvalid, ep, r.TP, r.TP)
	}
	if s.MoE.Experts%ep != 0 {
		return w, fmt.Errorf("%w: --ep %d does not divide %s's %d routed experts", ErrInvalid, ep, s.ID, s.MoE.Experts)
	}
	if !r.DPAttention {
		return w, nil
	}
	tp := float64(r.TP)
	bytesOf := func(n int64, group string) float64 { return float64(n) * groupBits(s, p, group) / 8 }
	attn := bytesOf(params.Groups[model.GroupAttn], model.GroupAttn)
	repl := bytesOf(replicatedAttentionParams(s, r.TP), model.GroupAttn)
	experts := bytesOf(routed, model.GroupRoutedExperts) * mxfp4ExpertPadding(s, p, r.TP)
	// The heaviest pipeline stage holds its share of the layers.
	frac := 1.0
	if r.PP > 1 && s.Layers > 0 {
		frac = math.Ceil(float64(s.Layers)/float64(r.PP)) / float64(s.Layers)
	}
	extra := ((attn-repl)*(1-1/tp) + experts*(1/float64(ep)-1/tp)) * frac
	if w.FromHeaders && w.Total > 0 {
		var computed float64
		for g, n := range params.Groups {
			if g != model.GroupMTP {
				computed += bytesOf(n, g)
			}
		}
		if computed > 0 {
			extra *= float64(w.Total) / computed
		}
	}
	w.PerGPU = units.Bytes(math.Round(float64(w.PerGPU) + extra))
	return w, nil
}
