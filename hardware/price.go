package hardware

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// PriceKind is how a VM is bought.
type PriceKind string

// Price kinds. Reservation prices are converted to an hourly figure over
// the whole term; savings-plan prices are hourly as the API gives them.
const (
	PAYG          PriceKind = "payg"
	Spot          PriceKind = "spot"
	Reserved1Y    PriceKind = "reserved-1y"
	Reserved3Y    PriceKind = "reserved-3y"
	SavingsPlan1Y PriceKind = "savings-plan-1y"
	SavingsPlan3Y PriceKind = "savings-plan-3y"
)

// PriceKinds lists the kinds in display order.
var PriceKinds = []PriceKind{PAYG, Spot, Reserved1Y, Reserved3Y, SavingsPlan1Y, SavingsPlan3Y}

// PricingChoices lists the values ParsePricing reads (--pricing): the
// kinds a buyer picks between, by their short names.
func PricingChoices() []string { return []string{"payg", "spot", "1y", "3y"} }

// ParsePricing reads a --pricing value, case-insensitively; "" is
// pay-as-you-go and reserved-1y, reserved-3y are the long names.
func ParsePricing(s string) (PriceKind, error) {
	switch strings.ToLower(s) {
	case "payg", "":
		return PAYG, nil
	case "spot":
		return Spot, nil
	case "1y", "reserved-1y":
		return Reserved1Y, nil
	case "3y", "reserved-3y":
		return Reserved3Y, nil
	}
	return "", fmt.Errorf("unknown pricing %q (use payg, spot, 1y or 3y)", s)
}

// HoursPerMonth is the month used for monthly figures: Azure's pricing
// calculator and the Retail Prices docs use 730 hours (8,760 / 12).
const HoursPerMonth = 730

// Hours in reservation terms: 1 year = 8,760 h, 3 years = 26,280 h, the
// divisors that turn the API's whole-term Reservation retailPrice into an
// hourly rate (Retail Prices API,
// https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices).
const (
	hours1Y = 8760
	hours3Y = 26280
)

// Price is one hourly price of a VM size in a region.
type Price struct {
	// VM is the ARM size name.
	VM string `json:"vm"`
	// Region is the ARM region name ("eastus").
	Region string    `json:"region"`
	Kind   PriceKind `json:"kind"`
	// USDPerHour is the hourly price, Linux. The embedded book and the
	// default refresh are in US dollars; a cache refreshed with --currency
	// holds that currency's amount here and says so in Currency, and the
	// planner only asks for USD.
	USDPerHour float64 `json:"usd_per_hour"`
	Currency   string  `json:"currency"`
	// TermTotal is the whole-term price of a reservation, as the API
	// states it (USDPerHour = TermTotal / TermHours); zero otherwise.
	TermTotal float64 `json:"term_total,omitempty"`
	TermHours int     `json:"term_hours,omitempty"`
	// EffectiveFrom is the API's effectiveStartDate, when known.
	EffectiveFrom Date `json:"effective_from,omitempty"`
	// Meter is the API meterName the row came from, when known.
	Meter string `json:"meter,omitempty"`
	// AsOf is the day the price was observed (the refresh date for cached
	// API prices, the capture date for embedded ones).
	AsOf   Date   `json:"as_of"`
	Source string `json:"source"`
	Note   string `json:"note,omitempty"`
}

// MonthlyUSD is the price for HoursPerMonth hours.
func (p Price) MonthlyUSD() float64 { return p.USDPerHour * HoursPerMonth }

// key identifies a price row for overriding.
func (p Price) key() string {
	return strings.ToLower(p.VM) + "|" + p.Region + "|" + string(p.Kind)
}

func validKind(k PriceKind) bool {
	for _, x := range PriceKinds {
		if x == k {
			return true
		}
	}
	return false
}

// PriceBook is a set of prices with a lookup by (VM, region, kind).
type PriceBook struct {
	Prices []Price `json:"prices"`
}

// Lookup returns the price of vm in region of the given kind and currency.
func (b PriceBook) Lookup(vm, region string, kind PriceKind, currency string) (Price, bool) {
	k := Price{VM: vm, Region: region, Kind: kind}.key()
	for _, p := range b.Prices {
		if p.key() == k && strings.EqualFold(p.Currency, currency) {
			return p, true
		}
	}
	return Price{}, false
}

// PAYG returns the Linux pay-as-you-go USD price of vm in region.
func (b PriceBook) PAYG(vm, region string) (Price, bool) {
	return b.Lookup(vm, region, PAYG, "USD")
}

