package deploy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/internal/testmodel"
	"github.com/gpuplan/gpuplan/plan"
)

// edit returns fixture name changed by f.
func edit(t *testing.T, name string, f func(*plan.Candidate)) plan.Candidate {
	t.Helper()
	c := loadPlan(t, name)
	if f != nil {
		f(&c)
	}
	return c
}

// onVM moves a candidate to another VM size and chip.
func onVM(vm, gpu string, gpusPerVM float64, resource string) func(*plan.Candidate) {
	return func(c *plan.Candidate) {
		c.VM, c.GPU, c.GPUsPerVM, c.DevicePluginResource = vm, gpu, gpusPerVM, resource
	}
}

func TestRefusals(t *testing.T) {
	llama8B := func(c *plan.Candidate) {
		// Llama-3.1-8B-Instruct in bf16: 8,030,261,248 params x 2 bytes.
		c.Model = plan.ModelRef{ID: "meta-llama/Llama-3.1-8B-Instruct", ParamsTotal: 8030261248, ParamsActive: 8030261248}
		c.WeightsBytes, c.WeightsBytesPerGPU = 16060522496, 16060522496
	}
	tests := []struct {
		name string
		c    plan.Candidate
		o    Options
		want string // a phrase of one refusal reason
	}{
		{"partial A10 below the weights", edit(t, "qwen2.5-3b-t4", func(c *plan.Candidate) {
			onVM("Standard_NV18ads_A10_v5", "a10", 0.5, "nvidia.com/gpu")(c)
			llama8B(c)
			c.Engine.Precision, c.Engine.DType = "bf16", "bfloat16"
		}), Options{Target: TargetAKS}, "1/2 of an NVIDIA A10"},
		{"Arm-hosted GB200 with the default image", edit(t, "llama-3.1-70b-h100", onVM("Standard_ND128isr_NDR_GB200_v6", "gb200", 4, "nvidia.com/gpu")),
			Options{Target: TargetAKS}, "Arm (arm64) host CPUs"},
		{"Arm-hosted GB300 says arm64 but keeps the x86 image", edit(t, "llama-3.1-70b-h100", onVM("Standard_ND128isr_GB300_v6", "gb300", 4, "nvidia.com/gpu")),
			Options{Target: TargetAKS, ImageArch: "arm64"}, "Arm (arm64) host CPUs"},
		{"FP8 weight-only when native was required", edit(t, "phi-4-a100", func(c *plan.Candidate) {
			c.Engine.Precision, c.Engine.Quantization, c.Engine.Checkpoint = "fp8", "fp8", "runtime"
		}), Options{Target: TargetAKS, RequireNative: true}, "runs only weight-only"},
		{"Container Apps profile not in the region", edit(t, "qwen2.5-7b-aca-a100", func(c *plan.Candidate) { c.Region = "francecentral" }),
			Options{Target: TargetContainerApps}, "not offered in francecentral (offered in australiaeast, brazilsouth, eastus, italynorth, swedencentral, westus, westus3; https://learn.microsoft.com/azure/container-apps/workload-profiles-overview, https://learn.microsoft.com/azure/container-apps/gpu-serverless-overview)"},
		{"Container Apps replica needs two GPUs", loadPlan(t, "llama-3.3-70b-nc48"),
			Options{Target: TargetContainerApps, Region: "eastus"}, "needs 2 GPUs per replica"},
		{"Container Apps has no H100 profile", loadPlan(t, "llama-3.1-70b-h100"),
			Options{Target: TargetContainerApps}, "no Container Apps serverless GPU profile"},
		{"KAITO add-on predates the Llama 3.3 preset", loadPlan(t, "llama-3.3-70b-nc48"),
			Options{Target: TargetKAITO}, "first appears in KAITO 0.6.2"},
		{"KAITO 0.6 cannot take a Hugging Face id", loadPlan(t, "qwen2.5-7b-aca-a100"),
			Options{Target: TargetKAITO}, "need KAITO 0.9.0 or newer"},
		{"KAITO does not take AMD sizes", loadPlan(t, "llama-3.1-70b-mi300x"),
			Options{Target: TargetKAITO, KAITOVersion: "0.12.0"}, "AMD GPU sizes are not a supported KAITO instanceType"},
		{"KAITO serves checkpoints as released", edit(t, "phi-4-a100", func(c *plan.Candidate) {
			c.Engine.Precision, c.Engine.Quantization, c.Engine.Checkpoint = "fp8-w8a16", "fp8", "runtime"
		}), Options{Target: TargetKAITO}, "quantizes at load"},
		{"multi-node target for a single-node plan", loadPlan(t, "llama-3.1-70b-h100"),
			Options{Target: TargetAKSMultiNode}, "use --target aks"},
		{"single-node target for a multi-node plan", loadPlan(t, "llama-3.1-405b-2xh100"),
			Options{Target: TargetAKS}, "use --target aks-multinode"},
		// engine/data/images.yaml records SGLang's CUDA image only.
		{"SGLang has no recorded AMD image", edit(t, "llama-3.1-70b-mi300x", func(c *plan.Candidate) { c.Engine.Name, c.Engine.Version = "sglang", "0.4" }),
			Options{Target: TargetAKS}, "sglang@0.4 has no container image recorded for amd/x86-64"},
		{"KAITO runs only vLLM presets", edit(t, "llama-3.3-70b-nc48", func(c *plan.Candidate) { c.Engine.Name, c.Engine.Version = "sglang", "0.4" }),
			Options{Target: TargetKAITO, KAITOVersion: "0.12.0"}, "KAITO presets do not run SGLang"},
		{"llama.cpp has no multi-node recipe", edit(t, "llama-3.1-405b-2xh100", func(c *plan.Candidate) { c.Engine.Name, c.Engine.Version = "llamacpp", "" }),
			Options{Target: TargetAKSMultiNode}, "has no multi-node recipe"},
		{"AKS does not install AMD drivers", loadPlan(t, "llama-3.1-70b-mi300x"),
			Options{Target: TargetAKS, GPUDriver: "install"}, "enforces --gpu-driver none"},
		{"MIG on a T4", loadPlan(t, "qwen2.5-3b-t4"), Options{Target: TargetAKS, MIGProfile: "MIG1g"}, "runs on A100, H100 and H200"},
		{"MIG on an AMD MI300X", loadPlan(t, "llama-3.1-70b-mi300x"), Options{Target: TargetAKS, MIGProfile: "MIG7g"}, "runs on A100, H100 and H200"},
		{"MIG 1g slice of an A100 80GB holds 10 GB", loadPlan(t, "phi-4-a100"), Options{Target: TargetAKS, MIGProfile: "MIG1g"}, "has 10 GB"},
		{"retired NCv3", edit(t, "qwen2.5-3b-t4", onVM("Standard_NC6s_v3", "v100-16gb", 1, "nvidia.com/gpu")),
			Options{Target: TargetAKS}, "is retired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(tc.c, tc.o)
			var re *RefusedError
			if !errors.As(err, &re) || !errors.Is(err, ErrRefused) {
				t.Fatalf("err = %v, want a *RefusedError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("refusal %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestNotRefused covers the allowed side of each refusal rule.
func TestNotRefused(t *testing.T) {
	tests := []struct {
		name string
		c    plan.Candidate
		o    Options
		note string
	}{
		{"partial A10 that holds the weights", edit(t, "qwen2.5-3b-t4", onVM("Standard_NV18ads_A10_v5", "a10", 0.5, "nvidia.com/gpu")),
			Options{Target: TargetAKS}, "partial GPU (1/2)"},
		{"Arm host with an arm64 image", edit(t, "llama-3.1-70b-h100", onVM("Standard_ND128isr_NDR_GB200_v6", "gb200", 4, "nvidia.com/gpu")),
			Options{Target: TargetAKS, Image: "registry.example/vllm:arm64", ImageArch: "arm64"}, "No AKS document states node-pool support"},
		{"FP8 on Ampere without RequireNative", edit(t, "phi-4-a100", func(c *plan.Candidate) {
			c.Engine.Precision, c.Engine.Quantization, c.Engine.Checkpoint = "fp8", "fp8", "runtime"
		}), Options{Target: TargetAKS}, "weight_only"},
		{"Container Apps T4 in France Central", edit(t, "qwen2.5-3b-t4", func(c *plan.Candidate) {
			onVM("Standard_NC8as_T4_v3", "t4", 1, "nvidia.com/gpu")(c)
			c.Region = "France Central"
		}), Options{Target: TargetContainerApps}, "scales to zero"},
		{"KAITO 0.6.2 has the Llama 3.3 preset", loadPlan(t, "llama-3.3-70b-nc48"), Options{Target: TargetKAITO, KAITOVersion: "0.6.2"}, "KAITO provisions"},
		{"KAITO 0.9 takes a Hugging Face id", loadPlan(t, "qwen2.5-7b-aca-a100"), Options{Target: TargetKAITO, KAITOVersion: "v0.9"}, "best-effort"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Generate(tc.c, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(b.Notes, "\n"), tc.note) {
				t.Errorf("notes do not mention %q:\n%s", tc.note, strings.Join(b.Notes, "\n"))
			}
		})
	}
}

func TestInvalidOptions(t *testing.T) {
	h100 := loadPlan(t, "llama-3.1-70b-h100")
	tests := []struct {
		name string
		c    plan.Candidate
		o    Options
	}{
		{"no target", h100, Options{}},
		{"unknown target", h100, Options{Target: "eks"}},
		{"bad name", h100, Options{Target: TargetAKS, Name: "Llama_70B"}},
		{"long name", h100, Options{Target: TargetAKS, Name: strings.Repeat("a", 41)}},
		{"bad node pool", h100, Options{Target: TargetAKS, NodePool: "gpu-pool-h100"}},
		{"bad MIG profile", h100, Options{Target: TargetAKS, MIGProfile: "MIG5g"}},
		{"bad GPU driver", h100, Options{Target: TargetAKS, GPUDriver: "grid"}},
		{"bad Prometheus", h100, Options{Target: TargetAKS, Prometheus: "datadog"}},
		{"min above max", h100, Options{Target: TargetAKS, MinReplicas: intp(3), MaxReplicas: 2}},
		{"negative spot price", h100, Options{Target: TargetAKS, Spot: true, SpotMaxPrice: -2}},
		{"bad image arch", h100, Options{Target: TargetAKS, ImageArch: "riscv"}},
		{"KAITO version too old", loadPlan(t, "phi-4-a100"), Options{Target: TargetKAITO, KAITOVersion: "0.5.0"}},
		{"KAITO version unknown", loadPlan(t, "phi-4-a100"), Options{Target: TargetKAITO, KAITOVersion: "0.13.0"}},
		{"KAITO version garbage", loadPlan(t, "phi-4-a100"), Options{Target: TargetKAITO, KAITOVersion: "latest"}},
		{"Container Apps without a region", edit(t, "qwen2.5-7b-aca-a100", func(c *plan.Candidate) { c.Region = "" }), Options{Target: TargetContainerApps}},
		{"Spot on KAITO", loadPlan(t, "phi-4-a100"), Options{Target: TargetKAITO, Spot: true}},
		{"KAITO version on AKS", h100, Options{Target: TargetAKS, KAITOVersion: "0.9.0"}},
		{"MIG on multi-node", loadPlan(t, "llama-3.1-405b-2xh100"), Options{Target: TargetAKSMultiNode, MIGProfile: "MIG7g"}},
		{"spot price without spot", h100, Options{Target: TargetAKS, SpotMaxPrice: 1.5}},
		{"too many replicas", h100, Options{Target: TargetAKS, MaxReplicas: 1001}},
		{"plan with too many replicas", edit(t, "llama-3.1-70b-h100", func(c *plan.Candidate) { c.Replicas, c.VMCount = 4000, 1000 }), Options{Target: TargetAKS}},
		{"Container Apps dedicated profile", loadPlan(t, "qwen2.5-7b-aca-a100"), Options{Target: TargetContainerApps, Profile: "NC24-A100"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(tc.c, tc.o)
			if !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("err = %v, want ErrInvalidOptions", err)
			}
		})
	}
	// A plan that fails Validate is an error of its own.
	bad := h100
	bad.Engine.TP = 0
	if _, err := Generate(bad, Options{Target: TargetAKS}); err == nil || errors.Is(err, ErrInvalidOptions) || errors.Is(err, ErrRefused) {
		t.Errorf("invalid plan: err = %v", err)
	}
}

// deploymentOf decodes 30-deployment.yaml of a bundle.
func deploymentOf(t *testing.T, b *Bundle) *appsv1.Deployment {
	t.Helper()
	for _, a := range b.Artifacts {
		if a.Name == "30-deployment.yaml" {
			var d appsv1.Deployment
			if err := yaml.UnmarshalStrict(a.Content, &d); err != nil {
				t.Fatal(err)
			}
			return &d
		}
	}
	t.Fatal("no 30-deployment.yaml")
	return nil
}

func artifact(t *testing.T, b *Bundle, name string) []byte {
	t.Helper()
	for _, a := range b.Artifacts {
		if a.Name == name {
			return a.Content
		}
	}
	t.Fatalf("no artifact %s", name)
	return nil
}

func argValue(args []string, flag string) (string, bool) {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

func TestEngineArguments(t *testing.T) {
	tests := []struct {
		name     string
		c        plan.Candidate
		o        Options
		dtype    string
		resource corev1.ResourceName
		gpus     int64
		image    string
		quant    string
	}{
		// H100 runs bf16: the plan's dtype passes through.
		{"H100 bf16 TP2", loadPlan(t, "llama-3.1-70b-h100"), Options{Target: TargetAKS}, "bfloat16", "nvidia.com/gpu", 2, "vllm/vllm-openai:v0.19.0", ""},
		// T4 (CC 7.5) has no bfloat16: --dtype half.
		{"T4 half", loadPlan(t, "qwen2.5-3b-t4"), Options{Target: TargetAKS}, "half", "nvidia.com/gpu", 1, "vllm/vllm-openai:v0.19.0", ""},
		// MI300X: amd.com/gpu and the ROCm image of the same vLLM release.
		{"MI300X ROCm", loadPlan(t, "llama-3.1-70b-mi300x"), Options{Target: TargetAKS}, "bfloat16", "amd.com/gpu", 1, "vllm/vllm-openai-rocm:v0.19.0", ""},
		{"image override", loadPlan(t, "llama-3.1-70b-h100"), Options{Target: TargetAKS, Image: "myacr.azurecr.io/vllm:v0.19.0-patched"}, "bfloat16", "nvidia.com/gpu", 2, "myacr.azurecr.io/vllm:v0.19.0-patched", ""},
		{"runtime FP8", edit(t, "llama-3.1-70b-h100", func(c *plan.Candidate) {
			c.Engine.Precision, c.Engine.Quantization, c.Engine.Checkpoint, c.Engine.KVCacheDType = "fp8", "fp8", "runtime", "fp8"
		}), Options{Target: TargetAKS}, "bfloat16", "nvidia.com/gpu", 2, "vllm/vllm-openai:v0.19.0", "fp8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Generate(tc.c, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			d := deploymentOf(t, b)
			ctr := d.Spec.Template.Spec.Containers[0]
			if got, _ := argValue(ctr.Args, "--dtype"); got != tc.dtype {
				t.Errorf("--dtype %q, want %q", got, tc.dtype)
			}
			if got, ok := argValue(ctr.Args, "--quantization"); got != tc.quant || ok != (tc.quant != "") {
				t.Errorf("--quantization %q, want %q", got, tc.quant)
			}
			if ctr.Args[0] != tc.c.Model.ID {
				t.Errorf("first argument %q, want the model id", ctr.Args[0])
			}
			for flag, want := range map[string]string{
				"--tensor-parallel-size":   itoa(tc.c.Engine.TP),
				"--pipeline-parallel-size": itoa(tc.c.Engine.PP),
				"--max-model-len":          itoa(int(tc.c.Engine.MaxModelLen)),
				"--max-num-seqs":           itoa(tc.c.Engine.MaxNumSeqs),
				"--max-num-batched-tokens": itoa(tc.c.Engine.MaxNumBatchedTokens),
				"--kv-cache-dtype":         tc.c.Engine.KVCacheDType,
			} {
				if got, _ := argValue(ctr.Args, flag); got != want {
					t.Errorf("%s %q, want %q", flag, got, want)
				}
			}
			q := ctr.Resources.Limits[tc.resource]
			if q.Value() != tc.gpus || len(ctr.Resources.Limits) != 1 {
				t.Errorf("limits %v, want %d %s", ctr.Resources.Limits, tc.gpus, tc.resource)
			}
			if ctr.Image != tc.image {
				t.Errorf("image %s, want %s", ctr.Image, tc.image)
			}
			if ctr.StartupProbe == nil || ctr.ReadinessProbe.HTTPGet.Path != "/health" || ctr.LivenessProbe.HTTPGet.Path != "/health" {
				t.Error("probes are not on /health")
			}
			var shm bool
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.EmptyDir != nil && v.EmptyDir.Medium == corev1.StorageMediumMemory {
					shm = true
				}
			}
			if !shm {
				t.Error("no memory-backed /dev/shm volume")
			}
		})
	}
}

// TestSGLangAndTRTLLMArguments: planner-made SGLang and TensorRT-LLM plans
// deploy with the image engine/data/images.yaml records for the GPU and
// the servers' own flags for the plan's values: SGLang's launch_server
// (docs.sglang.io server arguments: --model-path, --tp-size,
// --context-length, --mem-fraction-static, port 30000) and trtllm-serve
// (tensorrt_llm/commands/serve.py: MODEL, --tp_size, --pp_size,
// --max_seq_len, --kv_cache_free_gpu_memory_fraction, --max_batch_size,
// --max_num_tokens, port 8000).
func TestSGLangAndTRTLLMArguments(t *testing.T) {
	tests := []struct {
		plan, image, command string
		port                 int32
		flags                func(c plan.Candidate) map[string]string
	}{
		{"llama-3.1-8b-h100nvl-sglang", "lmsysorg/sglang:v0.4.6.post1-cu124", "python3", 30000, func(c plan.Candidate) map[string]string {
			return map[string]string{"-m": "sglang.launch_server", "--model-path": c.Model.ID, "--tp-size": itoa(c.Engine.TP),
				"--context-length": itoa(int(c.Engine.MaxModelLen)), "--mem-fraction-static": strconv.FormatFloat(c.Engine.GPUMemoryUtilization, 'f', -1, 64),
				"--quantization": c.Engine.Quantization, "--chunked-prefill-size": itoa(c.Engine.MaxNumBatchedTokens), "--port": "30000"}
		}},
		{"llama-3.1-70b-2xh100nvl-trtllm", "nvcr.io/nvidia/tensorrt-llm/release:1.0.0", "trtllm-serve", 8000, trtllmFlags},
		{"phi-4-a100-trtllm017", "nvcr.io/nvidia/tritonserver:25.01-trtllm-python-py3", "trtllm-serve", 8000, trtllmFlags},
	}
	for _, tc := range tests {
		t.Run(tc.plan, func(t *testing.T) {
			c := loadPlan(t, tc.plan)
			b, err := Generate(c, Options{Target: TargetAKS, Prometheus: PrometheusNone})
			if err != nil {
				t.Fatal(err)
			}
			ctr := deploymentOf(t, b).Spec.Template.Spec.Containers[0]
			if ctr.Image != tc.image || c.Engine.Image != tc.image {
				t.Errorf("image %s (plan.json %s), want %s", ctr.Image, c.Engine.Image, tc.image)
			}
			if len(ctr.Command) != 1 || ctr.Command[0] != tc.command {
				t.Errorf("command %v, want %s", ctr.Command, tc.command)
			}
			if tc.command == "trtllm-serve" && ctr.Args[0] != c.Model.ID {
				t.Errorf("trtllm-serve's first argument %q, want the model id %s", ctr.Args[0], c.Model.ID)
			}
			for flag, want := range tc.flags(c) {
				if got, _ := argValue(ctr.Args, flag); got != want {
					t.Errorf("%s %q, want %q", flag, got, want)
				}
			}
			if len(ctr.Ports) != 1 || ctr.Ports[0].ContainerPort != tc.port || ctr.ReadinessProbe.HTTPGet.Path != "/health" {
				t.Errorf("ports %v, readiness %v; want %d and /health", ctr.Ports, ctr.ReadinessProbe.HTTPGet, tc.port)
			}
			if q := ctr.Resources.Limits["nvidia.com/gpu"]; q.Value() != int64(c.Engine.TP*c.Engine.PP) {
				t.Errorf("GPU limit %v, want TP × PP = %d", ctr.Resources.Limits, c.Engine.TP*c.Engine.PP)
			}
		})
	}
}

func trtllmFlags(c plan.Candidate) map[string]string {
	return map[string]string{"--tp_size": itoa(c.Engine.TP), "--pp_size": itoa(c.Engine.PP), "--max_seq_len": itoa(int(c.Engine.MaxModelLen)),
		"--kv_cache_free_gpu_memory_fraction": strconv.FormatFloat(c.Engine.GPUMemoryUtilization, 'f', -1, 64),
		"--max_batch_size":                    itoa(c.Engine.MaxNumSeqs), "--max_num_tokens": itoa(c.Engine.MaxNumBatchedTokens), "--host": "0.0.0.0", "--port": "8000"}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestStartupWindow(t *testing.T) {
	tests := []struct {
		name     string
		coldS    float64
		band     float64
		override time.Duration
		failures int32
	}{
		// 2 x 600 s x 1.25 = 1500 s → 150 probes of 10 s.
		{"long load", 600, 0.25, 0, 150},
		// 2 x 180 s x 1.25 = 450 s is below the 600 s floor → 60.
		{"short load uses the floor", 180, 0.25, 0, 60},
		// 2 x 400 x 1.0 = 800 s → 80; a negative band counts as none.
		{"no band", 400, -1, 0, 80},
		// Unknown cold start: 1800 s fallback → 180.
		{"unknown", 0, 0.25, 0, 180},
		{"override", 600, 0.25, 5 * time.Minute, 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := edit(t, "llama-3.1-70b-h100", func(c *plan.Candidate) {
				c.Predictions.ColdStartS, c.Predictions.ErrorBandFraction = tc.coldS, tc.band
			})
			b, err := Generate(c, Options{Target: TargetAKS, StartupWindow: tc.override})
			if err != nil {
				t.Fatal(err)
			}
			p := deploymentOf(t, b).Spec.Template.Spec.Containers[0].StartupProbe
			if p.FailureThreshold != tc.failures || p.PeriodSeconds != 10 {
				t.Errorf("startup probe %d x %d s, want %d x 10 s", p.FailureThreshold, p.PeriodSeconds, tc.failures)
			}
		})
	}
}

func TestModelCacheSize(t *testing.T) {
	tests := []struct {
		name    string
		c       plan.Candidate
		class   string
		wantGiB int64
	}{
		// 141,107,412,992 bytes = 131.42 GiB; +10% = 144.56 → 145 GiB.
		{"70B bf16", loadPlan(t, "llama-3.1-70b-h100"), "", 145},
		// 6,171,877,376 bytes = 5.75 GiB; +10% → 7 GiB, raised to the 100 GiB premium-share minimum.
		{"3B on premium files", loadPlan(t, "qwen2.5-3b-t4"), "", 100},
		{"3B on a disk class", loadPlan(t, "qwen2.5-3b-t4"), "managed-csi-premium", 7},
		// FP8 at load downloads the bf16 checkpoint: 2 x 14,659,507,200 bytes = 27.31 GiB; +10% → 31 GiB.
		{"runtime FP8 downloads bf16", edit(t, "phi-4-a100", func(c *plan.Candidate) {
			c.Engine.Precision, c.Engine.Quantization, c.Engine.Checkpoint = "fp8", "fp8", "runtime"
			c.WeightsBytes = 14659507200 // the in-memory FP8 weights, not what is downloaded
		}), "managed-csi-premium", 31},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Generate(tc.c, Options{Target: TargetAKS, StorageClass: tc.class})
			if err != nil {
				t.Fatal(err)
			}
			var pvc corev1.PersistentVolumeClaim
			if err := yaml.UnmarshalStrict(artifact(t, b, "20-pvc.yaml"), &pvc); err != nil {
				t.Fatal(err)
			}
			q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
			if q.Value() != tc.wantGiB<<30 {
				t.Errorf("PVC %s, want %dGi", q.String(), tc.wantGiB)
			}
			if pvc.Spec.AccessModes[0] != corev1.ReadWriteMany {
				t.Errorf("access mode %v, want ReadWriteMany", pvc.Spec.AccessModes)
			}
		})
	}
}

