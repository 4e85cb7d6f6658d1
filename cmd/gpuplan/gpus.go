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

// gpuRow is a chip as `gpus` prints it. Unknown values are null.
type gpuRow struct {
	ID                   string              `json:"id"`
	Name                 string              `json:"name"`
	Aliases              []string            `json:"aliases,omitempty"`
	Vendor               string              `json:"vendor"`
	Architecture         *string             `json:"architecture"`
	ComputeCapability    *string             `json:"compute_capability"`
	DatasheetMemoryBytes int64               `json:"datasheet_memory_bytes"`
	DriverMemoryBytes    *int64              `json:"driver_memory_bytes"`
	CUDAMemoryBytes      *int64              `json:"cuda_memory_bytes"`
	CUDAMemoryEstimated  bool                `json:"cuda_memory_estimated"`
	CUDAMemoryNote       string              `json:"cuda_memory_note,omitempty"`
	MemoryBandwidth      *float64            `json:"memory_bandwidth_bytes_per_s"`
	DenseTFLOPS          map[string]*float64 `json:"dense_tflops"`
	NativeMath           []hardware.Math     `json:"native_math"`
	Interconnect         interconnectRow     `json:"interconnect"`
	HostCPUArch          *string             `json:"host_cpu_arch"`
	DevicePluginResource string              `json:"device_plugin_resource"`
	VMSizes              []string            `json:"vm_sizes"`
	Source               string              `json:"source"`
	AsOf                 string              `json:"as_of"`
	// Detail-only fields (gpus ID).
	Support    []supportRow           `json:"support,omitempty"`
	Achievable []achievableRow        `json:"achievable,omitempty"`
	Measured   []hardware.Measurement `json:"measured,omitempty"`
	Sources    map[string]string      `json:"sources,omitempty"`
	Notes      []string               `json:"notes,omitempty"`
}

type interconnectRow struct {
	Kind             *string  `json:"kind"`
	NVLinkGeneration *int     `json:"nvlink_generation"`
	Bandwidth        *float64 `json:"bandwidth_bytes_per_s"`
	Note             string   `json:"note,omitempty"`
}

type supportRow struct {
	Precision string `json:"precision"`
	Level     string `json:"level"`
	Compute   string `json:"compute_dtype,omitempty"`
	Reason    string `json:"reason"`
}

type achievableRow struct {
	Kind     string  `json:"kind"`
	Math     string  `json:"math,omitempty"`
	Fraction float64 `json:"fraction"`
}

// vmRow is a VM size with its price in the chosen region.
type vmRow struct {
	Name            string   `json:"name"`
	Series          string   `json:"series"`
	GPU             string   `json:"gpu"`
	GPUCount        int      `json:"gpu_count"`
	GPUFraction     string   `json:"gpu_fraction,omitempty"`
	GPUMemoryBytes  *int64   `json:"gpu_memory_bytes"`
	VCPU            int      `json:"vcpu"`
	CPUArch         *string  `json:"cpu_arch"`
	RAMBytes        int64    `json:"ram_bytes"`
	GPUInterconnect *string  `json:"gpu_interconnect"`
	InfiniBand      *string  `json:"infiniband"`
	LocalNVMeBytes  *int64   `json:"local_nvme_bytes"`
	QuotaFamily     *string  `json:"quota_family"`
	AKS             string   `json:"aks"`
	KAITO           string   `json:"kaito"`
	ContainerApps   string   `json:"container_apps"`
	Status          string   `json:"status"`
	RetirementDate  *string  `json:"retirement_date"`
	USDPerHour      *float64 `json:"usd_per_hour"`
	USDPerGPUHour   *float64 `json:"usd_per_gpu_hour"`
	USDPerMonth     *float64 `json:"usd_per_month"`
	PriceAsOf       *string  `json:"price_as_of"`
	PriceSource     *string  `json:"price_source"`
	Source          string   `json:"source"`
	AsOf            string   `json:"as_of"`
	Notes           []string `json:"notes,omitempty"`
}

type gpusOutput struct {
	Currency   string   `json:"currency"`
	Region     string   `json:"region"`
	PricesAsOf *string  `json:"prices_as_of"`
	GPUs       []gpuRow `json:"gpus"`
	VMSizes    []vmRow  `json:"vm_sizes"`
}

type gpuDetailOutput struct {
	Currency              string                          `json:"currency"`
	Region                string                          `json:"region"`
	PricesAsOf            *string                         `json:"prices_as_of"`
	GPU                   gpuRow                          `json:"gpu"`
	VMSizes               []vmRow                         `json:"vm_sizes"`
	ContainerAppsProfiles []hardware.ContainerAppsProfile `json:"container_apps_profiles"`
}

