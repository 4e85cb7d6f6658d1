// Package gguf reads the header of GGUF files (llama.cpp's model format):
// magic, version, typed metadata key/values and the tensor table, without
// reading the weights. Each tensor's exact stored size follows from its
// ggml type's block size and bytes per block (ggml-common.h), so a GGUF file
// gives an exact weight inventory, and its llama.cpp metadata
// ({arch}.block_count, {arch}.attention.head_count_kv, ...) gives most of an
// architecture.
//
// GGUF headers are untrusted input: counts, string lengths and array
// lengths are checked against the bytes that could possibly hold them
// before anything is allocated, reading stops at a bounded prefix, and
// every check llama.cpp's own loader makes (ggml/src/gguf.cpp) is made here
// too. The reader takes any io.ReaderAt and grows its window geometrically,
// so a remote file read with HTTP range requests costs a handful of
// requests.
package gguf
