package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/hardware"
)

func TestPricesGolden(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"prices.txt", []string{"prices", "--region", "westeurope"}},
		{"prices.json", []string{"prices", "--region", "eastus", "-o", "json"}},
		{"prices-h100-eastus.txt", []string{"prices", "--region", "East US", "--vm", "nd96isr_h100_v5"}},
		{"prices-h200.txt", []string{"prices", "--vm", "nd96isr_h200_v5"}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			out, errOut, code := runHW(t, t.TempDir(), c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			goldenFile(t, c.golden, out)
			if !strings.HasSuffix(c.golden, ".json") {
				for _, line := range strings.Split(out, "\n") {
					if n := len([]rune(line)); n > 120 {
						t.Errorf("line of %d columns (sources go below the table): %s", n, line)
					}
				}
			}
			// The table of 2026-05-20 is more than 90 days before the pinned
			// clock (2026-11-27): one line says so, with dates, not ages.
			if c.golden == "prices-h100-eastus.txt" {
				// eastus H100 rows were re-observed in September and November.
				if errOut != "" {
					t.Errorf("no stale line expected: %q", errOut)
				}
				return
			}
			if strings.Count(errOut, "warning:") != 1 || !strings.Contains(errOut, "oldest 2026-05-20") || strings.Contains(out, "(stale)") {
				t.Errorf("want one stale line and no per-row flags: %q", errOut)
			}
		})
	}
}

func TestPricesJSONValues(t *testing.T) {
	out, _, code := runHW(t, t.TempDir(), "prices", "--vm", "Standard_ND96isr_H100_v5", "--region", "eastus", "-o", "json")
	if code != 0 {
		t.Fatal(code)
	}
	var doc hardware.PricesReport
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Currency != "USD" || doc.PricesAsOf == nil || *doc.PricesAsOf != "2026-09-16" || doc.StaleAfterDays != 90 || doc.Cache != nil {
		t.Errorf("header = %+v", doc)
	}
	if len(doc.Prices) != 2 {
		t.Fatalf("rows = %+v", doc.Prices)
	}
	spot := doc.Prices[1]
	// 18.169536 $/h over 8 GPUs = 2.271192 $/GPU-hour; 72 days old on
	// 2026-11-27, so not stale.
	if spot.Kind != "spot" || *spot.USDPerHour != 18.169536 || *spot.USDPerGPUHour != 2.271192 || spot.Stale || spot.PriceAsOf != "2026-09-16" {
		t.Errorf("spot row = %+v", spot)
	}
	if doc.Prices[0].Stale {
		t.Error("the 2026-11-09 row is not stale on 2026-11-27")
	}
}

// retailPage is one Retail Prices page in the documented envelope: a Linux
// PAYG row with savings plans, its Windows twin (dropped) and a 1-year
// reservation of 17,520 USD for the term (17,520 / 8,760 h = 2.0 USD/h).
const retailPage = `{"BillingCurrency":"USD","CustomerEntityId":"Default","CustomerEntityType":"Retail","Items":[
{"currencyCode":"USD","retailPrice":3.5,"unitPrice":3.5,"armRegionName":"eastus","location":"US East","effectiveStartDate":"2025-01-01T00:00:00Z","meterName":"NC24ads A100 v4","productName":"Virtual Machines NCadsv4 Series","skuName":"NC24ads A100 v4","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","isPrimaryMeterRegion":true,"armSkuName":"Standard_NC24ads_A100_v4","savingsPlan":[{"unitPrice":2.5,"retailPrice":2.5,"term":"1 Year"},{"unitPrice":1.75,"retailPrice":1.75,"term":"3 Years"}]},
{"currencyCode":"USD","retailPrice":4.4,"unitPrice":4.4,"armRegionName":"eastus","location":"US East","effectiveStartDate":"2025-01-01T00:00:00Z","meterName":"NC24ads A100 v4","productName":"Virtual Machines NCadsv4 Series Windows","skuName":"NC24ads A100 v4","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","isPrimaryMeterRegion":true,"armSkuName":"Standard_NC24ads_A100_v4"},
{"currencyCode":"USD","retailPrice":17520,"unitPrice":17520,"reservationTerm":"1 Year","armRegionName":"eastus","location":"US East","effectiveStartDate":"2025-01-01T00:00:00Z","meterName":"NC24ads A100 v4","productName":"Virtual Machines NCadsv4 Series","skuName":"NC24ads A100 v4","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Reservation","isPrimaryMeterRegion":true,"armSkuName":"Standard_NC24ads_A100_v4"}
],"NextPageLink":null,"Count":3}`

