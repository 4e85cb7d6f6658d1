package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/plan"
	"github.com/gpuplan/gpuplan/server"
)

// The wrong answers of issue 11's "Why", as a new user would meet them.
// Each case failed on the code before the engine package.

// size --engine sglang spoke of vLLM and printed vLLM's scheduler names.
func TestSizeSGLangSpeaksSGLang(t *testing.T) {
	out, errOut, code := run(t, "size", "llama-3.1-70b", "--engine", "sglang", "--gpu", "h100-sxm")
	if code != exitInfeasible {
		t.Fatalf("exit %d, want %d: %s", code, exitInfeasible, errOut)
	}
	if !strings.Contains(out, "69.69 GiB SGLang may use") || strings.Contains(out, "vLLM") {
		t.Errorf("SGLang sizing does not name SGLang as the engine or still names vLLM:\n%s", out)
	}
	out, errOut, code = run(t, "size", "llama-3.1-70b", "--engine", "sglang", "--gpu", "h100-sxm", "--tp", "2", "-o", "json")
	if code != exitInfeasible && code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "max_num_batched_tokens") || strings.Contains(out, "max_num_seqs") {
		t.Errorf("SGLang sizing prints vLLM's scheduler names:\n%s", out)
	}
	var v struct {
		Scheduler map[string]int `json:"scheduler"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	// SGLang 0.4 server_args.py: chunked_prefill_size 8192 on GPUs with
	// 25,000 MB or more.
	if v.Scheduler["chunked_prefill_size"] != 8192 {
		t.Errorf("scheduler %v, want chunked_prefill_size 8192 under SGLang's own name", v.Scheduler)
	}
}

// plan --engine llamacpp ranked an fp8 row "quantized at load
// (--quantization fp8)" with vLLM's Marlin notes; plan --help did not list
// llamacpp.
func TestPlanLlamaCPPOffersNoVLLMQuantization(t *testing.T) {
	var res plan.Report
	runJSON(t, &res, exitOK, "plan", "qwen2.5-7b", "--engine", "llamacpp", "--input-tokens", "512", "--output-tokens", "128", "--concurrency", "4", "-o", "json")
	if len(res.Rows) == 0 {
		t.Fatal("no rows")
	}
	for _, r := range res.Rows {
		c := r.Candidate
		text := c.Reason + strings.Join(c.Notes, " ")
		if c.Engine.Name != "llamacpp" || c.Engine.Precision == "fp8" || c.Engine.Quantization != "" ||
			strings.Contains(text, "--quantization") || strings.Contains(text, "Marlin") {
			t.Errorf("llama.cpp row borrows vLLM: %+v", c)
		}
	}
	help, _, _ := run(t, "plan", "--help")
	if !strings.Contains(help, "llamacpp") {
		t.Errorf("plan --help does not list llamacpp:\n%s", help)
	}
}

// size --gpu t4 --precision fp8 said "Fits yes"; size --gpu t4 defaulted
// to bf16, which a T4 cannot run.
func TestSizeJudgesTheHardware(t *testing.T) {
	out, errOut, code := run(t, "size", "qwen2.5-3b", "--gpu", "t4", "--precision", "fp8", "--context", "4096")
	if code != exitInfeasible || !strings.Contains(errOut, "vLLM cannot run fp8 on t4") || strings.Contains(out, "Fits             yes") {
		t.Errorf("fp8 on a T4: exit %d, stderr %q; want exit %d naming the reason", code, errOut, exitInfeasible)
	}
	var b struct {
		Precision struct{ Name string }    `json:"precision"`
		Compat    struct{ Verdict string } `json:"compatibility"`
	}
	runJSON(t, &b, exitOK, "size", "qwen2.5-3b", "--gpu", "t4", "--context", "4096", "-o", "json")
	if b.Precision.Name != "fp16" || b.Compat.Verdict != "native" {
		t.Errorf("T4 default precision %q (%s), want fp16 (native): a T4 has no bfloat16", b.Precision.Name, b.Compat.Verdict)
	}
	// perf agrees with size: the same model on a T4 runs at fp16.
	out, errOut, code = run(t, "perf", "qwen2.5-3b", "--gpu", "t4", "--input-tokens", "512", "--output-tokens", "128", "--concurrency", "1")
	if code != exitOK || !strings.Contains(out, "fp16") {
		t.Errorf("perf on a T4 without --precision: exit %d, %s\n%s", code, errOut, out)
	}
}

// size suggested --precision fp8 for Mixtral on an A100 while plan said FP8
// MoE does not run on Ampere.
func TestSizeSuggestsOnlyWhatRuns(t *testing.T) {
	out, errOut, code := run(t, "size", "mixtral-8x7b", "--gpu", "a100-80gb-sxm", "--context", "32768")
	if code != exitInfeasible {
		t.Fatalf("exit %d, want %d: %s", code, exitInfeasible, errOut)
	}
	if !strings.Contains(out, "To make it fit:") || strings.Contains(out, "--precision fp8") {
		t.Errorf("suggestions offer FP8 for an MoE model on Ampere:\n%s", out)
	}
	out, _, code = run(t, "size", "mixtral-8x7b", "--gpu", "a100-80gb-sxm", "--precision", "fp8", "--context", "32768")
	if code != exitInfeasible || !strings.Contains(out, "FP8 mixture-of-experts models do not run on") {
		t.Errorf("fp8 Mixtral on an A100: exit %d\n%s", code, out)
	}
}

// --engine errors list the registered engines.
func TestEngineFlagListsRegistry(t *testing.T) {
	for _, cmd := range []string{"size", "perf", "plan", "deploy", "guide"} {
		help, _, _ := run(t, cmd, "--help")
		for _, id := range []string{"vllm@0.19", "sglang@0.4", "trtllm@0.17", "llamacpp@de4c07f"} {
			if !strings.Contains(help, id) {
				t.Errorf("%s --help does not list %s", cmd, id)
			}
		}
	}
	_, errOut, code := run(t, "size", "llama-3.1-8b", "--engine", "tgi")
	if code != exitUsage || !strings.Contains(errOut, "llamacpp@de4c07f") {
		t.Errorf("unknown engine: exit %d, %q", code, errOut)
	}
	out, _, _ := run(t, "__complete", "size", "llama-3.1-8b", "--engine", "")
	for _, id := range []string{"vllm@0.22", "llamacpp@de4c07f"} {
		if !strings.Contains(out, id) {
			t.Errorf("--engine completion lacks %s:\n%s", id, out)
		}
	}
}

// openAPIParamEnums serves the API on loopback and reads its generated
// OpenAPI document: each GET path's parameters by name, with the enum of
// their schema (nil when the parameter has none).
func openAPIParamEnums(t *testing.T) map[string]map[string][]string {
	t.Helper()
	ts, _ := newTestAPI(t, apiEnv(t.TempDir(), ""), server.Options{})
	code, body := get(t, ts.Client(), ts.URL+"/api/v1/openapi.json")
	if code != 200 {
		t.Fatalf("openapi.json: %d", code)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string `json:"name"`
				Schema struct {
					Enum []string `json:"enum"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	for path, methods := range doc.Paths {
		out[path] = map[string][]string{}
		for _, p := range methods["get"].Parameters {
			out[path][p.Name] = p.Schema.Enum
		}
	}
	return out
}

