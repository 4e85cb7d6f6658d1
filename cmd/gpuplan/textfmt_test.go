package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGPUCountAndPlural(t *testing.T) {
	for in, want := range map[float64]string{1: "1", 8: "8", 16: "16", 1.0 / 3: "1/3", 1.0 / 6: "1/6", 0.5: "1/2", 2.0 / 3: "2/3"} {
		if got := gpuCount(in); got != want {
			t.Errorf("gpuCount(%v) = %q, want %q", in, got, want)
		}
	}
	if plural(1, "sequence", "sequences") != "1 sequence" || plural(3, "sequence", "sequences") != "3 sequences" {
		t.Error("plural")
	}
}

// TestSmallThings covers the small defects of issue 17 that users met.
func TestSmallThings(t *testing.T) {
	// A partial GPU prints as a fraction and a missing quota family as
	// "unknown", in plan's table.
	out, _, code := run(t, "plan", "qwen2.5-0.5b", "--input-tokens", "100", "--output-tokens", "20", "--concurrency", "1", "--top", "0")
	if code != 0 {
		t.Fatalf("plan exit %d", code)
	}
	if strings.Contains(out, "0.3333") || !strings.Contains(out, "1/3×a10") {
		t.Errorf("plan shows a partial A10 as a decimal, or not at all")
	}
	if !strings.Contains(out, "quota family unknown (8 vCPUs)") || strings.Contains(out, "quota  (") {
		t.Errorf("plan does not say the NC8ads A10 v4 quota family is unknown")
	}
	// All words of a models query must match.
	out, _, _ = run(t, "models", "llama 70b")
	if !strings.Contains(out, "meta-llama/Llama-3.1-70B-Instruct") || strings.Contains(out, "Llama-3.1-8B") {
		t.Errorf("models \"llama 70b\":\n%s", out)
	}
	// Releases that ship quantized show it.
	out, _, _ = run(t, "models", "gpt-oss", "-o", "json")
	var doc struct {
		Models []struct {
			ID           string `json:"id"`
			Quantization string `json:"quantization"`
		} `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Models) == 0 {
		t.Fatalf("models gpt-oss: %v", err)
	}
	for _, m := range doc.Models {
		if m.Quantization != "mxfp4" {
			t.Errorf("%s quantization %q, want mxfp4", m.ID, m.Quantization)
		}
	}
	// A VM size given to gpus shows its GPU and that size.
	out, errOut, code := run(t, "gpus", "Standard_ND96isr_H100_v5")
	if code != 0 || !strings.Contains(out, "Standard_ND96isr_H100_v5  8 x h100-sxm") || strings.Contains(out, "Standard_ND96isr_H200_v5") {
		t.Errorf("gpus VM: exit %d %s\n%s", code, errOut, out)
	}
}

// TestContextRule: plan without --context says what it sized for and that
// longer requests will be rejected; with --context it says nothing.
func TestContextRule(t *testing.T) {
	_, errOut, code := run(t, "plan", "llama-3.1-8b-instruct", "--input-tokens", "500", "--output-tokens", "200", "--concurrency", "1", "--top", "1")
	if code != 0 || !strings.Contains(errOut, "--context not given: each replica is sized for requests of 700 tokens") || !strings.Contains(errOut, "accepts up to 131,072") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	_, errOut, _ = run(t, "plan", "llama-3.1-8b-instruct", "--input-tokens", "500", "--output-tokens", "200", "--concurrency", "1", "--top", "1", "--context", "8192")
	if strings.Contains(errOut, "--context not given") {
		t.Errorf("warned although --context was given: %q", errOut)
	}
}

// TestPlanSaveThroughSymlinkKeepsMode: plan --save onto a symbolic link
// writes the link's target and keeps its 0600 mode (it used to replace the
// link with a plain 0644 file).
func TestPlanSaveThroughSymlinkKeepsMode(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "shared-plan.json")
	if err := os.WriteFile(target, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "plan.json")
	if err := os.Symlink("shared-plan.json", link); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "plan", "llama-3.1-8b-instruct", "--input-tokens", "1000", "--output-tokens", "200", "--concurrency", "4", "--context", "4096", "--save", link)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("plan.json is no longer a symbolic link (%v)", err)
	}
	st, err := os.Stat(target)
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() < 100 {
		t.Errorf("target: %v, mode %v, %d bytes; want the plan, 0600", err, st.Mode().Perm(), st.Size())
	}
}
