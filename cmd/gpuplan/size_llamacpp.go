package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/units"
)

// isLocalGGUF reports whether ref names a GGUF file on disk.
func isLocalGGUF(ref string) bool {
	if !strings.HasSuffix(strings.ToLower(ref), ".gguf") {
		return false
	}
	st, err := os.Stat(ref)
	return err == nil && st.Mode().IsRegular()
}

// llamacppBuffers sizes llama.cpp's buffers for a model reference: exactly
// from the tensors of a local GGUF file, otherwise from the resolved
// model's shape at precision (its weights as one block). modelID is the
// reference for a file and the resolved id otherwise; a bad request is a
// usage error.
func (a *app) llamacppBuffers(ctx context.Context, ref, precision string, req engine.LlamaCPPRequest) (r engine.LlamaCPPBuffersResult, modelID string, exact bool, err error) {
	if isLocalGGUF(ref) {
		r, err = engine.LlamaCPPFileBuffers(ref, req)
		modelID, exact = ref, true
	} else {
		spec, rerr := a.resolveModel(ctx, ref)
		if rerr != nil {
			return r, "", false, rerr
		}
		modelID = spec.ID
		prec, perr := cpuPrecision(spec, precision)
		if perr != nil {
			return r, "", false, perr
		}
		w, werr := memory.EstimateWeights(spec, prec, 1, 1)
		if werr != nil {
			return r, "", false, usageErr(werr)
		}
		r, err = engine.LlamaCPPBuffers(engine.LlamaCPPModelFromSpec(spec, int64(w.Total)), req)
	}
	if errors.Is(err, memory.ErrInvalid) {
		return r, modelID, exact, usageErr(err)
	}
	return r, modelID, exact, err
}

func runSizeLlamaCPP(cmd *cobra.Command, a *app, ref string, f sizeFlags, host *perf.CPUHost) error {
	if f.context <= 0 {
		return usageErrf("--context must be positive for llama.cpp (--engine llamacpp, --vm with a CPU size, --cpu): it is Ollama's num_ctx per slot, got %d", f.context)
	}
	if f.concurrency < 1 || f.concurrency > 1024 {
		return usageErrf("--concurrency must be in [1, 1024] (llama.cpp --parallel slots), got %d", f.concurrency)
	}
	req := engine.LlamaCPPRequest{Context: f.context, Parallel: f.concurrency, FlashAttention: f.flashAttn}
	r, _, exact, err := a.llamacppBuffers(cmd.Context(), ref, f.model.precision.value, req)
	if err != nil {
		return err
	}
	out := perf.LlamaCPPSizeReport{Model: ref, Context: f.context, Concurrency: f.concurrency, FlashAttn: f.flashAttn, Exact: exact, LlamaCPPBuffersResult: r, Host: host}
	if host != nil && host.MemoryGiB > 0 {
		fits := float64(r.Total) < host.MemoryGiB*(1<<30)
		out.Fits = &fits
	}
	err = render(a.Stdout, f.output, out, func(w *tabwriter.Writer) error {
		fmt.Fprintf(w, "llama.cpp buffers\t%s\n", r.Build)
		if !exact {
			fmt.Fprintf(w, "basis\tarchitecture and --precision (no GGUF file: model buffer = weights, llama's compute graph)\n")
		}
		fmt.Fprintf(w, "num_ctx × parallel\t%d × %d = %d cells (kv_size, padded)\n", f.context, f.concurrency, r.KVCells)
		fmt.Fprintf(w, "micro-batch\t%d tokens\n", r.MicroBatch)
		for _, row := range []struct {
			name string
			b    units.Bytes
		}{{"model buffer", r.Model}, {"KV buffer", r.KV}, {"compute buffer", r.Compute}, {"output buffer", r.Output}, {"total", r.Total}} {
			fmt.Fprintf(w, "%s\t%.2f MiB\n", row.name, float64(row.b)/(1<<20))
		}
		if out.Fits != nil {
			fmt.Fprintf(w, "%s memory\t%.0f GiB: fits = %v\n", host.Name, host.MemoryGiB, *out.Fits)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if out.Fits != nil && !*out.Fits {
		return infeasibleErr(fmt.Errorf("%s does not fit %s: llama.cpp needs %.2f GiB, the VM has %.0f GiB", ref, host.Name, float64(r.Total)/(1<<30), host.MemoryGiB))
	}
	return nil
}
