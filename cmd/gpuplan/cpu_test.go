package main

import (
	"encoding/json"
	"math"
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
