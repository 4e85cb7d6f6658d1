package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testCommands mirror the shapes of the real ones: a required positional
// MODEL, every flag type, and a command without parameters.
var testCommands = []Command{
	{
		Name: "size", Summary: "memory per GPU",
		Args: []Arg{{Name: "MODEL", Required: true, Validate: func(s string) error {
			if strings.HasPrefix(s, "/") {
				return fmt.Errorf("%q is a path", s)
			}
			return nil
		}}},
		Flags: []Flag{
			{Name: "context", Type: Int, Default: "0", Usage: "maximum model length"},
			{Name: "gpu-memory-utilization", Type: Float, Default: "0", Usage: "fraction"},
			{Name: "precision", Type: String, Usage: "weights precision"},
			{Name: "verbose", Type: Bool, Default: "false", Usage: "more"},
			{Name: "vm", Type: StringSlice, Default: "", Usage: "VM sizes"},
			{Name: "mode", Type: String, Usage: "what the fake command does"},
		},
	},
	{Name: "prices", Summary: "the price book"},
}

// fakeRun prints its arguments as JSON, or behaves as --mode says.
func fakeRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	mode := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--mode="); ok {
			mode = v
		}
	}
	switch mode {
	case "usage":
		fmt.Fprintln(stderr, "Warning: a warning line")
		fmt.Fprintln(stderr, "Error: --precision xyz is unknown; use bf16")
		return ExitUsage
	case "infeasible":
		fmt.Fprint(stdout, "{\n  \"fits\": false,\n  \"reasons\": [\n    \"too big\"\n  ]\n}\n")
		fmt.Fprintln(stderr, "Error: it does not fit: too big")
		return ExitInfeasible
	case "infeasible-empty":
		fmt.Fprintln(stderr, "Error: no feasible plan")
		return ExitInfeasible
	case "error":
		fmt.Fprintln(stderr, "Error: read the catalog: broken")
		return ExitError
	case "notfound":
		fmt.Fprintln(stderr, "Error: org/x: not found on the Hugging Face Hub")
		return ExitNotFound
	case "offline":
		return ExitUnavailable
	case "upstream":
		fmt.Fprintln(stderr, "Error: network error")
		return ExitUpstream
	case "gate":
		return ExitGateFailed
	case "sleep":
		<-ctx.Done()
		fmt.Fprintln(stderr, "Error: cancelled")
		return ExitError
	case "panic":
		panic("boom")
	case "big":
		for i := 0; i < 1000; i++ {
			if _, err := fmt.Fprint(stdout, strings.Repeat("x", 1000)); err != nil {
				return ExitError
			}
		}
		return ExitOK
	case "invalid":
		fmt.Fprint(stdout, "not json")
		return ExitOK
	}
	b, _ := json.Marshal(map[string]any{"args": args})
	stdout.Write(append(b, '\n'))
	return ExitOK
}

func newTestServer(t *testing.T, mod func(*Options)) *Server {
	t.Helper()
	o := Options{Run: fakeRun, Commands: testCommands, Version: "test", Timeout: 2 * time.Second, MaxOutputBytes: 100 << 10}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type result struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, h http.Handler, method, target, contentType, body string) result {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return result{w.Code, w.Header(), w.Body.String()}
}

func argsOf(t *testing.T, body string) []string {
	t.Helper()
	var v struct{ Args []string }
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return v.Args
}

