package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/atomicfile"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/units"
)

type perfFlags struct {
	model             modelFlags
	eng               engineFlags
	hw                hardwareFlags
	load              workloadFlags
	concurrency, rps  string
	tp, pp            int
	utilization       float64
	calibration, plot string
	loadFrom          enumFlag
	loadThroughput    string
	format            outputFormat
	big               bigFlags
	sim               simFlags
}

// simFlags configure `perf --simulate`.
type simFlags struct {
	on                                 bool
	requests                           int
	seed                               uint64
	arrival, lengths                   enumFlag
	trace                              string
	inputStddev, outputStddev, thinkMS float64
	ttftSLO, tpotSLO, e2eSLO           float64
}

// perfNeedsShape is perf's error when a request length is missing.
const perfNeedsShape = "perf needs --input-tokens and --output-tokens (the request shape decides the speed)"

// defaultConcurrency is what perf sweeps when neither --concurrency nor
// --rps is given; the example sweep.
const defaultConcurrency = "1,8,32,128,max"

// maxLoads bounds a sweep.
const maxLoads = 64

func newPerfCmd(a *app) *cobra.Command {
	var f perfFlags
	cmd := &cobra.Command{
		Use:   "perf MODEL",
		Short: "Predict TTFT, TPOT, throughput and the bottleneck, with an error band",
		Long: `Predict how fast MODEL serves on the given GPUs: time to first token, time per
output token, inter-token and end-to-end latency (mean, p50 and tails), output
tokens/s for the whole deployment and per user, requests/s, the concurrency the
KV pool allows and what limits it. The model is a roofline of one engine
iteration calibrated on published TensorRT-LLM and vLLM measurements; every
number has a band, and engines or GPUs without measurements say "uncalibrated"
(docs/perf.md, docs/accuracy.md).

--concurrency is a closed loop (users that send the next request when the last
one completes) and accepts "max", the offline maximum-throughput case that
fills the KV pool; --rps is an open loop (Poisson arrivals). --simulate plays
the load out request by request (queues, bursts, length spread, traces) with
the same calibrated step model and reports tails, goodput and the sustainable
rate.`,
		Example: `  gpuplan perf llama-3.1-70b --gpu h100-sxm --tp 2 --input-tokens 1000 --output-tokens 200 --concurrency 1,8,32,128,max
  gpuplan perf llama-3.1-8b --gpu h100-sxm --precision fp8 --kv-dtype fp8 --engine trtllm --input-tokens 2048 --output-tokens 128 --concurrency max -o json
  gpuplan perf qwen3-30b-a3b --gpu a100-80gb-sxm --input-tokens 500 --output-tokens 300 --rps 1,2,4 --plot qwen.svg
  gpuplan perf llama-3.1-8b --gpu h100-sxm --input-tokens 1000 --output-tokens 200 --rps 5,10 --simulate --arrival burst --length-distribution lognormal --input-tokens-stddev 400 --output-tokens-stddev 100 --cache-rate 0.3`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrf("perf needs exactly one MODEL; see 'gpuplan models'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			host, gvm, err := resolveCPUTarget(a, f.hw.cpuFlags, f.hw.gpu.value)
			if err != nil {
				return err
			}
			if host != nil {
				return runPerfCPU(cmd, a, args[0], f, host)
			}
			if gvm != nil {
				f.hw.gpu.value = gvm.GPU
				if _, ok := hardware.LookupFabric(gvm.Name); ok {
					f.big.vm = gvm.Name
				}
				if f.tp == 1 && gvm.GPUCount > 1 {
					f.tp = gvm.GPUCount
				}
			}
			return runPerf(cmd, a, args[0], f)
		},
	}
	fl := cmd.Flags()
	f.hw.register(fl)
	fl.IntVar(&f.tp, "tp", 1, "tensor-parallel size")
	fl.IntVar(&f.pp, "pp", 1, "pipeline-parallel size")
	f.model.register(fl, checkpointModelHelp)
	f.eng.register(fl, schedHelp)
	f.load.register(fl, requiredShapeHelp)
	fl.Float64Var(&f.utilization, "gpu-memory-utilization", 0, "engine memory fraction (vLLM utilization, TensorRT-LLM KV free fraction, SGLang static fraction; default: the engine's)")
	fl.StringVar(&f.concurrency, "concurrency", "", "closed-loop concurrency levels, comma-separated; \"max\" fills the KV pool (default "+defaultConcurrency+")")
	fl.StringVar(&f.rps, "rps", "", "open-loop request rates per second, comma-separated")
	fl.StringVar(&f.calibration, "calibration", "", "calibration FILE whose points and factors override the built-in ones (docs/calibration.md)")
	fl.StringVar(&f.plot, "plot", "", "write an SVG of tokens/s and time per output token against concurrency to FILE")
	addEnumFlag(fl, &f.loadFrom, loadSourceEnum, "load-from", "", "estimate the cold start reading weights from: nvme, blob, hf")
	fl.StringVar(&f.loadThroughput, "load-throughput", "", "weight-source throughput per second, e.g. 2GB or 800MB (overrides --load-from's stated figure)")
	// --vm comes from the CPU flags (any VM size); a GPU size with stated
	// links also sets the fabric (bigFlags.vm).
	addMoEFlags(fl, &f.big)
	addSpecFlags(fl, &f.big)
	fl.BoolVar(&f.sim.on, "simulate", false, "simulate requests one by one (continuous batching, queues, tails) instead of the steady-state model")
	fl.IntVar(&f.sim.requests, "requests", perf.DefaultSimRequests, "--simulate: requests per load level")
	fl.Uint64Var(&f.sim.seed, "seed", 1, "--simulate: random seed (the same inputs and seed give the same answer)")
	addEnumFlag(fl, &f.sim.arrival, arrivalEnum, "arrival", perf.ArrivalPoisson, "--simulate with --rps: arrival process: poisson, constant, burst")
	addEnumFlag(fl, &f.sim.lengths, lengthsEnum, "length-distribution", perf.LengthFixed, "--simulate: request lengths: fixed, normal, lognormal, uniform (means --input-tokens/--output-tokens)")
	fl.Float64Var(&f.sim.inputStddev, "input-tokens-stddev", 0, "--simulate: standard deviation of the prompt length")
	fl.Float64Var(&f.sim.outputStddev, "output-tokens-stddev", 0, "--simulate: standard deviation of the output length")
	fl.StringVar(&f.sim.trace, "trace", "", "--simulate: replay a JSON Lines trace FILE ({\"arrival_s\", \"input_tokens\", \"output_tokens\", \"cached_tokens\"} per line)")
	fl.Float64Var(&f.sim.thinkMS, "think-time-ms", 0, "--simulate with --concurrency: mean think time between a user's response and next request")
	fl.Float64Var(&f.sim.ttftSLO, "ttft-slo-ms", 0, "--simulate: TTFT limit for goodput")
	fl.Float64Var(&f.sim.tpotSLO, "tpot-slo-ms", 0, "--simulate: TPOT limit for goodput")
	fl.Float64Var(&f.sim.e2eSLO, "e2e-slo-ms", 0, "--simulate: end-to-end latency limit for goodput")
	addOutputFlag(cmd, &f.format)
	return cmd
}

