package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSizeGolden(t *testing.T) {
	checkGoldenRuns(t, run, []goldenRun{
		{"size-llama70b-int8-a100.txt", []string{"size", "llama-3.1-70b", "--precision", "int8", "--gpu", "a100-80gb-sxm"}, exitInfeasible},
		{"size-llama8b-h100.txt", []string{"size", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--context", "8192", "--concurrency", "16", "--gpu-memory-utilization", "0.95"}, exitOK},
		{"size-llama8b-h100.json", []string{"size", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--context", "8192", "--concurrency", "16", "--gpu-memory-utilization", "0.95", "-o", "json"}, exitOK},
		{"size-gpt-oss-20b.yaml", []string{"size", "gpt-oss-20b", "--gpu-memory", "79.19GiB", "--context", "32768", "-o", "yaml"}, exitOK},
		{"size-rule-of-thumb-table.txt", []string{"size", "--table", "7B,13B,70B"}, exitOK},
	})
}

// The JSON carries the fields the issue names, with the values measured
// for this exact configuration in vLLM 0.19.0's start-up log on an H100
// (llm-d-planner sweep, record "meta-llama/Llama-3.1-8B-Instruct tp1
// len8192", memory/testdata): 476,016 KV tokens at bf16.
func TestSizeJSONFields(t *testing.T) {
	out, errOut, code := run(t, "size", "meta-llama/Llama-3.1-8B-Instruct", "--gpu-memory", "79.19GiB", "--gpu-memory-utilization", "0.95", "--context", "4096", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"params_total", "params_active", "weights_bytes_per_gpu", "kv_bytes_per_token", "kv_bytes_per_token_per_gpu", "kv_cache_tokens", "max_concurrent_sequences", "fits"} {
		if _, ok := v[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if got := v["params_total"].(float64); got != 8030261248 {
		t.Errorf("params_total = %.0f, want 8030261248", got)
	}
	// 2 (K,V) × 8 KV heads × 128 head dim × 2 bytes × 32 layers.
	if got := v["kv_bytes_per_token"].(float64); got != 131072 {
		t.Errorf("kv_bytes_per_token = %.0f, want 131072", got)
	}
	tokens := v["kv_cache_tokens"].(float64)
	if rel := (tokens - 476016) / 476016; rel < -0.01 || rel > 0.01 {
		t.Errorf("kv_cache_tokens = %.0f, want within 1%% of vLLM's measured 476016", tokens)
	}
}

func TestSizeErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"size"}, exitUsage, "exactly one MODEL"},
		{[]string{"size", "no-such-model-xyz"}, exitUsage, "not in the built-in catalog"},
		{[]string{"size", "llama-3.1-8b", "--gpu", "h100"}, exitUsage, "h100"},
		{[]string{"size", "llama-3.1-8b", "--gpu-memory", "80"}, exitUsage, ""},
		{[]string{"size", "llama-3.1-8b", "--gpu-memory", "lots"}, exitUsage, "--gpu-memory"},
		{[]string{"size", "llama-3.1-8b", "--tp", "3"}, exitUsage, "does not divide"},
		{[]string{"size", "llama-3.1-8b", "--precision", "int3"}, exitUsage, "unknown precision"},
		{[]string{"size", "llama-3.1-8b", "--kv-dtype", "int2"}, exitUsage, "KV-cache dtype"},
		{[]string{"size", "llama-3.1-8b", "--engine", "ollama"}, exitUsage, "unknown engine"},
		{[]string{"size", "llama-3.1-8b", "--context", "99999999"}, exitUsage, "max_position_embeddings"},
		{[]string{"size", "llama-3.1-8b", "--context", "999999999"}, exitUsage, "--context 999999999 is out of range"},
		{[]string{"size", "llama-3.1-8b", "--gpu-memory-utilization", "1.5"}, exitUsage, "utilization"},
		{[]string{"size", "llama-3.1-8b", "--no-such-flag"}, exitUsage, "unknown flag"},
		{[]string{"size", "llama-3.1-405b", "--gpu", "t4", "--context", "4096"}, exitInfeasible, "does not fit"},
		{[]string{"size", "--table", "7Q"}, exitUsage, "parameter count"},
	}
	for _, tt := range tests {
		_, errOut, code := run(t, tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tt.args, code, tt.code, errOut)
		}
		if !strings.Contains(errOut, tt.msg) {
			t.Errorf("%v: stderr %q lacks %q", tt.args, errOut, tt.msg)
		}
	}
}
