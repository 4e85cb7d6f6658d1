package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/gpuplan/gpuplan/internal/ggufwrite"
	"github.com/gpuplan/gpuplan/model/gguf"
)

// tinyLlamaGGUF writes the TinyLlama-1.1B-shaped Q8_0 file whose buffers
// Ollama v0.9.0 logged (engine/testdata/llamacpp-ollama-buffers.json,
// "tinyllama-1.1b-q8_0").
func tinyLlamaGGUF(t *testing.T) string {
	t.Helper()
	q8, _ := gguf.TypeByName("Q8_0")
	path := filepath.Join(t.TempDir(), "tinyllama.gguf")
	if _, err := ggufwrite.Write(path, ggufwrite.Shape{Arch: "llama", Name: "tinyllama-1.1b-q8_0", Layers: 22, Hidden: 2048, FFN: 5632, Heads: 32, KVHeads: 4, Vocab: 32000, Type: q8}); err != nil {
		t.Fatal(err)
	}
	return path
}

// sizedTotalMiB is `size MODEL --vm CPU-SIZE` (llama.cpp's buffers) for
// the same num_ctx and slots: the figure the deploy must request.
func sizedTotalMiB(t *testing.T, ref, vm, ctx, conc string) float64 {
	t.Helper()
	out, errOut, code := run(t, "size", ref, "--vm", vm, "--context", ctx, "--concurrency", conc, "-o", "json")
	if code != exitOK {
		t.Fatalf("size: exit %d: %s", code, errOut)
	}
	var v struct {
		Total float64 `json:"total_bytes"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	return v.Total / (1 << 20)
}

// TestDeployCPU: `deploy MODEL --vm CPU-SIZE` writes the AKS CPU node pool
// script and the Ollama objects; the script passes bash -n with hostile
// values, the YAML parses, and the pod requests llama.cpp's buffers plus
// deploy's 512 MiB server reserve.
func TestDeployCPU(t *testing.T) {
	gguf := tinyLlamaGGUF(t)
	tests := []struct {
		name     string
		args     []string
		vm       string
		parallel string
		// wantMiB is llama.cpp's four buffers, before the reserve.
		wantMiB func(t *testing.T) float64
	}{
		// Ollama logged model 1114.91, KV 44.00, compute 148.01 and
		// output 0.13 MiB for this file at num_ctx 2048, one slot.
		{"GGUF file, Ollama's logged buffers", []string{gguf, "--vm", "Standard_D4as_v6", "--context", "2048", "--concurrency", "1",
			"--resource-group", `rg"$(touch /tmp/PWNED)`, "--name", "tiny"}, "Standard_D4as_v6", "1",
			func(*testing.T) float64 { return 1114.91 + 44.00 + 148.01 + 0.13 }},
		{"catalog model, target aks given", []string{"qwen2.5-0.5b", "--vm", "Standard_D8as_v7", "--context", "4096", "--concurrency", "2", "--target", "aks", "--spot"}, "Standard_D8as_v7", "2",
			func(t *testing.T) float64 { return sizedTotalMiB(t, "qwen2.5-0.5b", "Standard_D8as_v7", "4096", "2") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cpu")
			args := append([]string{"deploy"}, tt.args...)
			args = append(args, "--gguf-url", "https://example.com/m/model-q8_0.gguf", "--out-dir", dir)
			out, errOut, code := run(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, "Wrote 2 files") || !strings.Contains(out, "llama.cpp buffers") {
				t.Errorf("stdout:\n%s", out)
			}
			sh, err := os.ReadFile(filepath.Join(dir, "00-nodepool.sh"))
			if err != nil {
				t.Fatal(err)
			}
			bash := exec.Command("bash", "-n")
			bash.Stdin = bytes.NewReader(sh)
			if msg, err := bash.CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v %s\n%s", err, msg, sh)
			}
			if !strings.Contains(string(sh), "--node-vm-size "+tt.vm) {
				t.Errorf("node pool script lacks the VM size:\n%s", sh)
			}
			if strings.Contains(strings.Join(tt.args, " "), "--spot") != strings.Contains(string(sh), "--priority Spot") {
				t.Errorf("--spot not honoured:\n%s", sh)
			}
			y, err := os.ReadFile(filepath.Join(dir, "30-deployment.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var dep *appsv1.Deployment
			for _, doc := range bytes.Split(y, []byte("\n---\n")) {
				var v map[string]any
				if err := yaml.Unmarshal(doc, &v); err != nil {
					t.Fatalf("YAML does not parse: %v\n%s", err, doc)
				}
				if v["kind"] == "Deployment" {
					dep = new(appsv1.Deployment)
					if err := yaml.Unmarshal(doc, dep); err != nil {
						t.Fatal(err)
					}
				}
			}
			if dep == nil {
				t.Fatalf("no Deployment in\n%s", y)
			}
			c := dep.Spec.Template.Spec.Containers[0]
			// Four buffers each rounded to 0.01 MiB by the log: 0.02 MiB.
			want := tt.wantMiB(t) + 512
			if got := float64(c.Resources.Requests.Memory().Value()) / (1 << 20); math.Abs(got-want) > 0.02 {
				t.Errorf("memory request %.2f MiB, want %.2f (llama.cpp's buffers + 512 MiB)", got, want)
			}
			if c.Resources.Limits.Memory().Cmp(*c.Resources.Requests.Memory()) != 0 || c.StartupProbe == nil || c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("limits or probes: %+v", c)
			}
			env := map[string]string{}
			for _, e := range c.Env {
				env[e.Name] = e.Value
			}
			if env["OLLAMA_NUM_PARALLEL"] != tt.parallel {
				t.Errorf("OLLAMA_NUM_PARALLEL = %q, want %s", env["OLLAMA_NUM_PARALLEL"], tt.parallel)
			}
		})
	}
}