// TestRequestToArgs checks that query and JSON parameters become the same
// command line: snake_case to --kebab-case, flags in declaration order,
// positional argument last, and nothing for parameters not given.
func TestRequestToArgs(t *testing.T) {
	s := newTestServer(t, nil)
	tests := []struct {
		name, method, target, body string
		want                       []string
	}{
		{"get", "GET", "/api/v1/size?model=llama-3.1-8b&context=8192&gpu_memory_utilization=0.95", "",
			[]string{"size", "--context=8192", "--gpu-memory-utilization=0.95", "llama-3.1-8b"}},
		{"post", "POST", "/api/v1/size", `{"model":"llama-3.1-8b","context":8192,"gpu_memory_utilization":0.95}`,
			[]string{"size", "--context=8192", "--gpu-memory-utilization=0.95", "llama-3.1-8b"}},
		{"post integral float", "POST", "/api/v1/size", `{"model":"m","context":8.192e3}`, []string{"size", "--context=8192", "m"}},
		{"bool and slice (query)", "GET", "/api/v1/size?model=m&verbose=1&vm=a&vm=b", "", []string{"size", "--verbose=true", "--vm=a", "--vm=b", "m"}},
		{"bool and slice (body)", "POST", "/api/v1/size", `{"model":"m","verbose":true,"vm":["a","b"]}`, []string{"size", "--verbose=true", "--vm=a", "--vm=b", "m"}},
		{"slice as one string", "POST", "/api/v1/size", `{"vm":"a,b"}`, []string{"size", "--vm=a,b"}},
		{"null is not given", "POST", "/api/v1/size", `{"model":"m","context":null}`, []string{"size", "m"}},
		{"number for a string flag", "POST", "/api/v1/size", `{"precision":8}`, []string{"size", "--precision=8"}},
		{"value with equals and spaces", "GET", "/api/v1/size?precision=a%3Db+c", "", []string{"size", "--precision=a=b c"}},
		{"no parameters", "GET", "/api/v1/prices", "", []string{"prices"}},
		{"empty JSON object", "POST", "/api/v1/prices", `{}`, []string{"prices"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := ""
			if tt.body != "" {
				ct = "application/json"
			}
			r := do(t, s, tt.method, tt.target, ct, tt.body)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := argsOf(t, r.body); strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") {
				t.Errorf("args = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBadInput checks that malformed requests are refused with the right
// 4xx status and a message naming the problem, before anything runs.
func TestBadInput(t *testing.T) {
	ran := 0
	var mu sync.Mutex
	s := newTestServer(t, func(o *Options) {
		o.MaxBodyBytes = 1024
		o.Run = func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			mu.Lock()
			ran++
			mu.Unlock()
			return fakeRun(ctx, args, stdout, stderr)
		}
	})
	big := `{"model":"` + strings.Repeat("a", 2000) + `"}`
	tests := []struct {
		name, method, target, ctype, body string
		status                            int
		msg                               string
	}{
		{"unknown parameter", "GET", "/api/v1/size?modle=x", "", "", 400, `unknown parameter "modle"`},
		{"kebab-case hint", "GET", "/api/v1/size?gpu-memory-utilization=0.9", "", "", 400, "did you mean gpu_memory_utilization"},
		{"int not a number", "GET", "/api/v1/size?context=abc", "", "", 400, "context must be an integer"},
		{"int with a fraction", "GET", "/api/v1/size?context=1.5", "", "", 400, "context must be an integer"},
		{"int out of range", "GET", "/api/v1/size?context=99999999999999999999", "", "", 400, "context must be an integer"},
		{"float NaN", "GET", "/api/v1/size?gpu_memory_utilization=NaN", "", "", 400, "finite number"},
		{"float Inf", "GET", "/api/v1/size?gpu_memory_utilization=Inf", "", "", 400, "finite number"},
		{"bool word", "GET", "/api/v1/size?verbose=yes", "", "", 400, "true or false"},
		{"repeated scalar", "GET", "/api/v1/size?context=1&context=2", "", "", 400, "given 2 times"},
		{"control character", "GET", "/api/v1/size?precision=a%0Ab", "", "", 400, "control character"},
		{"invalid UTF-8", "GET", "/api/v1/size?precision=%ff", "", "", 400, "UTF-8"},
		{"leading dash in positional", "GET", "/api/v1/size?model=--help", "", "", 400, "must not start with '-'"},
		{"validator", "GET", "/api/v1/size?model=/etc/passwd", "", "", 400, "is a path"},
		{"malformed query", "GET", "/api/v1/size?model=%zz", "", "", 400, "malformed"},
		{"string for int (body)", "POST", "/api/v1/size", "application/json", `{"context":"8192"}`, 400, "context must be an integer, not a string"},
		{"fraction for int (body)", "POST", "/api/v1/size", "application/json", `{"context":8192.5}`, 400, "not a whole number"},
		{"huge int (body)", "POST", "/api/v1/size", "application/json", `{"context":1e300}`, 400, "not a whole number"},
		{"string for bool (body)", "POST", "/api/v1/size", "application/json", `{"verbose":"true"}`, 400, "true or false, not a string"},
		{"object for string (body)", "POST", "/api/v1/size", "application/json", `{"precision":{}}`, 400, "must be a string, not an object"},
		{"number for float is fine, bool is not", "POST", "/api/v1/size", "application/json", `{"gpu_memory_utilization":true}`, 400, "must be a number, not a boolean"},
		{"array item type", "POST", "/api/v1/size", "application/json", `{"vm":["a",1.5,{}]}`, 400, "an item is an object"},
		{"array body", "POST", "/api/v1/size", "application/json", `[1,2]`, 400, "JSON object"},
		{"null body", "POST", "/api/v1/size", "application/json", `null`, 400, "not null"},
		{"empty body", "POST", "/api/v1/size", "application/json", ``, 400, "empty body"},
		{"bad JSON", "POST", "/api/v1/size", "application/json", `{"model":`, 400, "not valid JSON"},
		{"trailing data", "POST", "/api/v1/size", "application/json", `{} {}`, 400, "after its JSON object"},
		{"query and body", "POST", "/api/v1/size?model=x", "application/json", `{}`, 400, "not both"},
		{"not JSON", "POST", "/api/v1/size", "text/plain", `model=x`, 415, "not JSON"},
		{"oversized body", "POST", "/api/v1/size", "application/json", big, 413, "larger than 1024 bytes"},
		{"too many parameters", "GET", "/api/v1/size?" + manyParams(70), "", "", 400, "too many parameters"},
		{"overlong value", "GET", "/api/v1/size?precision=" + strings.Repeat("a", 1100), "", "", 400, "at most 1024"},
		{"unknown endpoint", "GET", "/api/v1/deploy", "", "", 404, "no such endpoint"},
		{"method", "DELETE", "/api/v1/size", "", "", 405, "not allowed"},
		{"parameters for a command without any", "GET", "/api/v1/prices?x=1", "", "", 400, "takes no parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, tt.method, tt.target, tt.ctype, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(r.body), &e); err != nil {
				t.Fatalf("error body is not JSON: %q", r.body)
			}
			if !strings.Contains(e.Error, tt.msg) {
				t.Errorf("error %q does not mention %q", e.Error, tt.msg)
			}
		})
	}
	if ran != 0 {
		t.Errorf("the command ran %d times for rejected requests", ran)
	}
	if r := do(t, s, "DELETE", "/api/v1/size", "", ""); r.header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("405 without Allow header: %v", r.header)
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "p%d=1&", i)
	}
	return b.String()
}

