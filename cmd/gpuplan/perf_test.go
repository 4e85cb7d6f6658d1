package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPerfGolden(t *testing.T) {
	checkGoldenRuns(t, run, []goldenRun{
		// The example command.
		{"perf-llama70b-h100-tp2.txt", []string{"perf", "llama-3.1-70b", "--gpu", "h100-sxm", "--tp", "2", "--input-tokens", "1000", "--output-tokens", "200", "--concurrency", "1,8,32,128,max"}, exitOK},
		{"perf-llama8b-trtllm-fp8-rps.txt", []string{"perf", "llama-3.1-8b", "--gpu", "h100-sxm", "--engine", "trtllm", "--precision", "fp8", "--kv-dtype", "fp8",
			"--input-tokens", "500", "--output-tokens", "300", "--rps", "1,10,40,1000", "--load-from", "nvme"}, exitOK},
		// The JSON of the three reports perf prints (steady state, --simulate,
		// a CPU VM), so moving their builders cannot change them.
		{"perf-llama8b-h100.json", []string{"perf", "llama-3.1-8b", "--gpu", "h100-sxm", "--input-tokens", "1000", "--output-tokens", "200",
			"--concurrency", "1,16", "--load-from", "blob", "-o", "json"}, exitOK},
		{"perf-simulate-llama8b-h100.json", []string{"perf", "llama-3.1-8b", "--gpu", "h100-sxm", "--input-tokens", "1000", "--output-tokens", "200",
			"--concurrency", "4,8", "--simulate", "--requests", "200", "--tpot-slo-ms", "20", "-o", "json"}, exitOK},
		{"perf-cpu-qwen05b-d2as.json", []string{"perf", "qwen2.5-0.5b", "--vm", "Standard_D2as_v6", "--input-tokens", "200", "--output-tokens", "100",
			"--concurrency", "1,2", "-o", "json"}, exitOK},
	})
}

// TestPerfJSONRows: every row carries the fields the issue names, and the
// max row resolves to the concurrency the KV pool allows.
func TestPerfJSONRows(t *testing.T) {
	out, errOut, code := run(t, "perf", "llama-3.1-70b", "--gpu", "h100-sxm", "--tp", "2", "--input-tokens", "1000", "--output-tokens", "200", "--concurrency", "1,8,max", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Rows) != 3 {
		t.Fatalf("%d rows, want 3", len(v.Rows))
	}
	for i, r := range v.Rows {
		for _, k := range []string{"load", "concurrency", "ttft_ms", "tpot_ms", "itl_ms", "e2e_ms", "output_tokens_per_s", "requests_per_s", "bottleneck", "max_concurrency", "band", "assumptions"} {
			if _, ok := r[k]; !ok {
				t.Errorf("row %d lacks %q", i, k)
			}
		}
		lat, _ := r["ttft_ms"].(map[string]any)
		for _, k := range []string{"mean", "p50", "p90", "p95", "p99", "low", "high"} {
			if _, ok := lat[k]; !ok {
				t.Errorf("row %d ttft_ms lacks %q", i, k)
			}
		}
		switch r["bottleneck"] {
		case "memory_bandwidth", "compute", "interconnect", "kv_capacity":
		default:
			t.Errorf("row %d bottleneck %v", i, r["bottleneck"])
		}
	}
	if v.Rows[0]["load"] != "concurrency" || v.Rows[0]["concurrency"].(float64) != 1 {
		t.Errorf("first row %v/%v, want concurrency/1", v.Rows[0]["load"], v.Rows[0]["concurrency"])
	}
	if v.Rows[2]["load"] != "max" || v.Rows[2]["concurrency"] != v.Rows[2]["max_concurrency"] {
		t.Errorf("max row: load %v, concurrency %v, max_concurrency %v", v.Rows[2]["load"], v.Rows[2]["concurrency"], v.Rows[2]["max_concurrency"])
	}
}

func TestPerfPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.svg")
	_, errOut, code := run(t, "perf", "llama-3.1-8b", "--gpu", "l40s", "--input-tokens", "1000", "--output-tokens", "200", "--plot", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "<svg") || !strings.Contains(string(b), "time per output token") {
		t.Errorf("not the plot: %.80s", b)
	}
	_, _, code = run(t, "perf", "llama-3.1-8b", "--gpu", "l40s", "--input-tokens", "1000", "--output-tokens", "200", "--plot", filepath.Join(t.TempDir(), "missing", "x.svg"))
	if code != exitError {
		t.Errorf("plot into a missing directory: exit %d, want %d", code, exitError)
	}
}

// TestPerfCalibrationFile: a bench calibration file makes vLLM on that GPU
// calibrated.
func TestPerfCalibrationFile(t *testing.T) {
	args := []string{"perf", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--input-tokens", "1000", "--output-tokens", "200", "--concurrency", "8", "-o", "json"}
	out, _, code := run(t, args...)
	if code != exitOK || !strings.Contains(out, `"calibrated": false`) {
		t.Fatalf("without a file: exit %d, calibrated must be false", code)
	}
	out, errOut, code := run(t, append(args, "--calibration", "../../perf/testdata/bench-calibration.json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"calibrated": true`) {
		t.Error("with the bench file, vLLM on h100-sxm should be calibrated")
	}
}

func TestPerfErrors(t *testing.T) {
	base := []string{"perf", "llama-3.1-8b", "--gpu", "h100-sxm"}
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"perf"}, exitUsage, "exactly one MODEL"},
		{base, exitUsage, "--input-tokens"},
		{append(base, "--input-tokens", "10", "--output-tokens", "10", "--concurrency", "4", "--rps", "2"), exitUsage, "not both"},
		{append(base, "--input-tokens", "10", "--output-tokens", "10", "--concurrency", "0"), exitUsage, "positive"},
		{append(base, "--input-tokens", "10", "--output-tokens", "10", "--rps", "fast"), exitUsage, "--rps"},
		{append(base, "--input-tokens", "10", "--output-tokens", "10", "--engine", "tgi"), exitUsage, "unknown engine"},
		{append(base, "--input-tokens", "10", "--output-tokens", "10", "--load-from", "floppy"), exitUsage, "unknown weight source"},
		{append(base, "--input-tokens", "10", "--output-tokens", "10", "--calibration", "/nonexistent.json"), exitUsage, "open calibration"},
		{append(base, "--input-tokens", "200000", "--output-tokens", "10"), exitUsage, "max_position_embeddings"},
		{[]string{"perf", "llama-3.1-405b", "--gpu", "h100-sxm", "--input-tokens", "10", "--output-tokens", "10"}, exitInfeasible, "does not fit"},
	}
	for _, c := range cases {
		_, errOut, code := run(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errOut, c.code, c.msg)
		}
	}
}
