package hardware

import (
	"encoding/csv"
	"os"
	"strconv"
	"testing"
)

// refPrice is a row of testdata/azure-gpu-prices.csv (see its README).
type refPrice struct {
	vm, region, payg, spot, repo, path, commit, date string
}

func loadRefPrices(t *testing.T) []refPrice {
	t.Helper()
	f, err := os.Open("testdata/azure-gpu-prices.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 722 {
		t.Fatalf("reference has %d rows, want 721 and a header", len(recs)-1)
	}
	var out []refPrice
	for _, r := range recs[1:] {
		out = append(out, refPrice{r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]})
	}
	return out
}

// notInCatalog are reference sizes the catalog does not carry, and why.
var notInCatalog = map[string]string{
	"Standard_ND96is_MI300X_v5": "Microsoft's size pages document only ND96isr_MI300X_v5",
	"Standard_ND96is_H100_v5":   "prices only from 2023-2024 SkyPilot data; not a current size",
}

// TestEmbeddedPricesMatchReference checks every embedded PAYG and spot
// price against the compiled reference table, row by row: value, source
// URL (repository, commit and file) and date, or a later date where
// data/prices.yaml re-observed the same value.
func TestEmbeddedPricesMatchReference(t *testing.T) {
	book := Default().Prices()
	matched := 0
	for _, r := range loadRefPrices(t) {
		if _, err := LookupVM(r.vm); err != nil {
			if notInCatalog[r.vm] == "" {
				t.Errorf("%s is priced in the reference but not in the catalog", r.vm)
			}
			continue
		}
		var paygV float64
		for _, c := range []struct {
			kind PriceKind
			cell string
		}{{PAYG, r.payg}, {Spot, r.spot}} {
			p, ok := book.Lookup(r.vm, r.region, c.kind, "USD")
			if c.cell == "" {
				if ok {
					t.Errorf("%s %s %s: embedded %v, reference has no price", r.vm, r.region, c.kind, p.USDPerHour)
				}
				continue
			}
			want, err := strconv.ParseFloat(c.cell, 64)
			if err != nil {
				t.Fatal(err)
			}
			if c.kind == PAYG {
				paygV = want
			}
			if !ok || p.USDPerHour != want {
				t.Errorf("%s %s %s = %v (found %v), reference %v", r.vm, r.region, c.kind, p.USDPerHour, ok, want)
				continue
			}
			matched++
			refDate := MustDate(r.date)
			url := "https://github.com/" + r.repo + "/blob/" + r.commit + "/" + r.path
			switch {
			case p.Source == url && p.AsOf == refDate:
			case p.AsOf.After(refDate):
				// a later observation of the same value (data/prices.yaml)
			default:
				t.Errorf("%s %s %s: source %q as of %s, want %q as of %s (or a later date)", r.vm, r.region, c.kind, p.Source, p.AsOf, url, refDate)
			}
			if c.kind == Spot && p.NoSpotDiscount() != (want == paygV) {
				t.Errorf("%s %s spot %v vs payg %v: NoSpotDiscount() = %v", r.vm, r.region, want, paygV, p.NoSpotDiscount())
			}
		}
	}
	// Nothing beyond the reference: every embedded row was matched once.
	if matched != len(book.Prices) {
		t.Errorf("matched %d reference prices, the book has %d rows", matched, len(book.Prices))
	}
}

// TestWindowsPricesFixed pins the three eastus rows that earlier captures
// listed at Windows prices (Linux + 0.046 × vCPUs).
func TestWindowsPricesFixed(t *testing.T) {
	for _, c := range []struct {
		vm            string
		linux, window float64
	}{
		{"Standard_NC48ads_A100_v4", 7.346, 9.554},
		{"Standard_NC96ads_A100_v4", 14.692, 19.108},
		{"Standard_NC80adis_H100_v5", 13.96, 17.64},
	} {
		p, ok := Prices().PAYG(c.vm, "eastus")
		if !ok || p.USDPerHour != c.linux {
			t.Errorf("%s eastus = %v, want Linux %v", c.vm, p.USDPerHour, c.linux)
		}
		v, _ := LookupVM(c.vm)
		if d := c.window - c.linux - 0.046*float64(v.VCPU); d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: Windows %v is not Linux %v + 0.046 × %d vCPUs", c.vm, c.window, c.linux, v.VCPU)
		}
	}
}

// TestEveryCatalogSizePricedButGB300: 29 of the catalog's original 30
// sizes (and the added NCC40ads) have a PAYG price somewhere; GB300 has none.
func TestEveryCatalogSizePricedButGB300(t *testing.T) {
	book := Prices()
	for _, v := range VMSizes() {
		priced := false
		for _, p := range book.Filter(v.Name, "") {
			priced = priced || p.Kind == PAYG
		}
		if want := v.Name != "Standard_ND128isr_GB300_v6"; priced != want {
			t.Errorf("%s priced = %v, want %v", v.Name, priced, want)
		}
	}
}