// The web page offers the engines the API's OpenAPI document lists; the
// document lists the registry, so the page knows no engine by name.
func TestAPIListsRegisteredEngines(t *testing.T) {
	paramEnums := openAPIParamEnums(t)
	for _, ep := range []string{"/api/v1/size", "/api/v1/perf", "/api/v1/plan"} {
		enum := paramEnums[ep]["engine"]
		joined := strings.Join(enum, " ")
		for _, id := range []string{"vllm", "vllm@0.22", "sglang@0.4", "trtllm@0.17", "llamacpp@de4c07f"} {
			if !strings.Contains(" "+joined+" ", " "+id+" ") {
				t.Errorf("%s: engine enum %v lacks %s", ep, enum, id)
			}
		}
	}
}

// A CPU host is sized with llama.cpp's buffers; another engine asked for
// explicitly is refused rather than silently replaced.
func TestSizeCPUHostNeedsLlamaCPP(t *testing.T) {
	_, errOut, code := run(t, "size", "llama-3.1-8b", "--vm", "Standard_D8as_v7", "--engine", "sglang")
	if code != exitUsage || !strings.Contains(errOut, "--engine llamacpp") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestOpenAPIEnumsFromEnumFlags: every single-valued enum flag the API
// serves carries its choices as the parameter schema's enum, in the
// generated document; list-valued ones (a comma-separated value) none.
func TestOpenAPIEnumsFromEnumFlags(t *testing.T) {
	paramEnums := openAPIParamEnums(t)
	a := &app{Options: Options{Getenv: func(string) string { return "" }, Now: time.Now}}
	root := newRootCmd(a)
	checked := map[string]bool{}
	enums := map[string][]string{} // "plan objective": the schema's enum
	for _, sc := range apiCommands(root, a) {
		c, _, err := root.Find([]string{sc.Name})
		if err != nil {
			t.Fatal(err)
		}
		schema := paramEnums["/api/v1/"+sc.Name]
		for name, enum := range schema {
			enums[sc.Name+" "+name] = enum
		}
		for _, f := range sc.Flags {
			ef, ok := c.Flags().Lookup(f.Name).Value.(*enumFlag)
			if !ok || f.Name == "engine" { // engine: TestAPIListsRegisteredEngines
				continue
			}
			got := schema[server.ParamName(f.Name)]
			if ef.list {
				if len(got) > 0 {
					t.Errorf("%s %s: a list flag has enum %v", sc.Name, f.Name, got)
				}
				continue
			}
			checked[f.Name] = true
			if !slices.Equal(got, ef.all()) {
				t.Errorf("%s %s: schema enum %v, want %v", sc.Name, f.Name, got, ef.all())
			}
		}
	}
	// The flags of the closed sets, as docs/cli.md gives them, reach the
	// document (a command dropped from the API would skip them above).
	for _, name := range []string{"objective", "slo-percentile", "slo-confidence", "pricing", "deployment", "image-arch",
		"arrival", "length-distribution", "load-from", "precision", "kv-dtype", "gpu", "vm", "region"} {
		if !checked[name] {
			t.Errorf("no served command has a single-valued --%s with an enum", name)
		}
	}
	for key, want := range map[string][]string{
		"plan objective":      {"cost", "cost-per-token", "latency", "throughput"},
		"plan pricing":        {"payg", "spot", "1y", "3y"},
		"ptu deployment":      {"global", "datazone", "regional"},
		"perf arrival":        {"poisson", "constant", "burst"},
		"perf load_from":      {"nvme", "blob", "hf"},
		"plan slo_percentile": {"p50", "p90", "p95", "p99"},
	} {
		if !slices.Equal(enums[key], want) {
			t.Errorf("%s: enum %v, want %v", key, enums[key], want)
		}
	}
}
