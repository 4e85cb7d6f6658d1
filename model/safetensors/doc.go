// Package safetensors reads the headers of safetensors checkpoints (the
// format of almost every Hugging Face model) without touching the weights:
// an 8-byte little-endian length N followed by N bytes of JSON that map each
// tensor name to its dtype, shape and byte range, plus an optional
// "__metadata__" object of strings.
//
// Headers are untrusted input. Every rule the reference implementation
// (github.com/huggingface/safetensors, safetensors/src/tensor.rs) enforces
// is enforced here too: the header length cap, known dtypes, overflow-free
// shape products, byte ranges that match dtype × shape, and tensors that
// tile the data section from offset 0 without gaps or overlaps.
//
// The package reads from any io.ReaderAt, so a local *os.File and a remote
// file read with HTTP range requests (see package hfhub) go through the same
// code: one read of the first 64 KiB, and a second read only when the header
// is longer. Sharded checkpoints are read through their
// model.safetensors.index.json.
package safetensors
