package deploy

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

func TestGenerateCPU(t *testing.T) {
	o := CPUOptions{Name: "qwen-cpu", VM: "Standard_D4as_v6", GGUFURL: "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q8_0.gguf",
		Context: 2048, Parallel: 2, NeedBytes: 1 << 30, WeightBytes: 600 << 20}
	b, err := GenerateCPU(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Artifacts) != 2 || !strings.Contains(string(b.Artifacts[0].Content), "--node-vm-size Standard_D4as_v6") {
		t.Fatalf("artifacts: %+v", b.Artifacts)
	}
	docs := bytes.Split(b.Artifacts[1].Content, []byte("\n---\n"))
	var dep appsv1.Deployment
	if err := yaml.Unmarshal(docs[1], &dep); err != nil {
		t.Fatal(err)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	// Memory request = llama.cpp's buffers (1 GiB) + the 512 MiB server reserve.
	if got := c.Resources.Requests.Memory().Value(); got != 1<<30+512<<20 {
		t.Errorf("memory request %d", got)
	}
	// D4as_v6 has 4 vCPUs: request 3, leaving one for the node.
	if got := c.Resources.Requests.Cpu().MilliValue(); got != 3000 {
		t.Errorf("cpu request %dm", got)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["OLLAMA_NUM_PARALLEL"] != "2" || env["OLLAMA_CONTEXT_LENGTH"] != "2048" || !strings.Contains(env["MODELFILE"], "PARAMETER num_ctx 2048") {
		t.Errorf("env %v", env)
	}
	if c.ReadinessProbe == nil || c.StartupProbe == nil || dep.Spec.Template.Spec.NodeSelector["gpuplan.io/pool"] != "qwen-cpu" {
		t.Error("probes or node selector missing")
	}
}

func TestGenerateCPURefuses(t *testing.T) {
	base := CPUOptions{Name: "big", VM: "Standard_D2as_v6", GGUFURL: "https://example.com/m.gguf", Context: 4096, Parallel: 1}
	// 70B at Q4_K: about 40 GiB of weights on an 8 GiB VM.
	o := base
	o.WeightBytes, o.NeedBytes = 40<<30, 41<<30
	if _, err := GenerateCPU(o); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "weights (40.00 GiB) exceed") {
		t.Errorf("70B on D2as_v6: %v", err)
	}
	// Weights fit, the KV for the slots does not.
	o = base
	o.WeightBytes, o.NeedBytes = 6<<30, 9<<30
	if _, err := GenerateCPU(o); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "lower the context") {
		t.Errorf("KV overflow: %v", err)
	}
	for _, bad := range []CPUOptions{
		{Name: "Bad_Name", VM: base.VM, GGUFURL: base.GGUFURL, Context: 1, Parallel: 1, NeedBytes: 1, WeightBytes: 1},
		{Name: "x", VM: base.VM, GGUFURL: "http://example.com/m.gguf", Context: 1, Parallel: 1, NeedBytes: 1, WeightBytes: 1},
		{Name: "x", VM: "Standard_ND96isr_H100_v5", GGUFURL: base.GGUFURL, Context: 1, Parallel: 1, NeedBytes: 1, WeightBytes: 1},
		{Name: "x", VM: base.VM, GGUFURL: "https://example.com/m.gguf; rm -rf /", Context: 1, Parallel: 1, NeedBytes: 1, WeightBytes: 1},
	} {
		if _, err := GenerateCPU(bad); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("GenerateCPU(%+v) = %v, want invalid options", bad, err)
		}
	}
}

// TestGenerateCPUDefaults: the name comes from the model id as for GPU
// deploys, and --resource-group/--cluster default the script's variables,
// escaped for a double-quoted bash string.
func TestGenerateCPUDefaults(t *testing.T) {
	b, err := GenerateCPU(CPUOptions{Model: "Qwen/Qwen2.5-0.5B-Instruct", VM: "Standard_D4as_v6", GGUFURL: "https://example.com/q.gguf",
		ResourceGroup: `rg"$(id)`, ClusterName: "aks1", Context: 2048, Parallel: 1, NeedBytes: 1 << 30, WeightBytes: 600 << 20})
	if err != nil {
		t.Fatal(err)
	}
	sh := string(b.Artifacts[0].Content)
	for _, want := range []string{`RESOURCE_GROUP="${RESOURCE_GROUP:-rg\"\$(id)}"`, `CLUSTER_NAME="${CLUSTER_NAME:-aks1}"`, "gpuplan.io/pool=qwen2-5-0-5b-instruct"} {
		if !strings.Contains(sh, want) {
			t.Errorf("script lacks %q:\n%s", want, sh)
		}
	}
	if b.Target != TargetAKS || b.Candidate.Model.ID != "Qwen/Qwen2.5-0.5B-Instruct" || b.Candidate.VM != "Standard_D4as_v6" {
		t.Errorf("bundle labels: %s, %q on %q", b.Target, b.Candidate.Model.ID, b.Candidate.VM)
	}
}

// TestGenerateRefusesCPURow: a plan's CPU row handed to Generate (the GPU
// targets) is a usage error pointing at the CPU path, not a lookup failure
// in the GPU catalog.
func TestGenerateRefusesCPURow(t *testing.T) {
	c := loadPlan(t, "qwen2.5-3b-t4")
	c.VM, c.GPU, c.GPUsPerVM, c.Engine.GPUMemoryUtilization = "Standard_D8as_v7", "", 0, 0
	for _, target := range Targets() {
		_, err := Generate(c, Options{Target: target})
		if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "Standard_D8as_v7 is an Azure CPU size") {
			t.Errorf("%s: %v, want ErrInvalidOptions naming the CPU size", target, err)
		}
	}
}
