package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/internal/ggufwrite"
)

// tinyGGUF writes a small Llama in the Q4_K_M layout (Q4_K matrices,
// Q6_K attn_v, ffn_down and output head, F32 norms; file type 15) and
// returns its path and its bits per weight worked from the tensor table by
// hand: ggml-common.h block layouts are Q4_K 144 bytes and Q6_K 210 bytes
// per 256 weights, F32 4 bytes per element.
func tinyGGUF(t *testing.T) (string, float64) {
	t.Helper()
	q4k, _ := ggufwrite.TypeByName("Q4_K")
	q6k, _ := ggufwrite.TypeByName("Q6_K")
	s := ggufwrite.Shape{Arch: "llama", Name: "tiny-llama-q4_k_m", Layers: 2, Hidden: 256, FFN: 512, Heads: 4, KVHeads: 4, Vocab: 1024, Type: q4k, Wide: q6k}
	path := filepath.Join(t.TempDir(), "tiny-Q4_K_M.gguf")
	if _, err := ggufwrite.Write(path, s); err != nil {
		t.Fatal(err)
	}
	bytesPer := map[string]float64{"Q4_K": 144.0 / 256, "Q6_K": 210.0 / 256, "F32": 4}
	var bytes, elems float64
	for _, x := range s.Tensors() {
		n := 1.0
		for _, d := range x.Dims {
			n *= float64(d)
		}
		elems += n
		bytes += n * bytesPer[x.Type.String()]
	}
	return path, bytes * 8 / elems
}

// A Q4_K_M GGUF printed "Precision bf16 (weights bf16 ...)", its rule of
// thumb used 2 bytes per parameter, and perf on a T4 failed with "t4
// cannot run bf16".
func TestGGUFRealQuantization(t *testing.T) {
	path, bpw := tinyGGUF(t)
	out, errOut, code := run(t, "size", path, "--gpu", "t4", "--context", "4096")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Precision   q4_k_m (weights Q4_K/Q6_K") || strings.Contains(out, "weights bf16") {
		t.Errorf("GGUF precision is not the file's:\n%s", out)
	}
	out, _, _ = run(t, "size", path, "--gpu", "t4", "--context", "4096", "-o", "json")
	var b struct {
		Precision struct {
			Name          string  `json:"name"`
			BitsPerWeight float64 `json:"bits_per_weight"`
			TensorTypes   string  `json:"tensor_types"`
		} `json:"precision"`
		KVDType   string `json:"kv_dtype"`
		QuickRule struct {
			BytesPerParam float64 `json:"bytes_per_param"`
		} `json:"quick_rule"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatal(err)
	}
	if b.Precision.Name != "q4_k_m" || b.Precision.TensorTypes != "Q4_K/Q6_K" || math.Abs(b.Precision.BitsPerWeight-bpw) > 1e-9 {
		t.Errorf("precision %+v, want q4_k_m Q4_K/Q6_K at %.6f bits per weight", b.Precision, bpw)
	}
	if math.Abs(b.QuickRule.BytesPerParam-bpw/8) > 1e-9 {
		t.Errorf("rule of thumb uses %.4f bytes per parameter, want the file's %.4f", b.QuickRule.BytesPerParam, bpw/8)
	}
	if b.KVDType != "fp16" {
		t.Errorf("KV cache %s, want fp16 (llama.cpp's F16 default; GGUF computes in fp16)", b.KVDType)
	}
	for _, eng := range []string{"vllm", "llamacpp"} {
		out, errOut, code := run(t, "perf", path, "--gpu", "t4", "--engine", eng, "--input-tokens", "512", "--output-tokens", "128", "--concurrency", "1")
		if code != exitOK || !strings.Contains(out, "q4_k_m weights") {
			t.Errorf("perf --engine %s on a T4: exit %d, %s\n%s", eng, code, errOut, out)
		}
	}
	// TensorRT-LLM has no GGUF path: refused with the reason, exit 3.
	_, errOut, code = run(t, "perf", path, "--gpu", "h100-sxm", "--engine", "trtllm", "--input-tokens", "512", "--output-tokens", "128", "--concurrency", "1")
	if code != exitInfeasible || !strings.Contains(errOut, "does not load GGUF files") {
		t.Errorf("perf --engine trtllm on a GGUF: exit %d, %s", code, errOut)
	}
}

// --precision q4_k_m printed "weights int8".
func TestGGUFPrecisionByName(t *testing.T) {
	out, errOut, code := run(t, "size", "llama-3.1-8b", "--precision", "q4_k_m", "--gpu", "t4", "--context", "4096")
	if code != exitOK && code != exitInfeasible {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "int8") || !strings.Contains(out, "weights Q4_K, 4.5 bits per weight") {
		t.Errorf("--precision q4_k_m:\n%s", out)
	}
}
