package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/perf"
)

// TestPerfSimulate: --simulate prints a golden table for the dev-run shape
// (Llama-2-7B on one H100 with the runs' scheduler limits and cache rate),
// and -o json carries every row's percentiles, goodput and sustainable rate.
func TestPerfSimulate(t *testing.T) {
	args := []string{"perf", "llama-2-7b", "--gpu", "h100-sxm", "--input-tokens", "592", "--output-tokens", "247", "--rps", "5,10,40",
		"--cache-rate", "0.986", "--max-num-seqs", "128", "--max-num-batched-tokens", "2048", "--simulate", "--arrival", "constant", "--requests", "1000"}
	out, errOut, code := run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	goldenFile(t, "perf-simulate-llama2-7b.txt", out)

	out, errOut, code = run(t, append(args, "--tpot-slo-ms", "8", "-o", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v perf.SimReport
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Rows) != 3 || !v.Rows[2].Saturated || v.Rows[0].Saturated {
		t.Fatalf("rows %+v: want 3, the last (40 req/s) saturated", v.Rows)
	}
	r := v.Rows[0]
	if !(r.TTFT.P50 <= r.TTFT.P90 && r.TTFT.P90 <= r.TTFT.P99 && r.E2E.Low < r.E2E.Mean && r.E2E.Mean < r.E2E.High) {
		t.Errorf("row 0 latencies out of order: %+v %+v", r.TTFT, r.E2E)
	}
	// 5 req/s meets an 8 ms TPOT limit, 10 req/s (TPOT about 9 ms) does not.
	if r.GoodputFraction < 0.99 || v.Rows[1].GoodputFraction > 0.01 {
		t.Errorf("goodput %.2f at 5 req/s, %.2f at 10 req/s; want all and none", r.GoodputFraction, v.Rows[1].GoodputFraction)
	}
	if r.SustainableRPS < 10 || r.SustainableRPS > 40 {
		t.Errorf("sustainable rate %.2f req/s, want between 10 (served) and 40 (saturated)", r.SustainableRPS)
	}
}

func TestPerfSimulateTrace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "trace.jsonl")
	var b strings.Builder
	for i := 0; i < 50; i++ {
		b.WriteString(`{"arrival_s": ` + strconv.Itoa(i) + `.5, "input_tokens": 812, "output_tokens": 140, "cached_tokens": 200}` + "\n")
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "perf", "llama-3.1-8b", "--gpu", "h100-sxm", "--simulate", "--trace", p, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v perf.SimReport
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Rows) != 1 || v.Rows[0].Requests != 50 || v.Rows[0].Load != "trace" || v.InputTokens != 812 {
		t.Errorf("trace run: %+v", v)
	}
}

// TestPerfBadSchedulerFlags: clear errors, exit 2, for every new flag.
func TestPerfBadSchedulerFlags(t *testing.T) {
	base := []string{"perf", "llama-3.1-8b", "--gpu", "h100-sxm", "--input-tokens", "100", "--output-tokens", "10", "--rps", "1"}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"arrival_s": 0, "input_tokens": -1, "output_tokens": 5}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--cache-rate", "1"}, "--cache-rate"},
		{[]string{"--cache-rate", "-0.1"}, "--cache-rate"},
		{[]string{"--max-num-seqs", "-3"}, "--max-num-seqs"},
		{[]string{"--max-num-batched-tokens", "99999999"}, "--max-num-batched-tokens"},
		{[]string{"--simulate", "--arrival", "bursty"}, "--arrival"},
		{[]string{"--simulate", "--length-distribution", "zipf"}, "--length-distribution"},
		{[]string{"--simulate", "--input-tokens-stddev", "5"}, "--length-distribution"},
		{[]string{"--simulate", "--requests", "0"}, "--requests"},
		{[]string{"--trace", bad}, "--trace needs --simulate"},
		{[]string{"--simulate", "--trace", bad}, "bad.jsonl:1: input_tokens"},
		{[]string{"--simulate", "--trace", filepath.Join(dir, "missing.jsonl")}, "--trace"},
	} {
		_, errOut, code := run(t, append(append([]string(nil), base...), tc.extra...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", tc.extra, code, errOut, exitUsage, tc.want)
		}
	}
}

