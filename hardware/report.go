package hardware

import (
	"fmt"
	"strings"
	"time"
)

// GPURow is a chip as `gpuplan gpus` prints it in JSON and YAML, and as the
// API's /api/v1/gpus answers it. Unknown values are null.
type GPURow struct {
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
	NativeMath           []Math              `json:"native_math"`
	Interconnect         GPUInterconnectRow  `json:"interconnect"`
	HostCPUArch          *string             `json:"host_cpu_arch"`
	DevicePluginResource string              `json:"device_plugin_resource"`
	VMSizes              []string            `json:"vm_sizes"`
	Source               string              `json:"source"`
	AsOf                 string              `json:"as_of"`
	// Detail-only fields (gpus ID).
	Support    []GPUSupportRow    `json:"support,omitempty"`
	Achievable []GPUAchievableRow `json:"achievable,omitempty"`
	Measured   []Measurement      `json:"measured,omitempty"`
	Sources    map[string]string  `json:"sources,omitempty"`
	Notes      []string           `json:"notes,omitempty"`
}

// GPUInterconnectRow is the chip's GPU-to-GPU link; unknown values are null.
type GPUInterconnectRow struct {
	Kind             *string  `json:"kind"`
	NVLinkGeneration *int     `json:"nvlink_generation"`
	Bandwidth        *float64 `json:"bandwidth_bytes_per_s"`
	Note             string   `json:"note,omitempty"`
}

// GPUSupportRow is the default engine's kernel support for one precision
// on the chip (engine.Support); the caller fills it, since hardware does not
// know engines.
type GPUSupportRow struct {
	Precision string `json:"precision"`
	Level     string `json:"level"`
	Compute   string `json:"compute_dtype,omitempty"`
	Reason    string `json:"reason"`
}

// GPUAchievableRow is a measured fraction of the datasheet rate the chip
// reaches (GPU.AchievableFraction), for matmul in one math format or copy.
type GPUAchievableRow struct {
	Kind     string  `json:"kind"`
	Math     string  `json:"math,omitempty"`
	Fraction float64 `json:"fraction"`
}

