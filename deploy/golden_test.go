package deploy

import (
	"bytes"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gpuplan/gpuplan/internal/golden"
	"github.com/gpuplan/gpuplan/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func loadPlan(t testing.TB, name string) plan.Candidate {
	t.Helper()
	c, err := plan.Load(filepath.Join("testdata", "plans", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func intp(n int) *int { return &n }

// goldenCase is one plan fixture deployed with one set of options.
type goldenCase struct {
	name string
	plan string
	opts Options
}

// goldenCases cover every target, both GPU vendors, the --dtype half path,
// Spot, MIG, both Prometheus flavours, every KAITO preset mode and every
// engine with a recorded GPU image.
func goldenCases() []goldenCase {
	return []goldenCase{
		{"aks-h100-managed", "llama-3.1-70b-h100", Options{Target: TargetAKS, ResourceGroup: "rg-llm", ClusterName: "aks-llm",
			PrometheusURL: "https://amw-llm-abcd.eastus.prometheus.monitor.azure.com", KEDAIdentityClientID: "00000000-0000-0000-0000-000000000001"}},
		{"aks-t4-spot-operator", "qwen2.5-3b-t4", Options{Target: TargetAKS, Spot: true, Prometheus: PrometheusOperator, MinReplicas: intp(0)}},
		{"aks-mi300x", "llama-3.1-70b-mi300x", Options{Target: TargetAKS, Prometheus: PrometheusNone}},
		{"aks-a100-mig", "phi-4-a100", Options{Target: TargetAKS, MIGProfile: "MIG3g", Prometheus: PrometheusNone}},
		{"aks-multinode-405b", "llama-3.1-405b-2xh100", Options{Target: TargetAKSMultiNode, MaxReplicas: 2}},
		{"kaito-phi-4-addon", "phi-4-a100", Options{Target: TargetKAITO}},
		{"kaito-llama-3.3-0.9", "llama-3.3-70b-nc48", Options{Target: TargetKAITO, KAITOVersion: "0.9.0"}},
		{"kaito-llama-3.3-0.12", "llama-3.3-70b-nc48", Options{Target: TargetKAITO, KAITOVersion: "0.12.0", ResourceGroup: "rg"}},
		{"containerapps-a100", "qwen2.5-7b-aca-a100", Options{Target: TargetContainerApps}},
		// SGLang and both TensorRT-LLM profiles with their recorded images.
		{"aks-h100nvl-sglang", "llama-3.1-8b-h100nvl-sglang", Options{Target: TargetAKS, Prometheus: PrometheusOperator}},
		{"aks-2xh100nvl-trtllm", "llama-3.1-70b-2xh100nvl-trtllm", Options{Target: TargetAKS, Prometheus: PrometheusNone}},
		{"aks-a100-trtllm017", "phi-4-a100-trtllm017", Options{Target: TargetAKS, Prometheus: PrometheusNone}},
	}
}

func generateCase(t testing.TB, gc goldenCase) *Bundle {
	t.Helper()
	b, err := Generate(loadPlan(t, gc.plan), gc.opts)
	if err != nil {
		t.Fatalf("%s: %v", gc.name, err)
	}
	return b
}

// TestGolden compares every generated file with testdata/golden/<case>/.
// The --stdout stream is not stored: it is checked to carry each file,
// YAML verbatim and everything else as comments, in order.
func TestGolden(t *testing.T) {
	for _, gc := range goldenCases() {
		t.Run(gc.name, func(t *testing.T) {
			b := generateCase(t, gc)
			files := map[string]string{}
			for _, a := range b.Artifacts {
				files[a.Name] = string(a.Content)
			}
			golden.Dir(t, filepath.Join("testdata", "golden", gc.name), files, *update)

			var stream bytes.Buffer
			if _, err := b.WriteTo(&stream); err != nil {
				t.Fatal(err)
			}
			sections := strings.Split(stream.String(), "---\n# file: ")
			if len(sections) != len(b.Artifacts)+1 {
				t.Fatalf("stream has %d file sections for %d files", len(sections)-1, len(b.Artifacts))
			}
			for i, a := range b.Artifacts {
				name, body, _ := strings.Cut(sections[i+1], "\n")
				if name != a.Name {
					t.Errorf("stream section %d is %s, want %s", i, name, a.Name)
				}
				want := strings.TrimPrefix(string(a.Content), "---\n")
				if a.Kind != KindKubernetes && a.Kind != KindYAML {
					var c strings.Builder
					for _, line := range strings.Split(strings.TrimSuffix(string(a.Content), "\n"), "\n") {
						if line == "" {
							c.WriteString("#\n")
						} else {
							c.WriteString("# " + line + "\n")
						}
					}
					want = c.String()
				}
				if !strings.HasSuffix(want, "\n") {
					want += "\n"
				}
				if body != want {
					t.Errorf("stream section %s differs from the file (-file +stream):\n%s", a.Name, cmp.Diff(strings.Split(want, "\n"), strings.Split(body, "\n")))
				}
			}
		})
	}
}