// TestDeployCPURefusals: bad input for a CPU size is a usage error (exit 2)
// naming the flag; what the VM cannot hold is refused (exit 3) with the
// reason; neither writes a file.
func TestDeployCPURefusals(t *testing.T) {
	gguf := tinyLlamaGGUF(t)
	url := []string{"--gguf-url", "https://example.com/m.gguf"}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"kaito", []string{"qwen2.5-0.5b", "--vm", "Standard_D8as_v7", "--context", "4096", "--target", "kaito"}, exitUsage, "--target kaito: --vm Standard_D8as_v7 is an Azure CPU size"},
		{"containerapps", []string{"qwen2.5-0.5b", "--vm", "Standard_D8as_v7", "--context", "4096", "--target", "containerapps"}, exitUsage, "allowed targets for CPU sizes: aks"},
		{"no gguf url", []string{"qwen2.5-0.5b", "--vm", "Standard_D8as_v7", "--context", "4096"}, exitUsage, "--gguf-url is required"},
		{"plain http url", []string{"qwen2.5-0.5b", "--vm", "Standard_D8as_v7", "--context", "4096", "--gguf-url", "http://example.com/m.gguf"}, exitUsage, "https URL of a .gguf file"},
		{"no context", append([]string{"qwen2.5-0.5b", "--vm", "Standard_D8as_v7"}, url...), exitUsage, "--context must be in [1, 16777216]"},
		{"concurrency", append([]string{"qwen2.5-0.5b", "--vm", "Standard_D8as_v7", "--context", "4096", "--concurrency", "2000"}, url...), exitUsage, "--concurrency must be in [1, 1024]"},
		{"GPU flags", append([]string{"qwen2.5-0.5b", "--vm", "Standard_D8as_v7", "--context", "4096", "--mig-profile", "MIG1g", "--input-tokens", "100"}, url...), exitUsage, "--input-tokens, --mig-profile"},
		{"GPU engine", append([]string{"qwen2.5-0.5b", "--vm", "Standard_D8as_v7", "--context", "4096", "--engine", "vllm"}, url...), exitUsage, "--engine vllm"},
		// Llama-3.1-70B at Q8_0 is about 70 GiB of weights; D2as_v6 has 8 GiB.
		{"weights beyond memory", append([]string{"llama-3.1-70b-instruct", "--vm", "Standard_D2as_v6", "--context", "4096"}, url...), exitInfeasible, "exceed Standard_D2as_v6's 8 GiB of memory"},
		// 4 slots of 131072 tokens: 4 × 131072 × 22 layers × 2 × 256 × 2 bytes = 11 GiB of KV.
		{"KV beyond memory", append([]string{gguf, "--vm", "Standard_D2as_v6", "--context", "131072", "--concurrency", "4"}, url...), exitInfeasible, "lower the context or concurrency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			_, errOut, code := run(t, append(append([]string{"deploy"}, tt.args...), "--out-dir", dir)...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, want %d; stderr %q should mention %q", code, tt.code, errOut, tt.msg)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s was written (%v)", dir, err)
			}
		})
	}
}
