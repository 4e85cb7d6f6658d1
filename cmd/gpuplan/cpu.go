package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/catalog"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/perf"
)

// cpuFlags are the CPU-target flags `size` and `perf` share: --vm names
// any Azure VM size (GPU or CPU), --cpu a CPU chip with --cores.
type cpuFlags struct {
	vm    enumFlag
	cpu   string
	cores int
}

func (f *cpuFlags) register(fl *pflag.FlagSet) {
	addEnumFlag(fl, &f.vm, vmEnum, "vm", "", "Azure VM size, GPU or CPU (e.g. Standard_D8as_v7); a CPU size runs llama.cpp on its cores")
	fl.StringVar(&f.cpu, "cpu", "", "CPU chip id for llama.cpp on a CPU (see docs/cli.md; with --cores)")
	fl.IntVar(&f.cores, "cores", 0, "physical cores for --cpu (1-1024)")
}

// resolveCPUTarget turns --vm/--cpu into a CPU host. gpuVM is the GPU VM
// when --vm names one (the caller sizes for its GPU instead).
func resolveCPUTarget(a *app, f cpuFlags, gpuFlag string) (host *perf.CPUHost, gpuVM *hardware.VMSize, err error) {
	if f.vm.value != "" && f.cpu != "" {
		return nil, nil, usageErrf("give --vm or --cpu, not both")
	}
	if f.cpu != "" && gpuFlag != "" {
		return nil, nil, usageErrf("--gpu is for GPUs; give it without --cpu")
	}
	if f.cpu == "" && f.cores != 0 {
		return nil, nil, usageErrf("--cores goes with --cpu")
	}
	cc := hardware.DefaultCPUs()
	switch {
	case f.vm.value != "":
		if v, ok := cc.LookupVM(f.vm.value); ok {
			if gpuFlag != "" {
				return nil, nil, usageErrf("--vm %s is a CPU size; give it without --gpu", v.Name)
			}
			cpu, _ := cc.LookupCPU(v.CPU)
			sp, _ := perf.LookupCPUSpeed(v.CPU)
			return &perf.CPUHost{Name: v.Name, CPU: cpu, Cores: v.Cores(), MemoryGiB: v.MemoryGiB, Bandwidth: cc.VMBandwidth(v), Speed: sp}, nil, nil
		}
		if h, ok, err := a.probedHost(f.vm.value); err != nil || ok {
			return h, nil, err
		}
		_, hc, err := a.loadCatalogs()
		if err != nil {
			return nil, nil, err
		}
		g, err := hc.LookupVM(f.vm.value)
		if err != nil {
			return nil, nil, usageErrf("--vm %q is neither an Azure CPU size in the catalog nor a GPU size: %v%s", f.vm.value, err, f.vm.missing(err.Error()))
		}
		// --gpu with a GPU size must name the chip it carries.
		if gpuFlag != "" {
			want, err := hc.LookupGPU(gpuFlag)
			if err == nil && want.ID != g.GPU {
				return nil, nil, usageErrf("--vm %s carries %s GPUs, not --gpu %s", g.Name, g.GPU, gpuFlag)
			}
		}
		return nil, &g, nil
	case f.cpu != "":
		cpu, err := cc.LookupCPU(f.cpu)
		if err != nil {
			return nil, nil, usageErrf("--cpu: %v", err)
		}
		if f.cores < 1 || f.cores > 1024 {
			return nil, nil, usageErrf("--cores must be in [1, 1024] with --cpu, got %d", f.cores)
		}
		sp, _ := perf.LookupCPUSpeed(cpu.ID)
		bw := cc.VMBandwidth(hardware.CPUVM{Name: cpu.ID, CPU: cpu.ID, VCPU: f.cores, ThreadsPerCore: 1})
		return &perf.CPUHost{Name: fmt.Sprintf("%s × %d cores", cpu.ID, f.cores), CPU: cpu, Cores: f.cores, Bandwidth: bw, Speed: sp}, nil, nil
	}
	return nil, nil, nil
}

