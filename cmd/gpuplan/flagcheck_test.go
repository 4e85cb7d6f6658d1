package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestEveryNumericFlagHasARange walks the real command tree: a numeric
// flag added without an entry in flagRanges fails here, so the one shared
// check stays complete.
func TestEveryNumericFlagHasARange(t *testing.T) {
	a := &app{Options: DefaultOptions()}
	root := newRootCmd(a)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !numericFlagTypes[f.Value.Type()] {
				return
			}
			if _, ok := rangeFor(c, f.Name); !ok {
				t.Errorf("%s --%s (%s) has no range in flagRanges", c.CommandPath(), f.Name, f.Value.Type())
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// TestBadInputExitsTwo runs the CLI on bad input across commands: each
// exits 2, prints nothing on stdout (no partial output) and one error that
// names what to fix. Every range error names the flag, the value and the
// allowed range.
func TestBadInputExitsTwo(t *testing.T) {
	plan := []string{"plan", "llama-3.1-8b-instruct", "--input-tokens", "1000", "--output-tokens", "200"}
	with := func(base []string, more ...string) []string { return append(append([]string(nil), base...), more...) }
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sizee"}, `unknown command "sizee"`},
		{[]string{"plna"}, `unknown command "plna"`},
		{[]string{"size"}, "needs exactly one MODEL"},
		{[]string{"size", "a", "b"}, "needs exactly one MODEL"},
		{[]string{"models", "a", "b", "c"}, "accepts at most 1 arg"},
		{[]string{"prices", "extra"}, "unknown command"},
		{[]string{"serve", "extra"}, "unknown command"},
		{[]string{"size", "nope"}, `"nope" is not in the built-in catalog.`},
		{[]string{"size", "--no-such-flag", "x"}, "unknown flag"},
		{[]string{"size", "llama-3.1-8b", "--context", "-5"}, "--context -5 is out of range (allowed: 1 to 100,000,000)"},
		{[]string{"size", "llama-3.1-8b", "--context", "0"}, "--context 0 is out of range"},
		{[]string{"size", "llama-3.1-8b", "--context", "8k"}, `invalid argument "8k"`},
		{[]string{"size", "llama-3.1-8b", "--tp", "0"}, "--tp 0 is out of range (allowed: 1 to 1,024)"},
		{[]string{"size", "llama-3.1-8b", "--pp", "-2"}, "--pp -2 is out of range"},
		{[]string{"size", "llama-3.1-8b", "--concurrency", "0"}, "--concurrency 0 is out of range"},
		{[]string{"size", "llama-3.1-8b", "--gpu-memory-utilization", "1.5"}, "--gpu-memory-utilization 1.5 is out of range (allowed: more than 0 and at most 1)"},
		{[]string{"size", "llama-3.1-8b", "--gpu-memory-utilization", "0"}, "--gpu-memory-utilization 0 is out of range"},
		{[]string{"size", "llama-3.1-8b", "--max-num-seqs", "0"}, "--max-num-seqs 0 is out of range"},
		{[]string{"size", "llama-3.1-8b", "--max-num-batched-tokens", "-1"}, "--max-num-batched-tokens -1 is out of range"},
		{[]string{"size", "no/such", "--context", "-5"}, "--context -5 is out of range"},
		{with(plan, "--rps", "-3"), "--rps -3 is out of range (allowed: more than 0 and at most 1,000,000)"},
		{with(plan, "--rps", "0"), "--rps 0 is out of range"},
		{with(plan, "--concurrency", "0"), "--concurrency 0 is out of range (allowed: 1 to 1,000,000)"},
		{with(plan, "--concurrency", "-1"), "--concurrency -1 is out of range"},
		{[]string{"plan", "llama-3.1-8b-instruct", "--input-tokens", "0", "--output-tokens", "200"}, "--input-tokens 0 is out of range"},
		{[]string{"plan", "llama-3.1-8b-instruct", "--input-tokens", "10", "--output-tokens", "-1"}, "--output-tokens -1 is out of range"},
		{with(plan, "--tpot-slo-ms", "-5"), "--tpot-slo-ms -5 is out of range"},
		{with(plan, "--ttft-slo-ms", "0"), "--ttft-slo-ms 0 is out of range"},
		{with(plan, "--top", "-1"), "--top -1 is out of range (allowed: 0 to 100,000)"},
		{with(plan, "--pick", "0"), "--pick 0 is out of range"},
		{with(plan, "--hours-per-day", "25"), "--hours-per-day 25 is out of range (allowed: more than 0 and at most 24)"},
		{with(plan, "--budget-usd-month", "-100"), "--budget-usd-month -100 is out of range"},
		{with(plan, "--context", "-1"), "--context -1 is out of range"},
		{with(plan, "--rps", "NaN"), "--rps NaN is out of range"},
		{with(plan, "--rps", "+Inf"), "--rps +Inf is out of range"},
		{with(plan, "--concurrency", "99999999999"), "--concurrency 99999999999 is out of range"},
		{[]string{"perf", "llama-3.1-8b-instruct", "--input-tokens", "0", "--output-tokens", "10"}, "--input-tokens 0 is out of range"},
		{[]string{"perf", "llama-3.1-8b-instruct", "--input-tokens", "10", "--output-tokens", "10", "--tp", "0"}, "--tp 0 is out of range"},
		{[]string{"perf", "llama-3.1-8b-instruct", "--input-tokens", "10", "--output-tokens", "10", "--cache-rate", "1"}, "--cache-rate 1 is out of range (allowed: at least 0 and less than 1"},
		{[]string{"perf", "llama-3.1-8b-instruct", "--input-tokens", "10", "--output-tokens", "10", "--simulate", "--requests", "2000000"}, "--requests 2000000 is out of range (allowed: 1 to 1,000,000)"},
		{with(plan, "--max-num-batched-tokens", "2000000"), "--max-num-batched-tokens 2000000 is out of range (allowed: 1 to 1,048,576)"},
		{with(plan, "--think-time-s", "4000"), "--think-time-s 4000 is out of range (allowed: 0 to 3,600)"},
		{[]string{"guide", "--context", "-8192"}, "--context -8192 is out of range"},
		{[]string{"guide", "--concurrency", "0"}, "--concurrency 0 is out of range"},
		{[]string{"ptu", "gpt-4.1", "--rpm", "-60"}, "--rpm -60 is out of range"},
		{[]string{"ptu", "gpt-4.1", "--rpm", "60", "--cache-rate", "1.2"}, "--cache-rate 1.2 is out of range (allowed: 0 to 1; a fraction"},
		{[]string{"ptu", "gpt-4.1", "--rpm", "60", "--input-tokens", "-1"}, "--input-tokens -1 is out of range"},
		{[]string{"prices", "--currency", "/../../X"}, "ISO 4217"},
		{[]string{"prices", "refresh", "--deadline", "-1m"}, "--deadline -1m0s is out of range"},
		{[]string{"serve", "--max-concurrent", "0"}, "--max-concurrent 0 is out of range"},
		{[]string{"serve", "--max-connections", "-5"}, "--max-connections -5 is out of range"},
		{[]string{"serve", "--timeout", "0s"}, "--timeout 0s is out of range"},
		{[]string{"bench", "--url", "http://127.0.0.1:1/v1", "--model", "m", "--requests", "0"}, "--requests 0 is out of range"},
		{[]string{"bench", "--url", "http://127.0.0.1:1/v1", "--model", "m", "--concurrency", "1,0,4"}, "--concurrency 0 is out of range"},
		{[]string{"bench", "--url", "http://127.0.0.1:1/v1", "--model", "m", "--rps", "2,-1"}, "--rps -1 is out of range"},
		{[]string{"bench", "--url", "http://127.0.0.1:1/v1", "--model", "m", "--duration", "-1s"}, "--duration -1s is out of range"},
		{[]string{"bench", "quality", "--concurrency", "5000"}, "--concurrency 5000 is out of range (allowed: 1 to 1,024)"},
		{[]string{"bench", "quality", "--max-drop", "2"}, "--max-drop 2 is out of range"},
		{[]string{"deploy", "--plan", "nope.json", "--target", "aks", "--stdout", "--max-replicas", "1001"}, "--max-replicas 1001 is out of range (allowed: 1 to 1,000)"},
		{[]string{"deploy", "--plan", "nope.json", "--target", "aks", "--stdout", "--spot-max-price", "-2"}, "--spot-max-price -2 is out of range (allowed: -1, or more than 0 and at most 10,000)"},
		{[]string{"deploy", "--plan", "nope.json", "--target", "aks", "--stdout", "--queue-threshold", "0"}, "--queue-threshold 0 is out of range"},
	}
	if len(tests) < 40 {
		t.Fatalf("%d cases; the issue asks for at least 40", len(tests))
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := run(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, errOut)
			}
			if out != "" {
				t.Errorf("partial output on stdout: %.300q", out)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tc.want)
			}
			if n := strings.Count(errOut, "Error:"); n != 1 {
				t.Errorf("%d Error: lines, want 1: %q", n, errOut)
			}
		})
	}
}
