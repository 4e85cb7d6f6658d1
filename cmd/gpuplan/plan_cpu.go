package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/gpuplan/gpuplan/plan"
)

// cpuRowsShown is how many CPU rows and why-not lines the table prints
// (JSON carries them all).
const cpuRowsShown = 5

// printCPUPlan prints the CPU VM offers beside the GPU rows and says
// which kind wins on $/hour and why, fitting width (0: every column).
func printCPUPlan(w io.Writer, out plan.Report, width int) error {
	c := out.CPU
	if c == nil {
		return nil
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, wrapLine(fmt.Sprintf("CPU VMs (%s):", c.Engine), width, 2))
	if len(c.Rows) > 0 {
		t := textTable{
			Header: []string{"RANK", "VM", "CORES", "GiB", "PREC", "NEEDS", "$/HOUR", "$/MONTH", "$/M OUT", "TTFT ms", "TPOT ms", "TOK/S", "GB/s"},
			// The hardware's own figures go first; money and the
			// latencies the SLOs judge stay.
			Drop: []int{12, 5, 3, 2, 11, 8, 6},
		}
		for i, r := range c.Rows {
			if i == cpuRowsShown {
				break
			}
			t.Rows = append(t.Rows, []string{fmt.Sprint(r.Rank), strings.TrimPrefix(r.VM, "Standard_"), fmt.Sprint(r.Cores), fmt.Sprintf("%.0f", r.MemoryGiB), r.Precision,
				fmt.Sprintf("%.2f", r.NeedGiB), money(r.USDPerHour), money(r.USDPerMonth), money(r.USDPerMOutput),
				fmt.Sprintf("%.0f", r.TTFTMs), fmt.Sprintf("%.1f", r.TPOTMs), fmt.Sprintf("%.0f", r.TokensPerS), fmt.Sprintf("%.0f", r.Bandwidth.GBPerS)})
		}
		if err := t.write(w, width); err != nil {
			return err
		}
		if len(c.Rows) > cpuRowsShown {
			fmt.Fprintf(w, "(%d more CPU rows in -o json)\n", len(c.Rows)-cpuRowsShown)
		}
	} else {
		fmt.Fprintln(w, "No CPU VM meets the request.")
	}
	if len(c.Closest) > 0 && len(c.Rows) == 0 {
		fmt.Fprintln(w, "Why not (closest CPU size per series):")
		t := textTable{}
		for i, r := range c.Closest {
			if i == 2*cpuRowsShown {
				break
			}
			t.Rows = append(t.Rows, []string{"  " + r.Series, strings.TrimPrefix(r.VM, "Standard_") + " " + r.Precision, r.WhyNot})
		}
		if width > 0 && lineWidth(columnWidths(make([]string, 3), t.Rows), []bool{true, true, true}) > width {
			// Too wide for aligned columns: one wrapped line each.
			for _, row := range t.Rows {
				fmt.Fprint(w, wrapLine(fmt.Sprintf("%s %s: %s", row[0], row[1], row[2]), width, 4))
			}
		} else if err := t.write(w, 0); err != nil {
			return err
		}
	}
	fmt.Fprint(w, wrapLine("(GiB: VM memory; NEEDS: llama.cpp's buffers, GiB; GB/s: memory bandwidth, measured or estimated: see -o json)", width, 1))
	fmt.Fprintln(w)
	vw := 110
	if width > 0 {
		vw = width
	}
	fmt.Fprintln(w, wrapText(cpuVerdict(out), vw, "  "))
	return nil
}

// cpuVerdict compares the cheapest GPU row and the cheapest CPU row.
func cpuVerdict(out plan.Report) string {
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

// saveCPURow is `plan --save FILE --pick-cpu RANK`: the CPU row as a
// plan.json that `deploy --plan` turns into the AKS CPU node pool and
// Ollama objects.
func (a *app) saveCPURow(f planFlags, req plan.Request, res plan.CPUResult) error {
	if f.pickCPU > len(res.Rows) {
		return usageErrf("--pick-cpu %d: the plan has %d CPU rows that meet the request", f.pickCPU, len(res.Rows))
	}
	c, err := plan.CPUCandidate(req, res.Rows[f.pickCPU-1])
	if err != nil {
		return err
	}
	c.GPUPlanVersion = version
	if err := plan.Save(f.save, c); err != nil {
		return err
	}
	fmt.Fprintf(a.Stderr, "Saved CPU rank %d (%s, %s, %d slots of %d tokens) to %s\n", f.pickCPU, c.VM, c.Engine.Precision, c.Engine.MaxNumSeqs, c.Engine.MaxModelLen, f.save)
	return nil
}