func runPerfCPU(cmd *cobra.Command, a *app, ref string, f perfFlags, host *perf.CPUHost) error {
	if _, err := f.load.resolve(perfNeedsShape, loadElsewhere); err != nil {
		return err
	}
	if f.rps != "" {
		return usageErrf("--rps is not modelled for CPU targets yet; give --concurrency")
	}
	loads, err := parseLoads(f.concurrency, "")
	if err != nil {
		return err
	}
	spec, err := a.resolveModel(cmd.Context(), ref)
	if err != nil {
		return err
	}
	prec, err := cpuPrecision(spec, f.model.precision.value)
	if err != nil {
		return err
	}
	r := perf.CPUReportRequest{Model: spec, Precision: prec, Host: *host, InputTokens: f.load.input, OutputTokens: f.load.output}
	for _, l := range loads {
		if l.Max {
			return usageErrf("--concurrency max is not modelled for CPU targets; give numbers")
		}
		r.Concurrency = append(r.Concurrency, l.Concurrency)
	}
	if f.calibration != "" {
		if r.Calibration, err = perf.LoadCalibrationFile(f.calibration); err != nil {
			return usageErr(err)
		}
		r.CalibrationName = f.calibration
	}
	out, err := perf.NewCPUReport(r)
	if errors.Is(err, perf.ErrInvalid) {
		return usageErr(err)
	} else if err != nil {
		return err
	}
	err = render(a.Stdout, f.format, out, func(tw *tabwriter.Writer) error {
		fmt.Fprintf(tw, "llama.cpp on %s (%s, %d cores, %.1f GB/s %s)\n", host.Name, host.CPU.Name, host.Cores, host.Bandwidth.GBPerS, host.Bandwidth.Kind)
		fmt.Fprintf(tw, "model %s at %s: %.2f GB weights, %.2f B params\n\n", spec.ID, prec.Name, float64(out.WeightBytes)/1e9, float64(out.Params)/1e9)
		fmt.Fprintln(tw, "concurrency\tTTFT s\tTPOT ms\ttok/s per request\ttok/s total\tprompt tok/s\tbottleneck")
		for _, r := range out.Rows {
			fmt.Fprintf(tw, "%d\t%.2f\t%.1f\t%.1f\t%.1f\t%.0f\t%s\n", r.Concurrency, r.TTFTSeconds, 1000*r.DecodeStepSeconds, r.DecodeTokensPerS, r.AggregateTokensPerS, r.PrefillTokensPerS, r.Bottleneck)
		}
		for _, n := range append(out.Notes, out.Assumptions...) {
			fmt.Fprintf(tw, "  - %s\n", n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !out.Fits {
		return infeasibleErr(errors.New(strings.Join(out.Notes, "; ")))
	}
	return nil
}

// cpuPrecision is --precision for a CPU target: a GGUF file's own type,
// else the user's, else q8_0 (llama.cpp serves checkpoints as GGUF; fp16
// and bf16 also work).
func cpuPrecision(s *model.Spec, name string) (dtype.Precision, error) {
	if name == "" {
		name = "q8_0"
		if s.Quant != nil {
			if p, ok := memory.CheckpointPrecision(s.Quant); ok && p.GGUF {
				return p, nil
			}
		}
	}
	p, err := dtype.LookupPrecision(name)
	if err != nil {
		return p, usageErr(err)
	}
	return p, nil
}

// probedHost finds --vm NAME among the --catalog overlay's cpu_hosts
// (written by `gpuplan probe`). Its rates are the probe's: the measured
// bandwidth in full, and the portable matrix rate for decode arithmetic and
// prefill; both are estimates until a calibration (bench
// --write-calibration, perf --calibration) corrects them.
func (a *app) probedHost(name string) (*perf.CPUHost, bool, error) {
	if a.catalogFile == "" {
		return nil, false, nil
	}
	if _, err := a.loadAll(); err != nil {
		return nil, false, err
	}
	f, err := catalog.Load(a.catalogFile)
	if err != nil {
		return nil, false, usageErr(err)
	}
	for _, h := range f.CPUHosts {
		if !strings.EqualFold(h.Name, name) {
			continue
		}
		cpu := hardware.CPU{ID: h.Name, Name: h.CPUModel, ISA: h.ISA, Source: h.Source, AsOf: h.Measured}
		// The probe's portable matrix rate stands for the dot-product rate
		// of a portable llama.cpp build (Ollama from go install): on this
		// repository's CI host its quantized decode is compute-bound
		// (docs/accuracy.md, "CPU speed on this machine"). A vectorised
		// build decodes faster: bench --write-calibration corrects it.
		sp := perf.CPUSpeed{CPU: h.Name, BandwidthEfficiency: 1, DecodeGFLOPSPerCore: h.MatrixGFLOPSPerCore, PrefillGFLOPSPerCore: h.MatrixGFLOPSPerCore,
			Basis: "gpuplan probe " + h.Measured.String() + ": measured portable matrix rate for decode arithmetic and prefill, full measured bandwidth (estimate for a portable llama.cpp build)"}
		bw := hardware.Bandwidth{GBPerS: h.BandwidthGBPerS, Kind: "measured", Basis: h.Source}
		return &perf.CPUHost{Name: h.Name, CPU: cpu, Cores: h.Cores, MemoryGiB: h.MemoryGiB, Bandwidth: bw, Speed: sp}, true, nil
	}
	return nil, false, nil
}
