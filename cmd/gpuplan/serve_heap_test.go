package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/server"
)

// TestAPIHeapStaysFlat runs 20,000 in-process API requests (2,000 under
// -race) and fails if the live heap grows by more than 5 MB between the
// warm-up and the end. Each request builds a fresh command tree; anything
// that tree registers in a package-level structure (cobra's flag completion
// map was one: 1.8 GB after 152k requests) shows here as steady growth.
func TestAPIHeapStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 20,000 requests")
	}
	n := 20_000
	if raceEnabled {
		n = 2_000
	}
	_, srv := newTestAPI(t, apiEnv(t.TempDir(), ""), server.Options{})
	paths := []string{
		"models?query=llama",
		"gpus?id=l40s",
		"size?model=llama-3.1-8b-instruct&gpu=h100-sxm&context=8192&concurrency=%d",
	}
	do := func(i int) {
		p := paths[i%len(paths)]
		if i%len(paths) == 2 {
			p = fmt.Sprintf(p, i%32+1)
		}
		req := httptest.NewRequest(http.MethodGet, "/api/v1/"+p, nil)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %.300s", p, rec.Code, rec.Body.String())
		}
	}
	live := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	for i := 0; i < 300; i++ {
		do(i)
	}
	before := live()
	for i := 0; i < n; i++ {
		do(i)
	}
	after := live()
	growth := int64(after) - int64(before)
	t.Logf("%d requests: live heap %.1f MB → %.1f MB (%+.2f MB, %.0f bytes per request)",
		n, float64(before)/1e6, float64(after)/1e6, float64(growth)/1e6, float64(growth)/float64(n))
	if growth > 5e6 {
		t.Errorf("live heap grew by %.1f MB over %d requests; want at most 5 MB (something keeps per-request state)", float64(growth)/1e6, n)
	}
}

// TestOutputFlagCompletion checks that shell completion still offers the
// output formats now that completions are registered only for completion
// runs.
func TestOutputFlagCompletion(t *testing.T) {
	for _, cmd := range []string{"size", "plan", "prices"} {
		out, _, code := run(t, "__complete", cmd, "-o", "")
		if code != 0 {
			t.Fatalf("%s: exit %d", cmd, code)
		}
		for _, want := range []string{"table\n", "json\n", "yaml\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("__complete %s -o '': %q lacks %q", cmd, out, want)
			}
		}
	}
}
