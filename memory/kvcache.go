package memory

import (
	"fmt"
	"sort"

	"github.com/gpuplan/gpuplan/units"
)

// kvKind is a KV-cache layer spec kind as vLLM distinguishes them
// (vllm/v1/kv_cache_interface.py): full attention (MLA included: it is a
// full-attention spec with one latent "head"), sliding window and chunked
// local attention.
type kvKind string

const (
	kvFull    kvKind = "full"
	kvSliding kvKind = "sliding"
	kvChunked kvKind = "chunked"
)

// kvLayerSpec is one layer's cache as seen on one GPU.
type kvLayerSpec struct {
	kind kvKind
	// window is the sliding window or chunk size in tokens.
	window int64
	// bytesPerToken is the cache footprint of one token in this layer on
	// one GPU (after the tensor-parallel split).
	bytesPerToken int64
}

// KVGroup is one KV-cache group of vLLM's paged allocator.
type KVGroup struct {
	Kind   string `json:"kind"`
	Window int64  `json:"window_tokens,omitempty"`
	Layers int    `json:"layers"`
}

// KVLayout is how vLLM lays the KV cache of one GPU out in blocks.
//
// vLLM puts every layer of one spec kind in one group when the model has a
// single kind. Hybrid models (sliding + full, chunked + full) are split into
// groups of an equal number of layers so that all groups share one block
// pool: the group size is the smallest per-kind layer count (or the largest,
// when it is within 25% of the smallest), and each block holds one page for
// each layer position of a group (vllm/v1/core/kv_cache_utils.py,
// _get_kv_cache_groups_uniform_page_size). The pool's blocks are shared by
// all groups, which is why vLLM reports "GPU KV cache size" as
// blocks ÷ groups × block size for hybrid models (gemma-2-2b on H100:
// 83,770 × 16 / 2 = 670,160 tokens in the measured log).
type KVLayout struct {
	BlockSize int       `json:"block_size_tokens"`
	Groups    []KVGroup `json:"groups"`
	// BlockBytes is the memory of one block across the layers that share
	// it: the sum of every layer's page for a single-kind model, the group
	// size × the page for hybrid models.
	BlockBytes int64 `json:"block_bytes"`
	// PerTokenBytes is the uncapped KV bytes of one token on one GPU.
	PerTokenBytes int64 `json:"per_token_bytes"`
}

// newKVLayout groups layers the way vLLM does.
func newKVLayout(layers []kvLayerSpec, blockSize int) (KVLayout, error) {
	if blockSize <= 0 {
		return KVLayout{}, fmt.Errorf("block size must be positive, got %d", blockSize)
	}
	type kindKey struct {
		kind   kvKind
		window int64
	}
	counts := map[kindKey]int{}
	var order []kindKey
	var perToken, maxPage int64
	for _, l := range layers {
		if l.bytesPerToken <= 0 {
			continue
		}
		k := kindKey{l.kind, l.window}
		if _, seen := counts[k]; !seen {
			order = append(order, k)
		}
		counts[k]++
		perToken += l.bytesPerToken
		if p := l.bytesPerToken * int64(blockSize); p > maxPage {
			maxPage = p
		}
	}
	if len(order) == 0 {
		return KVLayout{}, fmt.Errorf("model keeps no KV cache: nothing to size")
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].kind < order[j].kind })
	out := KVLayout{BlockSize: blockSize, PerTokenBytes: perToken}
	if len(order) == 1 {
		k := order[0]
		out.Groups = []KVGroup{{Kind: string(k.kind), Window: k.window, Layers: counts[k]}}
		out.BlockBytes = perToken * int64(blockSize)
		return out, nil
	}
	minN, maxN := len(layers), 0
	for _, k := range order {
		minN = min(minN, counts[k])
		maxN = max(maxN, counts[k])
	}
	groupSize := minN
	if float64(maxN) < float64(minN)*1.25 {
		groupSize = maxN
	}
	for _, k := range order {
		n := counts[k]
		for n > 0 {
			take := min(n, groupSize)
			out.Groups = append(out.Groups, KVGroup{Kind: string(k.kind), Window: k.window, Layers: take})
			n -= take
		}
	}
	// Pages of different widths are unified by vLLM by growing the block of
	// the smaller specs; using the largest page keeps the pool estimate on
	// the safe side in that rare case.
	out.BlockBytes = maxPage * int64(groupSize)
	return out, nil
}

// Blocks returns how many blocks a KV pool of the given size holds.
func (l KVLayout) Blocks(pool units.Bytes) int64 {
	if pool <= 0 || l.BlockBytes <= 0 {
		return 0
	}
	return int64(pool) / l.BlockBytes
}

// ReportedTokens is vLLM's "GPU KV cache size: N tokens" for a number of
// blocks.
func (l KVLayout) ReportedTokens(blocks int64) int64 {
	return blocks / int64(len(l.Groups)) * int64(l.BlockSize)
}

// BlocksPerSequence is how many blocks one sequence of maxLen tokens needs
// across all groups, with vLLM's per-kind caps: full attention
// cdiv(len, block); sliding window cdiv(min(window−1+batched, len), block)+1;
// chunked local cdiv(min(chunk+batched, len), block)
// (vllm/v1/kv_cache_interface.py max_memory_usage_bytes).
func (l KVLayout) BlocksPerSequence(maxLen, batchedTokens int64) int64 {
	var total int64
	b := int64(l.BlockSize)
	for _, g := range l.Groups {
		var n int64
		switch kvKind(g.Kind) {
		case kvSliding:
			n = cdiv(min(g.Window-1+batchedTokens, maxLen), b) + 1
		case kvChunked:
			n = cdiv(min(g.Window+batchedTokens, maxLen), b)
		default:
			n = cdiv(maxLen, b)
		}
		total += n
	}
	return total
}

// SequenceBytes is the KV memory one sequence of maxLen tokens needs: its
// blocks times the bytes of one block (a hybrid layout's block holds one
// group's pages).
func (l KVLayout) SequenceBytes(maxLen, batchedTokens int64) units.Bytes {
	return units.Bytes(l.BlocksPerSequence(maxLen, batchedTokens) * l.BlockBytes)
}

// MaxConcurrency is vLLM's "Maximum concurrency for N tokens per request".
func (l KVLayout) MaxConcurrency(blocks, maxLen, batchedTokens int64) float64 {
	per := l.BlocksPerSequence(maxLen, batchedTokens)
	if per <= 0 {
		return 0
	}
	return float64(blocks) / float64(per)
}

// MaxLen is the longest max_model_len for which `sequences` sequences fit
// in `blocks` blocks (binary search, as vLLM's estimate_max_model_len), capped
// at limit. It returns 0 when not even one token fits.
func (l KVLayout) MaxLen(blocks, sequences, batchedTokens, limit int64) int64 {
	if sequences <= 0 {
		sequences = 1
	}
	fits := func(n int64) bool { return sequences*l.BlocksPerSequence(n, batchedTokens) <= blocks }
	if !fits(1) {
		return 0
	}
	lo, hi := int64(1), limit
	if fits(hi) {
		return hi
	}
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

func cdiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