// TestExitCodes checks the mapping from the command's exit code to the
// HTTP status and body.
func TestExitCodes(t *testing.T) {
	s := newTestServer(t, nil)
	tests := []struct {
		mode   string
		status int
		want   map[string]any
	}{
		{"usage", 400, map[string]any{"error": "--precision xyz is unknown; use bf16"}},
		{"infeasible", 422, map[string]any{"error": "it does not fit: too big", "fits": false, "reasons": []any{"too big"}}},
		{"infeasible-empty", 422, map[string]any{"error": "no feasible plan"}},
		{"error", 500, map[string]any{"error": "read the catalog: broken"}},
		{"notfound", 404, map[string]any{"error": "org/x: not found on the Hugging Face Hub"}},
		{"offline", 503, map[string]any{"error": "the command failed with exit code 69"}},
		{"upstream", 502, map[string]any{"error": "network error"}},
		{"gate", 500, map[string]any{"error": "the command failed with exit code 4"}},
		{"panic", 500, map[string]any{"error": "internal error while running the command; see the server log"}},
		{"big", 500, map[string]any{"error": "the command's output is larger than 102400 bytes; narrow the request"}},
		{"invalid", 500, map[string]any{"error": "the command did not print valid JSON; this is a bug, please report it"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			r := do(t, s, "GET", "/api/v1/size?mode="+tt.mode, "", "")
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatalf("body is not JSON: %q", r.body)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("body = %v, want %v", got, tt.want)
			}
		})
	}
	// The 422 body keeps the command's own layout, with "error" first.
	r := do(t, s, "GET", "/api/v1/size?mode=infeasible", "", "")
	want := "{\n  \"error\": \"it does not fit: too big\",\n  \"fits\": false,\n  \"reasons\": [\n    \"too big\"\n  ]\n}\n"
	if r.body != want {
		t.Errorf("422 body:\n%s\nwant:\n%s", r.body, want)
	}
	// Warnings on stderr become headers.
	r = do(t, s, "GET", "/api/v1/size?mode=usage", "", "")
	if got := r.header.Values("X-Gpuplan-Warning"); len(got) != 1 || got[0] != "a warning line" {
		t.Errorf("warning headers = %q", got)
	}
}

