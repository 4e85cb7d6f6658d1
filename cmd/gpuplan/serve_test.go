package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/internal/headless"
	"github.com/gpuplan/gpuplan/model/hfhub"
	"github.com/gpuplan/gpuplan/server"
)

// serveNow is the pinned clock of the server tests, so that the API and
// the CLI it is compared with see the same day.
var serveNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// apiEnv is the environment of the server tests: an empty cache and, when
// hub is set, a Hugging Face endpoint on loopback.
func apiEnv(cacheDir, hub string) func(string) string {
	return func(k string) string {
		switch k {
		case "GPUPLAN_CACHE_DIR":
			return cacheDir
		case "HF_ENDPOINT":
			return hub
		}
		return ""
	}
}

// newTestAPI serves the real command tree in-process on loopback.
func newTestAPI(t testing.TB, getenv func(string) string, o server.Options) (*httptest.Server, *server.Server) {
	t.Helper()
	a := &app{Options: Options{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Now: func() time.Time { return serveNow }, Getenv: getenv}}
	root := newRootCmd(a)
	srv, err := a.apiServer(root, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, srv
}

// cli runs the CLI in-process with the same clock and environment as the
// test server.
func cli(getenv func(string) string, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, Options{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Now: func() time.Time { return serveNow }, Getenv: getenv})
	return out.String(), errb.String(), code
}

