package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/units"
)

// defaultGPU is what `size` sizes for when neither --gpu nor --gpu-memory
// is given; the output says so.
const defaultGPU = "h100-sxm"

type sizeFlags struct {
	model                modelFlags
	eng                  engineFlags
	hw                   hardwareFlags
	table                string
	context, concurrency int64
	utilization          float64
	flashAttn            bool
	tp, pp               int
	output               outputFormat
	moe                  bigFlags
}

// sizeEngineHelp is size's help for the scheduler knobs (it names
// llama.cpp's too: size sizes GGUF files with llama.cpp's buffer rules).
var sizeEngineHelp = engineHelp{
	maxNumBatchedTokens: "token budget per engine step (vLLM max_num_batched_tokens, SGLang chunked_prefill_size, TensorRT-LLM max_num_tokens, llama.cpp ubatch_size; default: the engine's rule for the GPU)",
	maxNumSeqs:          "most sequences per engine step (vLLM max_num_seqs, SGLang max_running_requests, TensorRT-LLM max_batch_size, llama.cpp parallel; default: the engine's rule for the GPU)",
}

// Help of the model flags where the default is the checkpoint's own.
var checkpointModelHelp = modelHelp{
	precision: "weights precision (default: the checkpoint's own); see docs/cli.md",
	kvDType:   "KV-cache dtype: auto, bf16, fp16, fp8",
}

func newSizeCmd(a *app) *cobra.Command {
	var f sizeFlags
	cmd := &cobra.Command{
		Use:   "size MODEL",
		Short: "Memory per GPU: weights, KV cache, activations, overhead; fits or not",
		Long: `Size a model's GPU memory the way the engine reserves it: exact weights per GPU,
KV-cache bytes per token, the engine's activation reserve and runtime overhead,
the KV cache it allocates, how many tokens and sequences it holds, and whether
the requested context × concurrency fits — and, with --gpu, whether the engine
runs the precision on that GPU at all. The seed's rule of thumb (params × bytes + 20%) is
shown beside the exact figure.

MODEL is a catalog id or alias (see 'gpuplan models'), a Hugging Face id, a
config.json, a model directory or a GGUF file.`,
		Example: `  gpuplan size llama-3.1-70b --precision int8 --gpu a100-80gb-sxm
  gpuplan size meta-llama/Llama-3.1-8B-Instruct --gpu h100-sxm --context 32768 --concurrency 16 --kv-dtype fp8
  gpuplan size qwen3-30b-a3b --gpu-memory 79.19GiB --tp 2 -o json
  gpuplan size --table 7B,13B,70B`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.table != "" {
				if len(args) > 0 {
					return usageErrf("--table takes bare sizes, not a MODEL")
				}
				return nil
			}
			if len(args) != 1 {
				return usageErrf("size needs exactly one MODEL (or --table 7B,13B,70B); see 'gpuplan models'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.table != "" {
				return runRuleOfThumbTable(a, f)
			}
			host, gvm, err := resolveCPUTarget(a, f.hw.cpuFlags, f.hw.gpu.value)
			if err != nil {
				return err
			}
			if gvm != nil {
				f.hw.gpu.value = gvm.GPU
			}
			eng, err := f.eng.resolve()
			if err != nil {
				return err
			}
			if host != nil && !eng.Info().GGUFBufferModel && cmd.Flags().Changed("engine") {
				return usageErrf("--engine %s: CPU hosts are sized with llama.cpp's buffer model; pass --engine llamacpp (or leave --engine out)", eng.Info().ID())
			}
			if host != nil || (eng.Info().GGUFBufferModel && isLocalGGUF(args[0])) {
				return runSizeLlamaCPP(cmd, a, args[0], f, host)
			}
			return runSize(cmd, a, args[0], f)
		},
	}
	fl := cmd.Flags()
	f.hw.register(fl)
	f.model.register(fl, checkpointModelHelp)
	f.eng.register(fl, sizeEngineHelp)
	fl.Int64Var(&f.context, "context", 0, "maximum model length in tokens (default: the model's max_position_embeddings)")
	fl.Int64Var(&f.concurrency, "concurrency", 1, "sequences of --context tokens that must fit at once")
	fl.Float64Var(&f.utilization, "gpu-memory-utilization", 0, "fraction of CUDA memory the engine may use (default: the engine profile's)")
	fl.IntVar(&f.tp, "tp", 1, "tensor-parallel size")
	fl.IntVar(&f.pp, "pp", 1, "pipeline-parallel size")
	fl.BoolVar(&f.flashAttn, "flash-attn", false, "llama.cpp --flash-attn (with --engine llamacpp on a GGUF file)")
	fl.StringVar(&f.table, "table", "", "reproduce the reference guide's VRAM table for bare sizes, e.g. 7B,13B,70B")
	addMoEFlags(fl, &f.moe)
	addOutputFlag(cmd, &f.output)
	return cmd
}