// VMRow is a VM size with its price in the chosen region.
type VMRow struct {
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

// GPUsReport is what `gpuplan gpus` prints with -o json or -o yaml: every
// chip and the VM sizes carrying them, priced (Linux PAYG) in Region.
type GPUsReport struct {
	Currency   string   `json:"currency"`
	Region     string   `json:"region"`
	PricesAsOf *string  `json:"prices_as_of"`
	GPUs       []GPURow `json:"gpus"`
	VMSizes    []VMRow  `json:"vm_sizes"`
}

// GPUDetailReport is what `gpuplan gpus ID` prints with -o json or -o
// yaml: one chip in full, the VM sizes and Container Apps profiles
// carrying it.
type GPUDetailReport struct {
	Currency              string                 `json:"currency"`
	Region                string                 `json:"region"`
	PricesAsOf            *string                `json:"prices_as_of"`
	GPU                   GPURow                 `json:"gpu"`
	VMSizes               []VMRow                `json:"vm_sizes"`
	ContainerAppsProfiles []ContainerAppsProfile `json:"container_apps_profiles"`
}

// PriceRow is a price as `gpuplan prices` prints it in JSON and YAML. USD
// rows carry usd_* amounts; rows of another currency carry per_hour and
// per_gpu_hour in the report's currency.
type PriceRow struct {
	VM            string   `json:"vm"`
	Region        string   `json:"region"`
	Kind          string   `json:"kind"`
	USDPerHour    *float64 `json:"usd_per_hour,omitempty"`
	PerHour       *float64 `json:"per_hour,omitempty"` // non-USD caches: amount in the top-level currency
	PerGPUHour    *float64 `json:"per_gpu_hour,omitempty"`
	USDPerGPUHour *float64 `json:"usd_per_gpu_hour,omitempty"`
	USDPerMonth   *float64 `json:"usd_per_month,omitempty"`
	TermTotal     *float64 `json:"term_total,omitempty"`
	TermHours     int      `json:"term_hours,omitempty"`
	EffectiveFrom *string  `json:"effective_from,omitempty"`
	PriceAsOf     string   `json:"price_as_of"`
	Source        string   `json:"source"`
	Note          string   `json:"note,omitempty"`
	Stale         bool     `json:"stale"`
	// NoSpotDiscount marks a spot row whose meter equals pay-as-you-go.
	NoSpotDiscount bool `json:"no_spot_discount,omitempty"`
}

// PricesReport is what `gpuplan prices` prints with -o json or -o yaml:
// the price book's rows that match, their oldest date, the sizes without a
// PAYG price, and the refresh cache the rows came from.
type PricesReport struct {
	Currency string `json:"currency"`
	// PricesAsOf is the oldest as_of among the rows shown.
	PricesAsOf *string `json:"prices_as_of"`
	// StaleAfterDays is the age past which a row is flagged stale.
	StaleAfterDays int             `json:"stale_after_days"`
	Cache          *PriceCacheInfo `json:"cache"`
	Prices         []PriceRow      `json:"prices"`
	// Unpriced lists sizes with no known PAYG price in the region asked
	// for (or anywhere, without --region).
	Unpriced []string `json:"unpriced_vm_sizes"`
	Warnings []string `json:"warnings"`
}

// PriceCacheInfo describes the cache `gpuplan prices refresh` wrote.
type PriceCacheInfo struct {
	Path        string `json:"path"`
	RefreshedAt string `json:"refreshed_at"`
	APIURL      string `json:"api_url"`
	Rows        int    `json:"rows"`
}

// NewGPURow describes chip g with the names of the catalog's VM sizes
// carrying it; the detail-only fields are left empty.
func NewGPURow(g GPU, hc *Catalog) GPURow {
	r := GPURow{
		ID: g.ID, Name: g.Name, Aliases: g.Aliases, Vendor: string(g.Vendor),
		Architecture: optString(g.Architecture), ComputeCapability: optString(g.ComputeCapability),
		DatasheetMemoryBytes: int64(g.DatasheetMemory), DriverMemoryBytes: optBytes(int64(g.DriverMemory)),
		CUDAMemoryBytes: optBytes(int64(g.CUDAMemory)), CUDAMemoryEstimated: g.CUDAMemoryEstimated, CUDAMemoryNote: g.CUDAMemoryNote,
		MemoryBandwidth: optFloat(float64(g.MemoryBandwidth)), DenseTFLOPS: map[string]*float64{},
		NativeMath: g.NativeMath, HostCPUArch: optString(string(g.HostCPU)), DevicePluginResource: g.DevicePluginResource,
		VMSizes: []string{}, Source: g.Source, AsOf: g.AsOf.String(),
	}
	if r.NativeMath == nil {
		r.NativeMath = []Math{}
	}
	for _, m := range []Math{MathFP32, MathTF32, MathFP16, MathBF16, MathFP8, MathINT8, MathFP4} {
		if v, ok := g.DenseTFLOPS[m]; ok {
			v := v
			r.DenseTFLOPS[string(m)] = &v
		} else {
			r.DenseTFLOPS[string(m)] = nil
		}
	}
	if v, ok := g.DenseTFLOPS[MathINT4]; ok {
		r.DenseTFLOPS[string(MathINT4)] = &v
	}
	r.Interconnect = GPUInterconnectRow{Kind: optString(g.Interconnect.Kind), Bandwidth: optFloat(float64(g.Interconnect.Bandwidth)), Note: g.Interconnect.Note}
	if n := g.Interconnect.NVLinkGeneration; n > 0 {
		r.Interconnect.NVLinkGeneration = &n
	}
	for _, v := range hc.VMSizesFor(g.ID) {
		r.VMSizes = append(r.VMSizes, v.Name)
	}
	return r
}

// NewVMRow builds a VM row priced (Linux PAYG) in region; the price used is
// returned so the caller can report the oldest date.
func NewVMRow(v VMSize, book PriceBook, region string) (VMRow, *Price) {
	r := VMRow{
		Name: v.Name, Series: v.Series, GPU: v.GPU, GPUCount: v.GPUCount, GPUFraction: v.GPUFraction,
		GPUMemoryBytes: optBytes(int64(v.GPUMemory)), VCPU: v.VCPU, CPUArch: optString(string(v.CPUArch)), RAMBytes: int64(v.RAM),
		GPUInterconnect: optString(v.GPUInterconnect), InfiniBand: optString(v.InfiniBand), LocalNVMeBytes: optBytes(int64(v.LocalNVMe)),
		QuotaFamily: optString(v.QuotaFamily), AKS: string(v.AKS), KAITO: string(v.KAITO), ContainerApps: string(v.ContainerApps),
		Status: v.Status, Source: v.Source, AsOf: v.AsOf.String(), Notes: v.Notes,
	}
	if !v.RetirementDate.IsZero() {
		r.RetirementDate = optString(v.RetirementDate.String())
	}
	p, ok := book.PAYG(v.Name, region)
	if !ok {
		return r, nil
	}
	usd := p.USDPerHour
	r.USDPerHour = &usd
	month := round4(usd * HoursPerMonth)
	r.USDPerMonth = &month
	if n := v.GPUs(); n > 0 {
		per := round6(usd / n)
		r.USDPerGPUHour = &per
	}
	r.PriceAsOf = optString(p.AsOf.String())
	r.PriceSource = optString(p.Source)
	return r, &p
}

// NewPriceRow describes price p, per GPU-hour for the VM size's GPUs, and
// flags it stale when it was observed more than StaleAfter before now.
func NewPriceRow(p Price, hc *Catalog, now time.Time) PriceRow {
	r := PriceRow{VM: p.VM, Region: p.Region, Kind: string(p.Kind), PriceAsOf: p.AsOf.String(), Source: p.Source, Note: p.Note, TermHours: p.TermHours,
		Stale: Stale(p.AsOf, now), NoSpotDiscount: p.NoSpotDiscount()}
	hour := p.USDPerHour
	var perGPU *float64
	if v, err := hc.LookupVM(p.VM); err == nil && v.GPUs() > 0 {
		x := round6(hour / v.GPUs())
		perGPU = &x
	}
	if strings.EqualFold(p.Currency, "USD") {
		r.USDPerHour, r.USDPerGPUHour = &hour, perGPU
		m := round4(hour * HoursPerMonth)
		r.USDPerMonth = &m
	} else {
		r.PerHour, r.PerGPUHour = &hour, perGPU
	}
	if p.TermTotal > 0 {
		t := p.TermTotal
		r.TermTotal = &t
	}
	r.EffectiveFrom = optDate(p.EffectiveFrom)
	return r
}

// NewGPUsReport lists the catalog's chips (only vendor's, when set) and
// the VM sizes carrying them, priced in region; PricesAsOf is the oldest
// price used.
func NewGPUsReport(hc *Catalog, book PriceBook, region, vendor string) GPUsReport {
	out := GPUsReport{Currency: "USD", Region: region}
	var used []Price
	for _, g := range hc.GPUs() {
		if vendor != "" && string(g.Vendor) != vendor {
			continue
		}
		out.GPUs = append(out.GPUs, NewGPURow(g, hc))
		for _, v := range hc.VMSizesFor(g.ID) {
			r, p := NewVMRow(v, book, region)
			if p != nil {
				used = append(used, *p)
			}
			out.VMSizes = append(out.VMSizes, r)
		}
	}
	out.PricesAsOf = optDate(OldestAsOf(used))
	return out
}

// NewGPUDetailReport describes chip g in full: achievable rates, measured
// figures, sources and notes, the VM sizes carrying it (only onlyVM, when
// set) priced in region, and its Container Apps profiles. support is the
// engine's kernel support per precision, which the caller knows.
func NewGPUDetailReport(hc *Catalog, book PriceBook, g GPU, region, onlyVM string, support []GPUSupportRow) GPUDetailReport {
	row := NewGPURow(g, hc)
	row.Support = support
	for _, m := range []Math{MathBF16, MathFP8} {
		if f, ok := g.AchievableFraction("matmul", m); ok {
			row.Achievable = append(row.Achievable, GPUAchievableRow{Kind: "matmul", Math: string(m), Fraction: round4(f)})
		}
	}
	if f, ok := g.AchievableFraction("copy", ""); ok {
		row.Achievable = append(row.Achievable, GPUAchievableRow{Kind: "copy", Fraction: round4(f)})
	}
	row.Measured, row.Sources, row.Notes = g.Measured, g.Sources, g.Notes
	out := GPUDetailReport{Currency: "USD", Region: region, GPU: row, VMSizes: []VMRow{}, ContainerAppsProfiles: []ContainerAppsProfile{}}
	var used []Price
	for _, v := range hc.VMSizesFor(g.ID) {
		if onlyVM != "" && v.Name != onlyVM {
			continue
		}
		r, p := NewVMRow(v, book, region)
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
	out.PricesAsOf = optDate(OldestAsOf(used))
	return out
}

// NewPricesReport lists book's prices in currency cur (only vmName's and
// region's, when set) as of now, the catalog's sizes without a PAYG price
// there, and warnings: the given ones, then one if any row is stale. cache
// describes the refresh cache, nil when there is none.
func NewPricesReport(hc *Catalog, book PriceBook, cur, vmName, region string, now time.Time, cache *PriceCacheInfo, warnings []string) PricesReport {
	out := PricesReport{Currency: cur, StaleAfterDays: int(StaleAfter / (24 * time.Hour)), Cache: cache, Prices: []PriceRow{}, Unpriced: []string{}, Warnings: []string{}}
	var shown []Price
	stale := 0
	for _, p := range book.Filter(vmName, region) {
		if !strings.EqualFold(p.Currency, cur) {
			continue
		}
		shown = append(shown, p)
		row := NewPriceRow(p, hc, now)
		if row.Stale {
			stale++
		}
		out.Prices = append(out.Prices, row)
	}
	out.PricesAsOf = optDate(OldestAsOf(shown))
	for _, v := range hc.VMSizes() {
		if vmName != "" && v.Name != vmName {
			continue
		}
		found := false
		for _, p := range book.Filter(v.Name, region) {
			if p.Kind == PAYG && strings.EqualFold(p.Currency, cur) {
				found = true
			}
		}
		if !found {
			out.Unpriced = append(out.Unpriced, v.Name)
		}
	}
	out.Warnings = append(out.Warnings, warnings...)
	if stale > 0 {
		oldest := "unknown"
		if out.PricesAsOf != nil {
			oldest = *out.PricesAsOf
		}
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d of %d prices were observed more than %d days before %s (oldest %s); run `gpuplan prices refresh` for current prices",
			stale, len(out.Prices), out.StaleAfterDays, DateOf(now), oldest))
	}
	return out
}

// Builders' helpers: unknown values are null in JSON, never zero.

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optBytes(b int64) *int64 {
	if b <= 0 {
		return nil
	}
	return &b
}

func optFloat(f float64) *float64 {
	if f <= 0 {
		return nil
	}
	return &f
}

func optDate(d Date) *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

// round4 and round6 keep printed dollars to the precision the tables
// show, so JSON and tables agree.
func round4(f float64) float64 { return float64(int64(f*1e4+0.5)) / 1e4 }

func round6(f float64) float64 { return float64(int64(f*1e6+0.5)) / 1e6 }
