package hfhub

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/model/safetensors"
)

var ctx = context.Background()

const llamaConfig = `{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":4096}`

func TestFetchAndOfflineCache(t *testing.T) {
	h := newFakeHub(t)
	h.add("meta-llama/Llama-3.1-8B", "main", "config.json", []byte(llamaConfig))
	c := h.client(t)
	got, err := c.Fetch(ctx, "meta-llama/Llama-3.1-8B", "", "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != llamaConfig {
		t.Errorf("got %q", got)
	}
	// A second, offline run serves the cached copy without a request.
	before := len(h.entries("hub"))
	off := &Client{Endpoint: h.hub.URL, CacheDir: c.CacheDir, Offline: true}
	got, err = off.Fetch(ctx, "meta-llama/Llama-3.1-8B", "main", "config.json")
	if err != nil || string(got) != llamaConfig {
		t.Fatalf("offline fetch = %q, %v", got, err)
	}
	if len(h.entries("hub")) != before {
		t.Error("offline client made a request")
	}
	// Missing from the cache: a clear offline error.
	_, err = off.Fetch(ctx, "meta-llama/Llama-3.1-8B", "main", "generation_config.json")
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "run once without --offline") {
		t.Errorf("err = %v", err)
	}
	// Offline without any cache directory.
	bare := &Client{Offline: true}
	if _, err := bare.Fetch(ctx, "a/b", "main", "config.json"); !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "no cache directory") {
		t.Errorf("err = %v", err)
	}
}

