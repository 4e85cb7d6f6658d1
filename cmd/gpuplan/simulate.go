package main

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/gpuplan/gpuplan/perf"
)

// maxTraceFileBytes bounds a --trace file.
const maxTraceFileBytes = 256 << 20

func readTrace(path string) ([]perf.TraceRequest, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, usageErrf("--trace: %v", err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.Size() > maxTraceFileBytes {
		return nil, usageErrf("--trace %s is larger than %d MiB", path, maxTraceFileBytes>>20)
	}
	t, err := perf.ReadTrace(fh, path)
	if err != nil {
		return nil, usageErrf("--trace: %v", err)
	}
	return t, nil
}

func runSimulate(a *app, f perfFlags, req perf.Request, loads []perf.Workload, trace []perf.TraceRequest, notes []string) error {
	dep, err := perf.Prepare(req)
	switch {
	case errors.Is(err, perf.ErrDoesNotFit):
		return infeasibleErr(fmt.Errorf("%w; try more GPUs (--tp), a smaller --precision or shorter requests ('gpuplan size' explains the memory)", err))
	case errors.Is(err, perf.ErrInvalid):
		return usageErr(err)
	case err != nil:
		return err
	}
	cfg := perf.SimConfig{Requests: f.sim.requests, Seed: f.sim.seed, Arrival: f.sim.arrival.value, Lengths: f.sim.lengths.value,
		InputStddev: f.sim.inputStddev, OutputStdev: f.sim.outputStddev, ThinkTimeS: f.sim.thinkMS / 1e3, Trace: trace,
		SLO: perf.SLO{TTFTMS: f.sim.ttftSLO, TPOTMS: f.sim.tpotSLO, E2EMS: f.sim.e2eSLO}}
	out, err := perf.NewSimReport(req, dep, loads, cfg, notes)
	if err != nil {
		return usageErr(err)
	}
	return render(a.Stdout, f.format, out, func(w *tabwriter.Writer) error { return printSim(w, out) })
}

func printSim(w *tabwriter.Writer, o perf.SimReport) error {
	cal := "calibrated"
	if !o.Calibrated {
		cal = "UNCALIBRATED (wider band)"
	}
	fmt.Fprintf(w, "Model\t%s, %s weights\n", o.Model, o.Precision)
	fmt.Fprintf(w, "GPUs\t%d × %s (TP %d, PP %d), %s, %s\n", o.GPUs, o.GPU, o.TP, o.PP, o.Engine, cal)
	fmt.Fprintf(w, "Workload\t%d input + %d output tokens per request (means), cache rate %.2f\n", o.InputTokens, o.OutputTokens, o.CacheRate)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "LOAD\tREQUESTS\tTTFT ms mean p50 p90 p99\tTPOT ms mean p90 p99\tITL p99 ms\tE2E s mean p99\tREQ/S\tGOODPUT\tSUSTAINABLE REQ/S\tBATCH")
	for _, r := range o.Rows {
		load := r.Load
		switch r.Load {
		case perf.LoadRPS:
			load = fmt.Sprintf("%g rps %s", r.OfferedRPS, r.Arrival)
		case perf.LoadConcurrency:
			load = fmt.Sprintf("%d users", r.Concurrency)
		}
		if r.Saturated {
			fmt.Fprintf(w, "%s\t%d\tsaturated: arrivals outran service (sustainable %.2f requests/s)\t\t\t\t\t\t\t\n", load, r.Requests, r.SustainableRPS)
			continue
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f %.0f %.0f %.0f\t%.1f %.1f %.1f\t%.1f\t%.2f %.2f\t%.2f\t%.0f%%\t%.2f\t%.1f\n", load, r.Requests,
			r.TTFT.Mean, r.TTFT.P50, r.TTFT.P90, r.TTFT.P99, r.TPOT.Mean, r.TPOT.P90, r.TPOT.P99, r.ITL.P99, r.E2E.Mean/1e3, r.E2E.P99/1e3,
			r.RequestsPerS, r.GoodputFraction*100, r.SustainableRPS, r.MeanBatch)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Assumptions:")
	for _, n := range o.Notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
	if len(o.Rows) > 0 {
		fmt.Fprintf(w, "  - band: %s (latency bands [low, high] in -o json)\n", o.Rows[0].Band.Source)
	}
	return nil
}