// TestOKBodyIsVerbatim checks that a 200 answer is the command's stdout
// byte for byte.
func TestOKBodyIsVerbatim(t *testing.T) {
	const out = "{\n  \"b\": 1,\n  \"a\": \"<&>\"\n}\n"
	s := newTestServer(t, func(o *Options) {
		o.Run = func(_ context.Context, _ []string, stdout, _ io.Writer) int { io.WriteString(stdout, out); return 0 }
	})
	r := do(t, s, "GET", "/api/v1/prices", "", "")
	if r.status != 200 || r.body != out {
		t.Errorf("status %d body %q, want 200 %q", r.status, r.body, out)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if r := do(t, s, "HEAD", "/api/v1/prices", "", ""); r.status != 200 || r.body != "" {
		t.Errorf("HEAD: status %d body %q", r.status, r.body)
	}
}

// TestTimeoutAndBusy checks the per-request timeout (504) and the bound on
// commands running at once (503 when no slot frees in time).
func TestTimeoutAndBusy(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.Timeout = 200 * time.Millisecond; o.MaxConcurrent = 1 })
	start := time.Now()
	r := do(t, s, "GET", "/api/v1/size?mode=sleep", "", "")
	if r.status != 504 || !strings.Contains(r.body, "took longer than 200ms") {
		t.Fatalf("status %d body %s, want 504", r.status, r.body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %v", d)
	}
	// Hold the only slot, then ask again.
	release, holding := make(chan struct{}), make(chan struct{})
	s2 := newTestServer(t, func(o *Options) {
		o.Timeout = 300 * time.Millisecond
		o.MaxConcurrent = 1
		o.Run = func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			if len(args) > 1 && args[1] == "--mode=hold" {
				close(holding)
				<-release
			}
			return fakeRun(ctx, args, stdout, stderr)
		}
	})
	done := make(chan result)
	go func() { done <- do(t, s2, "GET", "/api/v1/size?mode=hold", "", "") }()
	<-holding
	// The waiting client gives up (100 ms) before the holder's request
	// times out (300 ms), which would hand its slot on.
	r = doCtx(t, s2, 100*time.Millisecond, "/api/v1/prices")
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("status %d (Retry-After %q), want 503 while busy: %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	close(release)
	<-done
	if r := do(t, s2, "GET", "/api/v1/prices", "", ""); r.status != 200 {
		t.Errorf("after the slot freed: status %d", r.status)
	}
}

// doCtx is a GET whose client gives up after d.
func doCtx(t *testing.T, h http.Handler, d time.Duration, target string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req := httptest.NewRequest("GET", target, nil).WithContext(ctx)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return result{w.Code, w.Header(), w.Body.String()}
}

// TestSlotReleasedWhenRequestEnds: a command that ignores its cancelled
// context for a while (a hostile header being parsed) no longer keeps the
// next request waiting once its own request has ended; at most
// MaxConcurrent such commands run in overtime, and beyond that they keep
// their slot, so the total stays bounded.
func TestSlotReleasedWhenRequestEnds(t *testing.T) {
	release := make(chan struct{})
	var running atomic.Int32
	s := newTestServer(t, func(o *Options) {
		o.Timeout = 100 * time.Millisecond
		o.MaxConcurrent = 1
		o.Run = func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			if len(args) > 1 && args[1] == "--mode=hold" {
				running.Add(1)
				defer running.Add(-1)
				<-release
			}
			return fakeRun(ctx, args, stdout, stderr)
		}
	})
	defer close(release)
	if r := do(t, s, "GET", "/api/v1/size?mode=hold", "", ""); r.status != 504 {
		t.Fatalf("hold: status %d, want 504", r.status)
	}
	// The first overrunning command went to overtime: the slot is free.
	if r := do(t, s, "GET", "/api/v1/prices", "", ""); r.status != 200 {
		t.Fatalf("after a timed-out request: status %d, want 200 (the slot should be free): %s", r.status, r.body)
	}
	// A second one finds overtime full and keeps its slot.
	if r := do(t, s, "GET", "/api/v1/size?mode=hold", "", ""); r.status != 504 {
		t.Fatalf("second hold: status %d, want 504", r.status)
	}
	if r := do(t, s, "GET", "/api/v1/prices", "", ""); r.status != 503 {
		t.Errorf("with overtime full: status %d, want 503", r.status)
	}
	if n := running.Load(); n != 2 {
		t.Errorf("%d commands still running, want 2 (MaxConcurrent in overtime + MaxConcurrent holding slots)", n)
	}
}

