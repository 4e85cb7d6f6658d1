package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBigDeployFlags: bad values exit 2 naming the flag and range; good
// ones are echoed in the JSON output.
func TestBigDeployFlags(t *testing.T) {
	base := []string{"perf", "deepseek-v3", "--gpu", "h200", "--tp", "8", "--engine", "sglang", "--input-tokens", "500", "--output-tokens", "100", "--concurrency", "4"}
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--ep", "0"}, "--ep must be between 1 and 256"},
		{[]string{"--ep", "3"}, "--ep 3 must divide"},
		{[]string{"--speculative", "mtp"}, "--acceptance-rate between 0 and 1"},
		{[]string{"--speculative", "mtp", "--acceptance-rate", "2"}, "--acceptance-rate between 0 and 1"},
		{[]string{"--speculative", "mtp", "--acceptance-rate", "0.5", "--spec-tokens", "40"}, "--spec-tokens must be between 1 and 16"},
		{[]string{"--speculative", "medusa", "--acceptance-rate", "0.5"}, "want draft:MODEL, eagle, eagle:MODEL or mtp"},
		{[]string{"--acceptance-rate", "0.5"}, "--acceptance-rate needs --speculative"},
		{[]string{"--vm", "Standard_ND96isr_H100_v5"}, "carries h100-sxm GPUs"},
	} {
		_, errOut, code := run(t, append(append([]string(nil), base...), tc.extra...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.extra, code, errOut, tc.want)
		}
	}
	out, errOut, code := run(t, append(append([]string(nil), base...), "--ep", "8", "--dp-attention", "--speculative", "mtp", "--acceptance-rate", "0.7",
		"--spec-tokens", "2", "--vm", "Standard_ND96isr_H200_v5", "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		VM          string `json:"vm"`
		EP          int    `json:"ep"`
		DPAttention bool   `json:"dp_attention"`
		Speculative struct {
			Method string  `json:"method"`
			Tokens int     `json:"tokens"`
			A      float64 `json:"acceptance_rate"`
		} `json:"speculative"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.VM != "Standard_ND96isr_H200_v5" || got.EP != 8 || !got.DPAttention || got.Speculative.Method != "mtp" || got.Speculative.Tokens != 2 || got.Speculative.A != 0.7 {
		t.Errorf("JSON does not echo the settings: %+v", got)
	}
}
