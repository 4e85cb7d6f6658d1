package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/bench"
	"github.com/gpuplan/gpuplan/internal/benchtest"
	"github.com/gpuplan/gpuplan/perf"
)

// runBenchCLI runs the CLI with a real clock (a benchmark measures time; the
// pinned clock of testOptions would make every latency zero) and env.
func runBenchCLI(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	opts := Options{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Now: time.Now,
		Getenv: func(k string) string { return env[k] }}
	code := Run(context.Background(), args, opts)
	return stdout.String(), stderr.String(), code
}

func TestBenchUsageErrors(t *testing.T) {
	srv := benchtest.New(benchtest.Options{Tokens: 2})
	defer srv.Close()
	u := srv.BaseURL()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no url", []string{"bench", "--model", "m"}, "--url is required"},
		{"remote refused", []string{"bench", "--url", "http://10.1.2.3:8000/v1", "--model", "m"}, "--allow-remote"},
		{"azure is remote", []string{"bench", "--url", "https://x.openai.azure.com", "--azure-deployment", "d"}, "--allow-remote"},
		{"no model", []string{"bench", "--url", u}, "--model is required"},
		{"both loads", []string{"bench", "--url", u, "--model", "m", "--concurrency", "1", "--rps", "2"}, "exclusive"},
		{"bad concurrency", []string{"bench", "--url", u, "--model", "m", "--concurrency", "0"}, "--concurrency 0 is out of range (allowed: 1 to"},
		{"bad rps", []string{"bench", "--url", u, "--model", "m", "--rps", "-1"}, "--rps -1 is out of range (allowed: more than 0"},
		{"bad api", []string{"bench", "--url", u, "--model", "m", "--api", "responses"}, "chat or completions"},
		{"slo without stream", []string{"bench", "--url", u, "--model", "m", "--no-stream", "--ttft-slo-ms", "100"}, "need streaming"},
		{"calibration without keys", []string{"bench", "--url", u, "--model", "m", "--write-calibration", "c.json"}, "missing gpu, engine, engine_version, precision, tp"},
		{"calibration partial keys", []string{"bench", "--url", u, "--model", "m", "--write-calibration", "c.json", "--gpu", "h100", "--tp", "1", "--engine", "vllm"}, "missing engine_version, precision"},
		{"bad force", []string{"bench", "--url", u, "--model", "m", "--force-output-length", "maybe"}, "auto, on or off"},
		{"unknown flag", []string{"bench", "--url", u, "--model", "m", "--bogus"}, "bogus"},
		{"quality min-n", []string{"bench", "quality", "--baseline", u, "--baseline-model", "a", "--candidate", u, "--candidate-model", "b", "--builtin-n", "50"}, "fewer than --min-n 200"},
		{"quality remote", []string{"bench", "quality", "--baseline", "http://example.com/v1", "--baseline-model", "a", "--candidate", u, "--candidate-model", "b"}, "--allow-remote"},
		{"quality max-drop", []string{"bench", "quality", "--baseline", u, "--baseline-model", "a", "--candidate", u, "--candidate-model", "b", "--max-drop", "2"}, "fraction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runBenchCLI(t, nil, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tt.want)
			}
		})
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("refused commands sent %d requests", n)
	}
}

