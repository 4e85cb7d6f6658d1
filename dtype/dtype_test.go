package dtype

import (
	"math"
	"strings"
	"testing"
)

func TestParseDType(t *testing.T) {
	for in, want := range map[string]DType{
		"bfloat16": BF16, "BF16": BF16, "torch.float16": FP16, "half": FP16, "F8_E4M3": FP8,
		"float8_e4m3fn": FP8, "F32": FP32, "I8": INT8, "mxfp4": MXFP4,
	} {
		got, err := ParseDType(in)
		if err != nil || got != want {
			t.Errorf("ParseDType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseDType("float13"); err == nil {
		t.Error("ParseDType(float13) succeeded")
	}
}

// Weight bits include the scales that travel with the weights: AWQ/GPTQ
// int4 at group 128 stores an fp16 scale and a 4-bit zero point per group
// (4 + 20/128 = 4.15625); MXFP4 one e8m0 scale per 32 (4.25); GGUF Q4_K
// 144 bytes per 256 weights (4.5).
func TestWeightBits(t *testing.T) {
	for name, want := range map[string]float64{
		"bf16": 16, "fp8": 8, "int8": 8, "int4": 4.15625, "mxfp4": 4.25, "nvfp4": 4.5,
		"q4_k_m": 4.5, "q8_0": 8.5, "q6_k": 6.5625, "int8-w8a16": 8 + 24.0/128,
	} {
		p, err := LookupPrecision(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.WeightBits(); math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: %v bits, want %v", name, got, want)
		}
	}
}

func TestLookupPrecisionAliases(t *testing.T) {
	for alias, canon := range map[string]string{"AWQ": "int4", "gptq": "int4", "w8a8": "int8", "fp8-dynamic": "fp8", "float16": "fp16", "w8a16-fp8": "fp8-w8a16"} {
		p, err := LookupPrecision(alias)
		if err != nil || p.Name != canon {
			t.Errorf("LookupPrecision(%q) = %q, %v; want %q", alias, p.Name, err, canon)
		}
	}
	if _, err := LookupPrecision("int3"); err == nil {
		t.Error("int3 accepted")
	}
}

func TestKVDType(t *testing.T) {
	if got := KVAuto.Resolve(FP16); got != FP16 {
		t.Errorf("auto on an fp16 model = %s", got)
	}
	if got := KVAuto.Resolve(""); got != BF16 {
		t.Errorf("auto with unknown compute dtype = %s, want bf16", got)
	}
	if got := KVFP8.Bytes(BF16); got != 1 {
		t.Errorf("fp8 KV = %d bytes", got)
	}
	_, err := ParseKVDType("int4")
	if err == nil {
		t.Fatal("int4 KV accepted")
	}
	// vLLM's --kv-cache-dtype names, each listed in the error and parsed
	// back to itself.
	for _, k := range KVDTypes() {
		if got, err := ParseKVDType(string(k)); err != nil || got != k {
			t.Errorf("ParseKVDType(%q) = %q, %v", k, got, err)
		}
	}
	if want := "(known: auto, bf16, fp16, fp8)"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not list %s", err, want)
	}
}
