package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/model"
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

// TestAPIHostileHeadersBounded serves a repository of eight shards whose
// safetensors headers are 24 MiB each (legal, padded with spaces): the
// request is refused with 502 after reading about the per-request header
// budget, rather than reading all 192 MiB (eight 77 MB headers once drove
// one request to 8.9 GB and 87 s of CPU).
func TestAPIHostileHeadersBounded(t *testing.T) {
	cat, err := model.EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := cat.ConfigBytes("Qwen/Qwen2.5-0.5B")
	if err != nil {
		t.Fatal(err)
	}
	const shards, pad = 8, 24 << 20
	js := append([]byte(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`), bytes.Repeat([]byte(" "), pad)...)
	shard := make([]byte, 8, 8+len(js)+1)
	binary.LittleEndian.PutUint64(shard, uint64(len(js)))
	shard = append(append(shard, js...), 0)
	wm := map[string]string{}
	for i := range shards {
		wm[fmt.Sprintf("t%d", i)] = fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, shards)
	}
	index, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": wm})
	var served atomic.Int64
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w, n: &served}
		switch {
		case strings.HasSuffix(r.URL.Path, "/config.json"):
			http.ServeContent(cw, r, "config.json", time.Time{}, bytes.NewReader(cfg))
		case strings.HasSuffix(r.URL.Path, "/model.safetensors.index.json"):
			http.ServeContent(cw, r, "index.json", time.Time{}, bytes.NewReader(index))
		case strings.HasSuffix(r.URL.Path, ".safetensors"):
			http.ServeContent(cw, r, "shard", time.Time{}, bytes.NewReader(shard))
		default:
			http.NotFound(w, r)
		}
	}))
	defer hub.Close()
	ts, _ := newTestAPI(t, apiEnv(t.TempDir(), hub.URL), server.Options{})
	start := time.Now()
	status, body := get(t, http.DefaultClient, ts.URL+"/api/v1/size?model=acme/huge-headers")
	if status != http.StatusBadGateway || !strings.Contains(string(body), "header budget") {
		t.Fatalf("status %d, want 502 naming the header budget: %.400s", status, body)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	if limit := int64(apiMaxHeaderBytes + shards*2<<20); served.Load() > limit {
		t.Errorf("the Hub served %d bytes, want at most %d", served.Load(), limit)
	}
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}
