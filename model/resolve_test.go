package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/model/gguf"
	"github.com/gpuplan/gpuplan/model/hfhub"
	"github.com/gpuplan/gpuplan/model/safetensors"
)

// ---- fixtures shared by the resolve tests ----

// rsTruth reads a parameter count measured with the reference
// implementation (testdata/groundtruth/h200-models.json, from the
// project's H200 reference run).
func rsTruth(t *testing.T, key string) int64 {
	t.Helper()
	data, err := os.ReadFile("testdata/groundtruth/h200-models.json")
	if err != nil {
		t.Fatal(err)
	}
	var gt struct {
		Models map[string]struct {
			ParamsTotal int64 `json:"params_total"`
		} `json:"models"`
	}
	if err := json.Unmarshal(data, &gt); err != nil {
		t.Fatal(err)
	}
	m, ok := gt.Models[key]
	if !ok || m.ParamsTotal == 0 {
		t.Fatalf("no ground truth for %s", key)
	}
	return m.ParamsTotal
}

// rsConfigSpec parses a catalog model's embedded config.json.
func rsConfigSpec(t *testing.T, id string) (*Spec, []byte) {
	t.Helper()
	cat, err := EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cat.ConfigBytes(id)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	return s, raw
}

// rsVirtual is a header followed by a data section of zeros that is
// never materialised: an io.ReaderAt and io.ReadSeeker (for
// http.ServeContent) over a file of any size.
type rsVirtual struct {
	head []byte
	size int64
	pos  int64
}

func (v *rsVirtual) ReadAt(p []byte, off int64) (int, error) {
	if off >= v.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), v.size-off))
	clear(p[:n])
	if off < int64(len(v.head)) {
		copy(p[:n], v.head[off:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (v *rsVirtual) Read(p []byte) (int, error) {
	n, err := v.ReadAt(p, v.pos)
	v.pos += int64(n)
	return n, err
}

func (v *rsVirtual) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		v.pos = off
	case io.SeekCurrent:
		v.pos += off
	case io.SeekEnd:
		v.pos = v.size + off
	}
	return v.pos, nil
}

// rsWriteSparse writes a virtual file to disk; the data section is a hole.
func rsWriteSparse(t *testing.T, p string, v *rsVirtual) {
	t.Helper()
	if err := os.WriteFile(p, v.head, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, v.size); err != nil {
		t.Fatal(err)
	}
}

// ---- a safetensors writer ----

type rsTensor struct {
	name  string
	shape []int64
}

// rsSafetensors lays tensors out back to back in BF16.
func rsSafetensors(ts []rsTensor) *rsVirtual {
	obj := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var off int64
	for _, s := range ts {
		n := int64(2)
		for _, d := range s.shape {
			n *= d
		}
		obj[s.name] = map[string]any{"dtype": "BF16", "shape": s.shape, "data_offsets": []int64{off, off + n}}
		off += n
	}
	js, _ := json.Marshal(obj)
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	head := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	head = append(head, js...)
	return &rsVirtual{head: head, size: int64(len(head)) + off}
}

// rsHFTensors lists a dense decoder's tensors with transformers' names.
func rsHFTensors(s *Spec) []rsTensor {
	H, V := int64(s.Hidden), int64(s.Vocab)
	q, kv, I := int64(s.Heads*s.HeadDim), int64(s.KVHeads*s.HeadDim), int64(s.Intermediate)
	ts := []rsTensor{{"model.embed_tokens.weight", []int64{V, H}}}
	for i := 0; i < s.Layers; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		ts = append(ts,
			rsTensor{p + "input_layernorm.weight", []int64{H}},
			rsTensor{p + "self_attn.q_proj.weight", []int64{q, H}},
			rsTensor{p + "self_attn.k_proj.weight", []int64{kv, H}},
			rsTensor{p + "self_attn.v_proj.weight", []int64{kv, H}},
			rsTensor{p + "self_attn.o_proj.weight", []int64{H, q}},
			rsTensor{p + "post_attention_layernorm.weight", []int64{H}},
			rsTensor{p + "mlp.gate_proj.weight", []int64{I, H}},
			rsTensor{p + "mlp.up_proj.weight", []int64{I, H}},
			rsTensor{p + "mlp.down_proj.weight", []int64{H, I}},
		)
		if s.QKVBias {
			ts = append(ts, rsTensor{p + "self_attn.q_proj.bias", []int64{q}}, rsTensor{p + "self_attn.k_proj.bias", []int64{kv}}, rsTensor{p + "self_attn.v_proj.bias", []int64{kv}})
		}
	}
	ts = append(ts, rsTensor{"model.norm.weight", []int64{H}})
	if !s.TiedEmbeddings {
		ts = append(ts, rsTensor{"lm_head.weight", []int64{V, H}})
	}
	return ts
}

