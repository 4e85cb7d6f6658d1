package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/atomicfile"
	"github.com/gpuplan/gpuplan/catalog"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/probe"
)

type probeFlags struct {
	name, out string
	bufferMiB int
	format    outputFormat
}

func newProbeCmd(a *app) *cobra.Command {
	var f probeFlags
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Measure this machine (memory bandwidth, matrix rate, CPU, cores, ISA) as a CPU target",
		Long: `Measure the machine gpuplan runs on for CPU inference: memory read bandwidth
(threads reading private buffers far larger than the cache), a matrix rate per
core, and the CPU model, physical cores, memory and ISA flags. --out writes a
catalog overlay with the machine under cpu_hosts; pass it as --catalog and
select the machine with --vm NAME in size, perf and plan.`,
		Example: `  gpuplan probe --name edge-box --out edge.json
  gpuplan perf qwen2.5-0.5b --catalog edge.json --vm edge-box --input-tokens 200 --output-tokens 100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runProbe(a, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "name the machine is selected by with --vm (default: the host name)")
	fl.StringVar(&f.out, "out", "", "write a catalog overlay `FILE` with the machine under cpu_hosts")
	fl.IntVar(&f.bufferMiB, "buffer-mib", 512, "bandwidth buffer in MiB (64-16384; far larger than the last-level cache)")
	addOutputFlag(cmd, &f.format)
	return cmd
}

func runProbe(a *app, f probeFlags) error {
	name := f.name
	if name == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "local"
		}
		name = h
	}
	if len(name) > 128 {
		return usageErrf("--name must be at most 128 characters")
	}
	host := probe.Run(name, probe.Options{BufferBytes: int64(f.bufferMiB) << 20}, a.Now())
	if err := host.Validate(); err != nil {
		return fmt.Errorf("probe measured implausible figures: %w", err)
	}
	if f.out != "" {
		doc := catalog.File{SchemaVersion: catalog.SchemaVersion}
		doc.CPUHosts = []hardware.CPUHost{host}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.Write(f.out, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.out, err)
		}
	}
	return render(a.Stdout, f.format, host, func(w *tabwriter.Writer) error {
		fmt.Fprintf(w, "name\t%s\n", host.Name)
		fmt.Fprintf(w, "cpu\t%s\n", host.CPUModel)
		fmt.Fprintf(w, "cores / threads\t%d / %d\n", host.Cores, host.Threads)
		fmt.Fprintf(w, "memory\t%.1f GiB\n", host.MemoryGiB)
		fmt.Fprintf(w, "isa\t%v\n", host.ISA)
		fmt.Fprintf(w, "read bandwidth\t%.1f GB/s (measured)\n", host.BandwidthGBPerS)
		fmt.Fprintf(w, "matrix rate\t%.2f GFLOP/s per core (measured, portable kernel)\n", host.MatrixGFLOPSPerCore)
		if f.out != "" {
			fmt.Fprintf(w, "overlay\t%s (use --catalog %s --vm %s)\n", f.out, f.out, host.Name)
		}
		return nil
	})
}