func TestPricesRefreshThenShow(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Query().Get("$filter") != "serviceName eq 'Virtual Machines' and armSkuName eq 'Standard_NC24ads_A100_v4' and armRegionName eq 'eastus'" {
			http.Error(w, "unexpected filter "+r.URL.Query().Get("$filter"), http.StatusBadRequest)
			return
		}
		w.Write([]byte(retailPage))
	}))
	defer srv.Close()
	dir := t.TempDir()
	out, errOut, code := runHW(t, dir, "prices", "refresh", "--region", "eastus", "--vm", "nc24ads_a100_v4", "--api-url", srv.URL+"/api/retail/prices")
	if code != 0 {
		t.Fatalf("refresh exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "prices: [1/1] Standard_NC24ads_A100_v4 page 1: 3 rows (0.0 MB read, ") {
		t.Errorf("progress = %q", errOut)
	}
	if !strings.Contains(out, "Fetched 4 Linux prices (1 payg, 1 reserved-1y, 1 savings-plan-1y, 1 savings-plan-3y) as of 2026-11-27.") {
		t.Errorf("summary = %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "prices-USD.json")); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runHW(t, dir, "prices", "--vm", "Standard_NC24ads_A100_v4", "-o", "json")
	if code != 0 {
		t.Fatalf("prices exit %d: %s", code, errOut)
	}
	var doc hardware.PricesReport
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, p := range doc.Prices {
		if p.Region != "eastus" {
			continue // the embedded table's other regions stay
		}
		got[p.Region+"/"+p.Kind] = *p.USDPerHour
		if p.Region == "eastus" && p.Kind != "spot" && p.PriceAsOf != "2026-11-27" {
			t.Errorf("refreshed row dated %s", p.PriceAsOf)
		}
	}
	// eastus spot is not in the refreshed page: the embedded 0.746721 stays.
	want := map[string]float64{"eastus/payg": 3.5, "eastus/spot": 0.746721, "eastus/reserved-1y": 2.0, "eastus/savings-plan-1y": 2.5, "eastus/savings-plan-3y": 1.75}
	if len(got) != len(want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if doc.Cache == nil || doc.Cache.Rows != 4 || doc.Cache.RefreshedAt != "2026-11-27T12:00:00Z" {
		t.Errorf("cache info = %+v", doc.Cache)
	}
	// gpus now prices the size from the cache (3.5 replaces the snapshot's 3.673).
	out, _, _ = runHW(t, dir, "gpus", "a100-80gb-pcie", "-o", "json")
	if !strings.Contains(out, `"usd_per_hour": 3.5,`) {
		t.Errorf("gpus does not use the refreshed price:\n%s", out)
	}
}

func TestPricesRefreshFailureLeavesCache(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Not retried (a client error), so the test needs no backoff waits;
		// retries of 429/5xx/truncated pages are tested in package hardware.
		http.Error(w, "Invalid filter", http.StatusBadRequest)
	}))
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prices-USD.json"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runHW(t, dir, "prices", "refresh", "--vm", "Standard_NC24ads_A100_v4", "--api-url", srv.URL)
	if code != exitError || !strings.Contains(errOut, "cache left unchanged") || !strings.Contains(errOut, "HTTP 400 from the price API: Invalid filter") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "prices-USD.json")); string(b) != "keep me" {
		t.Errorf("cache was modified: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftover files: %v", entries)
	}
}

