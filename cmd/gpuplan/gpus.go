package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
)

// defaultPriceRegion is the region `gpus` prices VM sizes in when --region
// is not given: East US is where every embedded PAYG price was captured.
const defaultPriceRegion = "eastus"

func newGPUsCmd(a *app) *cobra.Command {
	var (
		output outputFormat
		vendor string
		region enumFlag
	)
	cmd := &cobra.Command{
		Use:   "gpus [ID]",
		Short: "List GPU chips and Azure VM sizes with $/hour, or show one chip in full",
		Long: `List the GPU chips and Azure GPU VM sizes gpuplan knows, with memory (datasheet
and CUDA-visible), bandwidth, dense TFLOPS, interconnect, AKS/KAITO/Container Apps
support and the Linux pay-as-you-go price per hour and per GPU-hour in --region.
With ID (a canonical chip id or unambiguous alias), show that chip in full:
every figure's source, which precisions run natively, measured achievable
rates, and the VM sizes and Container Apps profiles that carry it.

Prices come from the embedded snapshot, the cache written by
'gpuplan prices refresh', and --catalog, in that order of precedence (last wins).
Unknown values print as "unknown" (null in JSON); supply them with --catalog.`,
		Example: `  gpuplan gpus
  gpuplan gpus --vendor amd
  gpuplan gpus --region westus3 -o json
  gpuplan gpus h100-nvl`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, hc, err := a.loadCatalogs()
			if err != nil {
				return err
			}
			if vendor != "" && vendor != string(hardware.VendorNVIDIA) && vendor != string(hardware.VendorAMD) {
				return usageErrf("--vendor %q: use nvidia or amd", vendor)
			}
			book, _ := a.priceBook(hc, "USD")
			reg, err := resolveRegion(&region, defaultPriceRegion, hc, book)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				g, err := hc.LookupGPU(args[0])
				if err != nil {
					// A VM size names its GPU: show that GPU with the
					// size's own row (gpus Standard_ND96isr_H100_v5).
					v, verr := hc.LookupVM(args[0])
					if verr != nil {
						return usageErrf("%v; a VM size such as Standard_ND96isr_H100_v5 also works", err)
					}
					if g, err = hc.LookupGPU(v.GPU); err != nil {
						return err
					}
					return a.printGPU(output, hc, book, g, reg, v.Name)
				}
				return a.printGPU(output, hc, book, g, reg, "")
			}
			out := hardware.NewGPUsReport(hc, book, reg, vendor)
			width := a.tableWidth(a.Stdout)
			return render(a.Stdout, output, out, func(w *tabwriter.Writer) error {
				writeGPUTable(w, out.GPUs, width)
				fmt.Fprintln(w)
				writeVMTable(w, out.VMSizes, reg, width)
				fmt.Fprintln(w)
				fmt.Fprint(w, wrapLine(fmt.Sprintf("%d chips, %d VM sizes. CUDA GiB marked * is an estimate (see `gpuplan gpus ID`). TFLOPS are dense (no sparsity).", len(out.GPUs), len(out.VMSizes)), width, 0))
				fmt.Fprint(w, wrapLine(fmt.Sprintf("Prices: Linux pay-as-you-go in %s, USD; oldest price as of %s. `gpuplan prices` lists every known price with its source.", reg, hwOrUnknown(out.PricesAsOf)), width, 0))
				return nil
			})
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().StringVar(&vendor, "vendor", "", "only chips of this vendor: nvidia or amd")
	addEnumFlag(cmd.Flags(), &region, regionEnum, "region", "", "Azure region for prices (ARM name such as eastus, or \"East US\"; default eastus)")
	return cmd
}

// printGPU shows a chip and the VM sizes carrying it (only onlyVM, when
// set).
func (a *app) printGPU(output outputFormat, hc *hardware.Catalog, book hardware.PriceBook, g hardware.GPU, reg, onlyVM string) error {
	var support []hardware.GPUSupportRow
	for _, p := range dtype.Precisions() {
		// Kernel support is the default engine's (vLLM's table); plan and
		// perf judge the engine actually chosen.
		s := engine.Default().Info().Support(p, engine.OnGPU(g))
		support = append(support, hardware.GPUSupportRow{Precision: p.Name, Level: string(s.Level), Compute: string(s.Compute), Reason: s.Reason})
	}
	out := hardware.NewGPUDetailReport(hc, book, g, reg, onlyVM, support)
	row := out.GPU
	return render(a.Stdout, output, out, func(w *tabwriter.Writer) error {
		writeGPUDetail(w, hc, g, row)
		if len(out.VMSizes) > 0 {
			fmt.Fprintln(w)
			writeVMTable(w, out.VMSizes, reg, a.tableWidth(a.Stdout))
		} else {
			fmt.Fprintf(w, "\nNo Azure VM size in the catalog carries the %s.\n", g.Name)
		}
		if len(out.ContainerAppsProfiles) > 0 {
			fmt.Fprintln(w, "\nCONTAINER APPS PROFILE\tKIND\tGPUS\tvCPU\tRAM GiB\tREGIONS")
			for _, p := range out.ContainerAppsProfiles {
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\n", p.Type, p.Kind, p.GPUs, p.VCPU, hwGiB(int64(p.RAM)), strings.Join(p.Regions, ", "))
			}
		}
		writeSourceKeys(w, hc, g)
		return nil
	})
}

