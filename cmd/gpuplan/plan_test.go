package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/plan"
)

var planArgs = []string{"plan", "llama-3.1-8b-instruct", "--context", "8192", "--concurrency", "32", "--input-tokens", "1000", "--output-tokens", "200", "--tpot-slo-ms", "50", "--managed", "gpt-4.1-mini", "--top", "5"}

func TestPlanGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"plan-llama8b.txt", planArgs},
		{"plan-llama8b.json", append(append([]string(nil), planArgs...), "-o", "json")},
		{"plan-llama70b-rps.txt", []string{"plan", "llama-3.1-70b-instruct", "--context", "8192", "--rps", "2", "--input-tokens", "2000", "--output-tokens", "300", "--ttft-slo-ms", "2000", "--tpot-slo-ms", "60", "--precision", "bf16,fp8", "--top", "5"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			goldenFile(t, tt.name, out)
		})
	}
}

// The first row's money, recomputed by hand from its own JSON fields: the
// VM price × count × 730 h, and the hour's cost over the tokens the load
// sends in an hour.
func TestPlanJSONMoneyByHand(t *testing.T) {
	out, errOut, code := run(t, append(append([]string(nil), planArgs...), "-o", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res planOutput
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Currency != "USD" || res.PricesAsOf == "" {
		t.Errorf("currency %q, prices_as_of %q", res.Currency, res.PricesAsOf)
	}
	c := res.Rows[0].Candidate
	perHour, perMonth := *c.Prices.USDPerHour, *c.Prices.USDPerMonth
	if math.Abs(perMonth-perHour*730) > 1e-6 {
		t.Errorf("$/month %v ≠ $/hour %v × 730", perMonth, perHour)
	}
	tokensPerHour := c.Predictions.RequestsPerS * 1200 * 3600
	if want := perHour / tokensPerHour * 1e6; math.Abs(*c.Prices.USDPerMillionTokens-want)/want > 1e-9 {
		t.Errorf("$/Mtok %v, want %v", *c.Prices.USDPerMillionTokens, want)
	}
	// The row cites the price book's own row for its VM and region: the
	// same date and source (the test options use no refreshed cache).
	want, ok := hardware.Prices().PAYG(c.VM, res.Region)
	if !ok {
		t.Fatalf("no embedded pay-as-you-go price for %s in %s", c.VM, res.Region)
	}
	if c.Prices.PriceAsOf != want.AsOf.String() || c.Prices.PriceSource != want.Source || want.Source == "" {
		t.Errorf("row price as of %q from %q, want the book's %q from %q", c.Prices.PriceAsOf, c.Prices.PriceSource, want.AsOf, want.Source)
	}
	if *c.Prices.USDPerHour != want.USDPerHour*float64(c.VMCount) {
		t.Errorf("$/hour %v, want the book's %v × %d VMs", *c.Prices.USDPerHour, want.USDPerHour, c.VMCount)
	}
	if len(res.Managed) != 1 || res.Managed[0].Comparison.Estimate.PTU <= 0 {
		t.Errorf("managed rows: %+v", res.Managed)
	}
}

func TestPlanSaveAndErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	_, errOut, code := run(t, append(append([]string(nil), planArgs...), "--save", path, "--pick", "2")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c, err := plan.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rank != 2 || c.GPUPlanVersion != version || c.Engine.MaxModelLen != 8192 || c.Workload.InputTokens != 1000 {
		t.Errorf("saved candidate %+v", c)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"plan", "llama-3.1-8b", "--input-tokens", "10", "--output-tokens", "10"}, exitUsage, "exactly one of --concurrency and --rps"},
		{[]string{"plan", "llama-3.1-8b", "--concurrency", "1"}, exitUsage, "--input-tokens and --output-tokens"},
		{[]string{"plan", "llama-3.1-8b", "--concurrency", "1", "--input-tokens", "10", "--output-tokens", "10", "--pricing", "monthly"}, exitUsage, "--pricing"},
		{[]string{"plan", "llama-3.1-8b", "--concurrency", "1", "--input-tokens", "10", "--output-tokens", "10", "--region", "east-us!"}, exitUsage, "east-us!"},
		{[]string{"plan", "llama-3.1-8b", "--concurrency", "1", "--input-tokens", "10", "--output-tokens", "10", "--tpot-slo-ms", "0.001"}, exitInfeasible, "no feasible plan"},
		{append(append([]string(nil), planArgs...), "--save", path, "--pick", "99"), exitUsage, "--pick"},
	} {
		out, errOut, code := run(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q lacks %q", tt.args, code, tt.code, errOut, tt.msg)
		}
		if tt.code == exitInfeasible && !strings.Contains(out, "Why not") {
			t.Errorf("infeasible plan printed no why-not lines:\n%s", out)
		}
	}
}
