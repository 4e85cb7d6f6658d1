package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// perf on a CPU VM uses the catalog's figures for that size: D2as_v6 is one
// Genoa core (2 vCPU, SMT) with 38.2 GB/s measured read bandwidth (Spare
// Cores), and the decode step is bandwidth-bound for a 0.5B model.
func TestPerfCPUVM(t *testing.T) {
	out, errOut, code := run(t, "perf", "qwen2.5-0.5b", "--vm", "Standard_D2as_v6", "--input-tokens", "200", "--output-tokens", "100", "--concurrency", "1,2", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v struct {
		Host struct {
			Cores     int `json:"cores"`
			Bandwidth struct {
				GBPerS float64 `json:"gb_per_s"`
				Kind   string  `json:"kind"`
			} `json:"bandwidth"`
		} `json:"host"`
		WeightBytes int64 `json:"weight_bytes"`
		Rows        []struct {
			Concurrency int     `json:"concurrency"`
			TPOT        float64 `json:"decode_step_seconds"`
			Total       float64 `json:"aggregate_tokens_per_s"`
		} `json:"rows"`
		Fits bool `json:"fits"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Host.Cores != 1 || v.Host.Bandwidth.GBPerS != 38.2 || v.Host.Bandwidth.Kind != "measured" || !v.Fits || len(v.Rows) != 2 {
		t.Fatalf("host/rows = %+v", v)
	}
	// A decode step cannot be shorter than reading the weights once.
	if minStep := float64(v.WeightBytes) / (38.2e9 * 1.2); v.Rows[0].TPOT < minStep {
		t.Errorf("TPOT %.4f s below the weight-read bound %.4f s", v.Rows[0].TPOT, minStep)
	}
	if !(v.Rows[1].Total > v.Rows[0].Total) || math.IsNaN(v.Rows[1].Total) {
		t.Errorf("two slots should decode more tokens/s in total: %+v", v.Rows)
	}
}

func TestSizeCPUVMRefusesWhatDoesNotFit(t *testing.T) {
	// 70B parameters at q8_0 are about 75 GB; a D2as_v6 has 8 GiB.
	_, errOut, code := run(t, "size", "llama-3.1-70b", "--vm", "Standard_D2as_v6", "--context", "2048")
	if code != exitInfeasible || !strings.Contains(errOut, "does not fit Standard_D2as_v6") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	out, errOut, code := run(t, "size", "qwen2.5-0.5b", "--cpu", "epyc-9v45", "--cores", "4", "--context", "2048", "--concurrency", "2")
	if code != exitOK || !strings.Contains(out, "KV buffer") {
		t.Errorf("exit %d: %s %s", code, out, errOut)
	}
}

func TestCPUFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"perf", "qwen2.5-0.5b", "--vm", "Standard_D2as_v6", "--cpu", "epyc-9v45", "--input-tokens", "1", "--output-tokens", "1"},
		{"perf", "qwen2.5-0.5b", "--cores", "4", "--input-tokens", "1", "--output-tokens", "1"},
		{"perf", "qwen2.5-0.5b", "--cpu", "epyc-9v45", "--cores", "0", "--input-tokens", "1", "--output-tokens", "1"},
		{"perf", "qwen2.5-0.5b", "--vm", "Standard_D2as_v6", "--gpu", "h100-sxm", "--input-tokens", "1", "--output-tokens", "1"},
		{"perf", "qwen2.5-0.5b", "--vm", "Standard_Nope_v9", "--input-tokens", "1", "--output-tokens", "1"},
		{"size", "qwen2.5-0.5b", "--cpu", "pentium", "--cores", "2", "--context", "512"},
	} {
		_, errOut, code := run(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "--") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error naming the flag", args, code, errOut)
		}
	}
}

// probe writes an overlay whose machine perf and size then target with
// --catalog FILE --vm NAME; a bench calibration measured on it scales the
// prediction.
func TestProbeOverlayAndCPUCalibration(t *testing.T) {
	dir := t.TempDir()
	overlay := filepath.Join(dir, "box.json")
	out, errOut, code := run(t, "probe", "--name", "edge-box", "--out", overlay, "--buffer-mib", "64")
	if code != exitOK || !strings.Contains(out, "edge-box") {
		t.Fatalf("probe exit %d: %s %s", code, out, errOut)
	}
	perfArgs := []string{"perf", "qwen2.5-0.5b", "--catalog", overlay, "--vm", "edge-box", "--input-tokens", "100", "--output-tokens", "50", "--concurrency", "1", "-o", "json"}
	out, errOut, code = run(t, perfArgs...)
	if code != exitOK {
		t.Fatalf("perf on the probed host: exit %d: %s", code, errOut)
	}
	var before struct {
		Rows []struct {
			Step float64 `json:"decode_step_seconds"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &before); err != nil || len(before.Rows) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	// A calibration point measured on edge-box with a TPOT twice the
	// prediction doubles the predicted step.
	calib := filepath.Join(dir, "calib.json")
	tpot := 2 * before.Rows[0].Step * 1000
	doc := fmt.Sprintf(`{"schema_version":1,"points":[{"model":"qwen2.5-0.5b","gpu":"edge-box","gpu_count":1,"tp":1,"pp":1,"engine":"llamacpp","engine_version":"de4c07f","precision":"q8_0","kv_dtype":"auto","input_tokens":100,"output_tokens":50,"concurrency":1,"tpot_ms":{"mean":%g,"p50":%g,"p90":%g,"p95":%g,"p99":%g}}]}`, tpot, tpot, tpot, tpot, tpot)
	if err := os.WriteFile(calib, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run(t, append(perfArgs, "--calibration", calib)...)
	if code != exitOK {
		t.Fatalf("perf --calibration: exit %d: %s", code, errOut)
	}
	var after struct {
		Rows []struct {
			Step float64 `json:"decode_step_seconds"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &after); err != nil {
		t.Fatal(err)
	}
	if r := after.Rows[0].Step / before.Rows[0].Step; math.Abs(r-2) > 1e-6 {
		t.Errorf("calibrated step is %.4f× the uncalibrated one, want 2×", r)
	}
	// A calibration of another machine is refused, not silently ignored.
	other := strings.Replace(doc, `"gpu":"edge-box"`, `"gpu":"other-box"`, 1)
	if err := os.WriteFile(calib, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = run(t, append(perfArgs, "--calibration", calib)...); code != exitUsage || !strings.Contains(errOut, "no llamacpp points") {
		t.Errorf("foreign calibration: exit %d: %s", code, errOut)
	}
	if _, errOut, code = run(t, "probe", "--buffer-mib", "1"); code != exitUsage || !strings.Contains(errOut, "--buffer-mib") {
		t.Errorf("bad --buffer-mib: exit %d %s", code, errOut)
	}
}

// The example: priced CPU rows beside the GPU rows and a verdict.
// Qwen2.5-0.5B at 2 users, TPOT ≤ 200 ms: a 2-vCPU size meets it; the
// cheapest eastus CPU prices are the catalog's (Dpsv6 $0.0702/h,
// anycloud-sh/catalog 2026-05-20).
func TestPlanListsCPURows(t *testing.T) {
	args := []string{"plan", "qwen2.5-0.5b", "--concurrency", "2", "--input-tokens", "200", "--output-tokens", "100", "--tpot-slo-ms", "200"}
	out, errOut, code := run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"CPU VMs (llama.cpp de4c07f", "D2ps_v6", "$0.07", "CPU wins: "} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	js, _, _ := run(t, append(args, "-o", "json")...)
	var v struct {
		CPU struct {
			Rows []struct {
				VM         string   `json:"vm"`
				USDPerHour *float64 `json:"usd_per_hour"`
				TPOTMs     float64  `json:"tpot_ms"`
				Meets      bool     `json:"meets_slo"`
			} `json:"rows"`
		} `json:"cpu"`
	}
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.CPU.Rows) == 0 || v.CPU.Rows[0].USDPerHour == nil || *v.CPU.Rows[0].USDPerHour != 0.0702 {
		t.Fatalf("cheapest CPU row = %+v", v.CPU.Rows[:1])
	}
	for _, r := range v.CPU.Rows {
		if !r.Meets || r.TPOTMs > 200 {
			t.Errorf("%s listed with TPOT %.1f ms", r.VM, r.TPOTMs)
		}
	}
	// A 70B model at TPOT ≤ 60 ms: only the HB CPU sizes keep up, at
	// $7.20/h and more, against GPU offers that cost less: the GPU wins.
	out, _, _ = run(t, "plan", "llama-3.1-70b", "--concurrency", "4", "--input-tokens", "500", "--output-tokens", "100", "--tpot-slo-ms", "60")
	if !strings.Contains(out, "GPU wins: ") {
		t.Errorf("70B plan:\n%s", out)
	}
}