func get(t testing.TB, client *http.Client, u string) (int, []byte) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func post(t testing.TB, u, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestAPICommandsFromTree checks which commands and flags the API serves:
// the pure computations, with their flags typed as cobra has them, and
// never the commands or flags that write files, read local files, open
// connections or serve.
func TestAPICommandsFromTree(t *testing.T) {
	a := &app{Options: Options{Getenv: func(string) string { return "" }, Now: time.Now}}
	cmds := apiCommands(newRootCmd(a), a)
	byName := map[string]server.Command{}
	for _, c := range cmds {
		byName[c.Name] = c
	}
	for _, want := range []string{"models", "size", "gpus", "prices", "plan"} {
		if _, ok := byName[want]; !ok {
			t.Errorf("API lacks %s", want)
		}
	}
	for _, never := range []string{"serve", "bench", "deploy", "completion", "help", "refresh"} {
		if _, ok := byName[never]; ok {
			t.Errorf("API serves %s", never)
		}
	}
	for _, c := range cmds {
		for _, f := range c.Flags {
			if !apiExposed(f.Name) || fileFlagUsage.MatchString(f.Usage) {
				t.Errorf("%s exposes --%s (%s)", c.Name, f.Name, f.Usage)
			}
		}
	}
	types := func(c server.Command) map[string]server.FlagType {
		m := map[string]server.FlagType{}
		for _, f := range c.Flags {
			m[f.Name] = f.Type
		}
		return m
	}
	size := types(byName["size"])
	for name, want := range map[string]server.FlagType{"context": server.Int, "concurrency": server.Int, "tp": server.Int,
		"gpu-memory-utilization": server.Float, "precision": server.String, "kv-dtype": server.String, "gpu-memory": server.String} {
		if size[name] != want {
			t.Errorf("size --%s: type %q, want %q", name, size[name], want)
		}
	}
	plan := types(byName["plan"])
	for _, name := range []string{"save", "pick", "calibration", "output"} {
		if _, ok := plan[name]; ok {
			t.Errorf("plan exposes --%s", name)
		}
	}
	if plan["rps"] != server.Float || plan["input-tokens"] != server.Int {
		t.Errorf("plan flag types: %v", plan)
	}
	if perf, ok := byName["perf"]; ok {
		pf := types(perf)
		for _, name := range []string{"plot", "calibration", "output"} {
			if _, ok := pf[name]; ok {
				t.Errorf("perf exposes --%s", name)
			}
		}
		if pf["concurrency"] != server.String || pf["input-tokens"] != server.Int {
			t.Errorf("perf flag types: %v", pf)
		}
	}
	if args := byName["size"].Args; len(args) != 1 || args[0].Name != "MODEL" || !args[0].Required || args[0].Validate == nil {
		t.Errorf("size args: %+v", args)
	}
	if args := byName["models"].Args; len(args) != 1 || args[0].Name != "QUERY" || args[0].Required {
		t.Errorf("models args: %+v", args)
	}
}

// parityCases are requests for each command, with the command line that
// must print the same JSON. Commands without a case here (added later) are
// still checked with a request without parameters.
var parityCases = []struct {
	name, query, body string
	cli               []string
	status            int
}{
	{"models", "query=qwen3", "", []string{"models", "qwen3"}, 200},
	{"size", "model=llama-3.1-8b-instruct&gpu=h100-sxm&context=8192&concurrency=16&kv_dtype=fp8&gpu_memory_utilization=0.95", "",
		[]string{"size", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--context", "8192", "--concurrency", "16", "--kv-dtype", "fp8", "--gpu-memory-utilization", "0.95"}, 200},
	{"size", "", `{"model":"qwen3-30b-a3b","gpu_memory":"79.19GiB","tp":2,"context":16384}`,
		[]string{"size", "qwen3-30b-a3b", "--gpu-memory", "79.19GiB", "--tp", "2", "--context", "16384"}, 200},
	{"size", "model=llama-3.1-70b&precision=int8&gpu=a100-80gb-sxm", "",
		[]string{"size", "llama-3.1-70b", "--precision", "int8", "--gpu", "a100-80gb-sxm"}, 422},
	{"size", "table=7B,13B,70B", "", []string{"size", "--table", "7B,13B,70B"}, 200},
	{"gpus", "id=h100-nvl", "", []string{"gpus", "h100-nvl"}, 200},
	{"gpus", "vendor=amd&region=eastus", "", []string{"gpus", "--vendor", "amd", "--region", "eastus"}, 200},
	{"prices", "region=eastus&vm=Standard_ND96isr_H100_v5", "", []string{"prices", "--region", "eastus", "--vm", "Standard_ND96isr_H100_v5"}, 200},
	{"plan", "model=llama-3.1-8b-instruct&context=8192&concurrency=32&input_tokens=1000&output_tokens=200&tpot_slo_ms=50", "",
		[]string{"plan", "llama-3.1-8b-instruct", "--context", "8192", "--concurrency", "32", "--input-tokens", "1000", "--output-tokens", "200", "--tpot-slo-ms", "50"}, 200},
	{"plan", "", `{"model":"llama-3.1-8b-instruct","rps":2,"input_tokens":1000,"output_tokens":200,"tpot_slo_ms":0.01}`,
		[]string{"plan", "llama-3.1-8b-instruct", "--rps", "2", "--input-tokens", "1000", "--output-tokens", "200", "--tpot-slo-ms", "0.01"}, 422},
	{"ptu", "model=gpt-4.1&rpm=60&input_tokens=1800&output_tokens=650&cache_rate=0.2&avg_rpm=40", "",
		[]string{"ptu", "gpt-4.1", "--rpm", "60", "--input-tokens", "1800", "--output-tokens", "650", "--cache-rate", "0.2", "--avg-rpm", "40"}, 200},
	{"guide", "", "", []string{"guide"}, 200},
	{"perf", "model=llama-3.1-8b-instruct&gpu=h100-sxm&input_tokens=1000&output_tokens=200&concurrency=1,8,32,max&kv_dtype=fp8", "",
		[]string{"perf", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--input-tokens", "1000", "--output-tokens", "200", "--concurrency", "1,8,32,max", "--kv-dtype", "fp8"}, 200},
	{"perf", "", `{"model":"qwen3-30b-a3b","gpu":"h200","tp":2,"input_tokens":2000,"output_tokens":300,"rps":"0.5,2"}`,
		[]string{"perf", "qwen3-30b-a3b", "--gpu", "h200", "--tp", "2", "--input-tokens", "2000", "--output-tokens", "300", "--rps", "0.5,2"}, 200},
}

// TestAPIMatchesCLI is the parity guarantee: every endpoint answers with
// exactly what the command prints with -o json (200), the same JSON plus
// "error" (422), or the command's error message (400).
func TestAPIMatchesCLI(t *testing.T) {
	env := apiEnv(t.TempDir(), "")
	ts, srv := newTestAPI(t, env, server.Options{})
	covered := map[string]bool{}
	for _, tc := range parityCases {
		if !contains(srv.Commands(), tc.name) {
			continue // not in this build's tree
		}
		covered[tc.name] = true
		t.Run(tc.name+"?"+tc.query+tc.body, func(t *testing.T) {
			var status int
			var body []byte
			if tc.body != "" {
				status, body = post(t, ts.URL+"/api/v1/"+tc.name, tc.body)
			} else {
				status, body = get(t, http.DefaultClient, ts.URL+"/api/v1/"+tc.name+"?"+tc.query)
			}
			out, errOut, code := cli(env, append(tc.cli, "-o", "json")...)
			checkParity(t, status, body, out, errOut, code)
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
		})
	}
	for _, name := range srv.Commands() {
		if covered[name] {
			continue
		}
		t.Run(name+" without parameters", func(t *testing.T) {
			status, body := get(t, http.DefaultClient, ts.URL+"/api/v1/"+name)
			out, errOut, code := cli(env, name, "-o", "json")
			checkParity(t, status, body, out, errOut, code)
		})
	}
}

func checkParity(t *testing.T, status int, body []byte, out, errOut string, code int) {
	t.Helper()
	errLine := ""
	for _, l := range strings.Split(errOut, "\n") {
		if m, ok := strings.CutPrefix(l, "Error: "); ok {
			errLine = m
			break
		}
	}
	switch code {
	case exitOK:
		if status != 200 || string(body) != out {
			t.Fatalf("API %d differs from the CLI's -o json (exit 0)\n--- API ---\n%.2000s\n--- CLI ---\n%.2000s", status, body, out)
		}
	case exitUsage:
		var e map[string]string
		if status != 400 || json.Unmarshal(body, &e) != nil || e["error"] != errLine {
			t.Fatalf("API %d %s; CLI exit 2 with %q", status, body, errLine)
		}
	case exitInfeasible:
		var api, want map[string]any
		if status != 422 || json.Unmarshal(body, &api) != nil {
			t.Fatalf("API %d %.500s; CLI exit 3", status, body)
		}
		if api["error"] != errLine {
			t.Errorf("error %q, want %q", api["error"], errLine)
		}
		delete(api, "error")
		if strings.TrimSpace(out) == "" {
			want = map[string]any{}
		} else if err := json.Unmarshal([]byte(out), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(api, want) {
			t.Errorf("422 body differs from the CLI's JSON")
		}
	default:
		t.Fatalf("CLI exit %d (%s); API %d %s", code, errOut, status, body)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestAPIBadInput sends what a careless or hostile client might, to the
// real commands: each answer is the expected 4xx with a message that says
// what to fix, and comes back fast.
func TestAPIBadInput(t *testing.T) {
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "private") {
			http.Error(w, "gated", http.StatusForbidden)
			return
		}
		http.NotFound(w, r)
	}))
	defer hub.Close()
	ts, _ := newTestAPI(t, apiEnv(t.TempDir(), hub.URL), server.Options{})
	big := `{"model":"llama-3.1-8b","precision":"` + strings.Repeat("x", 70<<10) + `"}`
	tests := []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"wrong type (query)", "GET", "size?model=llama-3.1-8b&context=8k", "", 400, "context must be an integer"},
		{"wrong type (body)", "POST", "plan", `{"model":"llama-3.1-8b","concurrency":"8","input_tokens":1000,"output_tokens":200}`, 400, "concurrency must be an integer, not a string"},
		{"fraction for an int", "POST", "size", `{"model":"llama-3.1-8b","tp":1.5}`, 400, "tp must be an integer"},
		{"bool for a float", "POST", "ptu", `{"model":"gpt-4.1","rpm":true}`, 400, "rpm must be a number"},
		{"unknown parameter", "GET", "size?model=llama-3.1-8b&gpus=2", "", 400, `unknown parameter "gpus"`},
		{"CLI spelling", "GET", "plan?model=llama-3.1-8b&input-tokens=10", "", 400, "did you mean input_tokens"},
		{"output format is not a parameter", "GET", "size?model=llama-3.1-8b&output=yaml", "", 400, `unknown parameter "output"`},
		{"plan --save is not served", "GET", "plan?model=llama-3.1-8b&save=/tmp/x.json", "", 400, `unknown parameter "save"`},
		{"unknown model", "GET", "size?model=no-such-model-xyz", "", 400, "not in the built-in catalog"},
		{"unknown precision", "GET", "size?model=llama-3.1-8b&precision=fp3", "", 400, "fp3"},
		{"unknown GPU", "GET", "size?model=llama-3.1-8b&gpu=rtx-9999", "", 400, "rtx-9999"},
		{"missing required flags", "GET", "plan?model=llama-3.1-8b", "", 400, "--input-tokens and --output-tokens are required"},
		{"missing MODEL", "GET", "size", "", 400, "size needs exactly one MODEL"},
		// Out-of-range values are refused by the shared range check
		// (flagcheck.go) before the command runs; these used to reach it.
		{"absurd context", "GET", "size?model=llama-3.1-8b&context=1000000000000", "", 400, "--context 1000000000000 is out of range"},
		{"context beyond the model", "GET", "size?model=llama-3.1-8b&context=99999999", "", 400, "longer than the model's max_position_embeddings"},
		{"absurd TP", "GET", "size?model=llama-3.1-8b&tp=1000000", "", 400, "--tp 1000000 is out of range"},
		{"TP that does not divide", "GET", "size?model=llama-3.1-8b&tp=7", "", 400, "does not divide"},
		{"absurd concurrency", "GET", "size?model=llama-3.1-8b&concurrency=1000000000000000", "", 400, "--concurrency 1000000000000000 is out of range"},
		{"concurrency that does not fit", "GET", "size?model=llama-3.1-8b&concurrency=100000", "", 422, "does not fit"},
		{"absurd rate", "GET", "ptu?model=gpt-4.1&rpm=1e15&input_tokens=1e9&output_tokens=1", "", 400, "out of range"},
		{"rate beyond any deployment", "GET", "ptu?model=gpt-4.1&rpm=1e8&input_tokens=1e7&output_tokens=1", "", 400, "beyond any deployment"},
		// Every parameter is checked before the network: a bad context is
		// 400 even for a Hugging Face id that would need fetching.
		{"bad flag before the network", "GET", "size?model=no/such&context=-5", "", 400, "--context -5 is out of range"},
		{"int64 overflow", "GET", "size?model=llama-3.1-8b&context=9223372036854775808", "", 400, "context must be an integer"},
		{"oversized body", "POST", "size", big, 413, "larger than 65536 bytes"},
		{"local absolute path", "GET", "size?model=/etc/passwd", "", 400, "looks like a path"},
		{"local relative path", "GET", "size?model=../../go.mod", "", 400, "looks like a path"},
		{"file next to the server", "GET", "size?model=serve.go", "", 400, "not in the built-in catalog"},
		// A space before or after a path used to pass the check (made on
		// the raw value) and then be trimmed by model.Resolve.
		{"leading space before a file", "GET", "size?model=%20serve.go", "", 400, "not in the built-in catalog"},
		{"trailing space after config.json", "GET", "size?model=config.json%20", "", 400, "looks like a file"},
		{"space before ~", "GET", "size?model=%20~", "", 400, "looks like a path"},
		{"tab before a directory", "GET", "size?model=%09testdata", "", 400, "control character"},
		{"no-break space before a directory", "GET", "size?model=%C2%A0testdata", "", 400, "not in the built-in catalog"},
		{"blank", "GET", "size?model=%20%20", "", 400, "empty"},
		{"config file", "GET", "size?model=config.json", "", 400, "looks like a file"},
		{"URL", "GET", "size?model=" + url.QueryEscape("https://example.com/model.gguf"), "", 400, "does not read local files or fetch URLs"},
		{"flag as MODEL", "GET", "size?model=--help", "", 400, "must not start with '-'"},
		{"bad Hugging Face id", "GET", "size?model=a/b/c", "", 400, "model"},
		{"Hugging Face 404", "GET", "size?model=acme/no-such-model", "", 404, "not found (HTTP 404)"},
		{"Hugging Face 403", "GET", "size?model=acme/private-model", "", 502, "is gated (HTTP 403)"},
		{"not JSON", "POST", "size", "model=llama", 400, "not valid JSON"},
		{"currency path traversal", "GET", "prices?currency=/../../X", "", 400, "ISO 4217"},
		{"currency dots", "GET", "prices?currency=..", "", 400, "ISO 4217"},
		{"unknown currency", "GET", "prices?currency=XYZ", "", 400, "ISO 4217"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			var status int
			var body []byte
			if tt.method == "POST" {
				status, body = post(t, ts.URL+"/api/v1/"+tt.path, tt.body)
			} else {
				status, body = get(t, http.DefaultClient, ts.URL+"/api/v1/"+tt.path)
			}
			if status != tt.status {
				t.Fatalf("status %d, want %d: %.400s", status, tt.status, body)
			}
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("not JSON: %.200s", body)
			}
			if !strings.Contains(e.Error, tt.msg) {
				t.Errorf("error %q does not mention %q", e.Error, tt.msg)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			for _, p := range serverDirs(t) {
				if strings.Contains(e.Error, p) {
					t.Errorf("error %q shows the server path %s", e.Error, p)
				}
			}
		})
	}
}

// serverDirs are directories of the test process that an API answer must
// never show.
func serverDirs(t *testing.T) []string {
	t.Helper()
	var out []string
	if d, err := os.Getwd(); err == nil {
		out = append(out, d)
	}
	if d, err := os.UserHomeDir(); err == nil && d != "/" {
		out = append(out, d)
	}
	return out
}

// TestAPIErrorsHideServerPaths asks for Hugging Face models the server
// cannot serve, and checks the answers name neither the cache directory
// nor the Hub's own error text.
func TestAPIErrorsHideServerPaths(t *testing.T) {
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		w.Header().Set("X-Error-Message", "Repository Not Found for url: internal-host-7")
		http.Error(w, "not found", http.StatusNotFound)
	}))
	defer hub.Close()
	cache := t.TempDir()
	ts, _ := newTestAPI(t, apiEnv(cache, hub.URL), server.Options{})
	status, body := get(t, http.DefaultClient, ts.URL+"/api/v1/size?model=acme/no-such-model")
	if status != 404 {
		t.Fatalf("status %d: %s", status, body)
	}
	if strings.Contains(string(body), "internal-host-7") {
		t.Errorf("the Hub's X-Error-Message reached the client: %s", body)
	}

	a := &app{Options: Options{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Now: func() time.Time { return serveNow }, Getenv: apiEnv(cache, hub.URL)}}
	root := newRootCmd(a)
	a.offline = true // after newRootCmd, which sets the flag's default
	srv, err := a.apiServer(root, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	off := httptest.NewServer(srv)
	defer off.Close()
	status, body = get(t, http.DefaultClient, off.URL+"/api/v1/size?model=acme/not-cached")
	if status != 503 {
		t.Fatalf("offline: status %d: %s", status, body)
	}
	for _, p := range append(serverDirs(t), cache) {
		if strings.Contains(string(body), p) {
			t.Errorf("offline answer shows the server path %s: %s", p, body)
		}
	}
}

