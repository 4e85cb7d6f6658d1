package deploy

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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
// Spot, MIG, both Prometheus flavours and every KAITO preset mode.
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

func TestGolden(t *testing.T) {
	for _, gc := range goldenCases() {
		t.Run(gc.name, func(t *testing.T) {
			b := generateCase(t, gc)
			dir := filepath.Join("testdata", "golden", gc.name)
			var stream bytes.Buffer
			if _, err := b.WriteTo(&stream); err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{"stream.yaml": stream.Bytes()}
			for _, a := range b.Artifacts {
				files[a.Name] = a.Content
			}
			if *update {
				os.RemoveAll(dir)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, content := range files {
					if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("%v (run go test ./deploy -run TestGolden -update)", err)
			}
			if len(entries) != len(files) {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("golden dir has %v, generated %d files", names, len(files))
			}
			for name, got := range files {
				want, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
					t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}
