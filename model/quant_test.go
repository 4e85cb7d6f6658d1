package model

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gpuplan/gpuplan/dtype"
)

// TestQuantizationReleases reads the quantization_config of real releases.
func TestQuantizationReleases(t *testing.T) {
	cases := []struct {
		config string
		want   *Quantization
	}{
		{"deepseek-ai__DeepSeek-V3.json", &Quantization{Method: dtype.CheckpointFP8, Weight: dtype.FP8, Bits: 8,
			BlockSize: []int{128, 128}, Activation: dtype.FP8, ActivationDynamic: true, Format: "e4m3"}},
		{"openai__gpt-oss-120b.json", &Quantization{Method: dtype.CheckpointMXFP4, Weight: dtype.MXFP4, Bits: 4, GroupSize: 32,
			NotConverted: []string{"model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"}}},
		{"meta-llama__Llama-3.1-8B.json", nil},
	}
	for _, c := range cases {
		t.Run(c.config, func(t *testing.T) {
			s := parseSpec(t, readRefConfig(t, c.config))
			if d := cmp.Diff(c.want, s.Quant); d != "" {
				t.Errorf("quantization (-want +got):\n%s", d)
			}
		})
	}
}

// TestQuantizationFormats reads small quantization_config blocks written in
// each method's documented layout (transformers' AwqConfig, GPTQConfig,
// BitsAndBytesConfig, FbgemmFp8Config; llm-compressor's compressed-tensors
// QuantizationConfig; NVIDIA ModelOpt). They are made-up examples of the
// format, not copies of a particular checkpoint.
func TestQuantizationFormats(t *testing.T) {
	cases := []struct {
		name, config string
		want         *Quantization
	}{
		{"awq", `{"quant_method":"awq","bits":4,"group_size":128,"zero_point":true,"version":"gemm","modules_to_not_convert":["visual"]}`,
			&Quantization{Method: dtype.CheckpointAWQ, Weight: dtype.INT4, Bits: 4, GroupSize: 128, Format: "gemm", NotConverted: []string{"visual"}}},
		{"awq AutoAWQ names", `{"quant_method":"AWQ","w_bit":4,"q_group_size":64}`,
			&Quantization{Method: dtype.CheckpointAWQ, Weight: dtype.INT4, Bits: 4, GroupSize: 64}},
		{"gptq per-channel 8-bit", `{"quant_method":"gptq","bits":8,"group_size":-1,"desc_act":false,"sym":true}`,
			&Quantization{Method: dtype.CheckpointGPTQ, Weight: dtype.INT8, Bits: 8}},
		{"compressed-tensors FP8 dynamic", `{"quant_method":"compressed-tensors","format":"float-quantized","ignore":["lm_head"],"kv_cache_scheme":null,
			"config_groups":{"group_0":{"targets":["Linear"],"weights":{"num_bits":8,"type":"float","strategy":"channel","dynamic":false,"group_size":null,"block_structure":null},
			"input_activations":{"num_bits":8,"type":"float","strategy":"token","dynamic":true}}}}`,
			&Quantization{Method: dtype.CheckpointCompressedTensors, Weight: dtype.FP8, Bits: 8, Activation: dtype.FP8, ActivationDynamic: true,
				Format: "float-quantized", NotConverted: []string{"lm_head"}}},
		{"compressed-tensors W4A16", `{"quant_method":"compressed-tensors","format":"pack-quantized",
			"config_groups":{"group_0":{"weights":{"num_bits":4,"type":"int","strategy":"group","group_size":128},"input_activations":null}}}`,
			&Quantization{Method: dtype.CheckpointCompressedTensors, Weight: dtype.INT4, Bits: 4, GroupSize: 128, Format: "pack-quantized"}},
		{"compressed-tensors W8A8 int with fp8 KV", `{"quant_method":"compressed-tensors","format":"int-quantized",
			"config_groups":{"group_1":{"weights":{"num_bits":8,"type":"int"},"input_activations":{"num_bits":8,"type":"int","dynamic":true}}},
			"kv_cache_scheme":{"num_bits":8,"type":"float"}}`,
			&Quantization{Method: dtype.CheckpointCompressedTensors, Weight: dtype.INT8, Bits: 8, Activation: dtype.INT8, ActivationDynamic: true,
				Format: "int-quantized", KVCache: dtype.FP8}},
		{"compressed-tensors NVFP4", `{"quant_method":"compressed-tensors","format":"nvfp4-pack-quantized",
			"config_groups":{"group_0":{"weights":{"num_bits":4,"type":"float","group_size":16},"input_activations":{"num_bits":4,"type":"float","dynamic":"local","group_size":16}}}}`,
			&Quantization{Method: dtype.CheckpointCompressedTensors, Weight: dtype.NVFP4, Bits: 4, GroupSize: 16, Activation: dtype.NVFP4, ActivationDynamic: true,
				Format: "nvfp4-pack-quantized"}},
		{"compressed-tensors block string", `{"quant_method":"compressed-tensors",
			"config_groups":{"group_0":{"weights":{"num_bits":8,"type":"float","block_structure":"128x128"}}}}`,
			&Quantization{Method: dtype.CheckpointCompressedTensors, Weight: dtype.FP8, Bits: 8, BlockSize: []int{128, 128}}},
		{"modelopt nested NVFP4", `{"quant_method":"modelopt","quantization":{"quant_algo":"NVFP4","kv_cache_quant_algo":"FP8","exclude_modules":["lm_head"]}}`,
			&Quantization{Method: dtype.CheckpointModelOpt, Weight: dtype.NVFP4, Bits: 4, GroupSize: 16, Activation: dtype.NVFP4, Format: "NVFP4",
				NotConverted: []string{"lm_head"}, KVCache: dtype.FP8}},
		{"modelopt flat FP8", `{"quant_method":"modelopt","quant_algo":"FP8"}`,
			&Quantization{Method: dtype.CheckpointModelOpt, Weight: dtype.FP8, Bits: 8, Activation: dtype.FP8, Format: "FP8"}},
		{"bitsandbytes nf4", `{"quant_method":"bitsandbytes","load_in_4bit":true,"bnb_4bit_quant_type":"nf4","llm_int8_skip_modules":["lm_head"]}`,
			&Quantization{Method: dtype.CheckpointBitsAndBytes, Weight: dtype.INT4, Bits: 4, GroupSize: 64, Format: "nf4", NotConverted: []string{"lm_head"}}},
		{"bitsandbytes without quant_method", `{"load_in_8bit":true}`,
			&Quantization{Method: dtype.CheckpointBitsAndBytes, Weight: dtype.INT8, Bits: 8}},
		{"fbgemm fp8", `{"quant_method":"fbgemm_fp8","modules_to_not_convert":["lm_head"]}`,
			&Quantization{Method: "fbgemm_fp8", Weight: dtype.FP8, Bits: 8, Activation: dtype.FP8, ActivationDynamic: true, NotConverted: []string{"lm_head"}}},
		{"unknown method keeps its name, no invented format", `{"quant_method":"hqq","nbits":4}`,
			&Quantization{Method: "hqq"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := parseQuantization(json.RawMessage(c.config))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, q); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestQuantizationErrors(t *testing.T) {
	cases := []struct{ name, config, want string }{
		{"bits not a number", `{"quant_method":"gptq","bits":"four"}`, "bits: want an integer"},
		{"bits out of range", `{"quant_method":"awq","bits":99}`, "bits = 99 is out of range"},
		{"block size not a list", `{"quant_method":"fp8","weight_block_size":{"a":1}}`, "weight_block_size: want a list"},
		{"groups not an object", `{"quant_method":"compressed-tensors","config_groups":[1]}`, "config_groups: want a JSON object"},
		{"bad block string", `{"quant_method":"compressed-tensors","config_groups":{"g":{"weights":{"block_structure":"big"}}}}`, "block_structure"},
		{"ignore not strings", `{"quant_method":"compressed-tensors","ignore":[1,2]}`, "ignore: want a list of strings"},
		{"method not a string", `{"quant_method":4}`, "quant_method: want a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseQuantization(json.RawMessage(c.config))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
