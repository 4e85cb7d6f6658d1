package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/gpuplan/gpuplan/deploy"
	"github.com/gpuplan/gpuplan/internal/ggufwrite"
	"github.com/gpuplan/gpuplan/model/gguf"
	"github.com/gpuplan/gpuplan/plan"
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

// TestDeployCPUPlanRow: a CPU row saved by `plan --save --pick-cpu`
// deploys to the same files as `deploy MODEL --vm CPU-SIZE` with the row's
// precision, context and slots, and the pod requests the buffers the plan
// row says it needs (NEEDS) plus the 512 MiB server reserve.
func TestDeployCPUPlanRow(t *testing.T) {
	const url = "https://example.com/m/qwen2.5-0.5b.gguf"
	tests := []struct {
		name      string
		planArgs  []string
		ctx, slot int64
	}{
		{"context and concurrency given", []string{"--concurrency", "2", "--context", "4096"}, 4096, 2},
		// Without --context a slot holds the longest request: 500 + 100.
		{"context from the request", []string{"--concurrency", "3"}, 600, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			planFile := filepath.Join(t.TempDir(), "plan.json")
			args := append([]string{"plan", "qwen2.5-0.5b", "--input-tokens", "500", "--output-tokens", "100", "-o", "json", "--save", planFile, "--pick-cpu", "1"}, tt.planArgs...)
			out, errOut, code := run(t, args...)
			if code != exitOK {
				t.Fatalf("plan: exit %d: %s", code, errOut)
			}
			var p struct {
				CPU struct {
					Rows []struct {
						VM, Precision string
						NeedGiB       float64 `json:"need_gib"`
						TTFTMs        float64 `json:"ttft_ms"`
						TPOTMs        float64 `json:"tpot_ms"`
					} `json:"rows"`
				} `json:"cpu"`
			}
			if err := json.Unmarshal([]byte(out), &p); err != nil || len(p.CPU.Rows) == 0 {
				t.Fatalf("plan -o json: %v, %d CPU rows", err, len(p.CPU.Rows))
			}
			row := p.CPU.Rows[0]
			c, err := plan.Load(planFile)
			if err != nil {
				t.Fatal(err)
			}
			if c.VM != row.VM || c.Engine.Precision != row.Precision || c.Engine.Name != "llamacpp" || c.GPU != "" ||
				c.Engine.MaxModelLen != tt.ctx || int64(c.Engine.MaxNumSeqs) != tt.slot || c.Predictions.TPOTMs.Mean != row.TPOTMs ||
				c.Predictions.TTFTMs.Mean != row.TTFTMs {
				t.Fatalf("plan.json %s %s %s ctx %d slots %d TPOT %v, want the CPU row %+v with ctx %d, %d slots",
					c.VM, c.Engine.Name, c.Engine.Precision, c.Engine.MaxModelLen, c.Engine.MaxNumSeqs, c.Predictions.TPOTMs.Mean, row, tt.ctx, tt.slot)
			}
			// llama.cpp's KV cache holds context × slots cells, padded to 32.
			if want := (tt.ctx*tt.slot + 31) / 32 * 32; c.Predictions.KVCacheTokens != want {
				t.Errorf("kv_cache_tokens %d, want %d", c.Predictions.KVCacheTokens, want)
			}

			fromPlan, errOut, code := run(t, "deploy", "--plan", planFile, "--gguf-url", url, "--stdout")
			if code != exitOK {
				t.Fatalf("deploy --plan: exit %d: %s", code, errOut)
			}
			direct, errOut, code := run(t, "deploy", c.Model.ID, "--vm", c.VM, "--precision", c.Engine.Precision,
				"--context", strconv.FormatInt(tt.ctx, 10), "--concurrency", strconv.FormatInt(tt.slot, 10), "--gguf-url", url, "--stdout")
			if code != exitOK {
				t.Fatalf("deploy MODEL --vm: exit %d: %s", code, errOut)
			}
			if fromPlan != direct {
				t.Errorf("deploy --plan and deploy MODEL --vm differ:\n--- plan\n%s\n--- MODEL --vm\n%s", fromPlan, direct)
			}
			if !strings.Contains(fromPlan, "--node-vm-size "+c.VM) || !strings.Contains(fromPlan, "image: "+deploy.DefaultOllamaImage) {
				t.Errorf("no CPU node pool of %s running Ollama:\n%s", c.VM, fromPlan)
			}
			var dep *appsv1.Deployment
			for _, doc := range strings.Split(fromPlan, "\n---\n") {
				if strings.Contains(doc, "kind: Deployment") {
					dep = new(appsv1.Deployment)
					if err := yaml.Unmarshal([]byte(doc), dep); err != nil {
						t.Fatal(err)
					}
				}
			}
			if dep == nil {
				t.Fatalf("no Deployment in\n%s", fromPlan)
			}
			ct := dep.Spec.Template.Spec.Containers[0]
			env := map[string]string{}
			for _, e := range ct.Env {
				env[e.Name] = e.Value
			}
			if env["OLLAMA_NUM_PARALLEL"] != strconv.FormatInt(tt.slot, 10) || env["OLLAMA_CONTEXT_LENGTH"] != strconv.FormatInt(tt.ctx, 10) {
				t.Errorf("OLLAMA_NUM_PARALLEL %q, OLLAMA_CONTEXT_LENGTH %q; want %d and %d", env["OLLAMA_NUM_PARALLEL"], env["OLLAMA_CONTEXT_LENGTH"], tt.slot, tt.ctx)
			}
			wantBytes := row.NeedGiB*(1<<30) + 512<<20
			if got := float64(ct.Resources.Requests.Memory().Value()); math.Abs(got-wantBytes) > 1 {
				t.Errorf("memory request %.0f bytes, want the plan row's NEEDS %.4f GiB + 512 MiB = %.0f", got, row.NeedGiB, wantBytes)
			}
		})
	}
}

