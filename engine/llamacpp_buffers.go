package engine

import (
	"errors"
	"fmt"

	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/model/gguf"
	"github.com/gpuplan/gpuplan/units"
)

// LlamaCPPBuild names the llama.cpp build whose memory rules
// LlamaCPPBuffers reproduces: the one Ollama v0.9.0 vendors
// (llama/llama.cpp at ggml-org/llama.cpp commit de4c07f), run on the CPU
// backend with --no-mmap as Ollama starts it for CPU-only loads
// (llm/server.go). It has one unified KV cache: sliding-window layers get
// the full kv_size like every other layer.
const LlamaCPPBuild = "llama.cpp de4c07f (Ollama v0.9.0), CPU backend"

// LlamaCPPModel is what llama.cpp's memory accounting needs from a GGUF
// file: the stored tensors it loads and the hyperparameters that shape the
// KV cache and the compute graph.
type LlamaCPPModel struct {
	// Arch is general.architecture; the compute graph is known for
	// "llama", "qwen2" and "gemma2".
	Arch string
	// Layers, Hidden, Heads, KVHeads, HeadDimK, HeadDimV, FFN and Vocab are
	// n_layer, n_embd, n_head, n_head_kv, n_embd_head_k, n_embd_head_v,
	// n_ff and n_vocab as llama.cpp reads them (llama_model::load_hparams).
	Layers, Hidden, Heads, KVHeads, HeadDimK, HeadDimV, FFN, Vocab int64
	// TensorBytes are the stored sizes (ggml_nbytes) of the tensors
	// llama.cpp creates; a tied output matrix is not listed twice because
	// on one backend the duplicate is the same tensor
	// (llama_model::load_tensors, TENSOR_DUPLICATED).
	TensorBytes []int64
}

// LlamaCPPModelFromGGUF reads a LlamaCPPModel from a parsed GGUF header.
func LlamaCPPModelFromGGUF(f *gguf.File) (LlamaCPPModel, error) {
	hp, err := f.Hyperparameters()
	if err != nil {
		return LlamaCPPModel{}, err
	}
	m := LlamaCPPModel{
		Arch: hp.Architecture, Layers: int64(hp.BlockCount), Hidden: int64(hp.EmbeddingLength),
		Heads: int64(hp.HeadCount), KVHeads: int64(hp.HeadCountKV),
		HeadDimK: int64(hp.KeyLength), HeadDimV: int64(hp.ValueLength),
		FFN: int64(hp.FeedForwardLength), Vocab: int64(hp.VocabSize),
	}
	if m.KVHeads == 0 {
		m.KVHeads = m.Heads
	}
	if m.Heads > 0 && m.HeadDimK == 0 {
		m.HeadDimK = m.Hidden / m.Heads
	}
	if m.Heads > 0 && m.HeadDimV == 0 {
		m.HeadDimV = m.Hidden / m.Heads
	}
	if hp.TokenCount > 0 {
		// The output buffer is sized by the vocabulary llama_vocab loads.
		m.Vocab = int64(hp.TokenCount)
	}
	for _, t := range f.Tensors {
		m.TensorBytes = append(m.TensorBytes, t.Bytes)
	}
	if m.Layers <= 0 || m.Hidden <= 0 || m.Heads <= 0 || m.Vocab <= 0 {
		return m, fmt.Errorf("GGUF %s lacks block_count, embedding_length, head_count or a vocabulary", hp.Architecture)
	}
	return m, nil
}

// LlamaCPPRequest is how the server is started.
type LlamaCPPRequest struct {
	// Context is the context per parallel slot (Ollama's num_ctx);
	// Parallel is the number of slots (OLLAMA_NUM_PARALLEL, llama.cpp
	// --parallel). llama.cpp gets n_ctx = Context × Parallel.
	Context, Parallel int64
	// Batch and UBatch are n_batch and n_ubatch (both 512 by default:
	// Ollama's num_batch and llama_context_default_params).
	Batch, UBatch int64
	// FlashAttention is --flash-attn (OLLAMA_FLASH_ATTENTION=1).
	FlashAttention bool
	// TypeK and TypeV are the cache types (F16 by default; Ollama allows
	// q8_0 and q4_0 only with flash attention).
	TypeK, TypeV gguf.GGMLType
}

