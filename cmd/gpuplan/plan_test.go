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
	checkGoldenRuns(t, run, []goldenRun{
		{"plan-llama8b.txt", planArgs, exitOK},
		{"plan-llama8b.json", append(append([]string(nil), planArgs...), "-o", "json"), exitOK},
		{"plan-llama70b-rps.txt", []string{"plan", "llama-3.1-70b-instruct", "--context", "8192", "--rps", "2", "--input-tokens", "2000", "--output-tokens", "300", "--ttft-slo-ms", "2000", "--tpot-slo-ms", "60", "--precision", "bf16,fp8", "--top", "5"}, exitOK},
	})
}

// The first row's money, recomputed by hand from its own JSON fields: the
// VM price × count × 730 h, and the hour's cost over the tokens the load
// sends in an hour.
func TestPlanJSONMoneyByHand(t *testing.T) {
	out, errOut, code := run(t, append(append([]string(nil), planArgs...), "-o", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res plan.Report
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
	// Every row is costed for the request stream both sides serve.
	tokensPerHour := res.RequestsPerS * 1200 * 3600
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

// planJSON runs plan with -o json and decodes it.
func planJSON(t *testing.T, args ...string) (plan.Report, string, int) {
	t.Helper()
	out, errOut, code := run(t, append(append([]string{"plan"}, args...), "-o", "json")...)
	var res plan.Report
	if out != "" {
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	return res, errOut, code
}

// TestPlanREADMEExample: the README's example ranks the A100 row above
// the H100 NVL row (both meet the SLO; the A100 costs $2,681/month
// against $5,095), by the monthly bill, and says so in its header.
func TestPlanREADMEExample(t *testing.T) {
	out, errOut, code := run(t, planArgs...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	all, _, _ := planJSON(t, append(append([]string(nil), planArgs[1:]...), "--top", "0")...)
	rankOf := func(vm string) int {
		for _, row := range all.Rows {
			if row.Candidate.VM == vm && row.PriceKnown {
				return row.Rank
			}
		}
		return 0
	}
	if a100, h100 := rankOf("Standard_NC24ads_A100_v4"), rankOf("Standard_NC40ads_H100_v5"); a100 < 1 || h100 < 1 || a100 > h100 {
		t.Errorf("A100 row ranks %d, H100 NVL row %d; the cheaper bill should rank first", a100, h100)
	}
	for _, want := range []string{"Ranked by monthly bill for this load", "judged on the p90 predicted", "TTFT p90", "REGION", "quota StandardNCADSA100v4Family (24 vCPUs)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Every line fits 120 columns; long text is in the notes below.
	for _, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > 120 {
			t.Errorf("table line of %d columns: %s", len([]rune(line)), line)
		}
	}
	res, _, _ := planJSON(t, append(planArgs[1:], "--objective", "cost-per-token")...)
	if res.Objective != plan.ObjectiveCostPerToken || res.Rows[0].Candidate.VM != "Standard_NC40ads_H100_v5" {
		t.Errorf("cost-per-token ranks %s first (objective %s)", res.Rows[0].Candidate.VM, res.Objective)
	}
}

// TestPlanWhyNotAgreesWithRows walks the README's plan example and the
// issue's models: no why-not line names a family that has a priced row.
func TestPlanWhyNotAgreesWithRows(t *testing.T) {
	cases := [][]string{
		append(append([]string(nil), planArgs[1:]...), "--top", "0"),
		{"llama-3.1-70b-instruct", "--rps", "2", "--input-tokens", "2000", "--output-tokens", "300", "--ttft-slo-ms", "2000", "--region", "any"},
		{"qwen3-30b-a3b", "--context", "16384", "--concurrency", "8", "--input-tokens", "1000", "--output-tokens", "500"},
	}
	for _, args := range cases {
		res, errOut, code := planJSON(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		priced := map[string]bool{}
		for _, row := range res.Rows {
			if row.PriceKnown {
				priced[rowFamily(row)] = true
			}
			if row.IdleGPUs > 0 && !strings.Contains(row.Candidate.Reason, "idle") {
				t.Errorf("%s offers %d idle GPUs without saying so", row.Candidate.VM, row.IdleGPUs)
			}
		}
		for _, w := range res.WhyNot {
			if priced[w.Family] {
				t.Errorf("%s: why-not %s (%s) contradicts a priced row", args[0], w.Family, w.Reason)
			}
		}
	}
}

func rowFamily(row plan.Row) string {
	if row.Target == plan.TargetContainerApps {
		return "ContainerApps"
	}
	v, _ := hardware.LookupVM(row.Candidate.VM)
	return v.Series
}

// TestPlanFillsMultiGPUVMs: one TP-1 replica of Qwen3-30B-A3B does not buy
// an 8-GPU VM with 7 GPUs idle: the ND96isr H100 row runs 8 replicas.
func TestPlanFillsMultiGPUVMs(t *testing.T) {
	res, errOut, code := planJSON(t, "qwen3-30b-a3b", "--context", "16384", "--concurrency", "8", "--input-tokens", "1000", "--output-tokens", "500", "--vm", "Standard_ND96isr_H100_v5", "--top", "0")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, row := range res.Rows {
		c := row.Candidate
		if got := c.Replicas * c.GPUsPerReplica; got+row.IdleGPUs != int(c.GPUsPerVM)*c.VMCount || (c.NodesPerReplica == 1 && row.IdleGPUs != 0) {
			t.Errorf("%s TP %d: %d replicas use %d of %d GPUs, %d idle", c.VM, c.Engine.TP, c.Replicas, got, int(c.GPUsPerVM)*c.VMCount, row.IdleGPUs)
		}
		if c.Engine.TP == 1 && c.Replicas != 8*c.VMCount {
			t.Errorf("TP 1 on %d × 8 GPUs: %d replicas, want %d", c.VMCount, c.Replicas, 8*c.VMCount)
		}
	}
}

// TestPlanRegions: --region takes a list or any, rows say where they are
// priced, westeurope prices T4, A10 v5, A100 and H100 rows, and a region
// nobody knows is a usage error with close matches.
func TestPlanRegions(t *testing.T) {
	res, errOut, code := planJSON(t, "llama-3.1-8b-instruct", "--concurrency", "4", "--input-tokens", "500", "--output-tokens", "100", "--region", "westeurope", "--top", "0")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	pricedGPU := map[string]bool{}
	for _, row := range res.Rows {
		if row.Region != "westeurope" {
			t.Errorf("row priced in %s", row.Region)
		}
		if row.PriceKnown {
			pricedGPU[row.Candidate.GPU] = true
		}
	}
	for _, g := range []string{"t4", "a10", "a100-80gb-pcie", "h100-nvl"} {
		if !pricedGPU[g] {
			t.Errorf("no priced westeurope row on %s", g)
		}
	}
	// Two regions: each row is priced in the cheaper (eastus for these).
	res, _, _ = planJSON(t, "llama-3.1-8b-instruct", "--concurrency", "4", "--input-tokens", "500", "--output-tokens", "100", "--region", "westeurope,eastus", "--vm", "Standard_NC24ads_A100_v4")
	if len(res.Rows) == 0 || res.Rows[0].Region != "eastus" || *res.Rows[0].Candidate.Prices.USDPerHour != 3.673 {
		t.Errorf("two regions: %+v", res.Rows)
	}
	res, _, code = planJSON(t, "llama-3.1-8b-instruct", "--concurrency", "4", "--input-tokens", "500", "--output-tokens", "100", "--region", "any", "--vm", "Standard_ND96isr_H200_v5")
	if code != exitOK || len(res.Rows) == 0 || !res.Rows[0].PriceKnown || *res.Rows[0].Candidate.Prices.USDPerHour != 84.8 {
		t.Errorf("--region any: H200 should be priced at 84.8 in its cheapest region: %+v", res.Rows)
	}
	for _, c := range []struct{ region, want string }{
		{"westeuropa", "did you mean westeurope"},
		{"mars", "not a region"},
	} {
		_, errOut, code := run(t, "plan", "llama-3.1-8b-instruct", "--concurrency", "4", "--input-tokens", "500", "--output-tokens", "100", "--region", c.region)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("--region %s: exit %d, %q", c.region, code, errOut)
		}
	}
}

// TestPlanFlagsRejected: the new flags name themselves and their range.
func TestPlanFlagsRejected(t *testing.T) {
	base := []string{"plan", "llama-3.1-8b-instruct", "--concurrency", "4", "--input-tokens", "500", "--output-tokens", "100"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--pricing", "1y"}, "no 1-year reservation prices are known"},
		{[]string{"--pricing", "3y"}, "no 3-year reservation prices are known"},
		{[]string{"--objective", "cheap"}, "--objective"},
		{[]string{"--slo-percentile", "p42"}, "--slo-percentile"},
		{[]string{"--slo-confidence", "maybe"}, "--slo-confidence"},
		{[]string{"--target", "vm"}, "--target"},
		{[]string{"--gpu", "h900"}, "--gpu"},
		{[]string{"--vm", "Standard_X1"}, "--vm"},
		{[]string{"--think-time-s", "-1"}, "--think-time-s"},
	} {
		_, errOut, code := run(t, append(append([]string(nil), base...), c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q", c.args, code, errOut)
		}
	}
}

// TestPlanSimulatesByDefault: the README example's best rows carry
// simulated figures by default (speed_model "simulation", 2,000 requests,
// seed 1) and the rest the steady-state model's; --simulate=false keeps
// the steady-state model for every row; a bad value is a usage error.
func TestPlanSimulatesByDefault(t *testing.T) {
	args := append(append([]string(nil), planArgs[1:]...), "--top", "0")
	res, _, _ := planJSON(t, args...)
	simulated := 0
	for i, row := range res.Rows {
		p := row.Candidate.Predictions
		switch {
		case p.SpeedModel == plan.SpeedModelSimulation && p.Simulated && p.SimulatedRequests == 2000 && p.SimulationSeed == 1:
			simulated++
			if i >= 10 {
				t.Errorf("rank %d simulated; only the best rows are", row.Rank)
			}
		case p.SpeedModel == plan.SpeedModelSteadyState && !p.Simulated:
		default:
			t.Errorf("rank %d: speed_model %q, simulated %v, %d requests", row.Rank, p.SpeedModel, p.Simulated, p.SimulatedRequests)
		}
	}
	if simulated != 5 {
		t.Errorf("%d rows simulated, want 5", simulated)
	}
	off, _, _ := planJSON(t, append(args, "--simulate=false")...)
	for _, row := range off.Rows {
		if p := row.Candidate.Predictions; p.SpeedModel != plan.SpeedModelSteadyState || p.Simulated {
			t.Fatalf("--simulate=false: rank %d has speed_model %q", row.Rank, p.SpeedModel)
		}
	}
	if _, errOut, code := run(t, append(append([]string{"plan"}, planArgs[1:]...), "--simulate=maybe")...); code != exitUsage || !strings.Contains(errOut, "simulate") {
		t.Errorf("--simulate=maybe: exit %d, %q", code, errOut)
	}
}

// TestPlanNarrowing: --gpu, --vm and --target restrict the rows.
func TestPlanNarrowing(t *testing.T) {
	base := []string{"llama-3.1-8b-instruct", "--concurrency", "4", "--input-tokens", "500", "--output-tokens", "100", "--top", "0"}
	for _, c := range []struct {
		args []string
		ok   func(plan.Row) bool
	}{
		{[]string{"--gpu", "a10,t4"}, func(r plan.Row) bool { return r.Candidate.GPU == "a10" || r.Candidate.GPU == "t4" }},
		{[]string{"--vm", "NC24ads_A100_v4,Standard_NC40ads_H100_v5"}, func(r plan.Row) bool {
			return r.Candidate.VM == "Standard_NC24ads_A100_v4" || r.Candidate.VM == "Standard_NC40ads_H100_v5"
		}},
		{[]string{"--target", "kaito"}, func(r plan.Row) bool {
			v, _ := hardware.LookupVM(r.Candidate.VM)
			return v.KAITO == hardware.Yes && r.Target != plan.TargetContainerApps
		}},
		{[]string{"--target", "containerapps", "--hours-per-day", "8"}, func(r plan.Row) bool {
			return r.Target == plan.TargetContainerApps && !r.PriceKnown && r.FirstRequestTTFTMs > r.Candidate.Predictions.TTFTMs.P90
		}},
	} {
		res, errOut, code := planJSON(t, append(append([]string(nil), base...), c.args...)...)
		if code != exitOK || len(res.Rows) == 0 {
			t.Fatalf("%v: exit %d, %d rows: %s", c.args, code, len(res.Rows), errOut)
		}
		for _, row := range res.Rows {
			if !c.ok(row) {
				t.Errorf("%v: row %s (%s) should not be there", c.args, row.Candidate.VM, row.Target)
			}
		}
	}
}

// TestPlanManagedSameStream: the managed rows serve the request stream the
// self-hosted rows are costed for; they are printed even when no
// self-hosted row is feasible (exit 3 still), and say when the load's TPM
// is over the default quota.
func TestPlanManagedSameStream(t *testing.T) {
	res, errOut, code := planJSON(t, append(append([]string(nil), planArgs[1:]...), "--think-time-s", "10")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 32 users ÷ (10 s think + rank 1's mean response).
	want := 32 / (10 + res.Rows[0].Candidate.Predictions.E2EMs.Mean/1000)
	if math.Abs(res.RequestsPerS-want) > 1e-9 || len(res.Managed) != 1 || math.Abs(res.Managed[0].PeakRPM-want*60) > 1e-6 {
		t.Errorf("stream %v/s, managed %v/min; want %v/s on both sides", res.RequestsPerS, res.Managed, want)
	}
	out, _, code := run(t, "plan", "llama-3.1-405b-instruct", "--concurrency", "8", "--input-tokens", "1000", "--output-tokens", "200", "--tpot-slo-ms", "5", "--managed", "gpt-4o,gpt-4.1", "--deployment", "global")
	if code != exitInfeasible {
		t.Errorf("infeasible self-hosted plan: exit %d, want %d", code, exitInfeasible)
	}
	for _, want := range []string{"No self-hosted offer meets the request.", "gpt-4o        global", "gpt-4.1       global", "exceeds the default gpt-4o Global quota of 450,000 TPM"} {
		if !strings.Contains(out, want) {
			t.Errorf("infeasible plan output lacks %q:\n%s", want, out)
		}
	}
}

// TestPlanSaveDeployRunsEveryReplica: a plan that fills an 8-GPU VM with
// TP-1 replicas deploys all of them on that one VM.
func TestPlanSaveDeployRunsEveryReplica(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	_, errOut, code := run(t, "plan", "qwen3-30b-a3b", "--context", "16384", "--concurrency", "8", "--input-tokens", "1000", "--output-tokens", "500",
		"--vm", "Standard_ND96isr_H100_v5", "--precision", "bf16", "--save", path)
	if code != exitOK {
		t.Fatalf("plan exit %d: %s", code, errOut)
	}
	c, err := plan.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Engine.TP != 1 || c.VMCount != 1 || c.Replicas != 8 {
		t.Fatalf("saved plan: TP %d, %d VMs, %d replicas; want TP 1 filling one VM with 8 replicas", c.Engine.TP, c.VMCount, c.Replicas)
	}
	out, errOut, code := run(t, "deploy", "--plan", path, "--target", "aks", "--stdout", "--prometheus", "none")
	if code != exitOK {
		t.Fatalf("deploy exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "replicas: 8") || !strings.Contains(out, `nvidia.com/gpu: "1"`) {
		t.Errorf("deployment does not run the plan's 8 one-GPU replicas:\n%s", out)
	}
}

// TestPlanStaleAndSpot: one line (not one per row) says the prices are
// older than 90 days; spot rows whose meter equals pay-as-you-go say
// "no spot discount known".
func TestPlanStaleAndSpot(t *testing.T) {
	_, errOut, code := run(t, planArgs...)
	if code != exitOK || strings.Count(errOut, "Warning:") != 1 || !strings.Contains(errOut, "observed as early as 2026-05-20, more than 90 days before 2026-11-27") {
		t.Errorf("exit %d, stale line %q", code, errOut)
	}
	res, errOut, code := planJSON(t, "llama-3.1-70b-instruct", "--concurrency", "4", "--input-tokens", "500", "--output-tokens", "100",
		"--vm", "Standard_ND96isr_H200_v5", "--region", "eastus2", "--pricing", "spot")
	if code != exitOK || len(res.Rows) == 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	row := res.Rows[0]
	if !row.PriceKnown || *row.Candidate.Prices.USDPerHour != 84.8 || !strings.Contains(row.Candidate.Reason, "no spot discount known") {
		t.Errorf("H200 spot row: %v/h, %q", row.Candidate.Prices.USDPerHour, row.Candidate.Reason)
	}
}
