package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/cost/guide"
	"github.com/gpuplan/gpuplan/hardware"
)

func TestGuideGolden(t *testing.T) {
	checkGoldenRuns(t, runCost, []goldenRun{
		{"guide.txt", []string{"guide"}, exitOK},
		{"guide.json", []string{"guide", "-o", "json"}, exitOK},
	})
}

// TestGuideJSON traces the "70B (fast)" row's $/hour to its price row and
// checks the money conventions.
func TestGuideJSON(t *testing.T) {
	out, errOut, code := runCost(t, "guide", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var g guide.Guide
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatal(err)
	}
	if g.Currency != "USD" || g.PricesAsOf.String() != "2026-05-20" || g.Context != 8192 || g.Concurrency != 1 {
		t.Fatalf("header: %s %s %d %d", g.Currency, g.PricesAsOf, g.Context, g.Concurrency)
	}
	var fast *guide.Row
	for i := range g.Rows {
		if g.Rows[i].SizeClass == "70B (fast)" {
			fast = &g.Rows[i]
		}
	}
	if fast == nil || fast.Pick == nil {
		t.Fatal("no 70B (fast) pick")
	}
	// hardware/data/prices.yaml row: Standard_NC40ads_H100_v5, eastus,
	// payg, usd_per_hour 6.98, as_of 2026-11-09, source datareceipts-109.
	row, ok := hardware.Prices().PAYG("Standard_NC40ads_H100_v5", "eastus")
	p := fast.Pick
	if !ok || p.VM != row.VM || p.USDPerHour == nil || *p.USDPerHour != 6.98 || *p.USDPerHour != row.USDPerHour || p.PriceAsOf != row.AsOf {
		t.Errorf("pick %s at %v as of %s; price row %+v", p.VM, p.USDPerHour, p.PriceAsOf, row)
	}
	// Unknown prices are null in JSON, with the override named.
	for _, r := range g.Rows {
		if r.ReferenceVM.USDPerHour == nil && !strings.Contains(r.ReferenceVM.PriceUnknown, "--catalog") {
			t.Errorf("%s: unknown price without the override: %q", r.SizeClass, r.ReferenceVM.PriceUnknown)
		}
	}
	if !strings.Contains(out, `"usd_per_hour": null`) || !strings.Contains(out, `"rule_with_overhead_bytes"`) {
		t.Error("JSON lacks null prices or byte-suffixed keys")
	}
}

func TestGuideUsage(t *testing.T) {
	for _, args := range [][]string{
		{"guide", "extra"},
		{"guide", "--context", "0"},
		{"guide", "--context", "1000000"},
		{"guide", "--engine", "nope"},
	} {
		if _, errOut, code := runCost(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errOut)
		}
	}
}