// LlamaCPPBuffersResult is llama.cpp's memory, buffer by buffer, as its
// start-up log prints it.
type LlamaCPPBuffersResult struct {
	Build string `json:"build"`
	// KVCells is kv_size: n_ctx padded to 32 cells (256 with flash
	// attention), llama_kv_cache_unified::get_padding.
	KVCells int64 `json:"kv_cells"`
	// MicroBatch is the token count of the worst-case graph the compute
	// buffer is reserved for: min(n_ctx, n_ubatch).
	MicroBatch int64 `json:"micro_batch_tokens"`
	// Model is "CPU model buffer size": every tensor padded to 32 bytes.
	Model units.Bytes `json:"model_bytes"`
	// KV is "CPU KV buffer size": K and V per layer for kv_size cells.
	KV units.Bytes `json:"kv_bytes"`
	// Compute is "CPU compute buffer size": the graph allocator's peak.
	Compute units.Bytes `json:"compute_bytes"`
	// Output is "CPU output buffer size": f32 logits and embeddings for
	// one output per sequence.
	Output units.Bytes `json:"output_bytes"`
	// Total is the sum of the four.
	Total units.Bytes `json:"total_bytes"`
}

// tensorAlignment is TENSOR_ALIGNMENT in ggml-impl.h, the CPU buffer
// type's alignment.
const tensorAlignment = 32

func pad(n, a int64) int64 { return (n + a - 1) / a * a }

// LlamaCPPBuffers computes llama.cpp's four CPU buffers for a model and a
// server configuration.
func LlamaCPPBuffers(m LlamaCPPModel, r LlamaCPPRequest) (LlamaCPPBuffersResult, error) {
	if r.Parallel == 0 {
		r.Parallel = 1
	}
	if r.Batch == 0 {
		r.Batch = 512
	}
	if r.UBatch == 0 {
		r.UBatch = 512
	}
	if r.TypeK == 0 && r.TypeV == 0 {
		r.TypeK, r.TypeV = 1, 1 // F16
	}
	if r.Context <= 0 || r.Parallel < 1 {
		return LlamaCPPBuffersResult{}, fmt.Errorf("%w: context (%d) and parallel slots (%d) must be positive", ErrInvalid, r.Context, r.Parallel)
	}
	if !r.TypeK.Known() || !r.TypeV.Known() {
		return LlamaCPPBuffersResult{}, fmt.Errorf("%w: unknown KV cache type", ErrInvalid)
	}
	if (r.TypeK != 1 || r.TypeV != 1) && !r.FlashAttention {
		return LlamaCPPBuffersResult{}, fmt.Errorf("%w: a quantized KV cache needs flash attention in this llama.cpp build", ErrInvalid)
	}
	res := LlamaCPPBuffersResult{Build: LlamaCPPBuild}

	// Model buffer: ggml_backend_alloc_ctx_tensors_from_buft pads each
	// tensor to the buffer type's alignment.
	var model int64
	for _, b := range m.TensorBytes {
		model += pad(b, tensorAlignment)
	}
	res.Model = units.Bytes(model)

	// KV cache: llama_context pads n_ctx to the cache's padding before
	// creating it (llama_model::create_memory); K and V are 1-D tensors of
	// n_embd_{k,v}_gqa × kv_size elements per layer.
	nCtx := r.Context * r.Parallel
	padding := int64(32)
	if r.FlashAttention {
		padding = 256
	}
	kvSize := pad(nCtx, padding)
	res.KVCells = kvSize
	var kv int64
	for i := int64(0); i < m.Layers; i++ {
		kv += pad(rowBytes(r.TypeK, m.KVHeads*m.HeadDimK*kvSize), tensorAlignment)
		kv += pad(rowBytes(r.TypeV, m.KVHeads*m.HeadDimV*kvSize), tensorAlignment)
	}
	res.KV = units.Bytes(kv)

	// Output buffer: llama_context::output_reserve(n_seq_max) with logits
	// (n_vocab) and embeddings (n_embd, Ollama sets embeddings = true)
	// for max(n_seq_max, 1) outputs, in f32.
	res.Output = units.Bytes((m.Vocab + m.Hidden) * r.Parallel * 4)

	// Compute buffer: n_batch = min(n_ctx, n_batch) before padding (at
	// least GGML_KQ_MASK_PAD = 64), n_ubatch = min(n_batch, n_ubatch), and
	// the reserve graphs use min(padded n_ctx, n_ubatch) tokens and 1
	// token against a full cache; the buffer is the larger of the two.
	batch := max(min(nCtx, r.Batch), 64)
	ubatch := min(batch, r.UBatch)
	tokens := min(kvSize, ubatch)
	res.MicroBatch = tokens
	pp, err := llamaGraph(m, r, tokens, kvSize)
	if err != nil {
		return res, err
	}
	tg, _ := llamaGraph(m, r, 1, kvSize)
	res.Compute = units.Bytes(max(pp.computeBufferBytes(tensorAlignment), tg.computeBufferBytes(tensorAlignment)))
	res.Total = res.Model + res.KV + res.Compute + res.Output
	return res, nil
}