func TestNodePoolCounts(t *testing.T) {
	tests := []struct {
		name           string
		c              plan.Candidate
		o              Options
		count, lo, hi  string
		podsPerNodeMsg string
	}{
		// 8 GPUs / TP2 = 4 replicas per VM: the planner's 8 replicas (1..8
		// under autoscaling) need 2 VMs (1..2).
		{"H100 4 per VM", loadPlan(t, "llama-3.1-70b-h100"), Options{Target: TargetAKS}, "2", "1", "2", "4 replicas fit on one VM"},
		// NC48 (2 GPUs) at TP1: 2 per VM; 1..5 replicas → 1..3 nodes; the plan's 3 VMs.
		{"NC48 TP1", edit(t, "llama-3.3-70b-nc48", func(c *plan.Candidate) {
			c.Engine.TP, c.GPUsPerReplica, c.Replicas, c.VMCount = 1, 1, 5, 3
			c.Model = plan.ModelRef{ID: "microsoft/phi-4", ParamsTotal: 14659507200, ParamsActive: 14659507200}
			c.WeightsBytes, c.WeightsBytesPerGPU = 29319014400, 29319014400
		}), Options{Target: TargetAKS}, "3", "1", "3", "2 replicas fit on one VM"},
		// Two VMs per replica, up to 3 replicas → 6 nodes; scale to zero allowed.
		{"multi-node", loadPlan(t, "llama-3.1-405b-2xh100"), Options{Target: TargetAKSMultiNode, MinReplicas: intp(0), MaxReplicas: 3}, "2", "0", "6", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Generate(tc.c, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			sh := string(artifact(t, b, "00-nodepool.sh"))
			inv := azInvocations(sh)
			if len(inv) == 0 {
				t.Fatal("no az command")
			}
			text := strings.ReplaceAll(sh, "\\\n", " ")
			for flag, want := range map[string]string{"--node-count": tc.count, "--min-count": tc.lo, "--max-count": tc.hi} {
				if !strings.Contains(text, flag+" "+want+" ") {
					t.Errorf("%s is not %s in:\n%s", flag, want, sh)
				}
			}
			bicep := string(artifact(t, b, "00-nodepool.bicep"))
			for key, want := range map[string]string{"count": tc.count, "minCount": tc.lo, "maxCount": tc.hi} {
				if !strings.Contains(bicep, "    "+key+": "+want+"\n") {
					t.Errorf("bicep %s is not %s", key, want)
				}
			}
			if tc.podsPerNodeMsg != "" && !bytes.Contains(artifact(t, b, "30-deployment.yaml"), []byte(tc.podsPerNodeMsg)) {
				t.Errorf("deployment header lacks %q", tc.podsPerNodeMsg)
			}
		})
	}
}