func TestBenchJSONReportAndCalibration(t *testing.T) {
	srv := benchtest.New(benchtest.Options{Tokens: 8, TTFT: time.Millisecond, APIKey: "sk-test"})
	defer srv.Close()
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(plan, []byte(`{"schema_version":1,"model":"meta-llama/Llama-3.1-8B-Instruct","gpu":"h100-sxm-80gb","gpu_count":1,"tp":1,
"engine":"vllm","engine_version":"0.19.1","precision":"bf16","input_tokens":64,"output_tokens":8,
"predictions":[{"concurrency":2,"ttft_ms":{"mean":5,"p50":5,"p90":6,"p95":7,"p99":9,"low":1,"high":50},"output_tokens_per_s":1000}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	report, calib := filepath.Join(dir, "r.html"), filepath.Join(dir, "calib.json")
	stdout, stderr, code := runBenchCLI(t, map[string]string{"MY_KEY": "sk-test"}, "bench", "--url", srv.BaseURL(), "--model", "m",
		"--api-key-env", "MY_KEY", "--concurrency", "1,2", "--requests", "12", "--input-tokens", "64", "--output-tokens", "8",
		"--ttft-slo-ms", "1000", "--tpot-slo-ms", "1000", "--plan", plan, "--report", report, "--write-calibration", calib,
		"--kv-dtype", "fp8", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "level 2/2") {
		t.Errorf("no progress line on stderr: %q", stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	levels := rep["levels"].([]any)
	if len(levels) != 2 {
		t.Fatalf("%d levels", len(levels))
	}
	l1 := levels[1].(map[string]any)
	for _, k := range []string{"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms", "output_tokens_per_s", "requests_per_s", "goodput_per_s", "errors"} {
		if _, ok := l1[k]; !ok {
			t.Errorf("level lacks %q", k)
		}
	}
	ttft := l1["ttft_ms"].(map[string]any)
	for _, k := range []string{"mean", "p50", "p90", "p95", "p99"} {
		if v, ok := ttft[k].(float64); !ok || v <= 0 {
			t.Errorf("ttft_ms.%s = %v", k, ttft[k])
		}
	}
	if _, ok := ttft["low"]; ok {
		t.Error("a measurement must not carry low/high")
	}
	if l1["completed"].(float64) != 12 || l1["output_tokens_mean"].(float64) != 8 || l1["goodput_per_s"].(float64) <= 0 {
		t.Errorf("level: %v", l1)
	}
	if strings.Contains(stdout, "sk-test") {
		t.Error("the API key leaked into the output")
	}
	cmp := rep["comparison"].([]any)
	if len(cmp) == 0 || cmp[0].(map[string]any)["metric"] != "ttft_ms.mean" {
		t.Errorf("comparison %v", cmp)
	}
	h, err := os.ReadFile(report)
	if err != nil || !strings.Contains(string(h), "<svg") || strings.Contains(string(h), "<script") {
		t.Errorf("report: %v", err)
	}
	var cf perf.Calibration
	b, err := os.ReadFile(calib)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		t.Fatal(err)
	}
	if cf.SchemaVersion != 1 || len(cf.Points) != 2 {
		t.Fatalf("calibration %+v", cf)
	}
	p := cf.Points[1]
	if p.Model != "meta-llama/Llama-3.1-8B-Instruct" || p.GPU != "h100-sxm-80gb" || p.EngineVersion != "0.19.1" || p.KVDType != "fp8" ||
		p.Concurrency != 2 || p.OutputTokens != 8 || p.InputTokens != 64 || p.Predicted == nil || p.TTFT == nil {
		t.Errorf("point %+v", p)
	}
}

func TestBenchTableAndEngineAtVersion(t *testing.T) {
	srv := benchtest.New(benchtest.Options{Tokens: 4})
	defer srv.Close()
	calib := filepath.Join(t.TempDir(), "c.json")
	stdout, stderr, code := runBenchCLI(t, nil, "bench", "--url", srv.BaseURL(), "--model", "m", "--rps", "50", "--requests", "10", "--quiet",
		"--write-calibration", calib, "--gpu", "a100-sxm-80gb", "--tp", "2", "--engine", "vllm@0.19.1", "--precision", "awq")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("--quiet still wrote %q", stderr)
	}
	for _, want := range []string{"LEVEL", "rps=50", "10/10", "TTFT p50/p99 ms"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	b, _ := os.ReadFile(calib)
	if !strings.Contains(string(b), `"engine_version": "0.19.1"`) || !strings.Contains(string(b), `"precision": "int4"`) || !strings.Contains(string(b), `"gpu_count": 2`) {
		t.Errorf("calibration:\n%s", b)
	}
}

func TestBenchYAML(t *testing.T) {
	srv := benchtest.New(benchtest.Options{Tokens: 3})
	defer srv.Close()
	stdout, stderr, code := runBenchCLI(t, nil, "bench", "--url", srv.BaseURL(), "--model", "m", "--concurrency", "2", "--requests", "4", "--no-stream", "--quiet", "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"levels:", "ttft_ms: null", "e2e_ms:", "p99:", "stream: false"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("yaml lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchProbeFailureIsError(t *testing.T) {
	srv := benchtest.New(benchtest.Options{APIKey: "k"})
	defer srv.Close()
	_, stderr, code := runBenchCLI(t, nil, "bench", "--url", srv.BaseURL(), "--model", "m", "--requests", "2")
	if code != exitError || !strings.Contains(stderr, "http_401") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func qualityAnswerer(items []bench.QualityItem, wrong func(int) bool) func(benchtest.Request) string {
	byPrompt := map[string]int{}
	for i, it := range items {
		byPrompt[it.Prompt] = i
	}
	return func(r benchtest.Request) string {
		i, ok := byPrompt[r.Text()]
		if !ok || wrong(i) {
			return "no idea"
		}
		return items[i].Answer
	}
}

func TestBenchQualityExitCodes(t *testing.T) {
	items := bench.BuiltinDataset(300, 1)
	base := benchtest.New(benchtest.Options{Answer: qualityAnswerer(items, func(int) bool { return false })})
	defer base.Close()
	good := benchtest.New(benchtest.Options{Answer: qualityAnswerer(items, func(i int) bool { return i == 5 })})
	defer good.Close()
	bad := benchtest.New(benchtest.Options{Answer: qualityAnswerer(items, func(i int) bool { return i%8 == 0 })})
	defer bad.Close()

	stdout, stderr, code := runBenchCLI(t, nil, "bench", "quality", "--baseline", base.BaseURL(), "--baseline-model", "bf16",
		"--candidate", good.BaseURL(), "--candidate-model", "fp8", "--quiet", "--max-drop", "0.03")
	if code != 0 || !strings.Contains(stdout, "PASS") || !strings.Contains(stdout, "99.7%") {
		t.Fatalf("good candidate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runBenchCLI(t, nil, "bench", "quality", "--baseline", base.BaseURL(), "--baseline-model", "bf16",
		"--candidate", bad.BaseURL(), "--candidate-model", "int4", "--quiet", "-o", "json")
	if code != exitGateFailed || !strings.Contains(stderr, "quality gate failed") {
		t.Fatalf("bad candidate: exit %d\n%s", code, stderr)
	}
	var q map[string]any
	if err := json.Unmarshal([]byte(stdout), &q); err != nil {
		t.Fatal(err)
	}
	// 38 of 300 items (0, 8, …, 296) wrong on the candidate only.
	if q["passed"] != false || q["n"].(float64) != 300 || q["candidate_accuracy"].(float64) != 262.0/300 || q["baseline_accuracy"].(float64) != 1 {
		t.Errorf("json %v", q)
	}
	for _, k := range []string{"agreement_rate", "drop", "drop_ci95", "drop_upper95", "paired", "by_task", "baseline", "candidate", "dataset"} {
		if _, ok := q[k]; !ok {
			t.Errorf("quality JSON lacks %q", k)
		}
	}

	ds := filepath.Join(t.TempDir(), "ds.jsonl")
	var sb strings.Builder
	for _, it := range items[:10] {
		b, _ := json.Marshal(it)
		sb.Write(b)
		sb.WriteByte('\n')
	}
	if err := os.WriteFile(ds, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runBenchCLI(t, nil, "bench", "quality", "--baseline", base.BaseURL(), "--baseline-model", "a",
		"--candidate", base.BaseURL(), "--candidate-model", "b", "--dataset", ds, "--min-n", "10", "--max-drop", "0.5", "--quiet")
	// Ten identical answers still leave a wide bound; 0.5 lets it pass.
	if code != 0 {
		t.Errorf("dataset file: exit %d %s", code, stderr)
	}
	_, stderr, code = runBenchCLI(t, nil, "bench", "quality", "--baseline", base.BaseURL(), "--baseline-model", "a",
		"--candidate", good.BaseURL(), "--candidate-model", "b", "--dataset", ds, "--quiet")
	if code != exitUsage || !strings.Contains(stderr, "fewer than --min-n") {
		t.Errorf("small dataset: exit %d %s", code, stderr)
	}
}

// TestBenchMaxErrorRate: a run where more than --max-error-rate of the
// measured requests fail exits 1 naming the error classes, after printing
// its results; its progress on a non-terminal has no carriage returns;
// the HTML report states the default warm-up in words, not as -1.
func TestBenchMaxErrorRate(t *testing.T) {
	// Every fifth request after the probe and warm-up answers 500.
	srv := benchtest.New(benchtest.Options{Tokens: 4, Fault: func(n int64, _ string) benchtest.Fault {
		if n > 3 && n%5 == 0 {
			return benchtest.Fault{Kind: benchtest.Status, Code: 500}
		}
		return benchtest.Fault{}
	}})
	defer srv.Close()
	report := filepath.Join(t.TempDir(), "r.html")
	args := []string{"bench", "--url", srv.BaseURL(), "--model", "m", "--concurrency", "1", "--requests", "20", "--input-tokens", "16", "--output-tokens", "4", "--report", report}
	stdout, stderr, code := runBenchCLI(t, nil, args...)
	if code != exitError || !strings.Contains(stderr, "of 20 measured requests failed") || !strings.Contains(stderr, "more than --max-error-rate 0.01") || !strings.Contains(stderr, "http_500:") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming the rate and the classes", code, stderr)
	}
	if !strings.Contains(stdout, "c=1") {
		t.Errorf("the results were not printed before failing: %q", stdout)
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress to a non-terminal uses carriage returns: %q", stderr)
	}
	if h, _ := os.ReadFile(report); !strings.Contains(string(h), "one warm-up request per concurrent slot") || strings.Contains(string(h), "-1 warm-up") {
		t.Errorf("report warm-up text wrong")
	}
	// A tolerant threshold lets the same run pass.
	_, stderr, code = runBenchCLI(t, nil, append(args, "--max-error-rate", "0.5")...)
	if code != 0 {
		t.Errorf("with --max-error-rate 0.5: exit %d, %s", code, stderr)
	}
}

// --warmup -1 is the documented default ("one per concurrent slot"), so
// typing it is accepted and runs the same warm-up as leaving it out; any
// other negative count is out of range.
func TestBenchWarmupMinusOneIsTheDefault(t *testing.T) {
	srv := benchtest.New(benchtest.Options{Tokens: 3})
	defer srv.Close()
	base := []string{"bench", "--url", srv.BaseURL(), "--model", "m", "--concurrency", "2", "--requests", "4", "--quiet", "-o", "json"}
	typed, stderr, code := runBenchCLI(t, nil, append(append([]string(nil), base...), "--warmup", "-1")...)
	if code != 0 {
		t.Fatalf("--warmup -1: exit %d: %s", code, stderr)
	}
	def, stderr, code := runBenchCLI(t, nil, base...)
	if code != 0 {
		t.Fatalf("default warm-up: exit %d: %s", code, stderr)
	}
	warmups := func(out string) []int {
		var r struct {
			Levels []struct {
				WarmupRequests int `json:"warmup_requests"`
			} `json:"levels"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		var n []int
		for _, l := range r.Levels {
			n = append(n, l.WarmupRequests)
		}
		return n
	}
	// One warm-up request per concurrent slot: 2 at --concurrency 2.
	if a, b := warmups(typed), warmups(def); len(a) != 1 || a[0] != 2 || len(b) != 1 || b[0] != 2 {
		t.Errorf("warm-up requests: typed -1 %v, default %v; want [2] for both", a, b)
	}
	_, stderr, code = runBenchCLI(t, nil, append(append([]string(nil), base...), "--warmup", "-2")...)
	if code != exitUsage || !strings.Contains(stderr, "--warmup -2 is out of range (allowed: -1, or 0 to 1,000,000)") {
		t.Errorf("--warmup -2: exit %d, %q", code, stderr)
	}
}
