package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/internal/ggufwrite"
	"github.com/gpuplan/gpuplan/model/gguf"
)

// TestSizeLlamaCPPGGUF: `size FILE.gguf --engine llamacpp` prints
// llama.cpp's buffers; the figures for this TinyLlama-1.1B-shaped Q8_0 file
// at num_ctx 2048 are what Ollama v0.9.0 logged loading it
// (engine/testdata/llamacpp-ollama-buffers.json, "tinyllama-1.1b-q8_0"):
// model 1114.91 MiB, KV 44.00, compute 148.01, output 0.13.
func TestSizeLlamaCPPGGUF(t *testing.T) {
	q8, _ := gguf.TypeByName("Q8_0")
	path := filepath.Join(t.TempDir(), "tinyllama.gguf")
	if _, err := ggufwrite.Write(path, ggufwrite.Shape{Arch: "llama", Name: "tinyllama-1.1b-q8_0", Layers: 22, Hidden: 2048, FFN: 5632, Heads: 32, KVHeads: 4, Vocab: 32000, Type: q8}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "size", path, "--engine", "llamacpp", "--context", "2048", "--concurrency", "1", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	for k, logged := range map[string]float64{"model_bytes": 1114.91, "kv_bytes": 44.00, "compute_bytes": 148.01, "output_bytes": 0.13} {
		got, _ := v[k].(float64)
		if math.Abs(got/(1<<20)-logged) > 0.005 {
			t.Errorf("%s = %.4f MiB, Ollama logged %.2f", k, got/(1<<20), logged)
		}
	}
	if v["kv_cells"].(float64) != 2048 {
		t.Errorf("kv_cells = %v", v["kv_cells"])
	}
	txt, _, code := run(t, "size", path, "--engine", "llamacpp", "--context", "1000", "--concurrency", "3")
	if code != exitOK || !strings.Contains(txt, "1000 × 3 = 3008 cells") || !strings.Contains(txt, "KV buffer") {
		t.Errorf("table output:\n%s", txt)
	}
}

func TestSizeLlamaCPPBadInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.gguf")
	if err := os.WriteFile(path, []byte("GGUF but not really"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"size", path, "--engine", "llamacpp", "--context", "0"},
		{"size", path, "--engine", "llamacpp", "--context", "512", "--concurrency", "0"},
	} {
		_, errOut, code := run(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "--c") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error naming the flag", args, code, errOut)
		}
	}
	if _, _, code := run(t, "size", path, "--engine", "llamacpp", "--context", "512"); code == exitOK {
		t.Error("a corrupt GGUF was sized")
	}
}