// ---- a GGUF writer (layout as in llama.cpp's gguf.cpp) ----

type rsKV struct {
	key string
	val any // uint32, string, or []uint32
}

type rsGGUFTensor struct {
	name string
	dims []uint64 // ggml order: row length first
	typ  gguf.GGMLType
}

func rsGGUF(kvs []rsKV, ts []rsGGUFTensor) *rsVirtual {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	str := func(s string) { le(uint64(len(s))); b.WriteString(s) }
	b.WriteString("GGUF")
	le(uint32(3))
	le(uint64(len(ts)))
	le(uint64(len(kvs)))
	for _, kv := range kvs {
		str(kv.key)
		switch v := kv.val.(type) {
		case uint32:
			le(uint32(gguf.TypeUint32))
			le(v)
		case string:
			le(uint32(gguf.TypeString))
			str(v)
		case []uint32:
			le(uint32(gguf.TypeArray))
			le(uint32(gguf.TypeUint32))
			le(uint64(len(v)))
			le(v)
		default:
			panic("rsGGUF: value type")
		}
	}
	const align = gguf.DefaultAlignment
	var off int64
	for _, t := range ts {
		str(t.name)
		le(uint32(len(t.dims)))
		le(t.dims)
		le(uint32(t.typ))
		le(uint64(off))
		n := int64(1)
		for _, d := range t.dims {
			n *= int64(d)
		}
		size := n / t.typ.BlockSize() * t.typ.TypeSize()
		off += (size + align - 1) / align * align
	}
	for b.Len()%align != 0 {
		b.WriteByte(0)
	}
	return &rsVirtual{head: b.Bytes(), size: int64(b.Len()) + off}
}