// TestSchedulerKnobsPlanDeploy: plan carries --max-num-seqs,
// --max-num-batched-tokens and --cache-rate into the saved engine settings
// and predictions (a cache rate lowers TTFT), and deploy emits them as
// vLLM flags.
func TestSchedulerKnobsPlanDeploy(t *testing.T) {
	dir := t.TempDir()
	base := []string{"plan", "llama-3.1-8b-instruct", "--concurrency", "16", "--input-tokens", "4000", "--output-tokens", "200", "--top", "1", "-o", "json"}
	type planOut struct {
		Rows []struct {
			Candidate struct {
				Engine struct {
					MaxNumSeqs          int  `json:"max_num_seqs"`
					MaxNumBatchedTokens int  `json:"max_num_batched_tokens"`
					PrefixCaching       bool `json:"enable_prefix_caching"`
				} `json:"engine"`
				Predictions struct {
					TTFT struct {
						Mean float64 `json:"mean"`
					} `json:"ttft_ms"`
				} `json:"predictions"`
			} `json:"candidate"`
		} `json:"rows"`
	}
	parse := func(args ...string) planOut {
		t.Helper()
		out, errOut, code := run(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var v planOut
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Rows) == 0 {
			t.Fatalf("%v: no rows", args)
		}
		return v
	}
	plain := parse(base...)
	knobs := parse(append(append([]string(nil), base...), "--max-num-seqs", "64", "--max-num-batched-tokens", "4096", "--cache-rate", "0.75")...)
	e := knobs.Rows[0].Candidate.Engine
	if e.MaxNumSeqs != 64 || e.MaxNumBatchedTokens != 4096 || !e.PrefixCaching {
		t.Errorf("engine %+v: want max_num_seqs 64, max_num_batched_tokens 4096, prefix caching on", e)
	}
	if a, b := knobs.Rows[0].Candidate.Predictions.TTFT.Mean, plain.Rows[0].Candidate.Predictions.TTFT.Mean; !(a < b) {
		t.Errorf("TTFT with 75%% of the prompt cached %.1f ms, not below %.1f ms without", a, b)
	}
	planFile := filepath.Join(dir, "plan.json")
	if _, errOut, code := run(t, append(append([]string(nil), base[:len(base)-2]...), "--cache-rate", "0.5", "--save", planFile)...); code != exitOK {
		t.Fatalf("plan --save: %s", errOut)
	}
	out, errOut, code := run(t, "deploy", "--plan", planFile, "--target", "aks", "--stdout", "--max-num-seqs", "32")
	if code != exitOK {
		t.Fatalf("deploy: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"- --max-num-seqs\n", "- \"32\"", "- --enable-prefix-caching"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q", want)
		}
	}
	if _, errOut, code := run(t, "plan", "llama-3.1-8b-instruct", "--concurrency", "4", "--input-tokens", "10", "--output-tokens", "10", "--cache-rate", "1.5"); code != exitUsage || !strings.Contains(errOut, "--cache-rate") {
		t.Errorf("plan --cache-rate 1.5: exit %d, %q", code, errOut)
	}
}

// TestPerfSimulateClosedLoopNote: a closed loop of identical requests says
// that they lock into waves and names the population spread plan uses;
// with a length distribution the note is gone.
func TestPerfSimulateClosedLoopNote(t *testing.T) {
	base := []string{"perf", "llama-3.1-8b", "--gpu", "h100-sxm", "--input-tokens", "1000", "--output-tokens", "200", "--concurrency", "8", "--simulate", "--requests", "200"}
	out, errOut, code := run(t, base...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "closed loop of identical requests") || !strings.Contains(out, "--input-tokens-stddev 100 --output-tokens-stddev 20") {
		t.Errorf("no lock-in note naming the population spread:\n%s", out)
	}
	out, _, _ = run(t, append(base, "--length-distribution", "uniform", "--input-tokens-stddev", "100", "--output-tokens-stddev", "20")...)
	if strings.Contains(out, "closed loop of identical requests") {
		t.Errorf("the lock-in note with a length distribution:\n%s", out)
	}
}