// TestFixedRoutes checks the page, /healthz, the API index and 404s.
func TestFixedRoutes(t *testing.T) {
	s := newTestServer(t, nil)
	r := do(t, s, "GET", "/", "", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "<title>gpuplan calculator</title>") {
		t.Fatalf("page: status %d type %q", r.status, r.header.Get("Content-Type"))
	}
	if r2 := do304(t, s, r.header.Get("ETag")); r2 != 304 {
		t.Errorf("If-None-Match: status %d, want 304", r2)
	}
	r = do(t, s, "GET", "/healthz", "", "")
	if r.status != 200 || !strings.Contains(r.body, `"status": "ok"`) || !strings.Contains(r.body, `"version": "test"`) {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
	r = do(t, s, "GET", "/api/v1/", "", "")
	if r.status != 200 || !strings.Contains(r.body, `"/api/v1/size"`) || !strings.Contains(r.body, `"/api/v1/prices"`) {
		t.Errorf("index: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/nope", "/api/v2/size", "/api/v1/size/x"} {
		if r := do(t, s, "GET", p, "", ""); r.status != 404 {
			t.Errorf("%s: status %d, want 404", p, r.status)
		}
	}
	if r := do(t, s, "GET", "/healthz", "", ""); r.header.Get("X-Request-Id") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers: %v", r.header)
	}
}

func do304(t *testing.T, h http.Handler, etag string) int {
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("If-None-Match", etag)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// TestPageIsSelfContained checks that the page loads nothing from another
// origin and that its Content-Security-Policy admits exactly its inline
// script and style.
func TestPageIsSelfContained(t *testing.T) {
	page := string(indexHTML)
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script[^>]+src=`),
		regexp.MustCompile(`(?i)<link[^>]+href=`),
		regexp.MustCompile(`(?i)(src|href)=["']?(https?:)?//`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)url\(\s*["']?(https?:)?//`),
		regexp.MustCompile(`(?i)fetch\(\s*["'](https?:)?//`),
		regexp.MustCompile(`(?i)\bstyle="`),
	} {
		if loc := bad.FindStringIndex(page); loc != nil {
			t.Errorf("page has %q (%s): it must work air-gapped under its CSP", page[loc[0]:min(loc[1]+30, len(page))], bad)
		}
	}
	s := newTestServer(t, nil)
	csp := do(t, s, "GET", "/", "", "").header.Get("Content-Security-Policy")
	for _, tag := range []string{"script", "style"} {
		re := regexp.MustCompile(`(?s)<` + tag + `>(.*?)</` + tag + `>`)
		blocks := re.FindAllStringSubmatch(page, -1)
		if len(blocks) != 1 {
			t.Fatalf("want one inline <%s>, found %d", tag, len(blocks))
		}
		sum := sha256.Sum256([]byte(blocks[0][1]))
		if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, tag+"-src "+h) {
			t.Errorf("CSP %q lacks %s-src %s", csp, tag, h)
		}
	}
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

// TestPageAccessibility checks the page's markup for what keyboard and
// screen-reader users need: every control labelled, a language, a skip
// link, live status, and a visible focus style.
func TestPageAccessibility(t *testing.T) {
	page := string(indexHTML)
	labels := map[string]bool{}
	for _, m := range regexp.MustCompile(`<label for="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		labels[m[1]] = true
	}
	controls := regexp.MustCompile(`<(input|select)\b[^>]*>`).FindAllString(page, -1)
	if len(controls) < 15 {
		t.Fatalf("found only %d controls", len(controls))
	}
	idRe := regexp.MustCompile(`\bid="([^"]+)"`)
	for _, c := range controls {
		m := idRe.FindStringSubmatch(c)
		if m == nil {
			t.Errorf("control without id: %s", c)
			continue
		}
		if strings.Contains(c, `type="radio"`) {
			continue // wrapped in its <label>
		}
		if !labels[m[1]] {
			t.Errorf("control %q has no <label for>", m[1])
		}
	}
	for _, want := range []string{`<html lang="en">`, `class="skip" href="#results"`, `role="status"`, `aria-live="polite"`, ":focus-visible", `tabindex="-1"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "tabindex=\"1") || strings.Contains(page, "outline: none") || strings.Contains(page, "outline:0") {
		t.Error("page overrides tab order or hides focus")
	}
}

// TestMetrics checks the exposition text: counters per endpoint and code,
// a histogram whose buckets are cumulative and end in +Inf == count, and
// exit codes.
func TestMetrics(t *testing.T) {
	s := newTestServer(t, nil)
	do(t, s, "GET", "/api/v1/size?model=m", "", "")
	do(t, s, "GET", "/api/v1/size?model=m", "", "")
	do(t, s, "GET", "/api/v1/size?mode=usage", "", "")
	do(t, s, "GET", "/api/v1/size?bogus=1", "", "")
	do(t, s, "GET", "/no/such/page", "", "")
	do(t, s, "BREW", "/api/v1/size", "", "")
	r := do(t, s, "GET", "/metrics", "", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics: %d %q", r.status, r.header.Get("Content-Type"))
	}
	for _, want := range []string{
		`gpuplan_build_info{version="test"} 1`,
		`gpuplan_http_requests_total{code="200",endpoint="size",method="GET"} 2`,
		`gpuplan_http_requests_total{code="400",endpoint="size",method="GET"} 2`,
		`gpuplan_http_requests_total{code="404",endpoint="not_found",method="GET"} 1`,
		`gpuplan_http_requests_total{code="405",endpoint="size",method="other"} 1`,
		`gpuplan_command_exits_total{endpoint="size",exit_code="0"} 2`,
		`gpuplan_command_exits_total{endpoint="size",exit_code="2"} 1`,
		`gpuplan_http_request_duration_seconds_bucket{endpoint="size",le="+Inf"} 5`,
		`gpuplan_http_request_duration_seconds_count{endpoint="size"} 5`,
		`# TYPE gpuplan_http_request_duration_seconds histogram`,
		"gpuplan_http_requests_in_flight 1", // the /metrics request itself
	} {
		if !strings.Contains(r.body, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Buckets never decrease.
	var last int64 = -1
	for _, m := range regexp.MustCompile(`_bucket\{endpoint="size",le="[^"]+"\} (\d+)`).FindAllStringSubmatch(r.body, -1) {
		var n int64
		fmt.Sscan(m[1], &n)
		if n < last {
			t.Errorf("bucket counts decrease: %d after %d", n, last)
		}
		last = n
	}
	// Every sample line is name{labels} value or name value.
	sample := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? [-+0-9.eE]+|\+Inf$`)
	for _, line := range strings.Split(strings.TrimSpace(r.body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if !sample.MatchString(line) {
			t.Errorf("not an exposition sample: %q", line)
		}
	}
	// A label value with a quote, a backslash and a line feed comes out
	// escaped as the exposition format requires.
	m := newMetrics("a\"b\\c\nd", time.Unix(0, 0))
	rec := httptest.NewRecorder()
	m.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := `gpuplan_build_info{version="a\"b\\c\nd"} 1` + "\n"; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("escaped build_info %q not in\n%s", want, rec.Body.String())
	}
}

// TestOpenAPI checks that the document lists every command with exactly
// its parameters and types, and the fixed routes.
func TestOpenAPI(t *testing.T) {
	s := newTestServer(t, nil)
	r := do(t, s, "GET", "/api/v1/openapi.json", "", "")
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct{ Version string }
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name   string         `json:"name"`
				In     string         `json:"in"`
				Schema map[string]any `json:"schema"`
			} `json:"parameters"`
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Properties           map[string]map[string]any `json:"properties"`
						Required             []string                  `json:"required"`
						AdditionalProperties bool                      `json:"additionalProperties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
			Responses map[string]any `json:"responses"`
		}
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" || doc.Info.Version != "test" {
		t.Errorf("openapi %q version %q", doc.OpenAPI, doc.Info.Version)
	}
	for _, p := range []string{"/api/v1/size", "/api/v1/prices", "/healthz", "/metrics", "/api/v1/openapi.json"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("document lacks %s", p)
		}
	}
	get := doc.Paths["/api/v1/size"]["get"]
	types := map[string]string{}
	for _, p := range get.Parameters {
		if p.In != "query" {
			t.Errorf("%s in %s", p.Name, p.In)
		}
		types[p.Name] = fmt.Sprint(p.Schema["type"])
	}
	want := map[string]string{"model": "string", "context": "integer", "gpu_memory_utilization": "number", "precision": "string", "verbose": "boolean", "vm": "array", "mode": "string"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("size parameters = %v, want %v", types, want)
	}
	body := doc.Paths["/api/v1/size"]["post"].RequestBody.Content["application/json"].Schema
	if len(body.Properties) != len(want) || body.AdditionalProperties || fmt.Sprint(body.Required) != "[model]" {
		t.Errorf("POST schema: %+v", body)
	}
	if d := body.Properties["context"]["default"]; d != float64(0) {
		t.Errorf("context default = %v", d)
	}
	for _, code := range []string{"200", "400", "413", "422", "500", "504"} {
		if _, ok := get.Responses[code]; !ok {
			t.Errorf("size GET lacks response %s", code)
		}
	}
	if get.OperationID != "getSize" {
		t.Errorf("operationId %q", get.OperationID)
	}
}