// parseLoads turns --concurrency / --rps into workloads.
func parseLoads(conc, rps string) ([]perf.Workload, error) {
	if conc != "" && rps != "" {
		return nil, usageErrf("give --concurrency or --rps, not both (run twice to compare)")
	}
	if conc == "" && rps == "" {
		conc = defaultConcurrency
	}
	var out []perf.Workload
	if conc != "" {
		for _, s := range strings.Split(conc, ",") {
			s = strings.TrimSpace(s)
			if strings.EqualFold(s, "max") {
				out = append(out, perf.Workload{Max: true})
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return nil, usageErrf("--concurrency %q: want positive whole numbers or max, comma-separated", s)
			}
			out = append(out, perf.Workload{Concurrency: n})
		}
	}
	if rps != "" {
		for _, s := range strings.Split(rps, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || !(v > 0) || v > 1e9 {
				return nil, usageErrf("--rps %q: want positive request rates, comma-separated", s)
			}
			out = append(out, perf.Workload{RPS: v})
		}
	}
	if len(out) > maxLoads {
		return nil, usageErrf("%d load levels is too many (at most %d)", len(out), maxLoads)
	}
	return out, nil
}

func runPerf(cmd *cobra.Command, a *app, ref string, f perfFlags) error {
	var trace []perf.TraceRequest
	if f.sim.trace != "" {
		if !f.sim.on {
			return usageErrf("--trace needs --simulate")
		}
		t, err := readTrace(f.sim.trace)
		if err != nil {
			return err
		}
		trace = t
		// The trace sets the lengths; the deployment is sized for its
		// mean request.
		var in, out int
		for _, r := range t {
			in += r.InputTokens
			out += r.OutputTokens
		}
		if f.load.input <= 0 {
			f.load.input = max(1, in/len(t))
		}
		if f.load.output <= 0 {
			f.load.output = max(1, out/len(t))
		}
		if f.concurrency == "" && f.rps == "" {
			f.rps = "1" // unused: the trace's arrivals drive the run
		}
	}
	shape, err := f.load.resolve(perfNeedsShape, loadElsewhere)
	if err != nil {
		return err
	}
	loads, err := parseLoads(f.concurrency, f.rps)
	if err != nil {
		return err
	}
	spec, err := a.resolveModel(cmd.Context(), ref)
	if err != nil {
		return err
	}
	_, hc, err := a.loadCatalogs()
	if err != nil {
		return err
	}
	g, err := f.hw.resolve(hc, "predicted", false)
	if err != nil {
		return err
	}
	chip, notes := *g.Chip, g.Notes
	sf, err := f.model.resolve()
	if err != nil {
		return err
	}
	req := perf.Request{Model: spec, GPU: chip, TP: f.tp, PP: f.pp, Utilization: f.utilization,
		Precision: sf.Precision, KVDType: sf.KVDType,
		MaxNumSeqs: f.eng.maxNumSeqs, MaxNumBatchedTokens: f.eng.maxNumBatchedTokens,
		Workload: shape}
	if req.Engine, err = f.eng.resolve(); err != nil {
		return err
	}
	if err := f.big.applyPerf(cmd.Context(), a.resolveModel, &req); err != nil {
		return err
	}
	if f.calibration != "" {
		if req.Calibration, err = perf.LoadCalibrationFile(f.calibration); err != nil {
			return usageErr(err)
		}
	}
	if f.sim.on {
		return runSimulate(a, f, req, loads, trace, notes)
	}
	rows, err := perf.PredictLoads(req, loads)
	switch {
	case errors.Is(err, perf.ErrDoesNotFit):
		return infeasibleErr(fmt.Errorf("%w; try more GPUs (--tp), a smaller --precision or shorter requests ('gpuplan size' explains the memory)", err))
	case errors.Is(err, perf.ErrIncompatible):
		return infeasibleErr(err)
	case errors.Is(err, perf.ErrInvalid):
		return usageErr(err)
	case err != nil:
		return err
	}
	out, err := perf.NewReport(req, rows, notes)
	if err != nil {
		return err
	}
	first := rows[0]
	if f.loadFrom.value != "" || f.loadThroughput != "" {
		// A remote source is read over the VM's network: the VM named
		// with --vm (or chosen for a multi-VM replica) caps it.
		var vm hardware.VMSize
		if name := cmp.Or(f.big.vm, out.VM); name != "" {
			if v, err := hc.LookupVM(name); err == nil {
				vm = v
			}
		}
		cs, err := coldStart(f, first, vm)
		if err != nil {
			return err
		}
		out.ColdStart = &cs
	}
	if f.plot != "" {
		var buf bytes.Buffer
		title := fmt.Sprintf("%s, %s on %d × %s (TP %d, PP %d), %s, %d in / %d out", spec.ID, out.Precision, out.GPUs, chip.ID, out.TP, out.PP, out.Engine, f.load.input, f.load.output)
		if err := perf.WriteSVG(&buf, title, rows); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
		if err := atomicfile.Write(f.plot, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return render(a.Stdout, f.format, out, func(w *tabwriter.Writer) error { return printPerf(w, out) })
}

func coldStart(f perfFlags, e perf.Estimate, vm hardware.VMSize) (perf.ColdStartEstimate, error) {
	src := perf.LoadSource{Name: "custom", Description: "the weight source you gave", Basis: "--load-throughput"}
	if f.loadFrom.value != "" {
		s, err := perf.LookupLoadSource(f.loadFrom.value)
		if err != nil {
			return perf.ColdStartEstimate{}, usageErr(err)
		}
		src = s
	}
	if f.loadThroughput != "" {
		b, err := units.ParseBytes(f.loadThroughput)
		if err != nil || b <= 0 {
			return perf.ColdStartEstimate{}, usageErrf("--load-throughput %q: want bytes per second with a unit, e.g. 2GB or 800MB", f.loadThroughput)
		}
		src.BytesPerS = float64(b)
		src.Basis = "--load-throughput (given)"
	}
	if f.loadThroughput == "" {
		src = src.CappedByNetwork(vm.Name, vm.NetworkBitsPerS)
	}
	// Every GPU of the replica reads its own shard: the replica reads the
	// whole model once.
	return perf.ColdStart(e.WeightsPerGPU*units.Bytes(e.GPUs), src)
}

func printPerf(w *tabwriter.Writer, o perf.Report) error {
	cal := "calibrated"
	if !o.Calibrated {
		cal = "UNCALIBRATED (wider band)"
	}
	first := o.Rows[0]
	fmt.Fprintf(w, "Model\t%s, %s weights, %s KV cache\n", o.Model, o.Precision, o.KVDType)
	fmt.Fprintf(w, "GPUs\t%d × %s (TP %d, PP %d), %s, %s\n", o.GPUs, o.GPU, o.TP, o.PP, o.Engine, cal)
	fmt.Fprintf(w, "Workload\t%d input + %d output tokens per request\n", o.InputTokens, o.OutputTokens)
	fmt.Fprintf(w, "KV pool\t%.2f GiB per GPU: %s of %d tokens at once; max %.2f requests/s\n",
		first.KVPoolGPU.GiB(), plural(int64(first.MaxConcurrency), "sequence", "sequences"), o.InputTokens+o.OutputTokens, first.MaxRPS)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "LOAD\tCONC\tTTFT ms mean (p99)\tTPOT ms [band]\tITL p99 ms\tE2E s\tOUTPUT TOK/S [band]\tPER USER\tREQ/S\tBOTTLENECK")
	for _, e := range o.Rows {
		load := e.Load
		switch e.Load {
		case perf.LoadRPS:
			load = fmt.Sprintf("%g rps", e.OfferedRPS)
		case perf.LoadConcurrency:
			load = "users"
		}
		if e.Saturated {
			fmt.Fprintf(w, "%s\t-\tsaturated: more than the %.2f requests/s it can serve\t\t\t\t\t\t\t%s\n", load, e.MaxRPS, e.Bottleneck)
			continue
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f (%.0f)\t%.1f [%.1f–%.1f]\t%.1f\t%.2f\t%.0f [%.0f–%.0f]\t%.1f\t%.2f\t%s\n",
			load, e.Concurrency, e.TTFT.Mean, e.TTFT.P99, e.TPOT.Mean, e.TPOT.Low, e.TPOT.High, e.ITL.P99, e.E2E.Mean/1e3,
			e.OutputTokensPerS, e.OutputTokensPerSLow, e.OutputTokensPerSHigh, e.PerUserTokensPerS, e.RequestsPerS, e.Bottleneck)
	}
	if o.ColdStart != nil {
		cs := o.ColdStart
		fmt.Fprintf(w, "\nCold start\t%.1f GB from %s at %.3g GB/s: %.0f s (weights transfer only; engine start-up comes on top)\n",
			cs.Bytes.GB(), cs.Source.Description, cs.Source.BytesPerS/1e9, cs.Seconds)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Assumptions:")
	for _, n := range o.Notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
	for _, n := range first.Assumptions {
		if strings.HasPrefix(n, "max:") || strings.HasPrefix(n, "open loop") || strings.HasPrefix(n, "closed loop") {
			continue
		}
		fmt.Fprintf(w, "  - %s\n", n)
	}
	seen := map[string]bool{}
	for _, e := range o.Rows {
		for _, n := range e.Assumptions {
			if (strings.HasPrefix(n, "max:") || strings.HasPrefix(n, "open loop") || strings.HasPrefix(n, "closed loop")) && !seen[n] {
				seen[n] = true
				fmt.Fprintf(w, "  - %s\n", n)
			}
		}
	}
	return nil
}
