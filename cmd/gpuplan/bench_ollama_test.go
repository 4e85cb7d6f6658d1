package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/internal/ggufwrite"
	"github.com/gpuplan/gpuplan/internal/ollamatest"
	"github.com/gpuplan/gpuplan/model/gguf"
)

// TestBenchAgainstOllama runs `gpuplan bench` against a real Ollama
// (llama.cpp) serving a small zero-weight model, on both OpenAI endpoints
// with streaming: every request completes, its token counts are Ollama's
// own usage, and the calibration it writes makes `perf --calibration` on
// the probed machine predict close to what was measured.
func TestBenchAgainstOllama(t *testing.T) {
	bin := ollamatest.Require(t)
	dir := t.TempDir()
	f16, _ := gguf.TypeByName("F16")
	path := filepath.Join(dir, "tiny.gguf")
	if _, err := ggufwrite.Write(path, ggufwrite.Shape{Arch: "llama", Name: "tiny", Layers: 2, Hidden: 256, FFN: 512, Heads: 4, KVHeads: 4, Vocab: 1000, Type: f16}); err != nil {
		t.Fatal(err)
	}
	srv := ollamatest.Start(t, bin, ollamatest.Options{Parallel: 2})
	srv.Create(t, "tiny", path, 512)

	// Ollama's own usage for one known prompt, without gpuplan in between.
	body := `{"model":"tiny","prompt":"hello world","max_tokens":8,"stream":false}`
	resp, err := http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var direct struct {
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(raw, &direct); err != nil || direct.Usage.CompletionTokens == 0 {
		t.Fatalf("Ollama /v1/completions: %v: %s", err, raw)
	}

	overlay := filepath.Join(dir, "host.json")
	if _, errOut, code := run(t, "probe", "--name", "ci-host", "--out", overlay, "--buffer-mib", "64"); code != exitOK {
		t.Fatalf("probe: %s", errOut)
	}
	calib := filepath.Join(dir, "calib.json")
	for _, api := range []string{"completions", "chat"} {
		args := []string{"bench", "--url", srv.URL + "/v1", "--model", "tiny", "--api", api, "--concurrency", "1,2",
			"--requests", "4", "--input-tokens", "32", "--output-tokens", "8", "--quiet", "-o", "json"}
		if api == "completions" {
			args = append(args, "--write-calibration", calib, "--gpu", "ci-host", "--tp", "1", "--engine", "llamacpp@de4c07f", "--precision", "fp16")
		}
		out, errOut, code := runBenchCLI(t, nil, args...)
		if code != exitOK {
			t.Fatalf("bench --api %s: exit %d: %s\nserver log:\n%s", api, code, errOut, srv.Log())
		}
		var rep struct {
			Levels []struct {
				Concurrency      int     `json:"concurrency"`
				Completed        int     `json:"completed"`
				Failed           int     `json:"failed"`
				UsageReported    int     `json:"usage_reported"`
				OutputTokensMean float64 `json:"output_tokens_mean"`
				InputTokensMean  float64 `json:"input_tokens_mean"`
			} `json:"levels"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Levels) != 2 {
			t.Fatalf("bench --api %s report: %v\n%s", api, err, out)
		}
		for _, l := range rep.Levels {
			if l.Completed != 4 || l.Failed != 0 || l.UsageReported != l.Completed {
				t.Errorf("%s c=%d: completed %d, failed %d, usage on %d: want every request counted by Ollama's usage", api, l.Concurrency, l.Completed, l.Failed, l.UsageReported)
			}
			// Ollama stops at max_tokens (the zero-weight model samples
			// uniformly, </s> is one token in a thousand) and reports it.
			if l.OutputTokensMean < 7 || l.OutputTokensMean > 8 || l.InputTokensMean < 16 {
				t.Errorf("%s c=%d: output %.2f, input %.2f tokens per request", api, l.Concurrency, l.OutputTokensMean, l.InputTokensMean)
			}
		}
	}
	b, err := os.ReadFile(calib)
	if err != nil || !bytes.Contains(b, []byte(`"engine": "llamacpp"`)) || !bytes.Contains(b, []byte(`"gpu": "ci-host"`)) {
		t.Fatalf("calibration file: %v\n%s", err, b)
	}
	out, errOut, code := run(t, "perf", path, "--catalog", overlay, "--vm", "ci-host", "--precision", "fp16", "--calibration", calib,
		"--input-tokens", "32", "--output-tokens", "8", "--concurrency", "1,2", "-o", "json")
	if code != exitOK || !strings.Contains(out, "calibrated on 2 points") {
		t.Fatalf("perf --calibration: exit %d: %s %s", code, errOut, out)
	}
}
