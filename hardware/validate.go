package hardware

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Validate checks the catalog's structure: ids unique and resolvable,
// references between tables intact, every row with a source (URL or known
// key) and an as_of date, and numbers in range. It does not check dates
// against a clock; see CheckDates.
func (c *Catalog) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	names := map[string]string{}
	for _, g := range c.gpus {
		where := fmt.Sprintf("GPU %q", g.ID)
		if g.ID == "" || normalizeID(g.ID) != g.ID {
			add("%s: id must be lower-case with dashes", where)
		}
		for _, n := range append([]string{g.ID}, g.Aliases...) {
			k := normalizeID(n)
			if prev, ok := names[k]; ok && prev != g.ID {
				add("%s: name %q already names %s", where, n, prev)
			}
			names[k] = g.ID
		}
		if g.Name == "" {
			add("%s: no name", where)
		}
		if g.Vendor != VendorNVIDIA && g.Vendor != VendorAMD {
			add("%s: vendor %q (want nvidia or amd)", where, g.Vendor)
		}
		if g.DatasheetMemory <= 0 {
			add("%s: datasheet_memory_bytes missing", where)
		}
		if g.CUDAMemory < 0 || g.DriverMemory < 0 || g.CUDAMemory > g.DatasheetMemory*2 {
			add("%s: implausible memory figures", where)
		}
		for m, v := range g.DenseTFLOPS {
			if !(v > 0) || v > 1e6 {
				add("%s: dense_tflops.%s = %v is not a plausible rate", where, m, v)
			}
		}
		if g.MemoryBandwidth < 0 || g.Interconnect.Bandwidth < 0 {
			add("%s: negative bandwidth", where)
		}
		if h := g.HostCPU; h != "" && h != CPUx86 && h != CPUArm64 {
			add("%s: host_cpu_arch %q (want x86-64 or arm64)", where, h)
		}
		if err := c.checkSource(g.Source); err != nil {
			add("%s: %v", where, err)
		}
		for field, s := range g.Sources {
			if err := c.checkSource(s); err != nil {
				add("%s: sources.%s: %v", where, field, err)
			}
		}
		if g.AsOf.IsZero() {
			add("%s: no as_of date", where)
		}
		for i, m := range g.Measured {
			if m.Kind != "matmul" && m.Kind != "copy" {
				add("%s: measured[%d].kind %q (want matmul or copy)", where, i, m.Kind)
			}
			if (m.Kind == "matmul" && !(m.TFLOPS > 0)) || (m.Kind == "copy" && !(m.BytesPerS > 0)) {
				add("%s: measured[%d] has no value", where, i)
			}
			if err := c.checkSource(m.Source); err != nil {
				add("%s: measured[%d]: %v", where, i, err)
			}
			if m.AsOf.IsZero() {
				add("%s: measured[%d]: no as_of date", where, i)
			}
		}
	}

	vmNames := map[string]bool{}
	for _, v := range c.vms {
		where := fmt.Sprintf("VM size %q", v.Name)
		for _, n := range append([]string{v.Name}, v.Aliases...) {
			k := normalizeVMName(n)
			if vmNames[k] {
				add("%s: name %q is listed twice", where, n)
			}
			vmNames[k] = true
		}
		if !strings.HasPrefix(v.Name, "Standard_") {
			add("%s: name must be the ARM name (Standard_…)", where)
		}
		if _, ok := names[normalizeID(v.GPU)]; !ok || names[normalizeID(v.GPU)] != v.GPU {
			add("%s: gpu %q is not a canonical chip id", where, v.GPU)
		}
		switch {
		case v.GPUFraction != "":
			if v.GPUCount != 0 {
				add("%s: give gpu_count 0 with gpu_fraction", where)
			}
			if _, err := parseFraction(v.GPUFraction); err != nil {
				add("%s: %v", where, err)
			}
		case v.GPUCount <= 0:
			add("%s: gpu_count must be positive (or give gpu_fraction)", where)
		}
		if v.VCPU <= 0 || v.RAM <= 0 {
			add("%s: vcpu and ram_bytes are required", where)
		}
		for _, a := range []Availability{v.AKS, v.KAITO, v.ContainerApps} {
			if a != Yes && a != No && a != Unknown {
				add("%s: availability %q (want yes, no or unknown)", where, a)
			}
		}
		switch v.Status {
		case StatusAvailable, StatusUnknown:
		case StatusRetired:
			if v.RetirementDate.IsZero() {
				add("%s: retired without retirement_date", where)
			}
		default:
			add("%s: status %q (want available, retired or unknown)", where, v.Status)
		}
		if h := v.CPUArch; h != "" && h != CPUx86 && h != CPUArm64 {
			add("%s: cpu_arch %q (want x86-64 or arm64)", where, h)
		}
		if err := c.checkSource(v.Source); err != nil {
			add("%s: %v", where, err)
		}
		if v.AsOf.IsZero() {
			add("%s: no as_of date", where)
		}
	}

	for _, p := range c.profiles {
		where := fmt.Sprintf("Container Apps profile %q", p.Type)
		if names[normalizeID(p.GPU)] != p.GPU {
			add("%s: gpu %q is not a canonical chip id", where, p.GPU)
		}
		if p.VMSize != "" {
			if _, err := lookupVM(c.vms, p.VMSize); err != nil {
				add("%s: %v", where, err)
			}
		}
		if p.Kind != "consumption" && p.Kind != "dedicated" {
			add("%s: kind %q (want consumption or dedicated)", where, p.Kind)
		}
		for _, r := range p.Regions {
			if n, err := NormalizeRegion(r); err != nil || n != r {
				add("%s: region %q is not an ARM region name", where, r)
			}
		}
		if err := c.checkSource(p.Source); err != nil {
			add("%s: %v", where, err)
		}
		if p.AsOf.IsZero() {
			add("%s: no as_of date", where)
		}
	}

	seen := map[string]bool{}
	for i, p := range append(append([]Price(nil), c.prices...), c.user...) {
		if i == len(c.prices) {
			seen = map[string]bool{} // user rows may override embedded ones
		}
		where := fmt.Sprintf("price %s/%s/%s", p.VM, p.Region, p.Kind)
		if err := checkPrice(p); err != nil {
			add("%s: %v", where, err)
		}
		if n, err := NormalizeRegion(p.Region); err == nil && n != p.Region {
			add("%s: region must be the ARM name %q", where, n)
		}
		if _, err := lookupVM(c.vms, p.VM); err != nil {
			add("%s: %v", where, err)
		}
		k := p.key() + "|" + p.Currency
		if seen[k] {
			add("%s: listed twice", where)
		}
		seen[k] = true
		if err := c.checkSource(p.Source); err != nil {
			add("%s: %v", where, err)
		}
		if p.AsOf.IsZero() {
			add("%s: no as_of date", where)
		}
	}
	return errors.Join(errs...)
}

// CheckDates reports rows dated after now: a catalog date is when a fact
// was observed, so it cannot be in the future.
func (c *Catalog) CheckDates(now time.Time) error {
	today := DateOf(now)
	var errs []error
	check := func(what string, d Date) {
		if d.After(today) {
			errs = append(errs, fmt.Errorf("%s: as_of %s is after today (%s)", what, d, today))
		}
	}
	for _, g := range c.gpus {
		check("GPU "+g.ID, g.AsOf)
		for _, m := range g.Measured {
			check("GPU "+g.ID+" measurement", m.AsOf)
		}
	}
	for _, v := range c.vms {
		check("VM size "+v.Name, v.AsOf)
	}
	for _, p := range c.profiles {
		check("Container Apps profile "+p.Type, p.AsOf)
	}
	for _, p := range append(append([]Price(nil), c.prices...), c.user...) {
		check("price "+p.VM+"/"+p.Region+"/"+string(p.Kind), p.AsOf)
	}
	return errors.Join(errs...)
}