// TestNewRejectsBadCommands checks New's validation of its options.
func TestNewRejectsBadCommands(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"no run", Options{Commands: testCommands}},
		{"no commands", Options{Run: fakeRun}},
		{"bad name", Options{Run: fakeRun, Commands: []Command{{Name: "Size"}}}},
		{"reserved", Options{Run: fakeRun, Commands: []Command{{Name: "metrics"}}}},
		{"duplicate", Options{Run: fakeRun, Commands: []Command{{Name: "a"}, {Name: "a"}}}},
		{"bad type", Options{Run: fakeRun, Commands: []Command{{Name: "a", Flags: []Flag{{Name: "x", Type: "duration"}}}}}},
		{"bad flag", Options{Run: fakeRun, Commands: []Command{{Name: "a", Flags: []Flag{{Name: "X_Y", Type: String}}}}}},
		{"clash", Options{Run: fakeRun, Commands: []Command{{Name: "a", Args: []Arg{{Name: "MODEL"}}, Flags: []Flag{{Name: "model", Type: String}}}}}},
	}
	for _, tt := range tests {
		if _, err := New(tt.o); err == nil {
			t.Errorf("%s: New accepted it", tt.name)
		}
	}
}

// TestServeGracefulShutdown starts a real listener, cancels the context
// while a request is in flight, and checks that the request completes and
// Serve returns nil.
func TestServeGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	var logs bytes.Buffer
	var logMu sync.Mutex
	s := newTestServer(t, func(o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
		o.Run = func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			close(started)
			time.Sleep(300 * time.Millisecond)
			return fakeRun(ctx, args, stdout, stderr)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/api/v1/prices")
		if err != nil {
			got <- result{status: -1, body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-started
	cancel()
	r := <-got
	if r.status != 200 {
		t.Errorf("in-flight request: %d %s", r.status, r.body)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond); err == nil {
		t.Error("still accepting connections after shutdown")
	}
	logMu.Lock()
	defer logMu.Unlock()
	var rec map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r["msg"] == "http request" {
			rec = r
		}
	}
	for _, k := range []string{"request_id", "method", "path", "endpoint", "status", "duration_ms", "exit_code"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("log record lacks %q: %v", k, rec)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestServeCapsConnections: with MaxConns 2 and two idle connections
// open, a third is not served until one of them closes.
func TestServeCapsConnections(t *testing.T) {
	s := newTestServer(t, func(o *Options) { o.MaxConns = 2 })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	addr := ln.Addr().String()
	get := func(c net.Conn, wait time.Duration) error {
		c.SetDeadline(time.Now().Add(wait))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := get(c, 2*time.Second); err != nil { // accepted and kept alive
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if err := get(third, 300*time.Millisecond); err == nil {
		t.Fatal("a third connection was served while two were open")
	}
	idle[0].Close()
	fourth, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer fourth.Close()
	// The third is accepted first (it is queued first), then it is closed
	// by its deadline; either way a slot frees for the fourth.
	third.Close()
	if err := get(fourth, 3*time.Second); err != nil {
		t.Errorf("after connections closed: %v", err)
	}
}
