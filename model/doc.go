// Package model describes an LLM's architecture as far as serving it needs:
// the Spec (layers, heads, MLP/MoE shape, MLA ranks, sliding windows,
// vocabulary, quantization), its exact parameter counts and KV-cache bytes
// per token, and the loaders that build a Spec from a Hugging Face
// config.json, safetensors headers, a GGUF file or the embedded catalog.
//
// The package knows nothing about GPUs or prices.
package model
