package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/memory"
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

// llamacppSize is `size FILE.gguf --engine llamacpp`: llama.cpp's own four
// CPU buffers for the file, as its start-up log prints them.
type llamacppSize struct {
	Model       string `json:"model"`
	Context     int64  `json:"context"`
	Concurrency int64  `json:"concurrency"`
	FlashAttn   bool   `json:"flash_attention"`
	memory.LlamaCPPBuffersResult
}

func runSizeLlamaCPP(cmd *cobra.Command, a *app, ref string, f sizeFlags) error {
	if f.context <= 0 {
		return usageErrf("--context must be positive for --engine llamacpp on a GGUF file (it is Ollama's num_ctx per slot), got %d", f.context)
	}
	if f.concurrency < 1 || f.concurrency > 1024 {
		return usageErrf("--concurrency must be in [1, 1024] (llama.cpp --parallel slots), got %d", f.concurrency)
	}
	r, err := memory.LlamaCPPFileBuffers(ref, memory.LlamaCPPRequest{Context: f.context, Parallel: f.concurrency, FlashAttention: f.flashAttn})
	if errors.Is(err, memory.ErrInvalid) {
		return usageErr(err)
	}
	if err != nil {
		return err
	}
	out := llamacppSize{Model: ref, Context: f.context, Concurrency: f.concurrency, FlashAttn: f.flashAttn, LlamaCPPBuffersResult: r}
	return render(a.Stdout, f.output, out, func(w *tabwriter.Writer) error {
		fmt.Fprintf(w, "llama.cpp buffers\t%s\n", r.Build)
		fmt.Fprintf(w, "num_ctx × parallel\t%d × %d = %d cells (kv_size, padded)\n", f.context, f.concurrency, r.KVCells)
		fmt.Fprintf(w, "micro-batch\t%d tokens\n", r.MicroBatch)
		for _, row := range []struct {
			name string
			b    units.Bytes
		}{{"model buffer", r.Model}, {"KV buffer", r.KV}, {"compute buffer", r.Compute}, {"output buffer", r.Output}, {"total", r.Total}} {
			fmt.Fprintf(w, "%s\t%.2f MiB\n", row.name, float64(row.b)/(1<<20))
		}
		return nil
	})
}
