package hfhub_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/gpuplan/gpuplan/model/hfhub"
)

// Fetching a config, then reading it again offline from the cache. The
// loopback server stands in for https://huggingface.co.
func ExampleClient_Fetch() {
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/Qwen/Qwen3-8B/resolve/main/config.json" {
			w.Header().Set("X-Error-Code", "EntryNotFound")
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"model_type":"qwen3"}`)
	}))
	defer hub.Close()
	cache, _ := os.MkdirTemp("", "hfhub-example")
	defer os.RemoveAll(cache)

	online := &hfhub.Client{Endpoint: hub.URL, CacheDir: cache}
	cfg, err := online.Fetch(context.Background(), "Qwen/Qwen3-8B", "main", "config.json")
	fmt.Println(string(cfg), err)

	offline := &hfhub.Client{Endpoint: hub.URL, CacheDir: cache, Offline: true}
	cfg, err = offline.Fetch(context.Background(), "Qwen/Qwen3-8B", "main", "config.json")
	fmt.Println(string(cfg), err)

	_, err = online.Fetch(context.Background(), "Qwen/Qwen3-8B", "main", "missing.json")
	fmt.Println(errors.Is(err, hfhub.ErrNotFound))
	// Output:
	// {"model_type":"qwen3"} <nil>
	// {"model_type":"qwen3"} <nil>
	// true
}