// rowBytes is ggml_row_size for n elements.
func rowBytes(t gguf.GGMLType, n int64) int64 { return n / t.BlockSize() * t.TypeSize() }

// errGraph is returned for architectures whose graph is not modelled.
var errGraph = errors.New("compute graph not modelled")

// llamaGraph builds the reserve graph of llm_build_llama / llm_build_qwen2
// / llm_build_gemma2 for T tokens against nKV cache cells.
func llamaGraph(m LlamaCPPModel, r LlamaCPPRequest, T, nKV int64) (*graph, error) {
	switch m.Arch {
	case "llama", "qwen2", "gemma2":
	default:
		return nil, fmt.Errorf("%w for architecture %q (llama, qwen2, gemma2 are)", errGraph, m.Arch)
	}
	const f32 = 4
	E, hk, hv := m.Hidden, m.HeadDimK, m.HeadDimV
	q, kvK, kvV := m.Heads*hk, m.KVHeads*hk, m.KVHeads*hv
	gemma := m.Arch == "gemma2"
	bias := m.Arch == "qwen2"
	fa := r.FlashAttention && nKV%256 == 0

	g := &graph{}
	tokens := input(T * 4)
	inpL := newOp(E*T*f32, leaf(), tokens) // get_rows(tok_embd, tokens)
	if gemma {
		inpL = inplace(inpL) // scale by sqrt(n_embd)
	}
	pos := input(T * 4)
	maskBytes := nKV * pad(T, 64) * f32 // GGML_KQ_MASK_PAD = 64
	mask := input(maskBytes)
	var maskCnv, maskSWA, maskSWACnv *gtensor = mask, nil, nil
	if fa {
		maskCnv = newOp(maskBytes/2, mask) // ggml_cast to F16
	}
	if gemma { // n_swa_pattern = 2: a second mask for the sliding layers
		maskSWA = input(maskBytes)
		maskSWACnv = maskSWA
		if fa {
			maskSWACnv = newOp(maskBytes/2, maskSWA)
		}
	}
	norm := func(x *gtensor) *gtensor { return inplace(inplace(x), leaf()) } // rms_norm, mul(weight)
	mm := func(rows int64, x *gtensor) *gtensor { return newOp(rows*T*f32, leaf(), x) }
	var cur *gtensor
	for il := int64(0); il < m.Layers; il++ {
		inpSA := inpL
		cur = norm(inpL)
		Q := mm(q, cur)
		if bias {
			Q = inplace(Q, leaf())
		}
		K := mm(kvK, cur)
		if bias {
			K = inplace(K, leaf())
		}
		V := mm(kvV, cur)
		if bias {
			V = inplace(V, leaf())
		}
		Qr, Kr, Vr := view(Q), view(K), view(V)
		Qrope := inplace(Qr, pos)
		Krope := inplace(Kr, pos)
		if gemma {
			Qrope = inplace(Qrope) // scale by 1/sqrt(head_dim)
		}
		g.expand(Qrope)
		g.expand(Krope)
		g.expand(Vr)
		g.expand(view(Krope, view(leaf()))) // cpy K into the cache
		if fa {
			g.expand(view(view(Vr), view(leaf())))
		} else {
			g.expand(view(view(view(Vr)), view(leaf()))) // reshape, transpose, cpy
		}
		msk := maskCnv
		if gemma && il%2 == 0 { // hparams.is_swa: il % n_swa_pattern < n_swa_pattern - 1
			msk = maskSWACnv
		}
		qv := view(Qrope)
		kv := view(leaf())
		vv := view(leaf())
		var attn *gtensor
		if fa {
			o := newOp(hv*m.Heads*T*f32, qv, kv, vv, msk) // flash_attn_ext
			attn = view(o)
		} else {
			kq := newOp(nKV*T*m.Heads*f32, kv, qv)
			if gemma { // soft-capping: scale, tanh, scale
				kq = inplace(inplace(inplace(kq)))
			}
			kq = inplace(kq, msk) // soft_max_ext
			kqv := newOp(hv*T*m.Heads*f32, vv, kq)
			attn = newOp(hv*m.Heads*T*f32, view(kqv)) // cont_2d(permute)
		}
		g.expand(attn)
		cur = newOp(E*T*f32, leaf(), attn) // wo
		if gemma {
			cur = norm(cur)
		}
		if il == m.Layers-1 {
			outIDs := input(T * 4)
			cur = newOp(E*T*f32, cur, outIDs)
			inpSA = newOp(E*T*f32, inpSA, outIDs)
		}
		ffnInp := inplace(cur, inpSA)
		cur = norm(ffnInp)
		up := mm(m.FFN, cur)
		gate := mm(m.FFN, cur)
		act := inplace(gate) // silu / gelu
		par := &gtensor{op: gInplace, bytes: act.bytes, src: []*gtensor{act, up}, sameLayout: []*gtensor{act, up}}
		cur = newOp(E*T*f32, leaf(), par) // down
		if gemma {
			cur = norm(cur)
		}
		inpL = inplace(cur, ffnInp)
	}
	cur = norm(inpL)
	logits := newOp(m.Vocab*T*f32, leaf(), cur)
	if gemma {
		logits = inplace(inplace(inplace(logits)))
	}
	g.expand(logits)
	return g, nil
}