// TestAPIEveryEndpointRejectsBadInput sends the same kinds of bad request
// to every served command, including ones added after this test.
func TestAPIEveryEndpointRejectsBadInput(t *testing.T) {
	env := apiEnv(t.TempDir(), "")
	ts, srv := newTestAPI(t, env, server.Options{})
	a := &app{Options: Options{Getenv: env, Now: time.Now}}
	cmds := map[string]server.Command{}
	for _, c := range apiCommands(newRootCmd(a), a) {
		cmds[c.Name] = c
	}
	big := `{"x":"` + strings.Repeat("y", 65<<10) + `"}`
	for _, name := range srv.Commands() {
		t.Run(name, func(t *testing.T) {
			u := ts.URL + "/api/v1/" + name
			if status, body := get(t, http.DefaultClient, u+"?no_such_parameter=1"); status != 400 || !strings.Contains(string(body), "unknown parameter") {
				t.Errorf("unknown parameter: %d %s", status, body)
			}
			if status, _ := post(t, u, big); status != 413 {
				t.Errorf("oversized body: %d", status)
			}
			if status, _ := post(t, u, `{"no_such_parameter": 1}`); status != 400 {
				t.Errorf("unknown parameter in body: %d", status)
			}
			req, _ := http.NewRequest("PUT", u, nil)
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
				t.Errorf("PUT: %v %v", resp.StatusCode, err)
			} else {
				resp.Body.Close()
			}
			for _, f := range cmds[name].Flags {
				var bad string
				switch f.Type {
				case server.Int:
					bad = "1.5"
				case server.Float:
					bad = "lots"
				case server.Bool:
					bad = "maybe"
				default:
					continue
				}
				status, body := get(t, http.DefaultClient, u+"?"+server.ParamName(f.Name)+"="+bad)
				if status != 400 || !strings.Contains(string(body), server.ParamName(f.Name)) {
					t.Errorf("--%s=%s: %d %s", f.Name, bad, status, body)
				}
			}
		})
	}
}