func TestFetchErrors(t *testing.T) {
	h := newFakeHub(t)
	h.add("org/model", "main", "config.json", []byte(llamaConfig))
	h.add("meta-llama/Llama-3.3-70B-Instruct", "main", "config.json", []byte(llamaConfig))
	h.gated["meta-llama/Llama-3.3-70B-Instruct"] = true
	tests := []struct {
		name  string
		token string
		repo  string
		rev   string
		file  string
		kind  error
		want  []string
	}{
		{"gated without token", "", "meta-llama/Llama-3.3-70B-Instruct", "main", "config.json", ErrAccess,
			[]string{"is gated (HTTP 401)", "HF_TOKEN", h.hub.URL + "/meta-llama/Llama-3.3-70B-Instruct", "accept the license"}},
		{"gated with a token lacking access", "hf_other", "meta-llama/Llama-3.3-70B-Instruct", "main", "config.json", ErrAccess,
			[]string{"is gated (HTTP 403)", "HF_TOKEN is set", "accepted the license"}},
		{"unknown repo, anonymous", "", "org/nope", "main", "config.json", ErrNotFound,
			[]string{"repository org/nope not found", "check the id", "private", "HF_TOKEN"}},
		{"unknown repo, with token", "hf_valid", "org/nope", "main", "config.json", ErrNotFound,
			[]string{"repository org/nope not found", "(HTTP 404)"}},
		{"unknown revision", "", "org/model", "v9", "config.json", ErrNotFound,
			[]string{`revision "v9" of org/model not found`}},
		{"unknown file", "", "org/model", "main", "tokenizer.json", ErrNotFound,
			[]string{"file tokenizer.json not found in org/model@main"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := h.client(t)
			c.Token = tc.token
			_, err := c.Fetch(ctx, tc.repo, tc.rev, tc.file)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want kind %v", err, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to mention %q", err, w)
				}
			}
		})
	}
	t.Run("gated with the right token", func(t *testing.T) {
		c := h.client(t)
		c.Token = "hf_valid"
		if _, err := c.Fetch(ctx, "meta-llama/Llama-3.3-70B-Instruct", "main", "config.json"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		failures []failure
		retries  int
		wantErr  string
		requests int
	}{
		{"429 then 200", []failure{{429, "0"}}, 0, "", 2},
		{"500 then 200", []failure{{500, ""}}, 0, "", 2},
		{"502, 503, 504 then 200", []failure{{502, ""}, {503, ""}, {504, ""}}, 0, "", 4},
		{"500 five times: gives up", []failure{{500, ""}, {500, ""}, {500, ""}, {500, ""}, {500, ""}}, 0, "HTTP 500", 5},
		{"retries disabled", []failure{{503, ""}}, -1, "HTTP 503", 1},
		{"Retry-After beyond the cap", []failure{{429, "3600"}}, 0, "retry after 1h0m0s", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakeHub(t)
			h.add("org/model", "main", "config.json", []byte(llamaConfig))
			h.fail("config.json", tc.failures...)
			c := h.client(t)
			c.MaxRetries = tc.retries
			got, err := c.Fetch(ctx, "org/model", "main", "config.json")
			if tc.wantErr == "" {
				if err != nil || string(got) != llamaConfig {
					t.Fatalf("got %q, %v", got, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if n := len(h.entries("hub")); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
}

// TestRetryAfterHonoured: a Retry-After of one second is waited for, not
// replaced by the (1 ms) backoff.
func TestRetryAfterHonoured(t *testing.T) {
	h := newFakeHub(t)
	h.add("org/model", "main", "config.json", []byte(llamaConfig))
	h.fail("config.json", failure{429, "1"})
	c := h.client(t)
	start := time.Now()
	if _, err := c.Fetch(ctx, "org/model", "main", "config.json"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %v; Retry-After asked for 1s", d)
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{"0", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
		{"-3", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, ok := retryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNetworkDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close() // nothing listens there any more
	c := &Client{Endpoint: endpoint, CacheDir: t.TempDir(), RetryBaseDelay: time.Millisecond, MaxRetries: 1}
	_, err := c.Fetch(ctx, "org/model", "main", "config.json")
	if !errors.Is(err, ErrNetwork) || !strings.Contains(err.Error(), "offline? use --offline with a cached model or a local path") {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Open(ctx, "org/model", "main", "model.safetensors"); !errors.Is(err, ErrNetwork) {
		t.Fatalf("Open err = %v", err)
	}
}

func TestFetchTooLarge(t *testing.T) {
	h := newFakeHub(t)
	h.add("org/model", "main", "config.json", []byte(strings.Repeat(" ", 2048)))
	c := h.client(t)
	c.MaxFileBytes = 1024
	_, err := c.Fetch(ctx, "org/model", "main", "config.json")
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "2048 bytes, over the 1024-byte limit") {
		t.Fatalf("err = %v", err)
	}
}

// stFile builds a safetensors file whose header holds n tensors.
func stFile(n int) []byte {
	obj := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var off int64
	for i := 0; i < n; i++ {
		obj[fmt.Sprintf("model.layers.%d.mlp.up_proj.weight", i)] = map[string]any{"dtype": "BF16", "shape": []int{4, 8}, "data_offsets": []int64{off, off + 64}}
		off += 64
	}
	js, _ := json.Marshal(obj)
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	b = append(b, js...)
	return append(b, make([]byte, off)...)
}

func TestRangedSafetensorsHeader(t *testing.T) {
	small, big := stFile(3), stFile(1500)
	tests := []struct {
		name       string
		file       []byte
		noRange    bool
		wantRanges []string
	}{
		{"small header: one range request", small, false, []string{"bytes=0-65535"}},
		{"long header: a second range", big, false, []string{"bytes=0-65535", fmt.Sprintf("bytes=65536-%d", int(binary.LittleEndian.Uint64(big))+8-1)}},
		{"server ignores Range", big, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakeHub(t)
			h.noRange = tc.noRange
			h.add("org/model", "main", "model.safetensors", tc.file)
			c := h.client(t)
			c.Token = "hf_valid" // must reach the hub, not the CDN
			f, err := c.Open(ctx, "org/model", "main", "model.safetensors")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Size() != int64(len(tc.file)) {
				t.Errorf("size = %d, want %d", f.Size(), len(tc.file))
			}
			hd, err := safetensors.ReadHeader(f, f.Size())
			if err != nil {
				t.Fatal(err)
			}
			if hd.FileBytes() != int64(len(tc.file)) {
				t.Errorf("header describes %d bytes, file is %d", hd.FileBytes(), len(tc.file))
			}
			var ranges []string
			for _, e := range h.entries("cdn") {
				ranges = append(ranges, e.rng)
			}
			if tc.wantRanges != nil && fmt.Sprint(ranges) != fmt.Sprint(tc.wantRanges) {
				t.Errorf("CDN ranges %v, want %v", ranges, tc.wantRanges)
			}
			for _, e := range h.entries("hub") {
				if e.auth != "Bearer hf_valid" {
					t.Errorf("hub request without the token: %+v", e)
				}
			}
		})
	}
}

func TestShardedCheckpointOnlineThenOffline(t *testing.T) {
	h := newFakeHub(t)
	repo := "org/sharded"
	shard1, shard2 := stFile(2), stFile(1)
	// Rename shard 2's tensor so the shards do not collide.
	shard2 = []byte(strings.Replace(string(shard2), "layers.0", "layers.9", 1))
	h.add(repo, "main", "model-00001-of-00002.safetensors", shard1)
	h.add(repo, "main", "model-00002-of-00002.safetensors", shard2)
	index := `{"metadata":{"total_size":192},"weight_map":{` +
		`"model.layers.0.mlp.up_proj.weight":"model-00001-of-00002.safetensors",` +
		`"model.layers.1.mlp.up_proj.weight":"model-00001-of-00002.safetensors",` +
		`"model.layers.9.mlp.up_proj.weight":"model-00002-of-00002.safetensors"}}`
	h.add(repo, "main", safetensors.IndexFile, []byte(index))

	read := func(c *Client) (*safetensors.Checkpoint, error) {
		data, err := c.Fetch(ctx, repo, "main", safetensors.IndexFile)
		if err != nil {
			return nil, err
		}
		ix, err := safetensors.ParseIndex(data)
		if err != nil {
			return nil, err
		}
		return safetensors.ReadShards(ctx, ix, func(ctx context.Context, name string) (io.ReaderAt, int64, error) {
			f, err := c.Open(ctx, repo, "main", name)
			if err != nil {
				return nil, 0, err
			}
			return f, f.Size(), nil
		})
	}
	c := h.client(t)
	ck, err := read(c)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := ck.Totals(); all.Bytes != 192 || ck.IndexTotalSize != 192 || len(ck.Shards) != 2 {
		t.Errorf("totals %+v, index total %d, %d shards", all, ck.IndexTotalSize, len(ck.Shards))
	}
	n := len(h.log)
	off := &Client{Endpoint: h.hub.URL, CacheDir: c.CacheDir, Offline: true}
	ck2, err := read(off)
	if err != nil {
		t.Fatalf("offline re-read: %v", err)
	}
	if len(h.log) != n {
		t.Errorf("offline run made %d requests", len(h.log)-n)
	}
	a1, _ := ck.Totals()
	a2, _ := ck2.Totals()
	if a1 != a2 {
		t.Errorf("offline totals %+v differ from online %+v", a2, a1)
	}
}

func TestMissingFileCachedForOffline(t *testing.T) {
	h := newFakeHub(t)
	h.add("org/single", "main", "config.json", []byte(llamaConfig))
	c := h.client(t)
	if _, err := c.Fetch(ctx, "org/single", "main", safetensors.IndexFile); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	off := &Client{Endpoint: h.hub.URL, CacheDir: c.CacheDir, Offline: true}
	_, err := off.Fetch(ctx, "org/single", "main", safetensors.IndexFile)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "cached answer") {
		t.Fatalf("offline err = %v, want the cached not-found answer", err)
	}
}

func TestOpenURLOtherHostGetsNoToken(t *testing.T) {
	var gotAuth []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		http.ServeContent(w, r, "m.gguf", time.Time{}, strings.NewReader("GGUF-and-more-bytes"))
	}))
	defer other.Close()
	h := newFakeHub(t)
	c := h.client(t)
	c.Token = "hf_valid"
	f, err := c.OpenURL(ctx, other.URL+"/m.gguf")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != "GGUF" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if f.Size() != 19 {
		t.Errorf("size %d", f.Size())
	}
	// Past the end.
	if n, err := f.ReadAt(buf, 17); n != 2 || err != io.EOF {
		t.Errorf("tail read = %d, %v", n, err)
	}
	for _, a := range gotAuth {
		if a != "" {
			t.Errorf("token sent to another host: %q", a)
		}
	}
	if _, err := c.OpenURL(ctx, "ftp://x/y.gguf"); err == nil {
		t.Error("ftp URL accepted")
	}
}

func TestParseRefAndURL(t *testing.T) {
	tests := []struct {
		ref, repo, rev, err string
	}{
		{"meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B", "main", ""},
		{"Qwen/Qwen3-8B@v1.0", "Qwen/Qwen3-8B", "v1.0", ""},
		{"org/model@refs/pr/1", "org/model", "refs/pr/1", ""},
		{"org/model@0123456789abcdef0123456789abcdef01234567", "org/model", "0123456789abcdef0123456789abcdef01234567", ""},
		{"gpt2", "", "", "not of the form namespace/name"},
		{"a/b/c", "", "", "not of the form"},
		{"org/-model", "", "", "invalid"},
		{"org/mo--del", "", "", "invalid"},
		{"org/mo..del", "", "", "invalid"},
		{"org/model.git", "", "", "must not end in .git"},
		{"org/model@", "", "", "revision"},
		{"org/model@../x", "", "", "revision"},
		{"org/" + strings.Repeat("x", 97), "", "", "invalid"},
	}
	for _, tc := range tests {
		repo, rev, err := ParseRef(tc.ref)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRef(%q) err = %v, want %q", tc.ref, err, tc.err)
			}
			continue
		}
		if err != nil || repo != tc.repo || rev != tc.rev {
			t.Errorf("ParseRef(%q) = %q, %q, %v", tc.ref, repo, rev, err)
		}
	}
	c := &Client{}
	u, err := c.FileURL("org/model", "refs/pr/1", "sub dir/config.json")
	if err != nil || u != "https://huggingface.co/org/model/resolve/refs%2Fpr%2F1/sub%20dir/config.json" {
		t.Errorf("FileURL = %q, %v", u, err)
	}
	for _, bad := range []string{"../config.json", "/etc/passwd", "a/../../b", ""} {
		if _, err := c.FileURL("org/model", "main", bad); err == nil {
			t.Errorf("FileURL accepted path %q", bad)
		}
	}
}

func TestRevisionWithSlashRoundTrip(t *testing.T) {
	h := newFakeHub(t)
	h.add("org/model", "refs/pr/1", "config.json", []byte(llamaConfig))
	c := h.client(t)
	if _, err := c.Fetch(ctx, "org/model", "refs/pr/1", "config.json"); err != nil {
		t.Fatal(err)
	}
	off := &Client{Endpoint: h.hub.URL, CacheDir: c.CacheDir, Offline: true}
	if _, err := off.Fetch(ctx, "org/model", "refs/pr/1", "config.json"); err != nil {
		t.Fatalf("offline: %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"HF_ENDPOINT": "https://hf-mirror.example", "HF_TOKEN": " hf_x \n", "HF_HUB_OFFLINE": "1"}
	c := FromEnv(func(k string) string { return env[k] }, "/tmp/c")
	if c.Endpoint != "https://hf-mirror.example" || c.Token != "hf_x" || !c.Offline || c.CacheDir != "/tmp/c" {
		t.Errorf("client = %+v", c)
	}
	c = FromEnv(func(string) string { return "" }, "")
	if c.endpoint() != DefaultEndpoint || c.Offline {
		t.Errorf("defaults: %+v", c)
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in      string
		a, b, n int64
		ok      bool
	}{
		{"bytes 0-99/1000", 0, 99, 1000, true},
		{"bytes 10-19/*", 10, 19, -1, true},
		{"bytes */500", -1, -1, 500, true},
		{"bytes 5-4/10", 0, 0, 0, false},
		{"bytes 0-10/10", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"bytes x-1/2", 0, 0, 0, false},
	}
	for _, tc := range tests {
		a, b, n, ok := parseContentRange(tc.in)
		if ok != tc.ok || (ok && (a != tc.a || b != tc.b || n != tc.n)) {
			t.Errorf("parseContentRange(%q) = %d %d %d %v", tc.in, a, b, n, ok)
		}
	}
}

// TestTruncatedHeadIsRepaired: a .head cache file shorter than its sidecar
// says is rewritten by the next online run, so offline runs work again.
func TestTruncatedHeadIsRepaired(t *testing.T) {
	h := newFakeHub(t)
	file := stFile(3)
	h.add("org/model", "main", "model.safetensors", file)
	c := h.client(t)
	read := func(c *Client) error {
		f, err := c.Open(ctx, "org/model", "main", "model.safetensors")
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = safetensors.ReadHeader(f, f.Size())
		return err
	}
	if err := read(c); err != nil {
		t.Fatal(err)
	}
	heads, _ := filepath.Glob(filepath.Join(c.CacheDir, "*", "org", "model", "main", "model.safetensors.head"))
	if len(heads) != 1 {
		t.Fatalf("cached heads: %v", heads)
	}
	if err := os.Truncate(heads[0], 10); err != nil {
		t.Fatal(err)
	}
	off := c.Clone()
	off.Offline = true
	if err := read(off); err == nil {
		t.Fatal("offline read of a truncated head succeeded")
	}
	if err := read(c); err != nil { // online: repairs
		t.Fatal(err)
	}
	if err := read(off); err != nil {
		t.Errorf("offline after the repairing online run: %v", err)
	}
}