// TestDeployCPUPlanRowRefusals: a CPU plan row without --gguf-url, with
// flags the plan already fixes, or to a GPU target is a usage error (exit
// 2) naming the flag, and writes nothing; so is --pick-cpu out of range or
// without --save.
func TestDeployCPUPlanRowRefusals(t *testing.T) {
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	if _, errOut, code := run(t, "plan", "qwen2.5-0.5b", "--input-tokens", "500", "--output-tokens", "100", "--concurrency", "1", "--save", planFile, "--pick-cpu", "1"); code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	url := []string{"--gguf-url", "https://example.com/m.gguf"}
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no gguf url", []string{"deploy", "--plan", planFile}, "--gguf-url is required with the CPU size"},
		{"context from the plan", append([]string{"deploy", "--plan", planFile, "--context", "8192"}, url...), "--context; drop them; the VM, context, slots and precision come from the plan"},
		{"GPU flag", append([]string{"deploy", "--plan", planFile, "--mig-profile", "MIG1g"}, url...), "--mig-profile"},
		{"kaito", append([]string{"deploy", "--plan", planFile, "--target", "kaito"}, url...), "allowed targets for CPU sizes: aks"},
		{"pick-cpu without save", []string{"plan", "qwen2.5-0.5b", "--input-tokens", "500", "--output-tokens", "100", "--concurrency", "1", "--pick-cpu", "1"}, "--pick-cpu RANK goes with --save FILE"},
		{"pick-cpu beyond the rows", []string{"plan", "qwen2.5-0.5b", "--input-tokens", "500", "--output-tokens", "100", "--concurrency", "1", "--save", filepath.Join(dir, "p2.json"), "--pick-cpu", "99999"}, "--pick-cpu 99999: the plan has"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := tt.args
			if args[0] == "deploy" {
				args = append(args, "--out-dir", out)
			}
			_, errOut, code := run(t, args...)
			if code != exitUsage || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, want %d; stderr %q should mention %q", code, exitUsage, errOut, tt.msg)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written (%v)", out, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "p2.json")); !os.IsNotExist(err) {
				t.Errorf("p2.json was written (%v)", err)
			}
		})
	}
}