func writeGPUDetail(w io.Writer, hc *hardware.Catalog, g hardware.GPU, row hardware.GPURow) {
	kv := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
	kv("ID", g.ID)
	kv("Name", g.Name)
	if len(g.Aliases) > 0 {
		kv("Aliases", strings.Join(g.Aliases, ", "))
	}
	kv("Vendor", fmt.Sprintf("%s (Kubernetes resource %s)", g.Vendor, g.DevicePluginResource))
	kv("Architecture", fmt.Sprintf("%s, compute capability %s", hwUnknownS(g.Architecture), hwUnknownS(g.ComputeCapability)))
	kv("Datasheet memory", fmt.Sprintf("%s GB", hwNum(g.DatasheetMemory.GB())))
	if g.DriverMemory > 0 {
		kv("Driver-reported", fmt.Sprintf("%d MiB (%.2f GiB)", int64(g.DriverMemory)>>20, g.DriverMemory.GiB()))
	} else {
		kv("Driver-reported", "unknown")
	}
	cuda := "unknown"
	if g.CUDAMemory > 0 {
		cuda = fmt.Sprintf("%.2f GiB (%d bytes)", g.CUDAMemory.GiB(), int64(g.CUDAMemory))
		if g.CUDAMemoryEstimated {
			cuda += ", ESTIMATED"
		} else {
			cuda += ", measured"
		}
	}
	kv("CUDA-visible memory", cuda)
	if g.CUDAMemoryNote != "" {
		kv("", g.CUDAMemoryNote)
	}
	kv("Memory bandwidth", hwBW(float64(g.MemoryBandwidth)))
	var tf []string
	for _, m := range []hardware.Math{hardware.MathFP32, hardware.MathTF32, hardware.MathFP16, hardware.MathBF16, hardware.MathFP8, hardware.MathINT8, hardware.MathFP4, hardware.MathINT4} {
		if v, ok := g.DenseTFLOPS[m]; ok {
			tf = append(tf, fmt.Sprintf("%s %s", m, hwNum(v)))
		}
	}
	kv("Dense TFLOPS", strings.Join(tf, ", ")+" (others unknown)")
	ic := hwUnknownS(g.Interconnect.Kind)
	if g.Interconnect.NVLinkGeneration > 0 {
		ic += fmt.Sprintf(" %d", g.Interconnect.NVLinkGeneration)
	}
	if g.Interconnect.Bandwidth > 0 {
		ic += ", " + hwBW(float64(g.Interconnect.Bandwidth)) + " per GPU (both directions)"
	}
	if g.Interconnect.Note != "" {
		ic += "; " + g.Interconnect.Note
	}
	kv("Interconnect", ic)
	kv("Host CPU", hwUnknownS(string(g.HostCPU)))
	kv("Source", fmt.Sprintf("%s (as of %s)", g.Source, g.AsOf))
	for _, n := range g.Notes {
		kv("Note", n)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "PRECISION\tSUPPORT\tCOMPUTE\tWHY")
	for _, s := range row.Support {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Precision, s.Level, hwDash(s.Compute), s.Reason)
	}
	if len(g.Measured) > 0 {
		fmt.Fprintln(w, "\nMEASURED\tMATH\tRATE\tOF PEAK\tSOURCE\tAS OF")
		for _, m := range g.Measured {
			rate, frac := "", "unknown"
			switch m.Kind {
			case "matmul":
				rate = hwNum(m.TFLOPS) + " TFLOPS"
				if peak, ok := g.TFLOPS(m.Math); ok {
					frac = fmt.Sprintf("%.1f%%", 100*m.TFLOPS/peak)
				}
			case "copy":
				rate = hwBW(float64(m.BytesPerS))
				if g.MemoryBandwidth > 0 {
					frac = fmt.Sprintf("%.1f%%", 100*float64(m.BytesPerS)/float64(g.MemoryBandwidth))
				}
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Kind, hwDash(string(m.Math)), rate, frac, m.Source, m.AsOf)
		}
	}
	if len(g.Sources) > 0 {
		fmt.Fprintln(w, "\nFIELD\tSOURCE")
		keys := make([]string, 0, len(g.Sources))
		for k := range g.Sources {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s\t%s\n", k, g.Sources[k])
		}
	}
}