func runSize(cmd *cobra.Command, a *app, ref string, f sizeFlags) error {
	spec, err := a.resolveModel(cmd.Context(), ref)
	if err != nil {
		return err
	}
	req := memory.Request{
		Model: spec, Context: f.context, Concurrency: f.concurrency, TP: f.tp, PP: f.pp,
		Utilization: f.utilization,
		Scheduler:   f.eng.scheduler(),
		EP:          f.moe.ep, DPAttention: f.moe.dpAttention,
	}
	sf, err := f.model.resolve()
	if err != nil {
		return err
	}
	req.Precision, req.KVDType = sf.Precision, sf.KVDType
	if req.Engine, err = f.eng.resolve(); err != nil {
		return err
	}
	_, hc, err := a.loadCatalogs()
	if err != nil {
		return err
	}
	g, err := f.hw.resolve(hc, "sized", true)
	if err != nil {
		return err
	}
	notes := g.Notes
	req.GPU = memory.GPU{CUDAMemory: g.CUDAMemory}
	if chip := g.Chip; chip != nil {
		req.GPU.ID, req.GPU.DriverMemory = chip.ID, chip.DriverMemory
		t := engine.OnGPU(*chip)
		req.Target = &t
	} else {
		notes = append(notes, "no --gpu: whether the engine runs this precision is not checked (give --gpu to check it)")
	}
	b, err := memory.Estimate(req)
	if errors.Is(err, memory.ErrInvalid) {
		return usageErr(err)
	}
	if err != nil {
		return err
	}
	b.Assumptions.Notes = append(notes, b.Assumptions.Notes...)
	if err := render(a.Stdout, f.output, b, func(w *tabwriter.Writer) error { return printBudget(w, b) }); err != nil {
		return err
	}
	if !b.Fits {
		return infeasibleErr(fmt.Errorf("%s does not fit: %s", b.Model, strings.Join(b.Reasons, "; ")))
	}
	return nil
}

