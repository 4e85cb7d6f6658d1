package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/gpuplan/gpuplan/plan"
)

// cpuRowsShown is how many CPU rows and why-not lines the table prints
// (JSON carries them all).
const cpuRowsShown = 5

// printCPUPlan prints the CPU VM offers beside the GPU rows and says
// which kind wins on $/hour and why.
func printCPUPlan(w *tabwriter.Writer, out planOutput) {
	c := out.CPU
	if c == nil {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "CPU VMs (%s):\n", c.Engine)
	if len(c.Rows) > 0 {
		fmt.Fprintln(w, "RANK\tVM\tCORES\tGiB\tPREC\tNEEDS\t$/HOUR\t$/MONTH\t$/M OUT\tTTFT ms\tTPOT ms\tTOK/S\tGB/s")
		for i, r := range c.Rows {
			if i == cpuRowsShown {
				break
			}
			fmt.Fprintf(w, "%d\t%s\t%d\t%.0f\t%s\t%.2f\t%s\t%s\t%s\t%.0f\t%.1f\t%.0f\t%.0f\n", r.Rank, strings.TrimPrefix(r.VM, "Standard_"), r.Cores, r.MemoryGiB, r.Precision, r.NeedGiB,
				money(r.USDPerHour), money(r.USDPerMonth), money(r.USDPerMOutput), r.TTFTMs, r.TPOTMs, r.TokensPerS, r.Bandwidth.GBPerS)
		}
		if len(c.Rows) > cpuRowsShown {
			fmt.Fprintf(w, "(%d more CPU rows in -o json)\n", len(c.Rows)-cpuRowsShown)
		}
	} else {
		fmt.Fprintln(w, "No CPU VM meets the request.")
	}
	if len(c.Closest) > 0 && len(c.Rows) == 0 {
		fmt.Fprintln(w, "Why not (closest CPU size per series):")
		for i, r := range c.Closest {
			if i == 2*cpuRowsShown {
				break
			}
			fmt.Fprintf(w, "  %s\t%s %s\t%s\n", r.Series, strings.TrimPrefix(r.VM, "Standard_"), r.Precision, r.WhyNot)
		}
	}
	fmt.Fprintln(w, "(GiB: VM memory; NEEDS: llama.cpp's buffers, GiB; GB/s: memory bandwidth, measured or estimated: see -o json)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, wrapText(cpuVerdict(out), 110, "  "))
}

// cpuVerdict compares the cheapest GPU row and the cheapest CPU row.
func cpuVerdict(out planOutput) string {
	c := out.CPU
	var gpu *plan.Row
	if len(out.Rows) > 0 && out.Rows[0].Candidate.Prices.USDPerHour != nil {
		gpu = &out.Rows[0]
	}
	var cpu *plan.CPURow
	if c != nil && len(c.Rows) > 0 && c.Rows[0].USDPerHour != nil {
		cpu = &c.Rows[0]
	}
	switch {
	case gpu == nil && cpu == nil:
		return "Neither a GPU nor a CPU VM meets the request at a known price."
	case gpu == nil:
		return fmt.Sprintf("CPU wins: %s at %s/hour meets the request and no GPU offer does.", cpu.VM, money(cpu.USDPerHour))
	case cpu == nil:
		return fmt.Sprintf("GPU wins: no CPU VM meets the request (see why not); the cheapest GPU offer is %s at %s/hour.", gpu.Candidate.VM, money(gpu.Candidate.Prices.USDPerHour))
	}
	g, p := *gpu.Candidate.Prices.USDPerHour*float64(max(1, gpu.Candidate.VMCount)), *cpu.USDPerHour
	if p <= g {
		return fmt.Sprintf("CPU wins: %s (%s, %d cores) at %s/hour meets the SLOs for %.1f× less than the cheapest GPU offer, %s at %s/hour; "+
			"the GPU is %.0f× faster per token (TPOT %.1f vs %.1f ms) but this load does not need that speed.",
			cpu.VM, cpu.Precision, cpu.Cores, money(&p), g/p, gpu.Candidate.VM, money(&g), cpu.TPOTMs/max(gpu.Candidate.Predictions.TPOTMs.Mean, 1e-9), gpu.Candidate.Predictions.TPOTMs.Mean, cpu.TPOTMs)
	}
	return fmt.Sprintf("GPU wins: %s at %s/hour costs less than the cheapest CPU VM that meets the SLOs, %s at %s/hour; a CPU reads every weight per decode step at a fraction of a GPU's memory bandwidth, so it needs a large VM to keep up.",
		gpu.Candidate.VM, money(&g), cpu.VM, money(&p))
}