// writeSourceKeys explains every source key the chip cites.
func writeSourceKeys(w io.Writer, hc *hardware.Catalog, g hardware.GPU) {
	seen := map[string]bool{}
	var keys []string
	addAll := func(s string) {
		for _, p := range strings.Split(s, ";") {
			p = strings.TrimSpace(p)
			if _, ok := hc.Source(p); ok && !seen[p] {
				seen[p] = true
				keys = append(keys, p)
			}
		}
	}
	addAll(g.Source)
	for _, s := range g.Sources {
		addAll(s)
	}
	for _, m := range g.Measured {
		addAll(m.Source)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return
	}
	fmt.Fprintln(w, "\nSOURCE KEY\tTIER\tWHERE")
	for _, k := range keys {
		r, _ := hc.Source(k)
		where := r.URL
		if where == "" {
			where = r.Ref
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", k, r.Tier, where)
	}
}

func writeGPUTable(w io.Writer, rows []hardware.GPURow, width int) {
	t := textTable{
		Header: []string{"GPU", "NAME", "MEMORY GB", "CUDA GiB", "BW GB/s", "BF16 TFLOPS", "FP8 TFLOPS", "INTERCONNECT", "HOST CPU"},
		Drop:   []int{8, 1, 7, 3, 6},
	}
	for _, r := range rows {
		cuda := "unknown"
		if r.CUDAMemoryBytes != nil {
			cuda = fmt.Sprintf("%.2f", float64(*r.CUDAMemoryBytes)/(1<<30))
			if r.CUDAMemoryEstimated {
				cuda += "*"
			}
		}
		bw := "unknown"
		if r.MemoryBandwidth != nil {
			bw = hwNum(*r.MemoryBandwidth / 1e9)
		}
		bf16 := r.DenseTFLOPS[string(hardware.MathBF16)]
		if bf16 == nil {
			bf16 = r.DenseTFLOPS[string(hardware.MathFP16)] // T4/V100: fp16 only
		}
		ic := "unknown"
		if r.Interconnect.Kind != nil {
			ic = *r.Interconnect.Kind
			if r.Interconnect.NVLinkGeneration != nil {
				ic = fmt.Sprintf("nvlink%d", *r.Interconnect.NVLinkGeneration)
			}
			if r.Interconnect.Bandwidth != nil {
				ic += fmt.Sprintf(" %s GB/s", hwNum(*r.Interconnect.Bandwidth/1e9))
			}
		}
		t.Rows = append(t.Rows, []string{r.ID, r.Name, hwNum(float64(r.DatasheetMemoryBytes) / 1e9), cuda, bw,
			hwFptr(bf16), hwFptr(r.DenseTFLOPS[string(hardware.MathFP8)]), ic, hwOrUnknown(r.HostCPUArch)})
	}
	_ = t.write(w, width)
}

func writeVMTable(w io.Writer, rows []hardware.VMRow, region string, width int) {
	t := textTable{
		Header: []string{"VM SIZE", "GPUS", "GPU MEM GB", "vCPU", "RAM GiB", "INFINIBAND", "AKS", "KAITO", "ACA", "STATUS", "$/HOUR (" + region + ")", "$/GPU-HOUR", "PRICE AS OF"},
		Drop:   []int{12, 4, 3, 5, 8, 7, 6, 11, 2, 9},
	}
	for _, r := range rows {
		gpus := fmt.Sprintf("%d x %s", r.GPUCount, r.GPU)
		if r.GPUFraction != "" {
			gpus = r.GPUFraction + " x " + r.GPU
		}
		mem := "unknown"
		if r.GPUMemoryBytes != nil {
			mem = hwNum(float64(*r.GPUMemoryBytes) / 1e9)
		}
		ib := "unknown"
		if r.InfiniBand != nil {
			ib = *r.InfiniBand
			if i := strings.Index(ib, ","); i > 0 {
				ib = ib[:i]
			}
			if i := strings.Index(ib, " ("); i > 0 {
				ib = ib[:i]
			}
		}
		status := r.Status
		if r.RetirementDate != nil {
			status += " " + *r.RetirementDate
		}
		t.Rows = append(t.Rows, []string{r.Name, gpus, mem, fmt.Sprint(r.VCPU), hwGiB(r.RAMBytes), ib,
			r.AKS, r.KAITO, r.ContainerApps, status, hwMoney(r.USDPerHour), hwMoney(r.USDPerGPUHour), hwOrUnknown(r.PriceAsOf)})
	}
	_ = t.write(w, width)
}

// Small formatting helpers shared by gpus and prices.

func hwOrUnknown(s *string) string {
	if s == nil || *s == "" {
		return "unknown"
	}
	return *s
}

func hwUnknownS(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func hwDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func hwFptr(f *float64) string {
	if f == nil {
		return "unknown"
	}
	return hwNum(*f)
}

func hwMoney(f *float64) string {
	if f == nil {
		return "unknown"
	}
	switch {
	case *f >= 100:
		return fmt.Sprintf("%.2f", *f)
	case *f >= 1:
		return fmt.Sprintf("%.3f", *f)
	default:
		return fmt.Sprintf("%.4f", *f)
	}
}

func hwNum(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func hwGiB(b int64) string { return hwNum(float64(b) / (1 << 30)) }

func hwBW(bps float64) string {
	if bps <= 0 {
		return "unknown"
	}
	return hwNum(bps/1e9) + " GB/s"
}
