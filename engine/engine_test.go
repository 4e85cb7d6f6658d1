package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/units"
)

func gpu(t testing.TB, id string) hardware.GPU {
	t.Helper()
	g, err := hardware.LookupGPU(id)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func prec(t testing.TB, name string) dtype.Precision {
	t.Helper()
	p, err := dtype.LookupPrecision(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func lookup(t testing.TB, id string) Engine {
	t.Helper()
	e, err := Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestKernelTables: the verdicts of vLLM's quantization hardware table,
// TensorRT-LLM's support matrix and llama.cpp's backends, as the sources
// in data/kernels.yaml state them.
func TestKernelTables(t *testing.T) {
	cases := []struct {
		engine, gpu, precision string
		level                  Level
		compute                dtype.DType
	}{
		{"vllm", "t4", "bf16", Incompatible, ""},
		{"vllm", "t4", "fp16", Native, dtype.FP16},
		{"vllm", "t4", "int4", Native, dtype.FP16}, // W4A16 computes in fp16 without bf16
		{"vllm", "t4", "int8", Native, dtype.INT8}, // INT8 W8A8 from Turing on
		{"vllm", "t4", "fp8", Incompatible, ""},
		{"vllm", "t4", "fp8-w8a16", Incompatible, ""}, // Marlin needs Ampere
		{"vllm", "v100-16gb", "bf16", Incompatible, ""},
		{"vllm", "v100-32gb", "int8", Incompatible, ""},
		{"vllm", "v100-32gb", "int4", Native, dtype.FP16}, // GPTQ on Volta
		{"vllm", "a100-80gb-sxm", "fp8", WeightOnly, dtype.BF16},
		{"vllm", "a100-80gb-pcie", "fp8-w8a16", Native, dtype.BF16},
		{"vllm", "a10", "nvfp4", Incompatible, ""},
		{"vllm", "l4", "fp8", Native, dtype.FP8},
		{"vllm", "h100-nvl", "fp8", Native, dtype.FP8},
		{"vllm", "h100-sxm", "mxfp4", Native, dtype.BF16},
		{"vllm", "h200", "nvfp4", Incompatible, ""},
		{"vllm", "b200", "nvfp4", Native, dtype.NVFP4},
		{"vllm", "gb300", "fp8", Native, dtype.FP8},
		{"vllm", "mi300x", "fp8", Native, dtype.FP8},
		{"vllm", "mi300x", "int4", Incompatible, ""},
		{"vllm", "mi300x", "q4_k", Native, dtype.FP16},
		{"vllm", "mi300x", "mxfp4", Unknown, ""},
		{"sglang", "a100-80gb-sxm", "fp8", WeightOnly, dtype.BF16},
		{"trtllm", "mi300x", "bf16", Incompatible, ""},
		{"trtllm", "a100-80gb-sxm", "fp8", Incompatible, ""}, // FP8 listed for Ada and Hopper only
		{"trtllm", "h100-sxm", "fp8", Native, dtype.FP8},
		{"trtllm", "a100-80gb-sxm", "int4", Native, dtype.BF16},
		{"trtllm", "h100-sxm", "q4_k", Incompatible, ""},
		{"llamacpp", "t4", "q4_k", Native, dtype.FP16},
		{"llamacpp", "mi300x", "q8_0", Native, dtype.FP16},
		{"llamacpp", "h100-sxm", "fp8", Incompatible, ""},
		{"llamacpp", "h100-sxm", "int4", Incompatible, ""},
		{"llamacpp", "t4", "fp16", Native, dtype.FP16},
	}
	for _, c := range cases {
		s := lookup(t, c.engine).Info().Support(prec(t, c.precision), OnGPU(gpu(t, c.gpu)))
		if s.Level != c.level || s.Compute != c.compute || s.Reason == "" || s.Source == "" {
			t.Errorf("%s %s %s = %+v, want %s computing in %q with a reason and a source", c.engine, c.gpu, c.precision, s, c.level, c.compute)
		}
	}
	// llama.cpp on CPUs runs GGUF types and nothing else.
	cpu := OnCPU(hardware.CPUArm64)
	if s := lookup(t, "llamacpp").Info().Support(prec(t, "q4_k"), cpu); s.Level != Native {
		t.Errorf("llama.cpp q4_k on arm64 CPUs = %+v, want native", s)
	}
	if s := lookup(t, "llamacpp").Info().Support(prec(t, "awq"), cpu); s.Level != Incompatible {
		t.Errorf("llama.cpp awq on arm64 CPUs = %+v, want unsupported", s)
	}
	// Every engine gives a verdict with a reason for every chip and precision.
	for _, e := range All() {
		for _, g := range hardware.GPUs() {
			for _, p := range dtype.Precisions() {
				if s := e.Info().Support(p, OnGPU(g)); s.Reason == "" {
					t.Errorf("%s %s %s: no reason", e.Info().ID(), g.ID, p.Name)
				}
			}
		}
	}
}

// TestKernelSourcesResolve: every source is a public https URL with a date.
func TestKernelSourcesResolve(t *testing.T) {
	if _, err := loadKernels(); err != nil {
		t.Fatal(err)
	}
	if len(KernelSources()) < 5 {
		t.Errorf("only %d kernel sources", len(KernelSources()))
	}
}

func TestLookup(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "vllm@0.19"},
		{"vllm", "vllm@0.19"},
		{"VLLM@v0.22", "vllm@0.22"},
		{"sglang", "sglang@0.4"},
		{"trtllm@0.17", "trtllm@0.17"},
		{"llamacpp", "llamacpp@de4c07f"},
	}
	for _, c := range cases {
		if got := lookup(t, c.in).Info().ID(); got != c.want {
			t.Errorf("Lookup(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"ollama", "vllm@0.1", "trtllm@"} {
		_, err := Lookup(bad)
		if bad == "trtllm@" {
			if err != nil {
				t.Errorf("Lookup(%q): %v (an empty version means the default)", bad, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "llamacpp@de4c07f") {
			t.Errorf("Lookup(%q) error %v does not list the registered engines", bad, err)
		}
	}
	if !strings.Contains(Help(), "llamacpp") || !strings.Contains(Help(), "trtllm@0.17") {
		t.Errorf("Help() = %q does not list every engine", Help())
	}
}

// TestImagesOneValuePerVendor: the MI300X image is vLLM's ROCm build of the
// same release (three different values were in use before this package
// owned them).
func TestImages(t *testing.T) {
	cases := []struct {
		engine, gpu string
		want        string
	}{
		{"vllm@0.19", "h100-sxm", "vllm/vllm-openai:v0.19.0"},
		{"vllm@0.19", "mi300x", "vllm/vllm-openai-rocm:v0.19.0"},
		{"vllm@0.22", "mi300x", "vllm/vllm-openai-rocm:v0.22.0"},
		{"llamacpp", "t4", "ghcr.io/ggml-org/llama.cpp:server-cuda"},
		{"llamacpp", "mi300x", "ghcr.io/ggml-org/llama.cpp:server-rocm"},
		// SGLang's 0.4.6.post1 CUDA 12.4 release image (Docker Hub
		// lmsysorg/sglang); TensorRT-LLM 1.0.0 from NGC's release
		// repository; 0.17.0 only in Triton's 25.01 TRT-LLM container
		// (Triton's compatibility matrix).
		{"sglang@0.4", "h100-sxm", "lmsysorg/sglang:v0.4.6.post1-cu124"},
		{"trtllm@1.0", "b200", "nvcr.io/nvidia/tensorrt-llm/release:1.0.0"},
		{"trtllm@0.17", "a100-80gb-sxm", "nvcr.io/nvidia/tritonserver:25.01-trtllm-python-py3"},
	}
	for _, c := range cases {
		got, err := lookup(t, c.engine).Info().Image(OnGPU(gpu(t, c.gpu)))
		if err != nil || got != c.want {
			t.Errorf("%s on %s: image %q, %v; want %q", c.engine, c.gpu, got, err, c.want)
		}
	}
	if _, err := lookup(t, "vllm").Info().Image(Target{GPU: gpu(t, "gb200"), CPU: hardware.CPUArm64}); err == nil {
		t.Error("vLLM has no arm64 image recorded, yet one was returned for GB200")
	}
	// No AMD build of SGLang 0.4 or TensorRT-LLM is recorded: deploy asks
	// for --image.
	for _, e := range []string{"sglang@0.4", "trtllm@1.0"} {
		if _, err := lookup(t, e).Info().Image(OnGPU(gpu(t, "mi300x"))); err == nil || !strings.Contains(err.Error(), "pass --image") {
			t.Errorf("%s on mi300x: %v, want a refusal asking for --image", e, err)
		}
	}
	if got, err := lookup(t, "llamacpp").Info().Image(OnCPU(hardware.CPUArm64)); err != nil || got != "ghcr.io/ggml-org/llama.cpp:server" {
		t.Errorf("llama.cpp CPU arm64 image %q, %v", got, err)
	}
}

// TestSchedulerNames: each engine names its limits with its own flags, and
// the JSON carries those names.
func TestSchedulerNames(t *testing.T) {
	h100 := gpu(t, "h100-sxm")
	cases := []struct {
		engine   string
		wantJSON string
	}{
		{"vllm", `{"max_num_batched_tokens":8192,"max_num_seqs":1024}`},
		{"sglang", `{"chunked_prefill_size":8192,"max_running_requests":0}`},
		{"trtllm", `{"max_num_tokens":8192,"max_batch_size":2048}`},
		{"llamacpp", `{"batch_size":2048,"parallel":4,"ubatch_size":512}`},
	}
	for _, c := range cases {
		s := lookup(t, c.engine).Scheduler(SchedulerInput{GPU: h100, Concurrency: 4})
		b, err := json.Marshal(s)
		if err != nil || string(b) != c.wantJSON {
			t.Errorf("%s scheduler JSON %s, %v; want %s", c.engine, b, err, c.wantJSON)
		}
	}
	// vLLM's A100 exception (PR #17885) and small-GPU defaults.
	for _, c := range []struct {
		id         string
		mem        units.Bytes
		seqs, toks int
	}{{"h100-sxm", 79 * units.GiB, 1024, 8192}, {"a100-80gb-sxm", 79 * units.GiB, 256, 2048}, {"l4", 22 * units.GiB, 256, 2048}} {
		seqs, toks := VLLMBatchDefaults(c.mem, c.id)
		if seqs != c.seqs || toks != c.toks {
			t.Errorf("%s: %d/%d, want %d/%d", c.id, seqs, toks, c.seqs, c.toks)
		}
	}
}

// TestSchedulerArgs: each engine's launch flags for the scheduler knobs
// (vLLM engine args, SGLang server_args.py, trtllm-serve options,
// llama-server: the token budget of one forward pass is --ubatch-size).
func TestSchedulerArgs(t *testing.T) {
	for _, tc := range []struct {
		engine       string
		seqs, tokens int
		cache        bool
		want         string
	}{
		{"vllm", 128, 2048, true, "--max-num-seqs 128 --max-num-batched-tokens 2048 --enable-prefix-caching"},
		{"vllm", 0, 0, false, ""},
		{"sglang", 64, 4096, true, "--max-running-requests 64 --chunked-prefill-size 4096"},
		{"trtllm", 256, 8192, false, "--max_batch_size 256 --max_num_tokens 8192"},
		{"llamacpp", 4, 512, true, "--parallel 4 --ubatch-size 512"},
	} {
		if got := strings.Join(lookup(t, tc.engine).Info().SchedulerArgs(tc.seqs, tc.tokens, tc.cache), " "); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.engine, got, tc.want)
		}
	}
}
