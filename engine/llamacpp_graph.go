package engine

// This file replays how llama.cpp sizes its compute buffer: it builds the
// worst-case graph llama_context reserves at start-up (a full micro-batch
// against a full KV cache) and runs ggml's graph allocator over it. The
// allocator is ggml-alloc.c's: tensors get offsets from a best-fit free
// list (the last, unbounded block is the fallback), ops that can work in
// place reuse a parent whose only consumer they are, a tensor's memory is
// freed when its last consumer has run, and the buffer is the highest
// offset ever reached. Sources (ggml-org/llama.cpp at de4c07f, as vendored
// by Ollama v0.9.0): ggml/src/ggml-alloc.c (ggml_dyn_tallocr_alloc,
// ggml_dyn_tallocr_free_tensor, ggml_gallocr_allocate_node,
// ggml_gallocr_alloc_graph_impl, ggml_op_can_inplace); the graphs are
// llm_build_llama, llm_build_qwen2 and llm_build_gemma2 in
// src/llama-model.cpp with build_attn / build_attn_mha / build_ffn /
// build_norm in src/llama-graph.cpp.

// gop is a tensor's kind as far as the allocator cares.
type gop int

const (
	gLeaf    gop = iota // weights, KV cache: memory the allocator does not own
	gInput              // graph inputs (tokens, positions, masks): own memory
	gView               // reshape, permute, transpose, view, cpy into the cache
	gInplace            // ops ggml_op_can_inplace accepts (add, mul, scale, unary, rope, rms_norm, soft_max)
	gNew                // every other op (mul_mat, get_rows, cont, flash_attn_ext, cast)
)

type gtensor struct {
	op    gop
	bytes int64
	src   []*gtensor
	// viewSrc is the tensor a view's memory belongs to (ggml collapses
	// views of views onto the first non-view).
	viewSrc *gtensor
	// sameLayout lists the sources an in-place op may overwrite: same type,
	// shape and strides (ggml_are_same_layout).
	sameLayout []*gtensor

	// allocator state
	visited           bool
	children, views   int
	allocated, isLeaf bool
	offset            int64
}

// graph collects nodes in ggml's order: ggml_build_forward_expand visits
// sources left to right, depth first, and appends a tensor after them.
type graph struct {
	nodes, leafs []*gtensor
}

func (g *graph) expand(t *gtensor) {
	if t.visited {
		return
	}
	t.visited = true
	for _, s := range t.src {
		if s != nil {
			g.expand(s)
		}
	}
	if t.op == gLeaf || t.op == gInput {
		t.isLeaf = true
		g.leafs = append(g.leafs, t)
		return
	}
	g.nodes = append(g.nodes, t)
}

// tensor constructors
func leaf() *gtensor             { return &gtensor{op: gLeaf} }
func input(bytes int64) *gtensor { return &gtensor{op: gInput, bytes: bytes} }
func newOp(bytes int64, src ...*gtensor) *gtensor {
	return &gtensor{op: gNew, bytes: bytes, src: src}
}

// inplace is an op that may reuse its first source's memory (all the
// in-place ops in these graphs keep their first source's layout).
func inplace(src ...*gtensor) *gtensor {
	return &gtensor{op: gInplace, bytes: src[0].bytes, src: src, sameLayout: []*gtensor{src[0]}}
}

// view is a reshape/permute/transpose/view/cpy-into-cache of src.
func view(src ...*gtensor) *gtensor {
	v := &gtensor{op: gView, src: src}
	base := src[len(src)-1]
	if len(src) == 1 {
		base = src[0]
	}
	if base.viewSrc != nil {
		base = base.viewSrc
	}
	v.viewSrc = base
	v.bytes = base.bytes
	return v
}

// dynAlloc is ggml_dyn_tallocr.
type dynAlloc struct {
	align   int64
	free    [][2]int64 // offset, size; sorted by offset; last one unbounded
	maxSize int64
}

func newDynAlloc(align int64) *dynAlloc {
	return &dynAlloc{align: align, free: [][2]int64{{0, 1 << 62}}}
}

func (a *dynAlloc) alloc(size int64) int64 {
	size = (size + a.align - 1) / a.align * a.align
	best, bestSize := -1, int64(1<<63-1)
	for i := 0; i < len(a.free)-1; i++ {
		if b := a.free[i]; b[1] >= size && b[1] <= bestSize {
			best, bestSize = i, b[1]
		}
	}
	if best == -1 {
		best = len(a.free) - 1
	}
	off := a.free[best][0]
	a.free[best][0] += size
	a.free[best][1] -= size
	if a.free[best][1] == 0 {
		a.free = append(a.free[:best], a.free[best+1:]...)
	}
	a.maxSize = max(a.maxSize, off+size)
	return off
}

func (a *dynAlloc) release(off, size int64) {
	size = (size + a.align - 1) / a.align * a.align
	for i := range a.free {
		b := &a.free[i]
		if b[0]+b[1] == off {
			b[1] += size
			if i < len(a.free)-1 && b[0]+b[1] == a.free[i+1][0] {
				b[1] += a.free[i+1][1]
				a.free = append(a.free[:i+1], a.free[i+2:]...)
			}
			return
		}
		if off+size == b[0] {
			b[0] = off
			b[1] += size
			if i > 0 && a.free[i-1][0]+a.free[i-1][1] == b[0] {
				a.free[i-1][1] += b[1]
				a.free = append(a.free[:i], a.free[i+1:]...)
			}
			return
		}
	}
	pos := 0
	for pos < len(a.free) && a.free[pos][0] < off {
		pos++
	}
	a.free = append(a.free, [2]int64{})
	copy(a.free[pos+1:], a.free[pos:])
	a.free[pos] = [2]int64{off, size}
}

func (t *gtensor) isView() bool { return t.op == gView }

func allocateNode(a *dynAlloc, t *gtensor) {
	if t.allocated || t.isView() || t.op == gLeaf {
		return
	}
	t.allocated = true
	if t.op == gInplace {
		for _, p := range t.sameLayout {
			// ggml_gallocr_is_own is the parent's own "allocated" flag,
			// which views never set: an op on a reshape does not run in
			// place, and neither does one on weights or the cache.
			if !p.allocated || p.children != 1 || p.views != 0 {
				continue
			}
			t.offset = p.offset
			p.allocated = false
			return
		}
	}
	t.offset = a.alloc(t.bytes)
}

func freeNode(a *dynAlloc, t *gtensor) {
	a.release(t.offset, t.bytes)
	t.allocated = false
}

// computeBufferBytes runs ggml_gallocr_alloc_graph_impl over the graph and
// returns the buffer size it needs.
func (g *graph) computeBufferBytes(align int64) int64 {
	a := newDynAlloc(align)
	for _, l := range g.leafs {
		allocateNode(a, l)
	}
	for _, n := range g.nodes {
		if n.isView() {
			n.viewSrc.views++
		}
		for _, s := range n.src {
			if s != nil {
				s.children++
			}
		}
	}
	for _, n := range g.nodes {
		for _, s := range n.src {
			if s != nil {
				allocateNode(a, s)
			}
		}
		allocateNode(a, n)
		for _, p := range n.src {
			if p == nil {
				continue
			}
			p.children--
			if p.children == 0 && p.views == 0 {
				if p.isView() {
					vs := p.viewSrc
					vs.views--
					if vs.views == 0 && vs.children == 0 && vs.allocated {
						freeNode(a, vs)
					}
				} else if p.allocated {
					freeNode(a, p)
				}
			}
		}
	}
	return a.maxSize
}