// LlamaCPPFileBuffers reads a local GGUF file's header and computes
// llama.cpp's buffers for it.
func LlamaCPPFileBuffers(path string, r LlamaCPPRequest) (LlamaCPPBuffersResult, error) {
	f, err := gguf.ReadFile(path)
	if err != nil {
		return LlamaCPPBuffersResult{}, err
	}
	if hp, err := f.Hyperparameters(); err == nil && hp.SplitCount > 1 {
		return LlamaCPPBuffersResult{}, fmt.Errorf("%w: %s is one part of a split GGUF; llama.cpp's buffers need all parts", ErrInvalid, path)
	}
	m, err := LlamaCPPModelFromGGUF(f)
	if err != nil {
		return LlamaCPPBuffersResult{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return LlamaCPPBuffers(m, r)
}

// LlamaCPPModelFromSpec approximates a LlamaCPPModel for a model known only
// by its architecture (no GGUF file): the weights are one block of
// weightBytes and the compute graph is llama's (dense decoder, gated MLP).
// Model and KV buffers stay exact up to tensor padding; the compute buffer
// is llama's graph at the model's widths.
func LlamaCPPModelFromSpec(s *model.Spec, weightBytes int64) LlamaCPPModel {
	hd := int64(s.HeadDim)
	if hd == 0 && s.Heads > 0 {
		hd = int64(s.Hidden / s.Heads)
	}
	kv := int64(s.KVHeads)
	if kv == 0 {
		kv = int64(s.Heads)
	}
	return LlamaCPPModel{Arch: "llama", Layers: int64(s.Layers), Hidden: int64(s.Hidden), Heads: int64(s.Heads),
		KVHeads: kv, HeadDimK: hd, HeadDimV: hd, FFN: int64(s.Intermediate), Vocab: int64(s.Vocab),
		TensorBytes: []int64{weightBytes}}
}
