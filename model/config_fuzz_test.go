package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
)

// FuzzParseConfig feeds ParseConfig arbitrary bytes. It must never panic,
// and whatever it accepts must be a Spec that validates and whose counts
// and KV figures are consistent.
func FuzzParseConfig(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "groundtruth", "configs", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `{"model_type":"llama"}`, `{"model_type":"gemma3"}`, `{"model_type":"llama4"}`,
		`{"model_type":"mistral3"}`, `{"model_type":"kimi_vl","text_config":{"num_experts_per_tok":2}}`,
		`{"model_type":"falcon","new_decoder_architecture":true,"num_kv_heads":8}`,
		`{"model_type":"qwen3_moe","decoder_sparse_step":0}`, `{"model_type":"llama","num_hidden_layers":-1}`,
		`{"model_type":"deepseek_v3","num_hidden_layers":4096,"n_routed_experts":65536}`,
		`{"model_type":"gpt_oss","layer_types":["sliding_attention"],"num_hidden_layers":1}`,
		`{"model_type":"llama","quantization_config":{"quant_method":"compressed-tensors","config_groups":{"a":{"weights":{}}}}}`,
		`{"model_type":"llama","hidden_size":1e300}`, `{"model_type":"llama","vocab_size":18446744073709551616}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseConfig(data)
		if err != nil {
			if s != nil {
				t.Fatalf("error %v with a non-nil Spec", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted Spec fails Validate: %v", err)
		}
		p := s.Params()
		if p.Total <= 0 || p.Active <= 0 || p.Active > p.Total || p.TotalWithMTP < p.Total {
			t.Fatalf("inconsistent counts %+v", p)
		}
		var sum int64
		for k, v := range p.Groups {
			if v <= 0 {
				t.Fatalf("group %s = %d", k, v)
			}
			if k != GroupMTP {
				sum += v
			}
		}
		if sum != p.Total {
			t.Fatalf("groups sum to %d, total %d", sum, p.Total)
		}
		if n := len(s.KVLayers()); n != s.Layers {
			t.Fatalf("%d KV layers for %d layers", n, s.Layers)
		}
		if s.KVBytesPerToken(dtype.KVAuto) < 0 || s.KVBytesReference(1<<20, dtype.KVFP8) < 0 {
			t.Fatal("negative KV size")
		}
	})
}