// rsGGUFLayout writes a Spec the way llama.cpp's converter would: its tensor
// names and ggml dimension order, its metadata keys. Matrices are Q8_0,
// vectors F32.
func rsGGUFLayout(s *Spec, arch string) ([]rsKV, []rsGGUFTensor) {
	u := func(n int) uint64 { return uint64(n) }
	H, V := u(s.Hidden), u(s.Vocab)
	mat := func(name string, dims ...uint64) rsGGUFTensor { return rsGGUFTensor{name, dims, 8} }
	vec := func(name string, n uint64) rsGGUFTensor { return rsGGUFTensor{name, []uint64{n}, 0} }
	ts := []rsGGUFTensor{mat("token_embd.weight", H, V)}
	for i := 0; i < s.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		ts = append(ts, vec(p+"attn_norm.weight", H))
		if m := s.MLA; m != nil {
			qk := u(m.QKNopeHeadDim + m.QKRopeHeadDim)
			if m.QLoRARank > 0 {
				ts = append(ts, mat(p+"attn_q_a.weight", H, u(m.QLoRARank)), vec(p+"attn_q_a_norm.weight", u(m.QLoRARank)), mat(p+"attn_q_b.weight", u(m.QLoRARank), u(s.Heads)*qk))
			} else {
				ts = append(ts, mat(p+"attn_q.weight", H, u(s.Heads)*qk))
			}
			ts = append(ts,
				mat(p+"attn_kv_a_mqa.weight", H, u(m.KVLoRARank+m.QKRopeHeadDim)),
				vec(p+"attn_kv_a_norm.weight", u(m.KVLoRARank)),
				mat(p+"attn_kv_b.weight", u(m.KVLoRARank), u(s.Heads*(m.QKNopeHeadDim+m.VHeadDim))),
				mat(p+"attn_output.weight", u(s.Heads*m.VHeadDim), H))
		} else {
			q, kv := u(s.Heads*s.HeadDim), u(s.KVHeads*s.HeadDim)
			ts = append(ts, mat(p+"attn_q.weight", H, q), mat(p+"attn_k.weight", H, kv), mat(p+"attn_v.weight", H, kv), mat(p+"attn_output.weight", q, H))
			if s.QKVBias {
				ts = append(ts, vec(p+"attn_q.bias", q), vec(p+"attn_k.bias", kv), vec(p+"attn_v.bias", kv))
			}
			if s.QKNorm {
				ts = append(ts, vec(p+"attn_q_norm.weight", u(s.HeadDim)), vec(p+"attn_k_norm.weight", u(s.HeadDim)))
			}
		}
		if s.NormsPerLayer == 4 {
			ts = append(ts, vec(p+"post_attention_norm.weight", H), vec(p+"post_ffw_norm.weight", H))
		}
		ts = append(ts, vec(p+"ffn_norm.weight", H))
		if s.IsMoELayer(i) {
			m := s.MoE
			E, Ie := u(m.Experts), u(m.ExpertIntermediate)
			ts = append(ts, rsGGUFTensor{p + "ffn_gate_inp.weight", []uint64{H, E}, 0},
				mat(p+"ffn_gate_exps.weight", H, Ie, E), mat(p+"ffn_up_exps.weight", H, Ie, E), mat(p+"ffn_down_exps.weight", Ie, H, E))
			if m.SharedIntermediate > 0 {
				Is := u(m.SharedIntermediate)
				ts = append(ts, mat(p+"ffn_gate_shexp.weight", H, Is), mat(p+"ffn_up_shexp.weight", H, Is), mat(p+"ffn_down_shexp.weight", Is, H))
			}
			if arch == "deepseek2" {
				ts = append(ts, vec(p+"exp_probs_b.bias", E)) // a buffer in transformers, stored by llama.cpp
			}
		} else {
			I := u(s.Intermediate)
			ts = append(ts, mat(p+"ffn_gate.weight", H, I), mat(p+"ffn_up.weight", H, I), mat(p+"ffn_down.weight", I, H))
		}
	}
	ts = append(ts, vec("output_norm.weight", H))
	if !s.TiedEmbeddings {
		ts = append(ts, mat("output.weight", H, V))
	}

	a := arch + "."
	kvs := []rsKV{
		{"general.architecture", arch},
		{"general.name", "test " + arch},
		{"general.file_type", uint32(7)}, // MOSTLY_Q8_0
		{a + "block_count", uint32(s.Layers)},
		{a + "context_length", uint32(min(s.MaxPositionEmbeddings, 1<<31))},
		{a + "embedding_length", uint32(s.Hidden)},
		{a + "feed_forward_length", uint32(s.Intermediate)},
		{a + "attention.head_count", uint32(s.Heads)},
		{a + "attention.head_count_kv", uint32(s.KVHeads)},
	}
	if s.MLA == nil {
		kvs = append(kvs, rsKV{a + "attention.key_length", uint32(s.HeadDim)}, rsKV{a + "attention.value_length", uint32(s.HeadDim)}, rsKV{a + "rope.dimension_count", uint32(s.HeadDim)})
	} else {
		m := s.MLA
		kvs = append(kvs,
			rsKV{a + "attention.key_length", uint32(m.QKNopeHeadDim + m.QKRopeHeadDim)},
			rsKV{a + "attention.value_length", uint32(m.VHeadDim)},
			rsKV{a + "attention.q_lora_rank", uint32(m.QLoRARank)},
			rsKV{a + "attention.kv_lora_rank", uint32(m.KVLoRARank)},
			rsKV{a + "rope.dimension_count", uint32(m.QKRopeHeadDim)},
			rsKV{a + "expert_gating_func", uint32(2)})
	}
	if m := s.MoE; m != nil {
		kvs = append(kvs, rsKV{a + "expert_count", uint32(m.Experts)}, rsKV{a + "expert_used_count", uint32(m.ExpertsPerToken)},
			rsKV{a + "expert_feed_forward_length", uint32(m.ExpertIntermediate)}, rsKV{a + "leading_dense_block_count", uint32(len(m.DenseLayers))})
		if m.SharedExperts > 0 {
			kvs = append(kvs, rsKV{a + "expert_shared_count", uint32(m.SharedExperts)})
		}
	}
	if hasSliding(s.LayerAttention) {
		kvs = append(kvs, rsKV{a + "attention.sliding_window", uint32(s.SlidingWindow)})
	}
	return kvs, ts
}

