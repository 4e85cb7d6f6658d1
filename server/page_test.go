package server

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/internal/headless"
)

// cannedAnswers are small answers in the shape of the real commands' JSON,
// including a perf sweep, so the page's four sections can be checked in a
// browser without the CLI (cmd/gpuplan's TestPageInBrowser drives the real
// commands).
var cannedAnswers = map[string]string{
	"models": `{"models":[{"id":"org/model-8b","aliases":["model-8b"],"params_total":8000000000}]}`,
	"gpus":   `{"gpus":[{"id":"h100-sxm","name":"NVIDIA H100 SXM 80GB"},{"id":"l4","name":"NVIDIA L4 24GB"}]}`,
	"size": `{"model":"org/model-8b","precision":{"name":"bf16"},"gpus":1,"gpu":{"id":"h100-sxm","cuda_memory_bytes":85029615043},
	  "weights_bytes_per_gpu":16094076928,"activation_bytes":2023987610,"non_torch_bytes":268435456,"cuda_graphs_bytes":869730877,
	  "kv_pool_bytes":58140153544,"kv_for_request_bytes":17179869184,"kv_cache_tokens":443568,"max_concurrent_sequences":54,
	  "max_context_tokens":27712,"context_tokens":8192,"total_per_gpu_bytes":36436100055,"fits":true,"assumptions":{"notes":["canned"]}}`,
	"plan": `{"region":"eastus","pricing":"payg","prices_as_of":"2026-11-09","evaluated":3,"rows":[{"rank":1,"candidate":{"vm":"Standard_NC40ads_H100_v5","vm_count":1,
	  "gpu":"h100-nvl","gpus_per_vm":1,"engine":{"precision":"fp8","tensor_parallel_size":1,"pipeline_parallel_size":1},"reason":"cheapest",
	  "prices":{"usd_per_month":5095.4,"usd_per_million_tokens":0.12},"predictions":{"ttft_ms":{"mean":18.4,"high":38},"tpot_ms":{"mean":5.7,"high":11.7},
	  "output_tokens_per_s":2767,"requests_per_s":13.8}}}],"why_not":[{"family":"NCasT4_v3","kind":"does_not_fit","reason":"too small"}],
	  "managed":[{"model":"gpt-4.1-mini","peak_rpm":830,"comparison":{"estimate":{"ptu":105},"payg":{"amount":26180.31,"third_party":true},
	  "options":[{"term":"hourly","monthly":{"amount":76650}},{"term":"reserved-1y","monthly":null}]}}]}`,
	"perf": `{"model":"org/model-8b","gpu":"h100-sxm","sweep":{"points":[
	  {"concurrency":1,"output_tokens_per_s":150,"output_tokens_per_s_low":120,"output_tokens_per_s_high":180,"tpot_ms":{"mean":6.5,"low":5,"high":8},"ttft_ms":{"mean":20}},
	  {"concurrency":8,"output_tokens_per_s":1100,"output_tokens_per_s_low":900,"output_tokens_per_s_high":1300,"tpot_ms":{"mean":7.1,"low":6,"high":9},"ttft_ms":{"mean":25}},
	  {"concurrency":64,"output_tokens_per_s":5200,"output_tokens_per_s_low":4100,"output_tokens_per_s_high":6300,"tpot_ms":{"mean":12.3,"low":10,"high":15},"ttft_ms":{"mean":80}}]}}`,
}

func TestPageWithCannedAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	chrome, err := headless.Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v; .ci/run installs Debian's chromium", err)
		}
		t.Skip(err)
	}
	var cmds []Command
	for _, name := range []string{"models", "gpus", "size", "plan", "perf"} {
		c := Command{Name: name}
		if name == "size" || name == "plan" || name == "perf" {
			c.Args = []Arg{{Name: "MODEL", Required: true}}
			for _, f := range []string{"precision", "kv-dtype", "context", "gpu", "tp", "concurrency", "rps", "input-tokens", "output-tokens", "region", "pricing", "managed", "deployment"} {
				c.Flags = append(c.Flags, Flag{Name: f, Type: String})
			}
		}
		cmds = append(cmds, c)
	}
	srv, err := New(Options{Commands: cmds, Run: func(_ context.Context, args []string, stdout, _ io.Writer) int {
		io.WriteString(stdout, cannedAnswers[args[0]])
		return ExitOK
	}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := headless.Launch(ctx, chrome)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p, err := b.NewPage(ctx, 1366, 768)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(ctx, ts.URL+"/?model=model-8b&concurrency=8"); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	if err := p.WaitFor(wctx, `document.body.dataset.state === "ready"`); err != nil {
		t.Fatalf("%v (exceptions %q)", err, p.Exceptions())
	}
	var shown map[string]struct{ Value, Text string }
	if err := p.Eval(ctx, `window.gpuplan.shown()`, &shown); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"size.weights_bytes_per_gpu": {"16094076928", "14.99 GiB"},
		"size.fits":                  {"true", "Fits"},
		"plan.rows.0.candidate.prices.usd_per_month":         {"5095.4", "$5,095.40"},
		"plan.managed.0.comparison.payg.amount":              {"26180.31", "$26,180.31"},
		"plan.managed.0.comparison.options.0.monthly.amount": {"76650", "$76,650.00"},
		"plan.managed.0.comparison.options.1.monthly":        {"", "unknown"},
		"plan.managed.0.peak_rpm":                            {"830", "830.0"},
		"perf.sweep.points.0.output_tokens_per_s":            {"150", "150 tok/s"},
		"perf.sweep.points.2.output_tokens_per_s":            {"5200", "5,200 tok/s"},
		"perf.sweep.points.1.tpot_ms.mean":                   {"7.1", "7.1 ms"},
		"perf.sweep.points.2.ttft_ms.mean":                   {"80", "80.0 ms"},
		"plan.why_not.0.reason":                              {"too small", "NCasT4_v3 (does not fit): too small"},
	}
	for field, w := range want {
		got, ok := shown[field]
		if !ok {
			t.Errorf("%s is not shown", field)
			continue
		}
		if got.Value != w[0] || got.Text != w[1] {
			t.Errorf("%s: shown %q %q, want %q %q", field, got.Value, got.Text, w[0], w[1])
		}
	}
	var perfReq string
	if err := p.Eval(ctx, `window.gpuplan.requests().perf`, &perfReq); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(perfReq, "concurrency=1%2C2%2C4%2C8%2C16%2C32%2C64%2C128%2C256") {
		t.Errorf("perf request %q does not sweep concurrency", perfReq)
	}
	var charts int
	if err := p.Eval(ctx, `document.querySelectorAll("#perf-tps svg circle, #perf-tpot svg circle").length`, &charts); err != nil {
		t.Fatal(err)
	}
	if charts != 6 {
		t.Errorf("speed charts have %d points, want 3 each", charts)
	}
	if ex := p.Exceptions(); len(ex) > 0 {
		t.Errorf("JavaScript errors: %q", ex)
	}
	png, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("GPUPLAN_E2E_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "gpuplan-e2e")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "calculator-canned.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("screenshot:", path)
}