func TestSpotAndDriver(t *testing.T) {
	b, err := Generate(loadPlan(t, "qwen2.5-3b-t4"), Options{Target: TargetAKS, Spot: true, SpotMaxPrice: 0.25, GPUDriver: "none"})
	if err != nil {
		t.Fatal(err)
	}
	sh := strings.ReplaceAll(string(artifact(t, b, "00-nodepool.sh")), "\\\n", " ")
	for _, want := range []string{"--priority Spot", "--eviction-policy Delete", "--spot-max-price 0.25", "--gpu-driver None"} {
		if !strings.Contains(sh, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	bicep := string(artifact(t, b, "00-nodepool.bicep"))
	for _, want := range []string{"scaleSetPriority: 'Spot'", "spotMaxPrice: json('0.25')", "driver: 'None'"} {
		if !strings.Contains(bicep, want) {
			t.Errorf("bicep lacks %q", want)
		}
	}
	tol := deploymentOf(t, b).Spec.Template.Spec.Tolerations
	if len(tol) != 2 || tol[1].Key != "kubernetes.azure.com/scalesetpriority" || tol[1].Value != "spot" {
		t.Errorf("tolerations %+v lack the Spot taint", tol)
	}
	if !strings.Contains(strings.Join(b.Notes, " "), "GPU Operator") {
		t.Error("no note about installing the GPU Operator with --gpu-driver none")
	}
}

func TestNoSecretInOutput(t *testing.T) {
	// deploy never reads the environment; make sure no artifact carries a
	// token even if one is set.
	t.Setenv("HF_TOKEN", "hf_sentinelTOKEN0123456789")
	for _, gc := range goldenCases() {
		b := generateCase(t, gc)
		var all bytes.Buffer
		if _, err := b.WriteTo(&all); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(all.Bytes(), []byte("hf_sentinel")) {
			t.Errorf("%s: the token leaked into the output", gc.name)
		}
		for _, a := range b.Artifacts {
			if bytes.Contains(a.Content, []byte("kind: Secret")) {
				t.Errorf("%s/%s: writes a Secret object", gc.name, a.Name)
			}
		}
	}
}

func TestWriteDir(t *testing.T) {
	b := generateCase(t, goldenCases()[0])
	dir := filepath.Join(t.TempDir(), "out")
	if err := b.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(b.Artifacts) {
		t.Fatalf("%d files, want %d", len(entries), len(b.Artifacts))
	}
	fi, err := os.Stat(filepath.Join(dir, "00-nodepool.sh"))
	if err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("script is not executable: %v %v", fi.Mode(), err)
	}
	// A non-empty directory is refused and left alone.
	if err := b.WriteDir(dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second write: %v", err)
	}
	// An empty directory is filled.
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteDir(empty); err != nil {
		t.Fatal(err)
	}
	// A failure part-way leaves neither the directory nor a temporary one.
	parent := t.TempDir()
	broken := *b
	broken.Artifacts = append(append([]Artifact{}, b.Artifacts...), Artifact{Name: "../escape", Kind: KindYAML})
	if err := broken.WriteDir(filepath.Join(parent, "out")); err == nil {
		t.Fatal("bad artifact name accepted")
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("a failed write left %v", left)
	}
}

// TestStreamIsYAML checks that --stdout output is one valid multi-document
// YAML stream whose documents are the Kubernetes objects plus the
// Container Apps app.
func TestStreamIsYAML(t *testing.T) {
	for _, gc := range goldenCases() {
		b := generateCase(t, gc)
		var buf bytes.Buffer
		if _, err := b.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, a := range b.Artifacts {
			if a.Kind == KindKubernetes || a.Kind == KindYAML {
				want += len(splitDocs(a.Content))
			}
		}
		docs := splitDocs(buf.Bytes())
		if len(docs) != want {
			t.Errorf("%s: %d documents in the stream, want %d", gc.name, len(docs), want)
		}
		for i, d := range docs {
			var v map[string]any
			if err := yaml.Unmarshal(d, &v); err != nil || v == nil {
				t.Errorf("%s: document %d is not a YAML object: %v", gc.name, i, err)
			}
		}
	}
}

func TestDefaultName(t *testing.T) {
	for in, want := range map[string]string{
		"meta-llama/Llama-3.1-70B-Instruct": "llama-3-1-70b-instruct",
		"Qwen/Qwen2.5-7B-Instruct":          "qwen2-5-7b-instruct",
		"/models/local":                     "local",
		"01-ai/Yi-1.5-34B":                  "yi-1-5-34b",
		"org/9b":                            "llm-9b",
		"org/" + strings.Repeat("x", 80):    strings.Repeat("x", 40),
	} {
		got := defaultName(in)
		if got != want {
			t.Errorf("defaultName(%q) = %q, want %q", in, got, want)
		}
		if err := checkName("name", got); err != nil {
			t.Errorf("defaultName(%q) = %q is not a valid name: %v", in, got, err)
		}
	}
}

// FuzzGenerate feeds arbitrary plan.json bytes through plan.Decode and
// Generate: a decoded plan must yield a bundle or an error, never a panic.
func FuzzGenerate(f *testing.F) {
	for _, name := range []string{"llama-3.1-70b-h100", "qwen2.5-7b-aca-a100", "llama-3.1-405b-2xh100"} {
		b, err := os.ReadFile(filepath.Join("testdata", "plans", name+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, target uint8) {
		c, err := plan.Decode(bytes.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		ts := Targets()
		b, err := Generate(c, Options{Target: ts[int(target)%len(ts)]})
		if err == nil && len(b.Artifacts) == 0 {
			t.Fatal("a bundle without artifacts")
		}
	})
}

// TestMI300XOneImage: plan.json recorded rocm/vllm:latest for MI300X while
// deploy wrote vllm/vllm-openai-rocm:v0.19.0 and a fixture held a third
// value; the engine profile now owns one image per vendor, which the plan
// records and deploy writes.
func TestMI300XOneImage(t *testing.T) {
	spec := testmodel.Spec(t, "meta-llama/Llama-3.1-8B-Instruct")
	const want = "vllm/vllm-openai-rocm:v0.19.0"
	c, err := plan.EvaluateOffer(plan.Request{Model: spec, InputTokens: 1000, OutputTokens: 200, Concurrency: 4, Prices: hardware.Default().Prices()}, "Standard_ND96isr_MI300X_v5")
	if err != nil {
		t.Fatal(err)
	}
	if c.Engine.Image != want {
		t.Errorf("plan records image %q, want %q", c.Engine.Image, want)
	}
	fixture := loadPlan(t, "llama-3.1-70b-mi300x")
	if fixture.Engine.Image != want {
		t.Errorf("fixture holds image %q, want %q", fixture.Engine.Image, want)
	}
	for _, cand := range []plan.Candidate{c, fixture} {
		b, err := Generate(cand, Options{Target: TargetAKS, Model: spec})
		if err != nil {
			t.Fatal(err)
		}
		if got := deploymentOf(t, b).Spec.Template.Spec.Containers[0].Image; got != want {
			t.Errorf("deploy writes image %q, want %q", got, want)
		}
	}
	// An older plan.json that recorded another image is overruled, and the
	// notes say so.
	old := fixture
	old.Engine.Image = "rocm/vllm:latest"
	b, err := Generate(old, Options{Target: TargetAKS})
	if err != nil {
		t.Fatal(err)
	}
	if got := deploymentOf(t, b).Spec.Template.Spec.Containers[0].Image; got != want || !strings.Contains(strings.Join(b.Notes, "\n"), "plan.json records image rocm/vllm:latest") {
		t.Errorf("old plan: image %q, notes %q", got, b.Notes)
	}
}

// TestTargetsArePlans: deploy's targets are the planner's, one list, in
// the documented order (docs/cli.md): a target the planner judges is one
// deploy writes for, and no other.
func TestTargetsArePlans(t *testing.T) {
	want := []string{"aks", "aks-multinode", "kaito", "containerapps"}
	var got []string
	for _, tg := range Targets() {
		got = append(got, string(tg))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || strings.Join(plan.Targets, " ") != strings.Join(want, " ") {
		t.Errorf("deploy targets %v, plan targets %v; want %v", got, plan.Targets, want)
	}
	for _, id := range plan.Targets {
		if tg, err := ParseTarget(strings.ToUpper(id)); err != nil || string(tg) != id {
			t.Errorf("ParseTarget(%q) = %q, %v", strings.ToUpper(id), tg, err)
		}
	}
}
