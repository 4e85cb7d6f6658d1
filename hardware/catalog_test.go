package hardware

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/units"
)

type referenceFile struct {
	CUDAMemory []struct {
		GPU   string  `json:"gpu"`
		GiB   float64 `json:"gib"`
		Bytes int64   `json:"bytes"`
	} `json:"cuda_memory"`
	DriverMemoryMiB []struct {
		GPU string `json:"gpu"`
		MiB int64  `json:"mib"`
	} `json:"driver_memory_mib"`
	DenseTFLOPS []struct {
		GPU    string  `json:"gpu"`
		Math   Math    `json:"math"`
		TFLOPS float64 `json:"tflops"`
	} `json:"dense_tflops"`
	Bandwidth []struct {
		GPU   string  `json:"gpu"`
		Value float64 `json:"value"`
	} `json:"bandwidth_gb_per_s"`
	MatmulFraction []struct {
		GPU      string  `json:"gpu"`
		Math     Math    `json:"math"`
		Fraction float64 `json:"fraction"`
	} `json:"matmul_fraction"`
	CopyFraction []struct {
		GPU      string  `json:"gpu"`
		Fraction float64 `json:"fraction"`
	} `json:"copy_fraction"`
	VMSizes []struct {
		Name        string  `json:"name"`
		GPU         string  `json:"gpu"`
		GPUs        int     `json:"gpus"`
		VCPU        int     `json:"vcpu"`
		RAMGiB      float64 `json:"ram_gib"`
		GPUMemoryGB float64 `json:"gpu_memory_gb"`
		KAITO       string  `json:"kaito"`
	} `json:"vm_sizes"`
	Prices []struct {
		VM     string    `json:"vm"`
		Region string    `json:"region"`
		Kind   PriceKind `json:"kind"`
		Value  float64   `json:"value"`
	} `json:"prices_usd_per_hour"`
}