// rsArchFields is what a GGUF-derived Spec must share with the config's.
func rsArchFields(s *Spec) map[string]any {
	return map[string]any{
		"model_type": s.ModelType, "layers": s.Layers, "hidden": s.Hidden, "heads": s.Heads, "kv_heads": s.KVHeads,
		"head_dim": s.HeadDim, "vocab": s.Vocab, "intermediate": s.Intermediate, "tied": s.TiedEmbeddings,
		"qkv_bias": s.QKVBias, "out_bias": s.OutBias, "qk_norm": s.QKNorm, "gated": s.MLPGated, "mlp_bias": s.MLPBias,
		"norm": s.Norm, "norms_per_layer": s.NormsPerLayer, "moe": s.MoE, "mla": s.MLA,
		"layer_attention": s.LayerAttention, "sliding_window": s.SlidingWindow, "max_pos": s.MaxPositionEmbeddings,
	}
}

// TestSpecFromGGUF writes GGUF tensor tables for five architectures the way
// llama.cpp lays them out, and checks that the Spec built from the GGUF
// matches the one from the model's config.json, and that both give the
// parameter count measured with the reference implementation.
func TestSpecFromGGUF(t *testing.T) {
	tests := []struct {
		id, arch, truth string
		// extra is what the GGUF stores beyond transformers' parameters.
		extra func(s *Spec) int64
	}{
		{"meta-llama/Llama-3.1-8B", "llama", "llama-3.1-8b", nil},
		{"Qwen/Qwen2.5-0.5B", "qwen2", "qwen2.5-0.5b", nil},
		{"google/gemma-2-9b-it", "gemma2", "gemma-2-9b", nil},
		{"Qwen/Qwen3-30B-A3B", "qwen3moe", "qwen3-30b-a3b", nil},
		{"deepseek-ai/DeepSeek-V3", "deepseek2", "deepseek-v3", func(s *Spec) int64 {
			return int64(s.MoELayers() * s.MoE.Experts) // exp_probs_b, a buffer in transformers
		}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			want, _ := rsConfigSpec(t, tc.id)
			truth := rsTruth(t, tc.truth)
			if got := want.Params().Total; got != truth {
				t.Fatalf("config spec params %d, ground truth %d: fix ParseConfig/Params first", got, truth)
			}
			kvs, ts := rsGGUFLayout(want, tc.arch)
			v := rsGGUF(kvs, ts)
			f, err := gguf.Parse(v, v.size, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := SpecFromGGUF(f, "test.gguf")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rsArchFields(want), rsArchFields(got)); diff != "" {
				t.Errorf("GGUF spec differs from config spec (-config +gguf):\n%s", diff)
			}
			if p := got.Params().Total; p != truth {
				t.Errorf("GGUF spec params = %d, want %d", p, truth)
			}
			extra := int64(0)
			if tc.extra != nil {
				extra = tc.extra(want)
			}
			if got.Inventory.Params != truth+extra {
				t.Errorf("inventory params = %d, want %d + %d", got.Inventory.Params, truth, extra)
			}
			if got.Quant == nil || got.Quant.Method != dtype.CheckpointGGUF || got.Quant.Format != "Q8_0" {
				t.Errorf("quant = %+v", got.Quant)
			}
			if !strings.HasPrefix(got.Source, "gguf test.gguf (architecture "+tc.arch) {
				t.Errorf("source = %q", got.Source)
			}
			if kw, kg := want.KVBytesPerToken(dtype.KVBF16), got.KVBytesPerToken(dtype.KVBF16); kw != kg {
				t.Errorf("KV bytes per token: config %d, GGUF %d", kw, kg)
			}
		})
	}
}