func printBudget(w *tabwriter.Writer, b memory.Budget) error {
	gib := func(x units.Bytes) string { return fmt.Sprintf("%.2f", x.GiB()) }
	fmt.Fprintf(w, "Model\t%s\n", b.Model)
	fmt.Fprintf(w, "Parameters\t%s total, %s active\n", billions(b.ParamsTotal), billions(b.ParamsActive))
	fmt.Fprintf(w, "Precision\t%s (%s); KV cache %s\n", b.Precision.Name, b.Precision.Describe(), b.KVDType)
	gpuName := b.GPU.ID
	if gpuName == "" {
		gpuName = "GPU"
	}
	fmt.Fprintf(w, "GPUs\t%d × %s (TP %d, PP %d), %s CUDA memory each\n", b.GPUs, gpuName, b.TP, b.PP, b.GPU.CUDAMemory)
	fmt.Fprintf(w, "Engine\t%s@%s, utilization %.2f → %s usable\n", b.Assumptions.Engine, b.Assumptions.EngineVersion, b.Utilization, b.Requested)
	fmt.Fprintf(w, "Load\t%d × %d tokens\n", b.Concurrency, b.Context)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Per GPU\tGiB\n")
	fmt.Fprintf(w, "  weights\t%s\n", gib(b.Weights.PerGPU))
	if b.Activation > 0 {
		fmt.Fprintf(w, "  %s\t%s\n", b.ActivationLabel, gib(b.Activation))
	}
	if b.NonTorch > 0 {
		fmt.Fprintf(w, "  %s\t%s\n", b.OverheadLabel, gib(b.NonTorch))
	}
	if b.CUDAGraphs > 0 {
		where := "outside the utilization budget"
		if b.CUDAGraphsInBudget {
			where = "inside the budget"
		}
		fmt.Fprintf(w, "  CUDA graphs (%s)\t%s\n", where, gib(b.CUDAGraphs))
	}
	kvLabel := "KV pool"
	if b.KVRoom != b.KVPool {
		// The engine allocates the cache for the load up front rather than
		// filling memory with a pool (llama.cpp).
		kvLabel = "KV cache (allocated at start)"
	}
	fmt.Fprintf(w, "  %s\t%s\t%d blocks of %d tokens = %d tokens\n", kvLabel, gib(b.KVPool), b.Blocks, b.Layout.BlockSize, b.KVCacheTokens)
	fmt.Fprintf(w, "  KV for the load\t%s\n", gib(b.KVForRequest))
	fmt.Fprintf(w, "  total for the load\t%s\n", gib(b.TotalPerGPU))
	fmt.Fprintln(w)
	fmt.Fprintf(w, "KV per token\t%s whole model, %s per GPU\n", perToken(b.KVBytesPerToken), perToken(b.KVBytesPerTokenPerGPU))
	fmt.Fprintf(w, "Max concurrency\t%.2f sequences of %d tokens (%d whole)\n", b.MaxConcurrency, b.Context, b.MaxConcurrentSequences)
	fmt.Fprintf(w, "Longest context\t%d tokens at concurrency %d\n", b.MaxContext, b.Concurrency)
	verdict := "yes"
	if !b.Fits {
		verdict = "NO — " + strings.Join(b.Reasons, "; ")
	}
	if c := b.Compatibility; c != nil && c.OK() && c.Verdict != engine.Native {
		fmt.Fprintf(w, "Runs\t%s: %s\n", c.Verdict, strings.Join(c.Texts(), "; "))
	}
	fmt.Fprintf(w, "Fits\t%s\n", verdict)
	q := b.QuickRule
	fmt.Fprintf(w, "Rule of thumb\t%s params × %.3g B + 20%% = %.1f GB (%.2f GiB) for the whole model; exact weights %.2f GiB + KV and overhead\n",
		billions(q.Params), q.BytesPerParam, q.WithOverhead.GB(), q.WithOverhead.GiB(), b.Weights.Total.GiB())
	if len(b.Suggestions) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "To make it fit:")
		for i, s := range b.Suggestions {
			fmt.Fprintf(w, "  %d. %s\t%s\n", i+1, s.Change, s.Result)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Assumptions:")
	for _, n := range b.Assumptions.Notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
	return nil
}

func billions(n int64) string {
	return fmt.Sprintf("%.2fB", float64(n)/1e9)
}

func perToken(b units.BytesPerToken) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%.2f MiB", float64(b)/float64(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(b)/1024)
}

func runRuleOfThumbTable(a *app, f sizeFlags) error {
	rows, err := memory.RuleOfThumbTable(strings.Split(f.table, ","))
	if err != nil {
		return usageErr(err)
	}
	return render(a.Stdout, f.output, memory.QuickRuleTable{Rows: rows, Rule: memory.QuickRuleText}, func(w *tabwriter.Writer) error {
		fmt.Fprintln(w, "Rule of thumb: VRAM (GB) ≈ params (billions) × bytes per param, plus ~20% (GB = 10^9 bytes)")
		fmt.Fprint(w, "Model")
		for _, p := range memory.RuleOfThumbPrecisions {
			fmt.Fprintf(w, "\t%s\t%s +20%%", strings.ToUpper(p), strings.ToUpper(p))
		}
		fmt.Fprintln(w)
		for _, r := range rows {
			fmt.Fprint(w, r.Label)
			for _, c := range r.Cells {
				fmt.Fprintf(w, "\t%s GB\t%s GB", trimFloat(c.Weights.GB()), trimFloat(c.WithOverhead.GB()))
			}
			fmt.Fprintln(w)
		}
		return nil
	})
}

func trimFloat(x float64) string {
	s := fmt.Sprintf("%.2f", x)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func unitsPerToken(n int64) units.BytesPerToken { return units.BytesPerToken(n) }