func loadReference(t *testing.T) referenceFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r referenceFile
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func mustGPU(t *testing.T, id string) GPU {
	t.Helper()
	g, err := LookupGPU(id)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestEmbeddedCatalogIsValid(t *testing.T) {
	c, err := loadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestEveryRowHasSourceAndPastDate is the issue's acceptance check: a row
// without a source (URL or reference key) or without a date on or before
// today fails here.
func TestEveryRowHasSourceAndPastDate(t *testing.T) {
	c := Default()
	today := time.Now()
	check := func(what, source string, asOf Date) {
		t.Helper()
		if err := c.checkSource(source); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		if asOf.IsZero() {
			t.Errorf("%s: no as_of date", what)
		} else if asOf.After(DateOf(today)) {
			t.Errorf("%s: as_of %s is in the future", what, asOf)
		}
	}
	for _, g := range c.GPUs() {
		check("GPU "+g.ID, g.Source, g.AsOf)
		for f, s := range g.Sources {
			check("GPU "+g.ID+" field "+f, s, g.AsOf)
		}
		for _, m := range g.Measured {
			check("GPU "+g.ID+" measurement", m.Source, m.AsOf)
		}
	}
	for _, v := range c.VMSizes() {
		check("VM "+v.Name, v.Source, v.AsOf)
	}
	for _, p := range c.ContainerAppsProfiles() {
		check("profile "+p.Type, p.Source, p.AsOf)
	}
	for _, p := range c.Prices().Prices {
		check("price "+p.VM+" "+p.Region+" "+string(p.Kind), p.Source, p.AsOf)
	}
	for _, s := range c.Sources() {
		if s.URL == "" && s.Ref == "" {
			t.Errorf("source key %s has neither url nor ref", s.Key)
		}
		if s.URL != "" && !strings.HasPrefix(s.URL, "https://") {
			t.Errorf("source key %s: url %q is not https", s.Key, s.URL)
		}
	}
	if err := c.CheckDates(today); err != nil {
		t.Error(err)
	}
}

func TestCheckDatesRejectsFuture(t *testing.T) {
	c := Default()
	if err := c.CheckDates(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil || !strings.Contains(err.Error(), "after today") {
		t.Errorf("CheckDates before the snapshot dates: err = %v", err)
	}
}

func TestValidateCatchesBrokenRows(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(c *Catalog)
		want   string
	}{
		{"gpu without source", func(c *Catalog) { c.gpus[0].Source = "" }, "no source"},
		{"gpu with unknown source key", func(c *Catalog) { c.gpus[0].Source = "my-memory" }, "neither an http(s) URL nor a known source key"},
		{"gpu without date", func(c *Catalog) { c.gpus[0].AsOf = Date{} }, "no as_of"},
		{"duplicate alias", func(c *Catalog) { c.gpus[1].Aliases = append(c.gpus[1].Aliases, c.gpus[0].ID) }, "already names"},
		{"vm with unknown chip", func(c *Catalog) { c.vms[0].GPU = "h100" }, "not a canonical chip id"},
		{"vm retired without date", func(c *Catalog) { c.vms[0].Status = StatusRetired }, "retirement_date"},
		{"price for unknown vm", func(c *Catalog) { c.prices[0].VM = "Standard_X1" }, "unknown Azure VM size"},
		{"price without source", func(c *Catalog) { c.prices[0].Source = " " }, "no source"},
		{"zero price", func(c *Catalog) { c.prices[0].USDPerHour = 0 }, "not a plausible price"},
		{"display-name region", func(c *Catalog) { c.prices[0].Region = "East US" }, "ARM name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.break_(c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCatalogMatchesReference(t *testing.T) {
	ref := loadReference(t)
	for _, r := range ref.CUDAMemory {
		g := mustGPU(t, r.GPU)
		want := units.Bytes(r.Bytes)
		if r.GiB > 0 {
			want = units.FromGiB(r.GiB)
		}
		if g.CUDAMemory != want || g.CUDAMemoryEstimated {
			t.Errorf("%s CUDA memory = %d (estimated %v), want measured %d", r.GPU, g.CUDAMemory, g.CUDAMemoryEstimated, want)
		}
	}
	for _, r := range ref.DriverMemoryMiB {
		if g := mustGPU(t, r.GPU); g.DriverMemory != units.Bytes(r.MiB)*units.MiB {
			t.Errorf("%s driver memory = %d, want %d MiB", r.GPU, g.DriverMemory, r.MiB)
		}
	}
	for _, r := range ref.DenseTFLOPS {
		if got, ok := mustGPU(t, r.GPU).TFLOPS(r.Math); !ok || got != r.TFLOPS {
			t.Errorf("%s %s TFLOPS = %v (%v), want %v", r.GPU, r.Math, got, ok, r.TFLOPS)
		}
	}
	for _, r := range ref.Bandwidth {
		if got := mustGPU(t, r.GPU).MemoryBandwidth.GBps(); math.Abs(got-r.Value) > 1e-9 {
			t.Errorf("%s bandwidth = %v GB/s, want %v", r.GPU, got, r.Value)
		}
	}
	for _, r := range ref.MatmulFraction {
		got, ok := mustGPU(t, r.GPU).AchievableFraction("matmul", r.Math)
		if !ok || math.Abs(got-r.Fraction) > 1e-4 {
			t.Errorf("%s %s matmul fraction = %v (%v), want %v", r.GPU, r.Math, got, ok, r.Fraction)
		}
	}
	for _, r := range ref.CopyFraction {
		got, ok := mustGPU(t, r.GPU).AchievableFraction("copy", "")
		if !ok || math.Abs(got-r.Fraction) > 1e-4 {
			t.Errorf("%s copy fraction = %v (%v), want %v", r.GPU, got, ok, r.Fraction)
		}
	}
	for _, r := range ref.VMSizes {
		v, err := LookupVM(r.Name)
		if err != nil {
			t.Fatal(err)
		}
		if v.GPU != r.GPU || v.GPUCount != r.GPUs || v.VCPU != r.VCPU || v.RAM != units.FromGiB(r.RAMGiB) ||
			v.GPUMemory != units.FromGB(r.GPUMemoryGB) || string(v.KAITO) != r.KAITO {
			t.Errorf("%s = %+v, want %+v", r.Name, v, r)
		}
	}
	book := Prices()
	for _, r := range ref.Prices {
		p, ok := book.Lookup(r.VM, r.Region, r.Kind, "USD")
		if !ok || p.USDPerHour != r.Value {
			t.Errorf("price %s %s %s = %v (%v), want %v", r.VM, r.Region, r.Kind, p.USDPerHour, ok, r.Value)
		}
	}
}

func TestIssueChipsAndSizesPresent(t *testing.T) {
	ids := []string{"t4", "a10", "l4", "l40s", "v100-16gb", "v100-32gb", "a100-40gb-sxm", "a100-80gb-sxm", "a100-80gb-pcie",
		"h100-sxm", "h100-pcie", "h100-nvl", "h200", "b200", "gb200", "b300", "gb300", "mi300x"}
	var got []string
	for _, g := range GPUs() {
		got = append(got, g.ID)
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("chip ids = %v, want %v", got, ids)
	}
	series := map[string]bool{}
	for _, v := range VMSizes() {
		series[v.Series] = true
	}
	for _, s := range []string{"NCasT4_v3", "NVadsA10_v5", "NCads_A10_v4", "NC_A100_v4", "ND_A100_v4", "NDm_A100_v4", "NCads_H100_v5",
		"ND_H100_v5", "ND_H200_v5", "ND_MI300X_v5", "ND_GB200_v6", "ND_GB300_v6", "NCv3", "NDv2"} {
		if !series[s] {
			t.Errorf("series %s missing", s)
		}
	}
}

func TestCUDAMemory(t *testing.T) {
	cases := []struct {
		id        string
		want      units.Bytes
		estimated bool
	}{
		{"h100-sxm", units.FromGiB(79.19), false},
		{"h200", 150109880320, false},
		{"mi300x", 205822885888, false},
		{"l40s", units.FromGiB(44.31), false},
		// Estimates: driver total minus 700 MiB.
		{"t4", (15360 - 700) * units.MiB, true},
		{"h100-nvl", (95830 - 700) * units.MiB, true},
		{"a100-80gb-pcie", (81920 - 700) * units.MiB, true},
		{"gb200", (189471 - 700) * units.MiB, true},
	}
	for _, c := range cases {
		g := mustGPU(t, c.id)
		if g.CUDAMemory != c.want || g.CUDAMemoryEstimated != c.estimated {
			t.Errorf("%s: CUDA memory %d estimated %v, want %d estimated %v", c.id, g.CUDAMemory, g.CUDAMemoryEstimated, c.want, c.estimated)
		}
		if c.estimated && !strings.Contains(g.CUDAMemoryNote, "estimated") {
			t.Errorf("%s: estimate without a reason: %q", c.id, g.CUDAMemoryNote)
		}
		if g.CUDAMemory >= g.DriverMemory && g.Vendor == VendorNVIDIA {
			t.Errorf("%s: CUDA memory %d not below the driver total %d", c.id, g.CUDAMemory, g.DriverMemory)
		}
	}
	// Driver totals are whole MiB (nvidia-smi prints MiB); a typo shows here.
	for _, g := range GPUs() {
		if g.DriverMemory%units.MiB != 0 {
			t.Errorf("%s: driver memory %d is not a whole number of MiB", g.ID, g.DriverMemory)
		}
	}
}

func TestLookupGPU(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{"h100-nvl", "h100-nvl", ""},
		{"H100-NVL", "h100-nvl", ""},
		{"NVIDIA H100 NVL", "h100-nvl", ""},
		{"h100-80gb-sxm", "h100-sxm", ""},
		{"nvidia-h200", "h200", ""},
		{"l40s", "l40s", ""},
		{"a100_sxm4_80gb", "a100-80gb-sxm", ""},
		{"NVIDIA H100 80GB HBM3", "h100-sxm", ""},
		{"gb300", "gb300", ""},
		{"b300", "b300", ""},
		{"H100", "", "ambiguous: it could mean h100-sxm, h100-pcie, h100-nvl"},
		{"A100", "", "ambiguous: it could mean a100-40gb-sxm, a100-80gb-sxm, a100-80gb-pcie"},
		{"a100-80gb", "", "ambiguous: it could mean a100-80gb-sxm, a100-80gb-pcie"},
		{"v100", "", "ambiguous: it could mean v100-16gb, v100-32gb"},
		{"a10g", "", "unknown GPU"},
		{"", "", "empty GPU id"},
	}
	for _, c := range cases {
		g, err := LookupGPU(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("LookupGPU(%q) err = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || g.ID != c.want {
			t.Errorf("LookupGPU(%q) = %q, %v; want %q", c.in, g.ID, err, c.want)
		}
	}
}

func TestLookupVM(t *testing.T) {
	for _, in := range []string{"Standard_ND96isr_H100_v5", "standard_nd96isr_h100_v5", "ND96isr_H100_v5", " STANDARD_ND96ISR_H100_V5 "} {
		v, err := LookupVM(in)
		if err != nil || v.Name != "Standard_ND96isr_H100_v5" {
			t.Errorf("LookupVM(%q) = %q, %v", in, v.Name, err)
		}
	}
	if v, err := LookupVM("Standard_ND128isrG5_GB300_v6"); err != nil || v.Name != "Standard_ND128isr_GB300_v6" {
		t.Errorf("GB300 alias: %q, %v", v.Name, err)
	}
	if _, err := LookupVM("Standard_ND96isr_H100_v9"); err == nil {
		t.Error("unknown size accepted")
	}
}

func TestVMFacts(t *testing.T) {
	v, _ := LookupVM("Standard_NC6s_v3")
	if !v.Retired() || v.RetirementDate != MustDate("2025-09-30") {
		t.Errorf("NCv3: status %s, retirement %s; want retired 2025-09-30", v.Status, v.RetirementDate)
	}
	v, _ = LookupVM("Standard_ND40rs_v2")
	if v.Status != StatusUnknown {
		t.Errorf("NDv2 status = %s, want unknown (no source)", v.Status)
	}
	v, _ = LookupVM("Standard_NV6ads_A10_v5")
	if v.GPUs() != 1.0/6 || v.GPUCount != 0 {
		t.Errorf("NV6ads GPUs = %v", v.GPUs())
	}
	v, _ = LookupVM("Standard_ND128isr_NDR_GB200_v6")
	if v.CPUArch != CPUArm64 || mustGPU(t, v.GPU).HostCPU != CPUArm64 {
		t.Errorf("GB200 host must be Arm: %s", v.CPUArch)
	}
	v, _ = LookupVM("Standard_ND96isr_MI300X_v5")
	if mustGPU(t, v.GPU).DevicePluginResource != "amd.com/gpu" || v.KAITO != No {
		t.Errorf("MI300X: resource %s, KAITO %s", mustGPU(t, v.GPU).DevicePluginResource, v.KAITO)
	}
	ca := 0
	for _, v := range VMSizes() {
		if v.ContainerApps == Yes {
			ca++
		}
	}
	if ca != 4 {
		t.Errorf("%d sizes marked Container Apps, want 4 (NC8as_T4 and the three NC A100 v4)", ca)
	}
	regions := map[string][]string{}
	for _, p := range Default().ContainerAppsProfiles() {
		regions[p.Type] = p.Regions
	}
	if got := regions["Consumption-GPU-NC24-A100"]; strings.Join(got, ",") != "australiaeast,brazilsouth,eastus,italynorth,swedencentral,westus,westus3" {
		t.Errorf("A100 consumption regions = %v", got)
	}
	if got := regions["Consumption-GPU-NC8as-T4"]; len(got) != 16 {
		t.Errorf("T4 consumption regions: %d, want 16", len(got))
	}
}

func TestTFLOPSFallbackAndMathFor(t *testing.T) {
	l4 := mustGPU(t, "l4")
	if v, ok := l4.TFLOPS(MathFP16); !ok || v != 121 {
		t.Errorf("L4 fp16 via bf16 = %v %v, want 121", v, ok)
	}
	t4 := mustGPU(t, "t4")
	if _, ok := t4.TFLOPS(MathBF16); ok {
		t.Error("T4 has no bf16; no rate may be reported")
	}
	if _, ok := l4.TFLOPS(MathFP8); ok {
		t.Error("L4 FP8 rate is unknown; it must stay unknown")
	}
	if MathFor(dtype.NVFP4) != MathFP4 || MathFor(dtype.MXFP4) != MathFP4 || MathFor(dtype.BF16) != MathBF16 {
		t.Error("MathFor mapping")
	}
}

func TestNormalizeRegion(t *testing.T) {
	cases := map[string]string{"eastus": "eastus", "East US": "eastus", "West US 3": "westus3", "US East": "eastus",
		"EU West": "westeurope", "Sweden Central": "swedencentral", "  north   central us ": "northcentralus"}
	for in, want := range cases {
		if got, err := NormalizeRegion(in); err != nil || got != want {
			t.Errorf("NormalizeRegion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "east-us", "eastus'", strings.Repeat("a", 50)} {
		if _, err := NormalizeRegion(bad); err == nil {
			t.Errorf("NormalizeRegion(%q) accepted", bad)
		}
	}
}

func TestPriceBook(t *testing.T) {
	b := Prices()
	p, ok := b.PAYG("standard_nd96isr_h100_v5", "eastus")
	if !ok || p.USDPerHour != 98.32 {
		t.Fatalf("PAYG = %+v %v", p, ok)
	}
	if got := p.MonthlyUSD(); math.Abs(got-98.32*730) > 1e-9 {
		t.Errorf("monthly = %v, want 98.32 x 730", got)
	}
	if _, ok := b.PAYG("Standard_ND96isr_H200_v5", "eastus"); ok {
		t.Error("an H200 eastus price appeared: the sources price it in eastus2, westus2 and westus3 only")
	}
	if d := OldestAsOf(b.Filter("Standard_ND96isr_H100_v5", "eastus")); d != MustDate("2026-09-16") {
		t.Errorf("oldest = %s, want 2026-09-16 (the spot capture)", d)
	}
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	// 90 days: the May 2026 table is stale on 2026-11-27, September's capture is not.
	if !Stale(MustDate("2026-05-20"), now) || Stale(MustDate("2026-09-16"), now) || Stale(MustDate("2026-11-09"), now) {
		t.Error("Stale threshold")
	}
	o := b.Overlay([]Price{{VM: "Standard_ND96isr_H100_v5", Region: "eastus", Kind: PAYG, USDPerHour: 90, Currency: "USD", AsOf: MustDate("2026-11-20"), Source: "x"}})
	if p, _ := o.PAYG("Standard_ND96isr_H100_v5", "eastus"); p.USDPerHour != 90 || len(o.Prices) != len(b.Prices) {
		t.Errorf("overlay did not replace in place: %v, %d rows", p.USDPerHour, len(o.Prices))
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("2020-08-01T00:00:00Z")
	if err != nil || d.String() != "2020-08-01" {
		t.Errorf("ParseDate RFC3339 = %v %v", d, err)
	}
	if _, err := ParseDate("yesterday"); err == nil {
		t.Error("accepted a non-date")
	}
	b, _ := json.Marshal(struct {
		D Date `json:"d"`
		Z Date `json:"z"`
	}{D: MustDate("2026-11-27")})
	if string(b) != `{"d":"2026-11-27","z":null}` {
		t.Errorf("marshal = %s", b)
	}
}

func TestCacheDir(t *testing.T) {
	d, err := CacheDir(func(k string) string {
		if k == "GPUPLAN_CACHE_DIR" {
			return "/tmp/x"
		}
		return ""
	})
	if err != nil || d != "/tmp/x" {
		t.Errorf("CacheDir = %q %v", d, err)
	}
}

func TestLoadPriceCacheErrors(t *testing.T) {
	dir := t.TempDir()
	if _, found, err := LoadPriceCache(dir, "USD"); found || err != nil {
		t.Errorf("missing cache: found %v err %v", found, err)
	}
	for name, body := range map[string]string{
		"corrupt":     `{"schema_version": 1, "prices": [`,
		"old version": `{"schema_version": 99, "prices": []}`,
		"bad row":     `{"schema_version": 1, "prices": [{"vm":"Standard_NC24ads_A100_v4","region":"eastus","kind":"payg","usd_per_hour":-1,"currency":"USD"}]}`,
	} {
		if err := os.WriteFile(PriceCachePath(dir, "USD"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadPriceCache(dir, "USD"); err == nil || !strings.Contains(err.Error(), "refresh") {
			t.Errorf("%s cache: err = %v, want advice to refresh", name, err)
		}
	}
}

func TestCloseRegions(t *testing.T) {
	c := Default()
	known := c.KnownRegions(c.Prices())
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"westeuropa", "westeurope"},
		{"eastu", "eastus"},
		{"swedencentrl", "swedencentral"},
	} {
		if got := CloseRegions(tc.in, known); len(got) == 0 || got[0] != tc.want {
			t.Errorf("CloseRegions(%q) = %v, want %s first", tc.in, got, tc.want)
		}
	}
	if got := CloseRegions("mars", known); len(got) != 0 {
		t.Errorf("mars is close to %v", got)
	}
	if len(known) < 49 {
		t.Errorf("%d known regions; the price table alone has 49", len(known))
	}
}