func TestSpecFromGGUFApproximations(t *testing.T) {
	s, _ := rsConfigSpec(t, "meta-llama/Llama-3.1-8B")
	kvs, ts := rsGGUFLayout(s, "llama")
	kvs[0].val = "futurearch"
	for i := range kvs {
		kvs[i].key = strings.Replace(kvs[i].key, "llama.", "futurearch.", 1)
	}
	kvs = append(kvs, rsKV{"futurearch.attention.sliding_window", uint32(4096)})
	v := rsGGUF(kvs, ts)
	f, err := gguf.Parse(v, v.size, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := SpecFromGGUF(f, "m.gguf")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"approximate:", `architecture "futurearch" has no Hugging Face equivalent`, "all layers counted as full attention"} {
		if !strings.Contains(got.Source, w) {
			t.Errorf("source %q lacks %q", got.Source, w)
		}
	}
	if got.LayerAttention != nil {
		t.Errorf("layer attention = %v, want all full", got.LayerAttention)
	}

	// Missing architecture keys: a clear error.
	v = rsGGUF([]rsKV{{"general.architecture", "llama"}, {"llama.block_count", uint32(2)}}, nil)
	f, _ = gguf.Parse(v, v.size, nil)
	if _, err := SpecFromGGUF(f, "m.gguf"); err == nil || !strings.Contains(err.Error(), "lacks llama.embedding_length, llama.attention.head_count") {
		t.Errorf("err = %v", err)
	}
}

// ---- a Hub on loopback ----

type rsHub struct {
	srv   *httptest.Server
	mu    sync.Mutex
	files map[string]*rsVirtual // "repo@rev/path"
	gated map[string]bool
	hits  int
}

func newRSHub(t *testing.T) *rsHub {
	h := &rsHub{files: map[string]*rsVirtual{}, gated: map[string]bool{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *rsHub) add(repo, rev, path string, v *rsVirtual) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[repo+"@"+rev+"/"+path] = v
}

func (h *rsHub) requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits
}

func (h *rsHub) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.hits++
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if len(segs) < 5 || segs[2] != "resolve" {
		h.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	repo := segs[0] + "/" + segs[1]
	rev, _ := url.PathUnescape(segs[3])
	path, _ := url.PathUnescape(strings.Join(segs[4:], "/"))
	v, ok := h.files[repo+"@"+rev+"/"+path]
	gated := h.gated[repo]
	h.mu.Unlock()
	if gated && r.Header.Get("Authorization") == "" {
		w.Header().Set("X-Error-Code", "GatedRepo")
		http.Error(w, "gated", http.StatusUnauthorized)
		return
	}
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	c := &rsVirtual{head: v.head, size: v.size} // own read position
	http.ServeContent(w, r, path, time.Time{}, c)
}

func (h *rsHub) client(cache string) *hfhub.Client {
	return &hfhub.Client{Endpoint: h.srv.URL, CacheDir: cache, RetryBaseDelay: time.Millisecond}
}

func rsBytes(b []byte) *rsVirtual { return &rsVirtual{head: b, size: int64(len(b))} }

// TestResolveCatalogReadHeaders resolves a catalog model and reads its
// four-shard checkpoint's headers from the Hub (data virtual, 16 GB), then
// repeats the run offline from the cache.
func TestResolveCatalogReadHeaders(t *testing.T) {
	cat, err := EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	spec, raw := rsConfigSpec(t, "meta-llama/Llama-3.1-8B")
	truth := rsTruth(t, "llama-3.1-8b")
	h := newRSHub(t)
	const repo = "meta-llama/Llama-3.1-8B"
	h.add(repo, "main", "config.json", rsBytes(raw))
	all := rsHFTensors(spec)
	wm := map[string]string{}
	per := (len(all) + 3) / 4
	for s := 0; s < 4; s++ {
		part := all[s*per : min((s+1)*per, len(all))]
		name := fmt.Sprintf("model-%05d-of-00004.safetensors", s+1)
		h.add(repo, "main", name, rsSafetensors(part))
		for _, p := range part {
			wm[p.name] = name
		}
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 2 * truth}, "weight_map": wm})
	h.add(repo, "main", safetensors.IndexFile, rsBytes(idx))

	cache := t.TempDir()
	opts := ResolveOptions{Catalog: cat, Hub: h.client(cache), ReadCatalogHeaders: true}
	got, err := Resolve(context.Background(), "llama-3.1-8b", opts)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != repo || got.Inventory == nil {
		t.Fatalf("spec %s, inventory %v", got.ID, got.Inventory)
	}
	inv := got.Inventory
	if inv.Params != truth || int64(inv.Bytes) != 2*truth || inv.Format != "safetensors" {
		t.Errorf("inventory: %d params, %d bytes, format %s; want %d, %d", inv.Params, inv.Bytes, inv.Format, truth, 2*truth)
	}
	if d := inv.ByDType["BF16"]; d.Elements != truth || len(inv.ByDType) != 1 {
		t.Errorf("by dtype %v", inv.ByDType)
	}
	if got.Params().Total != inv.Params {
		t.Errorf("config params %d != header params %d", got.Params().Total, inv.Params)
	}

	// Without ReadHeaders the catalog answers alone, with no request.
	n := h.requests()
	// ReadHeaders is for Hub ids outside the catalog: catalog models stay
	// offline unless ReadCatalogHeaders asks.
	plain, err := Resolve(context.Background(), "llama-3.1-8b", ResolveOptions{Catalog: cat, Hub: h.client(t.TempDir()), ReadHeaders: true})
	if err != nil || plain.Inventory != nil || h.requests() != n {
		t.Errorf("catalog-only resolve: %v, inventory %v, %d requests", err, plain.Inventory, h.requests()-n)
	}

	// Offline, from the cache of the first run.
	off, err := Resolve(context.Background(), "llama-3.1-8b", ResolveOptions{Catalog: cat, Hub: h.client(cache), Offline: true, ReadCatalogHeaders: true})
	if err != nil {
		t.Fatalf("offline: %v", err)
	}
	if h.requests() != n {
		t.Errorf("offline run made %d requests", h.requests()-n)
	}
	if off.Inventory.Params != truth {
		t.Errorf("offline inventory params %d", off.Inventory.Params)
	}
}