// TestPricesRefreshDeadline: a server that never answers is given up on
// at --deadline, not after minutes of per-request timeouts and retries.
func TestPricesRefreshDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	start := time.Now()
	_, errOut, code := runHW(t, dir, "prices", "refresh", "--vm", "Standard_NC24ads_A100_v4", "--api-url", srv.URL, "--deadline", "300ms")
	if code != exitError || !strings.Contains(errOut, "did not finish within --deadline 300ms (cache left unchanged)") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v with --deadline 300ms", d)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
}

func TestPricesUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--offline", "prices", "refresh"}, "needs the network"},
		{[]string{"prices", "--vm", "Standard_Nope_v1"}, "unknown Azure VM size"},
		{[]string{"prices", "refresh", "--vm", "Standard_Nope_v1"}, "unknown Azure VM size"},
		{[]string{"prices", "refresh", "--currency", "dollars"}, "ISO 4217"},
		{[]string{"prices", "--region", "east us!"}, "region"},
		{[]string{"prices", "refresh", "--deadline", "0s"}, "--deadline"},
		{[]string{"prices", "refresh", "--timeout", "-1s"}, "--timeout"},
		{[]string{"prices", "--currency", "/../../X"}, "ISO 4217"},
	}
	for _, c := range cases {
		_, errOut, code := runHW(t, t.TempDir(), c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want usage error with %q", c.args, code, errOut, c.want)
		}
	}
}

func TestPricesCorruptCacheWarnsAndFallsBack(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prices-USD.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runHW(t, dir, "prices", "--vm", "Standard_NC40ads_H100_v5")
	if code != 0 || !strings.Contains(errOut, "unreadable") || !strings.Contains(out, "6.980") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}

// TestPricesEveryPricedSize: with the embedded data only, `prices` lists a
// Linux pay-as-you-go price for every catalog size but GB300, which is
// listed as unpriced; westeurope prices T4, A10 v5, A100 and H100 sizes.
func TestPricesEveryPricedSize(t *testing.T) {
	out, _, code := runHW(t, t.TempDir(), "prices", "-o", "json")
	if code != 0 {
		t.Fatal(code)
	}
	var doc hardware.PricesReport
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	payg := map[string]bool{}
	noDiscount := map[string]bool{}
	for _, p := range doc.Prices {
		if p.Kind == "payg" {
			payg[p.VM] = true
		}
		if p.NoSpotDiscount {
			noDiscount[p.VM] = true
		}
	}
	if len(payg) != 30 || len(doc.Unpriced) != 1 || doc.Unpriced[0] != "Standard_ND128isr_GB300_v6" {
		t.Errorf("%d sizes priced, unpriced %v; want 30 and [Standard_ND128isr_GB300_v6]", len(payg), doc.Unpriced)
	}
	// The reference's spot = PAYG sizes (H200, GB200 everywhere).
	for _, vm := range []string{"Standard_ND96isr_H200_v5", "Standard_ND128isr_NDR_GB200_v6"} {
		if !noDiscount[vm] {
			t.Errorf("%s spot rows not marked as no spot discount", vm)
		}
	}
	out, _, _ = runHW(t, t.TempDir(), "prices", "--region", "westeurope", "-o", "json")
	doc = hardware.PricesReport{}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"Standard_NC4as_T4_v3": 0, "Standard_NV36ads_A10_v5": 0, "Standard_NC24ads_A100_v4": 0, "Standard_NC40ads_H100_v5": 0}
	for _, p := range doc.Prices {
		if _, ok := want[p.VM]; ok && p.Kind == "payg" {
			want[p.VM] = *p.USDPerHour
		}
	}
	for vm, v := range want {
		if v <= 0 {
			t.Errorf("no westeurope PAYG for %s", vm)
		}
	}
}
