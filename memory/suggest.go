package memory

import (
	"fmt"
	"math"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/units"
)

// Suggestion is one way to make a request fit, with what it achieves.
type Suggestion struct {
	// Kind is one of: kv_fp8, shorter_context, more_gpus, quantize,
	// larger_gpu.
	Kind string `json:"kind"`
	// Change is the flag change to make, e.g. "--kv-dtype fp8".
	Change string `json:"change"`
	// Result says what the changed request gives.
	Result string `json:"result"`
	// MaxConcurrentSequences at the requested context after the change.
	MaxConcurrentSequences int64 `json:"max_concurrent_sequences"`
}

// suggest tries the usual remedies in order of how little they change the
// deployment: the KV-cache format, the context, the precision, the number
// of GPUs, and finally the GPU itself. Only remedies that make the request
// fit are listed, each with the figures it yields.
func suggest(r Request, b Budget) []Suggestion {
	var out []Suggestion
	try := func(kind, change string, mod func(*Request)) bool {
		r2 := r
		mod(&r2)
		b2, err := estimate(r2)
		if err != nil || !b2.Fits {
			return false
		}
		out = append(out, Suggestion{Kind: kind, Change: change, MaxConcurrentSequences: b2.MaxConcurrentSequences,
			Result: fmt.Sprintf("fits: %s of %d tokens, %d KV tokens per GPU", plural(b2.MaxConcurrentSequences, "sequence"), b2.Context, b2.KVCacheTokens)})
		return true
	}
	if b.KVDType != dtype.FP8 {
		try("kv_fp8", "--kv-dtype fp8", func(x *Request) { x.KVDType = dtype.KVFP8 })
	}
	if b.MaxContext > 0 && b.MaxContext < b.Context {
		out = append(out, Suggestion{Kind: "shorter_context", Change: fmt.Sprintf("--context %d", b.MaxContext),
			MaxConcurrentSequences: b.Concurrency,
			Result:                 fmt.Sprintf("the longest context at which %s fit", plural(b.Concurrency, "sequence"))})
	}
	// Lower precisions, most accurate first. With the hardware known each
	// is judged by engine.Check inside estimate, so only what the engine
	// runs there is offered (no fp8 for an MoE model on Ampere, no AWQ for
	// llama.cpp, GGUF types only where the engine has their kernels).
	candidates := []string{"fp8", "int8", "int4"}
	if r.Target != nil {
		candidates = append(candidates, "q8_0", "q4_k")
	}
	for _, name := range candidates {
		p, err := dtype.LookupPrecision(name)
		if err != nil || p.WeightBits() >= b.Precision.WeightBits() {
			continue
		}
		if try("quantize", "--precision "+name+" "+quantizeNote(r, p), func(x *Request) { x.Precision = &p }) {
			break
		}
	}
	for _, tp := range []int{2, 4, 8} {
		if tp <= r.TP || (r.Model.Heads > 0 && r.Model.Heads%tp != 0) {
			continue
		}
		if try("more_gpus", fmt.Sprintf("--tp %d", tp), func(x *Request) { x.TP = tp }) {
			break
		}
	}
	if need := minCUDAMemory(r); need > 0 {
		// Round up to the 0.01 GiB printed, so the printed figure fits.
		g := math.Ceil(need.GiB()*100) / 100
		out = append(out, Suggestion{Kind: "larger_gpu", Change: fmt.Sprintf("--gpu-memory %.2fGiB or more", g),
			MaxConcurrentSequences: b.Concurrency,
			Result:                 fmt.Sprintf("a GPU reporting at least %.2f GiB of CUDA memory at TP=%d holds the request", g, r.TP)})
	}
	return out
}

// minCUDAMemory finds the smallest per-GPU CUDA memory at which the request
// fits, by bisection on whole MiB; 0 when even 4 TiB would not do.
func minCUDAMemory(r Request) units.Bytes {
	fits := func(m units.Bytes) bool {
		r2 := r
		r2.GPU.CUDAMemory = m
		b, err := estimate(r2)
		return err == nil && b.Fits
	}
	lo, hi := units.Bytes(0), 4*units.TiB
	if !fits(hi) {
		return 0
	}
	for hi-lo > units.MiB {
		mid := lo + (hi-lo)/2
		if fits(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return units.Bytes(math.Ceil(float64(hi)/float64(units.MiB))) * units.MiB
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// quantizeNote says how a precision is reached: quantized by the engine at
// load, or from a checkpoint that must exist.
func quantizeNote(r Request, p dtype.Precision) string {
	if r.Target == nil {
		return "(needs GPU support and, for int8/int4, a pre-quantized checkpoint)"
	}
	info := r.Engine.Info()
	if q, ok := info.QuantizeAtLoad(p); ok {
		return fmt.Sprintf("(quantized at load: %s %s)", info.AtLoadFlag, q)
	}
	kinds := make([]string, len(p.Checkpoints))
	for i, c := range p.Checkpoints {
		kinds[i] = string(c)
	}
	return "(needs a pre-quantized " + strings.Join(kinds, "/") + " checkpoint)"
}