func TestResolveHub(t *testing.T) {
	spec, raw := rsConfigSpec(t, "Qwen/Qwen2.5-0.5B")
	truth := rsTruth(t, "qwen2.5-0.5b")
	h := newRSHub(t)
	h.add("someone/qwen-copy", "main", "config.json", rsBytes(raw))
	h.add("someone/qwen-copy", "main", "model.safetensors", rsSafetensors(rsHFTensors(spec)))
	h.add("someone/qwen-copy", "v2", "config.json", rsBytes(raw))
	h.add("someone/gguf-only", "main", "model-Q8_0.gguf", rsBytes([]byte("GGUF")))
	h.add("meta/gated", "main", "config.json", rsBytes(raw))
	h.gated["meta/gated"] = true
	ctx := context.Background()

	t.Run("config and single-file headers", func(t *testing.T) {
		got, err := Resolve(ctx, "someone/qwen-copy", ResolveOptions{Hub: h.client(t.TempDir()), ReadHeaders: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "someone/qwen-copy" || got.Revision != "main" || !strings.HasSuffix(got.Source, "/someone/qwen-copy/resolve/main/config.json") {
			t.Errorf("id %s rev %s source %s", got.ID, got.Revision, got.Source)
		}
		if got.Inventory == nil || got.Inventory.Params != truth {
			t.Errorf("inventory = %+v, want %d params", got.Inventory, truth)
		}
	})
	t.Run("revision and URL forms", func(t *testing.T) {
		for _, ref := range []string{"someone/qwen-copy@v2", h.srv.URL + "/someone/qwen-copy/tree/v2"} {
			got, err := Resolve(ctx, ref, ResolveOptions{Hub: h.client(t.TempDir())})
			if err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			if got.Revision != "v2" || got.Inventory != nil {
				t.Errorf("%s: revision %s", ref, got.Revision)
			}
		}
	})
	t.Run("no safetensors weights", func(t *testing.T) {
		_, err := Resolve(ctx, "someone/qwen-copy@v2", ResolveOptions{Hub: h.client(t.TempDir()), ReadHeaders: true})
		if err == nil || !strings.Contains(err.Error(), "has neither model.safetensors.index.json nor model.safetensors") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("GGUF-only repository", func(t *testing.T) {
		_, err := Resolve(ctx, "someone/gguf-only", ResolveOptions{Hub: h.client(t.TempDir())})
		if err == nil || !strings.Contains(err.Error(), "pass the URL of its .gguf file") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("gated", func(t *testing.T) {
		_, err := Resolve(ctx, "meta/gated", ResolveOptions{Hub: h.client(t.TempDir())})
		if !errors.Is(err, hfhub.ErrAccess) || !strings.Contains(err.Error(), "HF_TOKEN") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("offline without cache", func(t *testing.T) {
		_, err := Resolve(ctx, "someone/qwen-copy", ResolveOptions{Hub: h.client(t.TempDir()), Offline: true})
		if !errors.Is(err, hfhub.ErrNotCached) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestResolveGGUFURLs(t *testing.T) {
	spec, _ := rsConfigSpec(t, "meta-llama/Llama-3.1-8B")
	truth := rsTruth(t, "llama-3.1-8b")
	kvs, ts := rsGGUFLayout(spec, "llama")
	file := rsGGUF(kvs, ts)
	h := newRSHub(t)
	h.add("someone/Llama-3.1-8B-GGUF", "main", "Llama-3.1-8B-Q8_0.gguf", file)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/models/llama.gguf" {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "llama.gguf", time.Time{}, &rsVirtual{head: file.head, size: file.size})
	}))
	defer other.Close()
	ctx := context.Background()
	tests := []struct {
		ref, id string
	}{
		{h.srv.URL + "/someone/Llama-3.1-8B-GGUF/resolve/main/Llama-3.1-8B-Q8_0.gguf", "someone/Llama-3.1-8B-GGUF"},
		{h.srv.URL + "/someone/Llama-3.1-8B-GGUF/blob/main/Llama-3.1-8B-Q8_0.gguf", "someone/Llama-3.1-8B-GGUF"},
		{other.URL + "/models/llama.gguf?download=1", "test llama"},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			got, err := Resolve(ctx, tc.ref, ResolveOptions{Hub: h.client(t.TempDir())})
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tc.id || got.Params().Total != truth || got.Inventory.Params != truth {
				t.Errorf("id %q params %d inventory %d; want %q, %d", got.ID, got.Params().Total, got.Inventory.Params, tc.id, truth)
			}
			if strings.Contains(got.Source, "download=1") {
				t.Errorf("source keeps the query: %s", got.Source)
			}
		})
	}
	if _, err := Resolve(ctx, other.URL+"/models/llama.bin", ResolveOptions{Hub: h.client("")}); err == nil || !strings.Contains(err.Error(), "neither a .gguf file") {
		t.Errorf("err = %v", err)
	}
}

func TestResolveLocal(t *testing.T) {
	ctx := context.Background()
	qwen, qraw := rsConfigSpec(t, "Qwen/Qwen2.5-0.5B")
	qtruth := rsTruth(t, "qwen2.5-0.5b")
	llama, _ := rsConfigSpec(t, "meta-llama/Llama-3.1-8B")
	ltruth := rsTruth(t, "llama-3.1-8b")

	dir := t.TempDir()
	model := filepath.Join(dir, "Qwen2.5-0.5B")
	os.Mkdir(model, 0o755)
	os.WriteFile(filepath.Join(model, "config.json"), qraw, 0o644)
	rsWriteSparse(t, filepath.Join(model, "model.safetensors"), rsSafetensors(rsHFTensors(qwen)))

	cfgOnly := filepath.Join(dir, "cfg")
	os.Mkdir(cfgOnly, 0o755)
	os.WriteFile(filepath.Join(cfgOnly, "config.json"), qraw, 0o644)

	ggufDir := filepath.Join(dir, "gguf")
	os.Mkdir(ggufDir, 0o755)
	kvs, ts := rsGGUFLayout(llama, "llama")
	rsWriteSparse(t, filepath.Join(ggufDir, "llama.gguf"), rsGGUF(kvs, ts))

	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)

	tests := []struct {
		name      string
		ref       string
		id        string
		params    int64
		inventory int64 // 0: none
		format    string
	}{
		{"model directory", model, "Qwen2.5-0.5B", qtruth, qtruth, "safetensors"},
		{"safetensors file means its directory", filepath.Join(model, "model.safetensors"), "Qwen2.5-0.5B", qtruth, qtruth, "safetensors"},
		{"config.json file", filepath.Join(model, "config.json"), "Qwen2.5-0.5B", qtruth, 0, ""},
		{"directory with only config.json", cfgOnly, "cfg", qtruth, 0, ""},
		{"gguf file", filepath.Join(ggufDir, "llama.gguf"), "test llama", ltruth, ltruth, "gguf"},
		{"directory holding a gguf", ggufDir, "test llama", ltruth, ltruth, "gguf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(ctx, tc.ref, ResolveOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tc.id || got.Params().Total != tc.params {
				t.Errorf("id %q params %d; want %q, %d", got.ID, got.Params().Total, tc.id, tc.params)
			}
			switch {
			case tc.inventory == 0 && got.Inventory != nil:
				t.Errorf("unexpected inventory %+v", got.Inventory)
			case tc.inventory != 0 && (got.Inventory == nil || got.Inventory.Params != tc.inventory || got.Inventory.Format != tc.format):
				t.Errorf("inventory = %+v, want %d params of %s", got.Inventory, tc.inventory, tc.format)
			}
		})
	}

	errs := []struct {
		name, ref, want string
	}{
		{"empty", "  ", "no model given"},
		{"missing path", "./no/such/model", "a local path must exist"},
		{"missing json", "nope.json", "a local path must exist"},
		{"directory without model", empty, "has no config.json and no .gguf file"},
		{"three-part id", "a/b/c", "not a local path and not a Hugging Face id"},
		{"bad id", "org/-bad", "invalid"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Resolve(ctx, tc.ref, ResolveOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestResolveCatalogMiss(t *testing.T) {
	cat, err := EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Resolve(context.Background(), "llama-3.1-8", ResolveOptions{Catalog: cat})
	if !errors.Is(err, ErrNotInCatalog) || !strings.Contains(err.Error(), "did you mean") {
		t.Errorf("err = %v, want the catalog's suggestion", err)
	}
}

// TestResolveCatalogAndHubOnly resolves, with CatalogAndHubOnly, references
// that name existing local files and directories (with and without
// surrounding spaces): none is read, and no message names a path.
func TestResolveCatalogAndHubOnly(t *testing.T) {
	cat, err := EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, qraw := rsConfigSpec(t, "Qwen/Qwen2.5-0.5B")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), qraw, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	home, _ := os.UserHomeDir()
	opts := ResolveOptions{Catalog: cat, Offline: true, CatalogAndHubOnly: true}
	for _, ref := range []string{"config.json", " config.json", "config.json ", ".", " .", "~", " ~", "\u00a0~", dir, " " + dir, "file://" + dir, "http://127.0.0.1:1/x.gguf", "privmodel", " privmodel"} {
		t.Run(ref, func(t *testing.T) {
			spec, err := Resolve(context.Background(), ref, opts)
			if err == nil {
				t.Fatalf("resolved %q to %s (%s)", ref, spec.ID, spec.Source)
			}
			msg := err.Error()
			for _, p := range []string{dir, home} {
				if p != "" && p != "/" && strings.Contains(msg, p) && !strings.Contains(ref, p) {
					t.Errorf("message names the path %s: %s", p, msg)
				}
			}
			if strings.Contains(msg, "local path to a config.json") {
				t.Errorf("message suggests a local path: %s", msg)
			}
		})
	}
	// A catalog id still resolves, spaces and all.
	if spec, err := Resolve(context.Background(), " llama-3.1-8b ", opts); err != nil || spec.Params().Total == 0 {
		t.Errorf("catalog id: %v", err)
	}
}

// TestNotFoundMessage checks the catalog miss reads as sentences with or
// without suggestions ("...catalog A Hugging Face id" lacked a separator).
func TestNotFoundMessage(t *testing.T) {
	for _, e := range []*NotFoundError{{Ref: "nope"}, {Ref: "llama-3.1-8", Suggestions: []string{"llama-3.1-8b"}}} {
		msg := e.Error()
		if !strings.Contains(msg, ". A Hugging Face id") && !strings.Contains(msg, "? A Hugging Face id") {
			t.Errorf("%q: no sentence break before the hint", msg)
		}
	}
}

func TestResolveCorruptLocalHeader(t *testing.T) {
	_, qraw := rsConfigSpec(t, "Qwen/Qwen2.5-0.5B")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), qraw, 0o644)
	os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("\xff\xff\xff\xff\xff\xff\xff\xffjunk"), 0o644)
	_, err := Resolve(context.Background(), dir, ResolveOptions{})
	if !errors.Is(err, safetensors.ErrFormat) || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("err = %v", err)
	}
}

// Resolving a catalog alias needs no network: the architecture comes from
// the embedded config.json.
func ExampleResolve() {
	cat, err := EmbeddedCatalog()
	if err != nil {
		fmt.Println(err)
		return
	}
	spec, err := Resolve(context.Background(), "qwen2.5-0.5b", ResolveOptions{Catalog: cat, Offline: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.ID, spec.Layers, "layers,", spec.Params().Total, "parameters")
	// Output: Qwen/Qwen2.5-0.5B 24 layers, 494032768 parameters
}