// TestAPIOffline checks --offline and the --catalog overlay reach every
// request: a Hugging Face id that is not cached is 503 (the server cannot
// fetch it), and an overlay model is served.
func TestAPIOffline(t *testing.T) {
	overlay := filepath.Join(t.TempDir(), "overlay.yaml")
	if err := os.WriteFile(overlay, []byte("schema_version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &app{Options: Options{Now: func() time.Time { return serveNow }, Getenv: apiEnv(t.TempDir(), "http://127.0.0.1:1")}, offline: true, catalogFile: overlay}
	var got []string
	run := a.apiRun()
	srv, err := server.New(server.Options{
		Commands: apiCommands(newRootCmd(a), a),
		Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			got = args
			var errb bytes.Buffer
			code := run(ctx, args, stdout, io.MultiWriter(stderr, &errb))
			got = append(got, strings.TrimSpace(errb.String()))
			return code
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/size?model=acme/uncached-model", nil))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "is not in the cache") {
		t.Errorf("offline uncached model: %d %s (stderr %q)", w.Code, w.Body.String(), got)
	}
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/size?model=llama-3.1-8b", nil))
	if w.Code != 200 {
		t.Errorf("catalog model offline: %d %s", w.Code, w.Body.String())
	}
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("resolve: %w", &hfhub.Error{Kind: hfhub.ErrNetwork, Msg: "dial tcp: refused"}), server.ExitUpstream},
		{fmt.Errorf("resolve: %w", &hfhub.Error{Kind: hfhub.ErrTooLarge, Msg: "big"}), server.ExitUpstream},
		{usageErr(fmt.Errorf("x: %w", hfhub.ErrNotFound)), exitUsage},
		{infeasibleErr(errors.New("too big")), exitInfeasible},
		{errors.New("disk full"), exitError},
	} {
		if got := apiExitCode(tc.err); got != tc.want {
			t.Errorf("apiExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestAPIConcurrentRequests sends different requests at once and checks
// each answer equals the one it gets alone: requests share the loaded
// catalogs and must not see each other's flags or results. Run it with
// -race to check the sharing itself.
func TestAPIConcurrentRequests(t *testing.T) {
	ts, srv := newTestAPI(t, apiEnv(t.TempDir(), ""), server.Options{MaxConcurrent: 8})
	paths := []string{
		"size?model=llama-3.1-8b-instruct&gpu=h100-sxm&context=8192&concurrency=16",
		"size?model=llama-3.1-70b&precision=int8&gpu=a100-80gb-sxm",
		"size?model=qwen3-30b-a3b&gpu=h200&tp=2&kv_dtype=fp8",
		"plan?model=llama-3.1-8b-instruct&concurrency=8&input_tokens=1000&output_tokens=200&managed=gpt-4.1-mini",
		"models?query=llama",
		"gpus?id=l40s",
		"prices?region=westeurope",
		"ptu?model=gpt-4.1&rpm=60&input_tokens=1800&output_tokens=650",
	}
	if contains(srv.Commands(), "perf") {
		paths = append(paths, "perf?model=llama-3.1-8b-instruct&input_tokens=1000&output_tokens=200&concurrency=1,16,max")
	}
	want := map[string]string{}
	for _, p := range paths {
		status, body := get(t, http.DefaultClient, ts.URL+"/api/v1/"+p)
		if status != 200 && status != 422 {
			t.Fatalf("%s: %d %.300s", p, status, body)
		}
		want[p] = string(body)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 2; round++ {
				for i := range paths {
					p := paths[(i+g)%len(paths)]
					resp, err := http.Get(ts.URL + "/api/v1/" + p)
					if err != nil {
						errs <- err.Error()
						return
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if string(b) != want[p] {
						errs <- fmt.Sprintf("%s: answer differs when sent alongside others", p)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestServeCommand runs `gpuplan serve` as a user would, on a free
// loopback port, and stops it the way SIGINT does: by cancelling the
// context the command runs under.
func TestServeCommand(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--offline", "--log-format", "json"}, Options{
			Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: pw, Now: time.Now, Getenv: apiEnv(t.TempDir(), ""),
		})
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatal("serve printed nothing")
	}
	first := lines.Text()
	addr, ok := strings.CutPrefix(first[strings.Index(first, "http://"):], "http://")
	if !ok {
		t.Fatalf("no address in %q", first)
	}
	addr = addr[:strings.Index(addr, "/")]
	logs := make(chan []string, 1)
	go func() {
		var all []string
		for lines.Scan() {
			all = append(all, lines.Text())
		}
		logs <- all
	}()
	status, body := get(t, http.DefaultClient, "http://"+addr+"/healthz")
	if status != 200 || !strings.Contains(string(body), `"size"`) {
		t.Errorf("healthz: %d %s", status, body)
	}
	status, body = get(t, http.DefaultClient, "http://"+addr+"/api/v1/size?model=llama-3.1-8b&gpu=h100-sxm&context=8192")
	if status != 200 || !strings.Contains(string(body), `"weights_bytes_per_gpu": 16094076928`) {
		t.Errorf("size: %d %.300s", status, body)
	}
	status, body = get(t, http.DefaultClient, "http://"+addr+"/metrics")
	if status != 200 || !strings.Contains(string(body), `gpuplan_http_requests_total{code="200",endpoint="size",method="GET"} 1`) {
		t.Errorf("metrics: %d %.500s", status, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	var sawRequest bool
	for _, l := range <-logs {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "http request" && rec["endpoint"] == "size" {
			sawRequest = rec["status"] == float64(200) && rec["exit_code"] == float64(0)
		}
	}
	if !sawRequest {
		t.Error("no structured log record of the size request")
	}
	if _, _, code := cli(apiEnv("", ""), "serve", "--log-format", "xml"); code != exitUsage {
		t.Errorf("bad --log-format: exit %d", code)
	}
}

// TestPagePrecisionsMatchCLI keeps the page's precision menu equal to the
// precisions the CLI knows.
func TestPagePrecisionsMatchCLI(t *testing.T) {
	page, err := os.ReadFile("../../server/web/index.html")
	if err != nil {
		t.Fatal(err)
	}
	sel := string(page)
	sel = sel[strings.Index(sel, `<select id="precision"`):]
	sel = sel[:strings.Index(sel, "</select>")]
	var got []string
	for _, part := range strings.Split(sel, "<option>")[1:] {
		got = append(got, part[:strings.Index(part, "</option>")])
	}
	want := dtype.PrecisionNames()
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("page precisions %v, CLI %v", got, want)
	}
}

// TestPageInBrowser drives the page in headless Chromium: it loads the page
// with inputs in the URL, checks that every number shown equals the API's
// answer to the request the page made, changes inputs with the keyboard,
// checks again, and saves screenshots. Without a browser it skips, except
// under CI=true, where it fails.
func TestPageInBrowser(t *testing.T) {
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
	ts, _ := newTestAPI(t, apiEnv(t.TempDir(), ""), server.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := headless.Launch(ctx, chrome)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// A 1366 × 768 laptop screen.
	p, err := b.NewPage(ctx, 1366, 768)
	if err != nil {
		t.Fatal(err)
	}
	outDir := os.Getenv("GPUPLAN_E2E_DIR")
	if outDir == "" {
		outDir = filepath.Join(os.TempDir(), "gpuplan-e2e")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	gen := 0
	waitReady := func(step string) {
		t.Helper()
		wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
		defer wcancel()
		if err := p.WaitFor(wctx, fmt.Sprintf(`document.body.dataset.state === "ready" && Number(document.body.dataset.generation) > %d`, gen)); err != nil {
			var state string
			_ = p.Eval(ctx, `document.body.dataset.state + ": " + document.getElementById("status").textContent`, &state)
			t.Fatalf("%s: %v (page: %s; exceptions: %q)", step, err, state, p.Exceptions())
		}
		if err := p.Eval(ctx, `Number(document.body.dataset.generation)`, &gen); err != nil {
			t.Fatal(err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := p.Screenshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(outDir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", path, len(png))
	}

	// 1. Inputs from the URL.
	q := "model=llama-3.1-8b-instruct&context=8192&concurrency=16&input_tokens=1000&output_tokens=200&gpu=h100-sxm&region=eastus&pricing=payg&aoai_model=gpt-4.1-mini"
	if err := p.Navigate(ctx, ts.URL+"/?"+q); err != nil {
		t.Fatal(err)
	}
	waitReady("first load")
	reqs := compareShown(t, ctx, p, ts.URL, []string{"size", "plan"})
	// The memory and speed panels follow the plan's first row, not the
	// form's GPU (which applies only when no row is feasible).
	rows := planRows(t, ts.URL, reqs["plan"])
	if len(rows) < 2 {
		t.Fatalf("the plan has %d rows; the test needs two", len(rows))
	}
	checkFollowsRow(t, reqs, rows[0], "first load")
	var fitsText string
	mustEvalInto(t, ctx, p, `document.querySelector('[data-field="size.fits"]').textContent`, &fitsText)
	if fitsText != "Fits" {
		t.Errorf("memory panel says %q next to a feasible plan row", fitsText)
	}
	// Choosing another row moves both panels to it.
	mustEval(t, ctx, p, `document.querySelector('button.show[data-row="1"]').click()`)
	waitReady("after choosing plan row 2")
	reqs = compareShown(t, ctx, p, ts.URL, []string{"size", "plan", "perf"})
	checkFollowsRow(t, reqs, planRows(t, ts.URL, reqs["plan"])[1], "row 2 chosen")
	var pressed string
	mustEvalInto(t, ctx, p, `document.querySelector('button.show[aria-pressed="true"]').dataset.row`, &pressed)
	if pressed != "1" {
		t.Errorf("the pressed Show button is row %q, want 1", pressed)
	}
	var managed int
	mustEvalInto(t, ctx, p, `document.querySelectorAll('#cost-figs [data-field^="plan.managed.0.comparison."]').length`, &managed)
	if managed < 2 {
		t.Errorf("the cost section shows %d Azure OpenAI figures, want PAYG and PTU", managed)
	}
	shot("calculator.png")

	// 2. Change the context with the keyboard: focus, select all, type,
	// Tab away. The page recalculates and mirrors the input in the URL.
	mustEval(t, ctx, p, `document.getElementById("context").focus()`)
	if err := p.PressKey(ctx, "a", headless.ModCtrl); err != nil {
		t.Fatal(err)
	}
	if err := p.InsertText(ctx, "16384"); err != nil {
		t.Fatal(err)
	}
	if err := p.PressKey(ctx, "Tab", 0); err != nil {
		t.Fatal(err)
	}
	var focused string
	mustEvalInto(t, ctx, p, `document.activeElement.id`, &focused)
	if focused != "mode-concurrency" {
		t.Errorf("Tab from the context field went to %q, want the load radio buttons", focused)
	}
	waitReady("after typing a context")
	reqs = compareShown(t, ctx, p, ts.URL, []string{"size", "plan"})
	if reqs["size"].Get("context") != "16384" || reqs["plan"].Get("context") != "16384" {
		t.Errorf("requests after the change: size %v, plan %v", reqs["size"], reqs["plan"])
	}
	var search string
	mustEvalInto(t, ctx, p, `location.search`, &search)
	if !strings.Contains(search, "context=16384") {
		t.Errorf("URL %q does not carry the new context", search)
	}

	// 3. Switch to a request rate with the arrow key, type a rate.
	if err := p.PressKey(ctx, "ArrowRight", 0); err != nil {
		t.Fatal(err)
	}
	var rpsVisible bool
	mustEvalInto(t, ctx, p, `document.getElementById("mode-rps").checked && !document.getElementById("rps-box").hidden`, &rpsVisible)
	if !rpsVisible {
		t.Fatal("ArrowRight on the load radio buttons did not select the request rate")
	}
	mustEval(t, ctx, p, `document.getElementById("rps").focus()`)
	if err := p.InsertText(ctx, "2"); err != nil {
		t.Fatal(err)
	}
	if err := p.PressKey(ctx, "Enter", 0); err != nil {
		t.Fatal(err)
	}
	waitReady("after switching to a request rate")
	reqs = compareShown(t, ctx, p, ts.URL, []string{"size", "plan"})
	if reqs["plan"].Get("rps") != "2" || reqs["plan"].Has("concurrency") {
		t.Errorf("plan request after switching to a rate: %v", reqs["plan"])
	}
	var rpm string
	mustEvalInto(t, ctx, p, `document.querySelector('[data-field="plan.managed.0.peak_rpm"]').dataset.value`, &rpm)
	if rpm != "120" || reqs["plan"].Get("managed") != "gpt-4.1-mini" {
		t.Errorf("Azure OpenAI comparison for 2 requests/s: peak %s requests/min, want 120 (plan request %v)", rpm, reqs["plan"])
	}
	shot("calculator-rps.png")

	// 4. No feasible plan row (an impossible TPOT target): the memory
	// panel falls back to the form's GPU, where the model does not fit;
	// the 422 answer is shown too, and the negative KV pool reads as a
	// shortfall. An Azure OpenAI model the catalog lacks: the plan is
	// shown without the comparison, and the cost section says why.
	if err := p.Navigate(ctx, ts.URL+"/?model=llama-3.1-70b&gpu=t4&context=4096&concurrency=1&input_tokens=1000&output_tokens=200&tpot_slo_ms=0.001&aoai_model="); err != nil {
		t.Fatal(err)
	}
	gen = 0
	waitReady("model that does not fit")
	reqs = compareShown(t, ctx, p, ts.URL, []string{"size", "plan"})
	if reqs["size"].Get("gpu") != "t4" {
		t.Errorf("size request %v, want gpu=t4 from the link", reqs["size"])
	}
	var fits string
	mustEvalInto(t, ctx, p, `document.querySelector('[data-field="size.fits"]').textContent`, &fits)
	if fits != "Does not fit" {
		t.Errorf("fit verdict shown: %q", fits)
	}
	var kvText string
	mustEvalInto(t, ctx, p, `document.querySelector('[data-field="size.kv_pool_bytes"]').textContent`, &kvText)
	if !strings.HasPrefix(kvText, "short by ") {
		t.Errorf("negative KV pool shown as %q, want a shortfall", kvText)
	}
	shot("calculator-does-not-fit.png")

	// 4b. An Azure OpenAI model the catalog lacks: the plan is shown
	// without the comparison, and the cost section says why.
	if err := p.Navigate(ctx, ts.URL+"/?model=llama-3.1-8b-instruct&context=4096&concurrency=1&input_tokens=1000&output_tokens=200&aoai_model=no-such-aoai-model"); err != nil {
		t.Fatal(err)
	}
	gen = 0
	waitReady("unknown Azure OpenAI model")
	var costNote string
	mustEvalInto(t, ctx, p, `document.getElementById("cost-note").textContent`, &costNote)
	if !strings.Contains(costNote, "no-such-aoai-model") {
		t.Errorf("cost note %q does not explain the unknown Azure OpenAI model", costNote)
	}

	// 5. Errors name the form's fields, not the CLI's flags.
	if err := p.Navigate(ctx, ts.URL+"/?model=llama-3.1-8b-instruct&context=-5&concurrency=4&input_tokens=1000&output_tokens=200"); err != nil {
		t.Fatal(err)
	}
	gen = 0
	waitReady("bad context")
	var planErr string
	mustEvalInto(t, ctx, p, `document.getElementById("plan-summary").textContent`, &planErr)
	if !strings.Contains(planErr, "“Context length (tokens)” -5 is out of range") || strings.Contains(planErr, "--context") {
		t.Errorf("plan error %q does not name the form field", planErr)
	}

	// 6. A phone: 390 × 844. One column, nothing wider than the screen,
	// the form above the results and not pinned over them.
	phone, err := b.NewPage(ctx, 390, 844)
	if err != nil {
		t.Fatal(err)
	}
	if err := phone.Navigate(ctx, ts.URL+"/?"+q); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := phone.WaitFor(wctx, `document.body.dataset.state === "ready"`); err != nil {
		t.Fatalf("phone: %v", err)
	}
	var layout struct {
		ScrollWidth, InnerWidth int
		FormPosition            string
		Widest                  string
	}
	mustEvalInto(t, ctx, phone, `(function () {
		var w = window.innerWidth, widest = "";
		document.querySelectorAll("header, form, #results > section, #results > section > *:not(.tablewrap)").forEach(function (e) {
			var r = e.getBoundingClientRect();
			if (r.right > w + 1 && !widest) widest = (e.id || e.tagName) + " ends at " + Math.round(r.right);
		});
		return { ScrollWidth: document.documentElement.scrollWidth, InnerWidth: w,
			FormPosition: getComputedStyle(document.getElementById("inputs")).position, Widest: widest };
	})()`, &layout)
	if layout.ScrollWidth > layout.InnerWidth || layout.Widest != "" {
		t.Errorf("phone: page is %d px wide in a %d px window (%s)", layout.ScrollWidth, layout.InnerWidth, layout.Widest)
	}
	if layout.FormPosition == "sticky" || layout.FormPosition == "fixed" {
		t.Errorf("phone: the form is %s, covering the results", layout.FormPosition)
	}
	png, err := phone.Screenshot(ctx)
	if err == nil {
		_ = os.WriteFile(filepath.Join(outDir, "calculator-phone.png"), png, 0o644)
	}

	if ex := p.Exceptions(); len(ex) > 0 {
		t.Errorf("JavaScript errors: %q", ex)
	}
}

// planRows asks the API the plan question the page asked and returns its
// rows.
func planRows(t *testing.T, base string, q url.Values) []map[string]any {
	t.Helper()
	status, body := get(t, http.DefaultClient, base+"/api/v1/plan?"+q.Encode())
	if status != 200 {
		t.Fatalf("plan: %d %.300s", status, body)
	}
	var doc struct{ Rows []map[string]any }
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Rows
}

// checkFollowsRow checks the page's size and perf requests ask about the
// plan row's GPU, parallelism, precision and context.
func checkFollowsRow(t *testing.T, reqs map[string]url.Values, row map[string]any, step string) {
	t.Helper()
	c := row["candidate"].(map[string]any)
	e := c["engine"].(map[string]any)
	want := map[string]string{
		"gpu": c["gpu"].(string), "tp": fmt.Sprint(e["tensor_parallel_size"]),
		"precision": e["precision"].(string), "context": fmt.Sprint(e["max_model_len"]),
	}
	for _, ep := range []string{"size", "perf"} {
		q, ok := reqs[ep]
		if !ok {
			continue
		}
		for k, v := range want {
			if ep == "perf" && k == "context" {
				continue // perf takes the request lengths, not a context
			}
			if got := q.Get(k); got != v {
				t.Errorf("%s: %s request %s=%q, want the plan row's %q", step, ep, k, got, v)
			}
		}
	}
}

func mustEval(t *testing.T, ctx context.Context, p *headless.Page, expr string) {
	t.Helper()
	if err := p.Eval(ctx, expr, nil); err != nil {
		t.Fatal(err)
	}
}

func mustEvalInto(t *testing.T, ctx context.Context, p *headless.Page, expr string, out any) {
	t.Helper()
	if err := p.Eval(ctx, expr, out); err != nil {
		t.Fatal(err)
	}
}

// compareShown reads every figure the page shows (elements with
// data-field, the JSON path of the value in an endpoint's answer) and the
// API URLs the page called, asks the API the same questions, and checks
// that each shown value and its text equal the API's. It returns the
// query of each request.
func compareShown(t *testing.T, ctx context.Context, p *headless.Page, base string, need []string) map[string]url.Values {
	t.Helper()
	var shown map[string]struct{ Value, Text string }
	mustEvalInto(t, ctx, p, `window.gpuplan.shown()`, &shown)
	var urls map[string]string
	mustEvalInto(t, ctx, p, `window.gpuplan.requests()`, &urls)
	answers := map[string]any{}
	queries := map[string]url.Values{}
	for name, u := range urls {
		status, body := get(t, http.DefaultClient, base+"/"+u)
		if status != 200 && status != 422 {
			t.Errorf("%s: the page's request %s answers %d: %.300s", name, u, status, body)
			continue
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		answers[name] = v
		pu, _ := url.Parse(u)
		queries[name] = pu.Query()
	}
	for _, n := range need {
		if _, ok := answers[n]; !ok {
			t.Errorf("the page did not call %s (calls: %v)", n, urls)
		}
	}
	checked := map[string]int{}
	for field, got := range shown {
		endpoint, path, _ := strings.Cut(field, ".")
		ans, ok := answers[endpoint]
		if !ok {
			t.Errorf("%s is shown but the page made no %s request", field, endpoint)
			continue
		}
		want, ok := jsonPath(ans, path)
		if !ok {
			t.Errorf("%s: no such field in the API's %s answer", field, endpoint)
			continue
		}
		checked[endpoint]++
		switch w := want.(type) {
		case nil:
			if got.Value != "" || got.Text != "unknown" {
				t.Errorf("%s: shown %q (%q), API null", field, got.Value, got.Text)
			}
		case float64:
			g, err := strconv.ParseFloat(got.Value, 64)
			if err != nil || g != w {
				t.Errorf("%s: shown value %q, API %v", field, got.Value, w)
			}
			if text, ok := expectedText(path, w); ok && text != got.Text && !strings.HasPrefix(got.Text, text+" ") {
				t.Errorf("%s: shown text %q, want %q for API %v", field, got.Text, text, w)
			}
		case bool:
			if got.Value != strconv.FormatBool(w) {
				t.Errorf("%s: shown %q, API %v", field, got.Value, w)
			}
		case string:
			if got.Value != w {
				t.Errorf("%s: shown %q, API %q", field, got.Value, w)
			}
		default:
			t.Errorf("%s: API value of type %T", field, want)
		}
	}
	if checked["size"] < 10 || checked["plan"] < 5 {
		t.Errorf("too few figures compared: %v", checked)
	}
	t.Logf("figures compared with the API: %v", checked)
	return queries
}

// jsonPath follows a dotted path (object keys and array indexes).
func jsonPath(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[part]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// expectedText is how the page prints a value, by the unit its key names.
func expectedText(path string, v float64) (string, bool) {
	switch {
	case strings.HasSuffix(path, "_bytes") && v < 0:
		return fmt.Sprintf("short by %.2f GiB", -v/(1<<30)), true
	case strings.HasSuffix(path, "_bytes"):
		return fmt.Sprintf("%.2f GiB", v/(1<<30)), true
	case strings.Contains(path, "usd"), strings.HasSuffix(path, ".amount"):
		return "$" + groupThousands(fmt.Sprintf("%.2f", v)), true
	case strings.HasSuffix(path, "_ms.mean"):
		return fmt.Sprintf("%.1f", v), true
	case strings.HasSuffix(path, "tokens_per_s"):
		return groupThousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64)), true
	case strings.HasSuffix(path, "_tokens"), strings.HasSuffix(path, "_sequences"):
		return groupThousands(strconv.FormatFloat(v, 'f', -1, 64)), true
	}
	return "", false
}

func groupThousands(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if hasFrac {
		out += "." + frac
	}
	return out
}

// TestAPILoad is the bounded load test of docs/server.md: 50 concurrent
// clients on loopback for 20 s against size, then plan; no errors, p99
// under 100 ms (size) and 1 s (plan). It runs only when asked:
//
//	GPUPLAN_LOAD_TEST=1 go test ./cmd/gpuplan -run TestAPILoad -v
//
// GPUPLAN_LOAD_DURATION shortens or lengthens each phase (e.g. 5s).
func TestAPILoad(t *testing.T) {
	if os.Getenv("GPUPLAN_LOAD_TEST") == "" {
		t.Skip("set GPUPLAN_LOAD_TEST=1 to run the load test")
	}
	dur := 20 * time.Second
	if s := os.Getenv("GPUPLAN_LOAD_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > 5*time.Minute {
			t.Fatalf("GPUPLAN_LOAD_DURATION=%q: want a duration up to 5m", s)
		}
		dur = d
	}
	const clients = 50
	var o server.Options
	if s := os.Getenv("GPUPLAN_LOAD_MAX_CONCURRENT"); s != "" {
		o.MaxConcurrent, _ = strconv.Atoi(s)
	}
	ts, _ := newTestAPI(t, apiEnv(t.TempDir(), ""), o)
	phases := []struct {
		name, query string
		p99         time.Duration
	}{
		{"size", "model=llama-3.1-8b-instruct&gpu=h100-sxm&context=8192&concurrency=%d", 100 * time.Millisecond},
		{"plan", "model=llama-3.1-8b-instruct&context=8192&concurrency=%d&input_tokens=1000&output_tokens=200", time.Second},
	}
	for _, ph := range phases {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, Timeout: 30 * time.Second}
		// Each client asks for its own load (1 to 32 users), so that no
		// two clients send the same request.
		url := func(c int) string { return ts.URL + "/api/v1/" + ph.name + "?" + fmt.Sprintf(ph.query, c%32+1) }
		if status, body := get(t, client, url(0)); status != 200 {
			t.Fatalf("%s: %d %.300s", ph.name, status, body)
		}
		var (
			mu        sync.Mutex
			latencies []time.Duration
			errs      int
			firstErr  string
			wg        sync.WaitGroup
		)
		cpu0 := processCPU()
		start := time.Now()
		deadline := start.Add(dur)
		for c := 0; c < clients; c++ {
			wg.Add(1)
			u := url(c)
			go func() {
				defer wg.Done()
				// Bounded in time and in count.
				for n := 0; n < 1_000_000 && time.Now().Before(deadline); n++ {
					t0 := time.Now()
					resp, err := client.Get(u)
					var status int
					if err == nil {
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						status = resp.StatusCode
					}
					d := time.Since(t0)
					mu.Lock()
					latencies = append(latencies, d)
					if err != nil || status != 200 {
						errs++
						if firstErr == "" {
							firstErr = fmt.Sprintf("status %d, %v", status, err)
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		cpu := processCPU() - cpu0
		sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
		pct := func(q float64) time.Duration { return latencies[int(math.Ceil(q*float64(len(latencies))))-1] }
		t.Logf("%s: %d clients, %s: %d requests (%.0f/s), %d errors; latency p50 %s, p90 %s, p99 %s, max %s; CPU %.2f ms per request (server and clients); load average %s",
			ph.name, clients, elapsed.Round(time.Millisecond), len(latencies), float64(len(latencies))/elapsed.Seconds(), errs,
			pct(0.50).Round(100*time.Microsecond), pct(0.90).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), latencies[len(latencies)-1].Round(100*time.Microsecond),
			cpu.Seconds()*1000/float64(len(latencies)), loadAverage())
		if errs > 0 {
			t.Errorf("%s: %d errors (first: %s)", ph.name, errs, firstErr)
		}
		if p99 := pct(0.99); p99 >= ph.p99 {
			t.Errorf("%s: p99 %s, want under %s", ph.name, p99, ph.p99)
		}
		client.CloseIdleConnections()
	}
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the 1-minute load average (Linux), to tell how busy the
// machine was apart from the test.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
