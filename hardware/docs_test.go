package hardware

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the generated tables in docs/hardware.md")

// docsPath is docs/hardware.md from this package's directory.
var docsPath = filepath.Join("..", "docs", "hardware.md")

func num(f float64) string {
	s := strings.TrimRight(fmt.Sprintf("%.2f", f), "0")
	return strings.TrimSuffix(s, ".")
}

func orQ(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// generatedChips renders the chip table of docs/hardware.md.
func generatedChips(c *Catalog) string {
	var b strings.Builder
	b.WriteString("| id | name | datasheet GB | CUDA GiB | bandwidth GB/s | FP32 | TF32 | FP16 | BF16 | FP8 | INT8 | FP4 | interconnect | CC | host | aliases |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, g := range c.GPUs() {
		cuda := "unknown"
		if g.CUDAMemory > 0 {
			cuda = fmt.Sprintf("%.2f", g.CUDAMemory.GiB())
			if g.CUDAMemoryEstimated {
				cuda += " (est.)"
			}
		}
		bw := "unknown"
		if g.MemoryBandwidth > 0 {
			bw = num(g.MemoryBandwidth.GBps())
		}
		tf := func(m Math) string {
			if v, ok := g.TFLOPS(m); ok {
				return num(v)
			}
			if g.Native(m) {
				return "?"
			}
			return "-"
		}
		ic := orQ(g.Interconnect.Kind)
		if g.Interconnect.NVLinkGeneration > 0 {
			ic += fmt.Sprintf(" %d", g.Interconnect.NVLinkGeneration)
		}
		if g.Interconnect.Bandwidth > 0 {
			ic += fmt.Sprintf(", %s GB/s", num(g.Interconnect.Bandwidth.GBps()))
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			g.ID, g.Name, num(g.DatasheetMemory.GB()), cuda, bw, tf(MathFP32), tf(MathTF32), tf(MathFP16), tf(MathBF16), tf(MathFP8),
			tf(MathINT8), tf(MathFP4), ic, orQ(g.ComputeCapability), orQ(string(g.HostCPU)), strings.Join(g.Aliases, ", "))
	}
	return b.String()
}

// generatedVMs renders the VM size table.
func generatedVMs(c *Catalog) string {
	var b strings.Builder
	b.WriteString("| size | GPUs | GPU memory | vCPU | RAM | InfiniBand | local NVMe | quota family | AKS | KAITO | Container Apps | status |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, v := range c.VMSizes() {
		gpus := fmt.Sprintf("%d × `%s`", v.GPUCount, v.GPU)
		if v.GPUFraction != "" {
			gpus = v.GPUFraction + " × `" + v.GPU + "`"
		}
		mem := "unknown"
		if v.GPUMemory > 0 {
			mem = num(v.GPUMemory.GB()) + " GB"
		}
		nvme := "-"
		if v.LocalNVMe > 0 {
			nvme = num(v.LocalNVMe.GiB()) + " GiB"
		}
		status := v.Status
		if !v.RetirementDate.IsZero() {
			status += " " + v.RetirementDate.String()
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %d | %s GiB | %s | %s | %s | %s | %s | %s | %s |\n", v.Name, gpus, mem, v.VCPU, num(v.RAM.GiB()),
			orQ(v.InfiniBand), nvme, orQ(v.QuotaFamily), v.AKS, v.KAITO, v.ContainerApps, status)
	}
	return b.String()
}

func generatedProfiles(c *Catalog) string {
	var b strings.Builder
	b.WriteString("| profile type | kind | GPU | vCPU | RAM | regions |\n|---|---|---|---|---|---|\n")
	for _, p := range c.ContainerAppsProfiles() {
		fmt.Fprintf(&b, "| `%s` | %s | %d × `%s` | %d | %s GiB | %s |\n", p.Type, p.Kind, p.GPUs, p.GPU, p.VCPU, num(p.RAM.GiB()), strings.Join(p.Regions, ", "))
	}
	return b.String()
}

func generatedPrices(c *Catalog) string {
	// One line per size: the full table (about 1,400 rows) is what
	// `gpuplan prices` prints; the docs summarize it.
	type agg struct {
		regions, spot  int
		min, max       float64
		minReg, maxReg string
		eastus         string
		oldest, newest Date
	}
	var order []string
	by := map[string]*agg{}
	for _, p := range c.Prices().Prices {
		a := by[p.VM]
		if a == nil {
			a = &agg{eastus: "—"}
			by[p.VM] = a
			order = append(order, p.VM)
		}
		if a.oldest.IsZero() || p.AsOf.Before(a.oldest) {
			a.oldest = p.AsOf
		}
		if a.newest.IsZero() || a.newest.Before(p.AsOf) {
			a.newest = p.AsOf
		}
		switch p.Kind {
		case Spot:
			a.spot++
		case PAYG:
			a.regions++
			if a.minReg == "" || p.USDPerHour < a.min {
				a.min, a.minReg = p.USDPerHour, p.Region
			}
			if a.maxReg == "" || p.USDPerHour > a.max {
				a.max, a.maxReg = p.USDPerHour, p.Region
			}
			if p.Region == "eastus" {
				a.eastus = fmt.Sprint(p.USDPerHour)
			}
		}
	}
	var b strings.Builder
	b.WriteString("| size | regions with PAYG | with spot | eastus PAYG USD/hour | PAYG min – max (region) | as of |\n|---|---|---|---|---|---|\n")
	for _, vm := range order {
		a := by[vm]
		span := "—"
		if a.regions > 0 {
			span = fmt.Sprintf("%v (%s) – %v (%s)", a.min, a.minReg, a.max, a.maxReg)
		}
		dates := a.oldest.String()
		if a.newest != a.oldest {
			dates += " – " + a.newest.String()
		}
		fmt.Fprintf(&b, "| `%s` | %d | %d | %s | %s | %s |\n", vm, a.regions, a.spot, a.eastus, span, dates)
	}
	for _, v := range c.VMSizes() {
		if by[v.Name] == nil {
			fmt.Fprintf(&b, "| `%s` | 0 | 0 | — | no price known | — |\n", v.Name)
		}
	}
	return b.String()
}

func generatedSources(c *Catalog) string {
	var b strings.Builder
	b.WriteString("| key | tier | what | where |\n|---|---|---|---|\n")
	for _, s := range c.Sources() {
		where := s.URL
		if where == "" {
			where = s.Ref
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.Key, s.Tier, s.Title, where)
	}
	return b.String()
}

// TestDocsTablesMatchCatalog keeps docs/hardware.md's tables generated from
// the embedded data (go test ./hardware -run TestDocs -update rewrites them).
func TestDocsTablesMatchCatalog(t *testing.T) {
	c := Default()
	sections := []struct{ name, body string }{
		{"chips", generatedChips(c)},
		{"vm-sizes", generatedVMs(c)},
		{"container-apps", generatedProfiles(c)},
		{"prices", generatedPrices(c)},
		{"sources", generatedSources(c)},
	}
	for _, s := range sections {
		golden.Section(t, docsPath, s.name, s.body, *update)
	}
}