// Filter returns the rows matching vm and region ("" matches any),
// case-insensitive on the VM name.
func (b PriceBook) Filter(vm, region string) []Price {
	var out []Price
	for _, p := range b.Prices {
		if vm != "" && !strings.EqualFold(p.VM, vm) {
			continue
		}
		if region != "" && p.Region != region {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Regions returns the regions with at least one price, sorted.
func (b PriceBook) Regions() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range b.Prices {
		if !seen[p.Region] {
			seen[p.Region] = true
			out = append(out, p.Region)
		}
	}
	sort.Strings(out)
	return out
}

// OldestAsOf returns the earliest AsOf among prices (zero if none): the
// date to print as prices_as_of.
func OldestAsOf(prices []Price) Date {
	dates := make([]Date, len(prices))
	for i, p := range prices {
		dates[i] = p.AsOf
	}
	return OldestDate(dates...)
}

// OldestDate returns the earliest of dates, ignoring unset ones (zero if
// none). Every "prices as of" in gpuplan's outputs is computed with it.
func OldestDate(dates ...Date) Date {
	var d Date
	for _, x := range dates {
		if !x.IsZero() && (d.IsZero() || x.Before(d)) {
			d = x
		}
	}
	return d
}

// StaleAfter is the age past which `gpuplan prices` and `plan` say, once,
// that the prices used may be out of date. Azure changes GPU list prices
// rarely (the embedded table's PAYG values did not move between its
// April and May 2026 captures and matched later captures in August and
// September), so a quarter keeps the line meaningful without nagging.
const StaleAfter = 90 * 24 * time.Hour

// Stale reports whether a price observed on asOf is older than StaleAfter
// at now.
func Stale(asOf Date, now time.Time) bool {
	return !asOf.IsZero() && now.Sub(asOf.Time()) > StaleAfter
}

// Overlay replaces rows of b that share VM, region, kind and currency with
// rows of o, and adds the rest; the result is sorted.
func (b PriceBook) Overlay(o []Price) PriceBook {
	idx := map[string]int{}
	out := append([]Price(nil), b.Prices...)
	for i, p := range out {
		idx[p.key()+"|"+strings.ToUpper(p.Currency)] = i
	}
	for _, p := range o {
		k := p.key() + "|" + strings.ToUpper(p.Currency)
		if i, ok := idx[k]; ok {
			out[i] = p
			continue
		}
		idx[k] = len(out)
		out = append(out, p)
	}
	sortPrices(out)
	return PriceBook{Prices: out}
}

func sortPrices(ps []Price) {
	order := map[PriceKind]int{}
	for i, k := range PriceKinds {
		order[k] = i
	}
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.VM != b.VM {
			return a.VM < b.VM
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Kind != b.Kind {
			return order[a.Kind] < order[b.Kind]
		}
		return a.Currency < b.Currency
	})
}

// checkPrice validates one row.
func checkPrice(p Price) error {
	switch {
	case p.VM == "":
		return fmt.Errorf("price without vm")
	case p.Region == "":
		return fmt.Errorf("price of %s without region", p.VM)
	case !validKind(p.Kind):
		return fmt.Errorf("price of %s in %s: unknown kind %q (use %v)", p.VM, p.Region, p.Kind, PriceKinds)
	case !(p.USDPerHour > 0) || p.USDPerHour > 1e6:
		return fmt.Errorf("price of %s in %s (%s): %v per hour is not a plausible price", p.VM, p.Region, p.Kind, p.USDPerHour)
	case p.Currency == "":
		return fmt.Errorf("price of %s in %s (%s) without currency", p.VM, p.Region, p.Kind)
	}
	if _, err := NormalizeRegion(p.Region); err != nil {
		return err
	}
	return nil
}

// Prices returns the catalog's price book without the refresh cache: the
// embedded snapshot with --catalog (Merge, SetPrices) rows laid over it.
// Use PricesWithCache for what commands and the planner should price with.
func (c *Catalog) Prices() PriceBook {
	return PriceBook{Prices: c.prices}.Overlay(c.user)
}

// PricesWithCache returns the effective price book: the embedded snapshot,
// overridden by the refresh cache's rows, overridden by --catalog rows
// (the user stated those explicitly). Rows match on VM, region, kind and
// currency.
func (c *Catalog) PricesWithCache(cache []Price) PriceBook {
	return PriceBook{Prices: c.prices}.Overlay(cache).Overlay(c.user)
}

// LoadPrices returns c.PricesWithCache for the cache of currency in dir.
// A missing cache is not a problem; an unreadable one is reported as a
// warning and skipped, since the embedded snapshot still works.
func (c *Catalog) LoadPrices(dir, currency string) (book PriceBook, cache *PriceCache, warnings []string) {
	pc, found, err := LoadPriceCache(dir, currency)
	if err != nil {
		return c.Prices(), nil, []string{err.Error()}
	}
	if !found {
		return c.Prices(), nil, nil
	}
	return c.PricesWithCache(pc.Prices), &pc, nil
}

// SetPrices overlays rows onto the catalog's user prices (same VM, region,
// kind and currency replace; others are added). Rows are validated first.
func (c *Catalog) SetPrices(rows []Price) error {
	for _, p := range rows {
		if err := checkPrice(p); err != nil {
			return err
		}
		if _, err := lookupVM(c.vms, p.VM); err != nil {
			return err
		}
	}
	c.user = PriceBook{Prices: c.user}.Overlay(rows).Prices
	return nil
}

// Prices returns the embedded price snapshot.
func Prices() PriceBook { return Default().Prices() }
