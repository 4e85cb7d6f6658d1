package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/cost"
)

// runCost runs the CLI in-process with a pinned clock and an empty,
// private cache directory, so refreshed prices on the machine running the
// tests cannot change the output.
func runCost(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Options{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) },
		Getenv: func(k string) string {
			if k == "GPUPLAN_CACHE_DIR" {
				return dir
			}
			return ""
		},
	})
	return out.String(), errb.String(), code
}

var workedExample = []string{"ptu", "gpt-5.2", "--deployment", "datazone", "--rpm", "1000", "--input-tokens", "200", "--output-tokens", "20"}

func TestPTUGolden(t *testing.T) {
	checkGoldenRuns(t, runCost, []goldenRun{
		{"ptu-gpt52-datazone.txt", workedExample, exitOK},
		{"ptu-gpt52-datazone.json", append(append([]string(nil), workedExample...), "-o", "json"), exitOK},
		{"ptu-gpt41-avg.txt", []string{"ptu", "gpt-4.1", "--rpm", "60", "--input-tokens", "1800", "--output-tokens", "650", "--cache-rate", "0.2", "--avg-rpm", "40"}, exitOK},
		{"ptu-gpt41-hours.json", []string{"ptu", "gpt-4.1", "--rpm", "60", "--input-tokens", "1800", "--output-tokens", "650", "--cache-rate", "0.2", "--hours-per-day", "24", "-o", "json"}, exitOK},
		{"ptu-gpt4o-mini-minimum.yaml", []string{"ptu", "gpt-4o-mini", "--rpm", "20", "--input-tokens", "500", "--output-tokens", "100", "--hours-per-day", "8", "-o", "yaml"}, exitOK},
	})
}