func newGPUsCmd(a *app) *cobra.Command {
	var (
		output outputFormat
		vendor string
		region string
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
			reg := defaultPriceRegion
			if region != "" {
				if reg, err = hardware.NormalizeRegion(region); err != nil {
					return usageErr(err)
				}
			}
			book, _ := a.priceBook(hc, "USD")
			if len(args) == 1 {
				g, err := hc.LookupGPU(args[0])
				if err != nil {
					return usageErr(err)
				}
				return a.printGPU(output, hc, book, g, reg)
			}
			out := gpusOutput{Currency: "USD", Region: reg}
			var used []hardware.Price
			for _, g := range hc.GPUs() {
				if vendor != "" && string(g.Vendor) != vendor {
					continue
				}
				out.GPUs = append(out.GPUs, newGPURow(g, hc))
				for _, v := range hc.VMSizesFor(g.ID) {
					r, p := newVMRow(v, book, reg)
					if p != nil {
						used = append(used, *p)
					}
					out.VMSizes = append(out.VMSizes, r)
				}
			}
			out.PricesAsOf = hwDate(hardware.OldestAsOf(used))
			return render(a.Stdout, output, out, func(w *tabwriter.Writer) error {
				writeGPUTable(w, out.GPUs)
				fmt.Fprintln(w)
				writeVMTable(w, out.VMSizes, reg)
				fmt.Fprintln(w)
				fmt.Fprintf(w, "%d chips, %d VM sizes. CUDA GiB marked * is an estimate (see `gpuplan gpus ID`). TFLOPS are dense (no sparsity).\n", len(out.GPUs), len(out.VMSizes))
				fmt.Fprintf(w, "Prices: Linux pay-as-you-go in %s, USD; oldest price as of %s. `gpuplan prices` lists every known price with its source.\n", reg, hwOrUnknown(out.PricesAsOf))
				return nil
			})
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().StringVar(&vendor, "vendor", "", "only chips of this vendor: nvidia or amd")
	cmd.Flags().StringVar(&region, "region", "", "Azure region for prices (ARM name such as eastus, or \"East US\"; default eastus)")
	return cmd
}

func (a *app) printGPU(output outputFormat, hc *hardware.Catalog, book hardware.PriceBook, g hardware.GPU, reg string) error {
	row := newGPURow(g, hc)
	for _, p := range dtype.Precisions() {
		// Kernel support is the default engine's (vLLM's table); plan and
		// perf judge the engine actually chosen.
		s := engine.Default().Info().Support(p, engine.OnGPU(g))
		row.Support = append(row.Support, supportRow{Precision: p.Name, Level: string(s.Level), Compute: string(s.Compute), Reason: s.Reason})
	}
	for _, m := range []hardware.Math{hardware.MathBF16, hardware.MathFP8} {
		if f, ok := g.AchievableFraction("matmul", m); ok {
			row.Achievable = append(row.Achievable, achievableRow{Kind: "matmul", Math: string(m), Fraction: hwRound4(f)})
		}
	}
	if f, ok := g.AchievableFraction("copy", ""); ok {
		row.Achievable = append(row.Achievable, achievableRow{Kind: "copy", Fraction: hwRound4(f)})
	}
	row.Measured, row.Sources, row.Notes = g.Measured, g.Sources, g.Notes
	out := gpuDetailOutput{Currency: "USD", Region: reg, GPU: row, VMSizes: []vmRow{}, ContainerAppsProfiles: []hardware.ContainerAppsProfile{}}
	var used []hardware.Price
	for _, v := range hc.VMSizesFor(g.ID) {
		r, p := newVMRow(v, book, reg)
		if p != nil {
			used = append(used, *p)
		}
		out.VMSizes = append(out.VMSizes, r)
	}
	for _, p := range hc.ContainerAppsProfiles() {
		if p.GPU == g.ID {
			out.ContainerAppsProfiles = append(out.ContainerAppsProfiles, p)
		}
	}
	out.PricesAsOf = hwDate(hardware.OldestAsOf(used))
	return render(a.Stdout, output, out, func(w *tabwriter.Writer) error {
		writeGPUDetail(w, hc, g, row)
		if len(out.VMSizes) > 0 {
			fmt.Fprintln(w)
			writeVMTable(w, out.VMSizes, reg)
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

func writeGPUDetail(w io.Writer, hc *hardware.Catalog, g hardware.GPU, row gpuRow) {
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

func newGPURow(g hardware.GPU, hc *hardware.Catalog) gpuRow {
	r := gpuRow{
		ID: g.ID, Name: g.Name, Aliases: g.Aliases, Vendor: string(g.Vendor),
		Architecture: hwStr(g.Architecture), ComputeCapability: hwStr(g.ComputeCapability),
		DatasheetMemoryBytes: int64(g.DatasheetMemory), DriverMemoryBytes: hwBytes(int64(g.DriverMemory)),
		CUDAMemoryBytes: hwBytes(int64(g.CUDAMemory)), CUDAMemoryEstimated: g.CUDAMemoryEstimated, CUDAMemoryNote: g.CUDAMemoryNote,
		MemoryBandwidth: hwFloat(float64(g.MemoryBandwidth)), DenseTFLOPS: map[string]*float64{},
		NativeMath: g.NativeMath, HostCPUArch: hwStr(string(g.HostCPU)), DevicePluginResource: g.DevicePluginResource,
		VMSizes: []string{}, Source: g.Source, AsOf: g.AsOf.String(),
	}
	if r.NativeMath == nil {
		r.NativeMath = []hardware.Math{}
	}
	for _, m := range []hardware.Math{hardware.MathFP32, hardware.MathTF32, hardware.MathFP16, hardware.MathBF16, hardware.MathFP8, hardware.MathINT8, hardware.MathFP4} {
		if v, ok := g.DenseTFLOPS[m]; ok {
			v := v
			r.DenseTFLOPS[string(m)] = &v
		} else {
			r.DenseTFLOPS[string(m)] = nil
		}
	}
	if v, ok := g.DenseTFLOPS[hardware.MathINT4]; ok {
		r.DenseTFLOPS[string(hardware.MathINT4)] = &v
	}
	r.Interconnect = interconnectRow{Kind: hwStr(g.Interconnect.Kind), Bandwidth: hwFloat(float64(g.Interconnect.Bandwidth)), Note: g.Interconnect.Note}
	if n := g.Interconnect.NVLinkGeneration; n > 0 {
		r.Interconnect.NVLinkGeneration = &n
	}
	for _, v := range hc.VMSizesFor(g.ID) {
		r.VMSizes = append(r.VMSizes, v.Name)
	}
	return r
}

// newVMRow builds a VM row priced (Linux PAYG) in region; the price used is
// returned so the caller can report the oldest date.
func newVMRow(v hardware.VMSize, book hardware.PriceBook, region string) (vmRow, *hardware.Price) {
	r := vmRow{
		Name: v.Name, Series: v.Series, GPU: v.GPU, GPUCount: v.GPUCount, GPUFraction: v.GPUFraction,
		GPUMemoryBytes: hwBytes(int64(v.GPUMemory)), VCPU: v.VCPU, CPUArch: hwStr(string(v.CPUArch)), RAMBytes: int64(v.RAM),
		GPUInterconnect: hwStr(v.GPUInterconnect), InfiniBand: hwStr(v.InfiniBand), LocalNVMeBytes: hwBytes(int64(v.LocalNVMe)),
		QuotaFamily: hwStr(v.QuotaFamily), AKS: string(v.AKS), KAITO: string(v.KAITO), ContainerApps: string(v.ContainerApps),
		Status: v.Status, Source: v.Source, AsOf: v.AsOf.String(), Notes: v.Notes,
	}
	if !v.RetirementDate.IsZero() {
		r.RetirementDate = hwStr(v.RetirementDate.String())
	}
	p, ok := book.PAYG(v.Name, region)
	if !ok {
		return r, nil
	}
	usd := p.USDPerHour
	r.USDPerHour = &usd
	month := hwRound4(usd * hardware.HoursPerMonth)
	r.USDPerMonth = &month
	if n := v.GPUs(); n > 0 {
		per := hwRound6(usd / n)
		r.USDPerGPUHour = &per
	}
	r.PriceAsOf = hwStr(p.AsOf.String())
	r.PriceSource = hwStr(p.Source)
	return r, &p
}

func writeGPUTable(w io.Writer, rows []gpuRow) {
	fmt.Fprintln(w, "GPU\tNAME\tMEMORY GB\tCUDA GiB\tBW GB/s\tBF16 TFLOPS\tFP8 TFLOPS\tINTERCONNECT\tHOST CPU")
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
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, hwNum(float64(r.DatasheetMemoryBytes)/1e9), cuda, bw,
			hwFptr(bf16), hwFptr(r.DenseTFLOPS[string(hardware.MathFP8)]), ic, hwOrUnknown(r.HostCPUArch))
	}
}

func writeVMTable(w io.Writer, rows []vmRow, region string) {
	fmt.Fprintf(w, "VM SIZE\tGPUS\tGPU MEM GB\tvCPU\tRAM GiB\tINFINIBAND\tAKS\tKAITO\tACA\tSTATUS\t$/HOUR (%s)\t$/GPU-HOUR\tPRICE AS OF\n", region)
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
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, gpus, mem, r.VCPU, hwGiB(r.RAMBytes), ib,
			r.AKS, r.KAITO, r.ContainerApps, status, hwMoney(r.USDPerHour), hwMoney(r.USDPerGPUHour), hwOrUnknown(r.PriceAsOf))
	}
}

// Small formatting helpers shared by gpus and prices.

func hwStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func hwBytes(b int64) *int64 {
	if b <= 0 {
		return nil
	}
	return &b
}

func hwFloat(f float64) *float64 {
	if f <= 0 {
		return nil
	}
	return &f
}

func hwDate(d hardware.Date) *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

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

func hwRound4(f float64) float64 { return float64(int64(f*1e4+0.5)) / 1e4 }

func hwRound6(f float64) float64 { return float64(int64(f*1e6+0.5)) / 1e6 }
