package model_test

import (
	"fmt"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/model"
)

// Keys a config omits take the transformers defaults of its model_type, so
// this partial Llama 3.1 8B config gives the full model.
const llama31_8B = `{
  "model_type": "llama",
  "hidden_size": 4096, "intermediate_size": 14336,
  "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
  "vocab_size": 128256, "max_position_embeddings": 131072,
  "torch_dtype": "bfloat16"
}`

func ExampleParseConfig() {
	s, err := model.ParseConfig([]byte(llama31_8B))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Layers, "layers,", s.Heads, "heads,", s.KVHeads, "KV heads of", s.HeadDim, "in", s.DType)

	_, err = model.ParseConfig([]byte(`{"model_type": "bert"}`))
	fmt.Println(err != nil)
	// Output:
	// 32 layers, 32 heads, 8 KV heads of 128 in bf16
	// true
}

func ExampleSpec_Params() {
	c, err := model.EmbeddedCatalog()
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := c.ConfigBytes("openai/gpt-oss-20b")
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := model.ParseConfig(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := s.Params()
	fmt.Println("total:", p.Total)
	fmt.Println("active:", p.Active)
	fmt.Println("active without the embedding:", p.ActiveNonEmbedding)
	fmt.Println("routed experts:", p.Groups[model.GroupRoutedExperts])
	// Output:
	// total: 20914757184
	// active: 4187440704
	// active without the embedding: 3608307264
	// routed experts: 19116933120
}

func ExampleSpec_KVBytesPerToken() {
	s, err := model.ParseConfig([]byte(llama31_8B))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.KVBytesPerToken(dtype.KVAuto), "bytes per token in bf16")
	fmt.Println(s.KVBytesPerToken(dtype.KVFP8), "bytes per token in fp8")
	fmt.Println(s.KVBytesPerToken(dtype.KVAuto).Times(131072))
	// Output:
	// 131072 bytes per token in bf16
	// 65536 bytes per token in fp8
	// 16.00 GiB
}

func ExampleSpec_KVBytesReference() {
	// gpt-oss alternates sliding (128-token window) and full layers; the
	// reference implementation keeps 127 tokens in the sliding ones: 12 ×
	// 260096 + 12 × 524288 bytes, the per-layer figures of the H200 run.
	s, err := model.ParseConfig([]byte(`{"model_type": "gpt_oss", "num_hidden_layers": 24, "num_local_experts": 32}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(int64(s.KVBytesReference(256, dtype.KVBF16)), "bytes after 256 tokens")
	fmt.Println(int64(s.KVBytesPerToken(dtype.KVBF16).Times(256)), "bytes without the window cap")
	// Output:
	// 9412608 bytes after 256 tokens
	// 12582912 bytes without the window cap
}