// TestPTUWorkedExample checks Microsoft's worked example through the CLI's
// JSON: gpt-5.2 Data Zone, 1,000 RPM, 200 in / 20 out.
//
//	normalized TPM = 1,000 × 200 × (1 − c) + 8 × 1,000 × 20
//	c = 0:   200,000 + 160,000 = 360,000; ÷ 3,400 = 105.88 → 110 PTU
//	c = 0.5: 100,000 + 160,000 = 260,000; ÷ 3,400 = 76.47  → 80 PTU
//
// Monthly at 110 PTU (third-party prices): hourly 110 × $1.10 × 730 =
// $88,330; 1-month 110 × $260 = $28,600; 1-year 110 × $2,652 / 12 =
// $24,310.
func TestPTUWorkedExample(t *testing.T) {
	for _, tc := range []struct {
		cache      string
		normalized float64
		raw        float64
		ptu        int
	}{{"0", 360000, 105.88, 110}, {"0.5", 260000, 76.47, 80}} {
		out, errOut, code := runCost(t, append(append([]string(nil), workedExample...), "--cache-rate", tc.cache, "-o", "json")...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var v cost.PTUReport
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		s := v.Sizing
		if s.NormalizedTPM != tc.normalized || math.Round(s.RawPTU*100)/100 != tc.raw || s.PTU != tc.ptu || s.MinimumPTU != 15 || s.IncrementPTU != 5 {
			t.Errorf("cache %s: normalized %v, raw %v, PTU %d", tc.cache, s.NormalizedTPM, s.RawPTU, s.PTU)
		}
		if v.Currency != "USD" || v.PricesAsOf.String() != "2026-06-01" || v.PAYGMonthly.MonthlyUSD != nil || v.RuleOfThumb.Holds != nil {
			t.Errorf("money header: %s %s, PAYG %v, rule %v", v.Currency, v.PricesAsOf, v.PAYGMonthly.MonthlyUSD, v.RuleOfThumb.Holds)
		}
		if !strings.Contains(v.PAYGMonthly.Unknown, "--catalog") {
			t.Errorf("unknown PAYG should name the override: %q", v.PAYGMonthly.Unknown)
		}
		if tc.ptu == 110 {
			want := []float64{88330, 28600, 24310}
			for i, r := range v.PTUMonthly {
				if r.MonthlyUSD == nil || math.Abs(*r.MonthlyUSD-want[i]) > 1e-6 || !r.ThirdParty || r.PriceAsOf.String() != "2026-06-01" {
					t.Errorf("%s: %v", r.Term, r.MonthlyUSD)
				}
			}
		}
	}
	// The JSON carries units in its money keys and dates per row.
	out, _, _ := runCost(t, append(append([]string(nil), workedExample...), "-o", "json")...)
	for _, k := range []string{`"monthly_usd"`, `"unit_price_usd"`, `"price_as_of"`, `"prices_as_of"`, `"currency"`, `"normalized_tpm"`, `"threshold_usd"`} {
		if !strings.Contains(out, k) {
			t.Errorf("JSON lacks %s", k)
		}
	}
}

func TestPTUCatalogOverlay(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prices.yaml")
	err := os.WriteFile(path, []byte(`schema_version: 1
azure_openai:
  payg_prices:
  - {model: gpt-5.2, deployment: datazone, input_per_mtok: 1.925, output_per_mtok: 15.4, currency: USD, source: "https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/", as_of: "2026-11-20"}
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCost(t, append(append([]string(nil), workedExample...), "--catalog", path, "-o", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v cost.PTUReport
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	// 43,800,000 requests × (200 × $1.925 + 20 × $15.4) / 10^6 = 43.8 × 693
	// = $30,353.40; more than the 1-year reservation's $24,310, and above
	// $5K: the rule holds.
	p := v.PAYGMonthly
	if p.MonthlyUSD == nil || math.Abs(*p.MonthlyUSD-30353.4) > 1e-6 || p.ThirdParty || p.PriceAsOf.String() != "2026-11-20" {
		t.Fatalf("PAYG = %+v", p)
	}
	if v.RuleOfThumb.Holds == nil || !*v.RuleOfThumb.Holds || v.RuleOfThumb.CheapestPTUTerm != "reserved-1y" {
		t.Errorf("seed rule = %+v", v.RuleOfThumb)
	}
	// The oldest price used is still the third-party PTU price.
	if v.PricesAsOf.String() != "2026-06-01" {
		t.Errorf("prices_as_of = %s", v.PricesAsOf)
	}
	// A future date is a usage error.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`schema_version: 1
azure_openai: {payg_prices: [{model: gpt-5.2, deployment: datazone, input_per_mtok: 1, output_per_mtok: 8, currency: USD, source: "https://e.com", as_of: "2027-01-01"}]}`), 0o644)
	if _, errOut, code := runCost(t, append(append([]string(nil), workedExample...), "--catalog", bad)...); code != exitUsage || !strings.Contains(errOut, "after today") {
		t.Errorf("future as_of: exit %d, %s", code, errOut)
	}
}

func TestPTUUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no model", []string{"ptu", "--rpm", "1", "--input-tokens", "1"}, "exactly one MODEL"},
		{"unknown model", []string{"ptu", "gpt-9", "--rpm", "1", "--input-tokens", "1"}, "no provisioned-throughput parameters"},
		{"no rpm", []string{"ptu", "gpt-4.1", "--input-tokens", "1"}, "--rpm"},
		{"no tokens", []string{"ptu", "gpt-4.1", "--rpm", "5"}, "--input-tokens"},
		{"percent cache", []string{"ptu", "gpt-4.1", "--rpm", "5", "--input-tokens", "100", "--cache-rate", "50"}, "--cache-rate 50 is out of range (allowed: 0 to 1; a fraction, not a percentage"},
		{"both volumes", []string{"ptu", "gpt-4.1", "--rpm", "5", "--input-tokens", "100", "--avg-rpm", "2", "--hours-per-day", "8"}, "not both"},
		{"avg above peak", []string{"ptu", "gpt-4.1", "--rpm", "5", "--input-tokens", "100", "--avg-rpm", "6"}, "above the peak"},
		{"bad deployment", []string{"ptu", "gpt-4.1", "--rpm", "5", "--input-tokens", "100", "--deployment", "zonal"}, "unknown deployment"},
		{"not offered", []string{"ptu", "llama-3.3-70b-instruct", "--rpm", "5", "--input-tokens", "100", "--deployment", "regional"}, "not offered as Regional"},
		{"hours", []string{"ptu", "gpt-4.1", "--rpm", "5", "--input-tokens", "100", "--hours-per-day", "30"}, "at most 24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCost(t, tt.args...)
			if code != exitUsage || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, errOut, tt.msg)
			}
		})
	}
}
