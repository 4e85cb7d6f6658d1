package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deployPlan is a plan fixture of the deploy package (Llama-3.1-70B on
// ND H100 v5, TP 2, 4 replicas).
var deployPlan = filepath.Join("..", "..", "deploy", "testdata", "plans", "llama-3.1-70b-h100.json")

func TestDeployStdoutFromPlan(t *testing.T) {
	const token = "hf_sentinelDEPLOYtoken"
	t.Setenv("HF_TOKEN", token)
	var stdout, stderr bytes.Buffer
	opts := testOptions(&stdout, &stderr)
	opts.Getenv = func(k string) string {
		if k == "HF_TOKEN" {
			return token
		}
		return ""
	}
	code := Run(context.Background(), []string{"deploy", "--plan", deployPlan, "--target", "aks", "--stdout", "--prometheus", "operator"}, opts)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"# file: 00-nodepool.sh", "kind: Deployment", "kind: ScaledObject", "apiVersion: monitoring.coreos.com/v1",
		"- --tensor-parallel-size\n        - \"2\"", "nvidia.com/gpu: \"2\"", "image: vllm/vllm-openai:v0.19.0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, token) || strings.Contains(stderr.String(), token) {
		t.Error("the Hugging Face token leaked into the output")
	}
}

func TestDeployOutDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "aks")
	out, errOut, code := run(t, "deploy", "--plan", deployPlan, "--target", "aks", "--out-dir", dir, "--resource-group", "rg", "--cluster", "aks1")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 10 || !strings.Contains(out, "Wrote 10 files") {
		t.Errorf("%d files; stdout:\n%s", len(entries), out)
	}
	sh, _ := os.ReadFile(filepath.Join(dir, "00-nodepool.sh"))
	if !bytes.Contains(sh, []byte(`RESOURCE_GROUP="${RESOURCE_GROUP:-rg}"`)) {
		t.Errorf("script does not default the resource group:\n%s", sh)
	}
	// Writing again into the now non-empty directory is an error (exit 1)
	// and changes nothing.
	_, errOut, code = run(t, "deploy", "--plan", deployPlan, "--target", "aks", "--out-dir", dir)
	if code != exitError || !strings.Contains(errOut, "not empty") {
		t.Errorf("second run: exit %d, %s", code, errOut)
	}
}

func TestDeployExitCodes(t *testing.T) {
	tmp := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"refused: no Container Apps H100", []string{"deploy", "--plan", deployPlan, "--target", "containerapps", "--stdout"}, exitInfeasible, "no Container Apps serverless GPU profile"},
		{"refused: single-node plan on multi-node", []string{"deploy", "--plan", deployPlan, "--target", "aks-multinode", "--stdout"}, exitInfeasible, "use --target aks"},
		{"refused: Arm host", []string{"deploy", "llama-3.1-8b-instruct", "--vm", "Standard_ND128isr_NDR_GB200_v6", "--input-tokens", "1000", "--output-tokens", "200", "--context", "8192", "--target", "aks", "--stdout"}, exitInfeasible, "Arm (arm64)"},
		{"usage: model without context", []string{"deploy", "llama-3.1-8b-instruct", "--vm", "Standard_NC24ads_A100_v4", "--input-tokens", "1000", "--output-tokens", "200", "--target", "aks", "--stdout"}, exitUsage, "deploy MODEL needs --context"},
		{"usage: plan and model", []string{"deploy", "llama-3.1-8b", "--plan", deployPlan, "--target", "aks", "--stdout"}, exitUsage, "not both"},
		{"usage: no output", []string{"deploy", "--plan", deployPlan, "--target", "aks"}, exitUsage, "--out-dir DIR and --stdout"},
		{"usage: no target", []string{"deploy", "--plan", deployPlan, "--stdout"}, exitUsage, "--target is required"},
		{"usage: bad target", []string{"deploy", "--plan", deployPlan, "--target", "gke", "--stdout"}, exitUsage, "unknown target"},
		{"usage: model without vm", []string{"deploy", "llama-3.1-8b", "--target", "aks", "--stdout"}, exitUsage, "--vm SIZE"},
		{"usage: model without load", []string{"deploy", "llama-3.1-8b", "--vm", "Standard_NC24ads_A100_v4", "--target", "aks", "--stdout"}, exitUsage, "--input-tokens"},
		{"usage: KAITO version", []string{"deploy", "--plan", deployPlan, "--target", "kaito", "--kaito-version", "0.2.0", "--stdout"}, exitUsage, "deploy knows KAITO 0.6.0 to"},
		{"usage: min replicas", []string{"deploy", "--plan", deployPlan, "--target", "aks", "--min-replicas", "two", "--stdout"}, exitUsage, "--min-replicas"},
		{"error: missing plan", []string{"deploy", "--plan", filepath.Join(tmp, "none.json"), "--target", "aks", "--stdout"}, exitError, "read plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, want %d; stderr %q should mention %q", code, tt.code, errOut, tt.msg)
			}
		})
	}
}

// MODEL --vm goes through the planner: the engine settings are the
// planner's, with --context as the max model length (deploy requires it
// rather than defaulting to input + output tokens, issue 17).
func TestDeployModelAndVM(t *testing.T) {
	out, errOut, code := run(t, "deploy", "llama-3.1-8b-instruct", "--vm", "Standard_NC24ads_A100_v4",
		"--input-tokens", "1000", "--output-tokens", "200", "--context", "8192", "--target", "kaito", "--stdout")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"max-model-len: 8192", "name: llama-3.1-8b-instruct", "instanceType: Standard_NC24ads_A100_v4", "modelAccessSecret: hf-token"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
