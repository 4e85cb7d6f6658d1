package safetensors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type llamaFixture struct {
	Source string `json:"source"`
	Config struct {
		Hidden     int64 `json:"hidden_size"`
		FFN        int64 `json:"intermediate_size"`
		Layers     int   `json:"num_hidden_layers"`
		Heads      int64 `json:"num_attention_heads"`
		KVHeads    int64 `json:"num_key_value_heads"`
		Vocab      int64 `json:"vocab_size"`
		TieEmbeddi bool  `json:"tie_word_embeddings"`
	} `json:"config"`
	ParamsTotal int64 `json:"params_total"`
}

// llamaShards lays out a Llama-architecture checkpoint over nShards files
// with the tensor names and shapes transformers uses, in dtype.
func llamaShards(t *testing.T, f llamaFixture, nShards int, dtype string) (map[string][]tspec, map[string]string) {
	c := f.Config
	headDim := c.Hidden / c.Heads
	perLayer := func(i int) []tspec {
		p := fmt.Sprintf("model.layers.%d.", i)
		return []tspec{
			{p + "input_layernorm.weight", dtype, []int64{c.Hidden}},
			{p + "self_attn.q_proj.weight", dtype, []int64{c.Heads * headDim, c.Hidden}},
			{p + "self_attn.k_proj.weight", dtype, []int64{c.KVHeads * headDim, c.Hidden}},
			{p + "self_attn.v_proj.weight", dtype, []int64{c.KVHeads * headDim, c.Hidden}},
			{p + "self_attn.o_proj.weight", dtype, []int64{c.Hidden, c.Heads * headDim}},
			{p + "post_attention_layernorm.weight", dtype, []int64{c.Hidden}},
			{p + "mlp.gate_proj.weight", dtype, []int64{c.FFN, c.Hidden}},
			{p + "mlp.up_proj.weight", dtype, []int64{c.FFN, c.Hidden}},
			{p + "mlp.down_proj.weight", dtype, []int64{c.Hidden, c.FFN}},
		}
	}
	shards := make(map[string][]tspec)
	name := func(i int) string { return fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, nShards) }
	shards[name(0)] = append(shards[name(0)], tspec{"model.embed_tokens.weight", dtype, []int64{c.Vocab, c.Hidden}})
	for l := 0; l < c.Layers; l++ {
		s := name(l * nShards / c.Layers)
		shards[s] = append(shards[s], perLayer(l)...)
	}
	last := name(nShards - 1)
	shards[last] = append(shards[last], tspec{"model.norm.weight", dtype, []int64{c.Hidden}})
	if !c.TieEmbeddi {
		shards[last] = append(shards[last], tspec{"lm_head.weight", dtype, []int64{c.Vocab, c.Hidden}})
	}
	wm := make(map[string]string)
	for file, ts := range shards {
		for _, s := range ts {
			wm[s.name] = file
		}
	}
	return shards, wm
}

func loadLlama(t *testing.T) llamaFixture {
	t.Helper()
	data, err := os.ReadFile("testdata/llama-3.1-8b.json")
	if err != nil {
		t.Fatal(err)
	}
	var f llamaFixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestReadShardsLlama31_8B reads a 4-shard checkpoint with Llama-3.1-8B's
// tensor shapes (data sections virtual) and checks the totals against the
// parameter count measured with the reference implementation.
func TestReadShardsLlama31_8B(t *testing.T) {
	f := loadLlama(t)
	shards, wm := llamaShards(t, f, 4, "BF16")
	files := make(map[string]*virtualFile)
	for name, ts := range shards {
		prefix, data := buildPrefix(t, map[string]string{"format": "pt"}, ts)
		files[name] = newVirtual(prefix, data)
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 2 * f.ParamsTotal}, "weight_map": wm})
	ix, err := ParseIndex(idx)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	opened := 0
	open := func(_ context.Context, name string) (io.ReaderAt, int64, error) {
		mu.Lock()
		defer mu.Unlock()
		opened++
		v, ok := files[name]
		if !ok {
			return nil, 0, os.ErrNotExist
		}
		return v, v.size, nil
	}
	c, err := ReadShards(context.Background(), ix, open)
	if err != nil {
		t.Fatal(err)
	}
	if opened != 4 || len(c.Shards) != 4 {
		t.Errorf("opened %d files, %d shards; want 4", opened, len(c.Shards))
	}
	all, by := c.Totals()
	if all.Elements != f.ParamsTotal {
		t.Errorf("elements = %d, want %d (%s)", all.Elements, f.ParamsTotal, f.Source)
	}
	if all.Bytes != 2*f.ParamsTotal || c.IndexTotalSize != 2*f.ParamsTotal {
		t.Errorf("bytes = %d, index total %d, want %d", all.Bytes, c.IndexTotalSize, 2*f.ParamsTotal)
	}
	if len(by) != 1 || by["BF16"] != all {
		t.Errorf("by dtype = %v", by)
	}
	if n := len(c.Tensors()); n != 1+32*9+2 {
		t.Errorf("%d tensors, want %d", n, 1+32*9+2)
	}
	for _, v := range files {
		if len(v.reads) != 1 {
			t.Errorf("a shard was read %d times; its header fits in one read", len(v.reads))
		}
	}
}

func TestReadShardsMismatch(t *testing.T) {
	a, ad := buildPrefix(t, nil, []tspec{{"x", "U8", []int64{1}}, {"y", "U8", []int64{1}}})
	b, bd := buildPrefix(t, nil, []tspec{{"z", "U8", []int64{1}}, {"y", "U8", []int64{1}}})
	files := map[string]*virtualFile{"a.safetensors": newVirtual(a, ad), "b.safetensors": newVirtual(b, bd)}
	open := func(_ context.Context, name string) (io.ReaderAt, int64, error) {
		v, ok := files[name]
		if !ok {
			return nil, 0, os.ErrNotExist
		}
		return v, v.size, nil
	}
	tests := []struct {
		name string
		wm   map[string]string
		want string
	}{
		{"tensor in two shards", map[string]string{"x": "a.safetensors", "z": "b.safetensors"}, `tensor "y" is stored in both a.safetensors and b.safetensors`},
		{"missing shard", map[string]string{"x": "a.safetensors", "q": "c.safetensors"}, "open shard c.safetensors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadShards(context.Background(), &Index{TotalSize: -1, WeightMap: tc.wm}, open)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// The index lies about where tensors are.
	ax, axd := buildPrefixT(t, "x")
	bz, bzd := buildPrefixT(t, "z")
	solo := map[string]*virtualFile{"a.safetensors": newVirtual(ax, axd), "b.safetensors": newVirtual(bz, bzd)}
	openSolo := func(_ context.Context, name string) (io.ReaderAt, int64, error) {
		v := solo[name]
		return v, v.size, nil
	}
	lies := []struct {
		wm   map[string]string
		want string
	}{
		{map[string]string{"x": "b.safetensors", "z": "a.safetensors"}, `index places tensor "x" in b.safetensors, but it is in a.safetensors`},
		{map[string]string{"x": "b.safetensors", "z": "b.safetensors"}, `index places tensor "x" in b.safetensors, but no shard holds it`},
	}
	for _, l := range lies {
		_, err := ReadShards(context.Background(), &Index{WeightMap: l.wm}, openSolo)
		if err == nil || !strings.Contains(err.Error(), l.want) {
			t.Errorf("err = %v, want %q", err, l.want)
		}
	}
}

func buildPrefixT(t *testing.T, name string) ([]byte, int64) {
	return buildPrefix(t, nil, []tspec{{name, "U8", []int64{1}}})
}

func TestParseIndex(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		wantErr   string
		wantTotal int64
		shards    int
	}{
		{"typical", `{"metadata":{"total_size":16060522496},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}}`, "", 16060522496, 2},
		{"total as float", `{"metadata":{"total_size":1.6e10},"weight_map":{"a":"m.safetensors"}}`, "", 16000000000, 1},
		{"no metadata", `{"weight_map":{"a":"m.safetensors"}}`, "", -1, 1},
		{"empty map", `{"weight_map":{}}`, "empty or missing weight_map", 0, 0},
		{"not JSON", `weights`, "not the expected JSON", 0, 0},
		{"escaping path", `{"weight_map":{"a":"../x.safetensors"}}`, "not a clean relative path", 0, 0},
		{"absolute path", `{"weight_map":{"a":"/etc/x.safetensors"}}`, "not a relative path", 0, 0},
		{"not safetensors", `{"weight_map":{"a":"pytorch_model-00001.bin"}}`, "does not end in .safetensors", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := ParseIndex([]byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrFormat) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ix.TotalSize != tc.wantTotal || len(ix.Shards()) != tc.shards {
				t.Errorf("total %d shards %v; want %d, %d", ix.TotalSize, ix.Shards(), tc.wantTotal, tc.shards)
			}
		})
	}
}

func writeST(t *testing.T, dir, name string, ts []tspec) {
	t.Helper()
	prefix, data := buildPrefix(t, nil, ts)
	if err := os.WriteFile(filepath.Join(dir, name), fullFile(prefix, data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadDir(t *testing.T) {
	ctx := context.Background()
	t.Run("index", func(t *testing.T) {
		dir := t.TempDir()
		writeST(t, dir, "model-00001-of-00002.safetensors", []tspec{{"a", "BF16", []int64{4, 4}}})
		writeST(t, dir, "model-00002-of-00002.safetensors", []tspec{{"b", "BF16", []int64{4}}})
		// A consolidated copy next to the shards is ignored because the index names the set.
		writeST(t, dir, "consolidated.safetensors", []tspec{{"a", "BF16", []int64{4, 4}}, {"b", "BF16", []int64{4}}})
		idx := `{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}`
		if err := os.WriteFile(filepath.Join(dir, IndexFile), []byte(idx), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := ReadDir(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if all, _ := c.Totals(); all.Elements != 20 || all.Bytes != 40 {
			t.Errorf("totals = %+v, want 20 elements, 40 bytes", all)
		}
	})
	t.Run("single model.safetensors preferred", func(t *testing.T) {
		dir := t.TempDir()
		writeST(t, dir, "model.safetensors", []tspec{{"a", "F32", []int64{3}}})
		writeST(t, dir, "consolidated.safetensors", []tspec{{"a", "F32", []int64{3}}})
		c, err := ReadDir(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Shards) != 1 || c.Shards[0].File != "model.safetensors" {
			t.Errorf("shards = %+v", c.Shards)
		}
	})
	t.Run("several files without index", func(t *testing.T) {
		dir := t.TempDir()
		writeST(t, dir, "part1.safetensors", []tspec{{"a", "F32", []int64{3}}})
		writeST(t, dir, "part2.safetensors", []tspec{{"b", "F32", []int64{3}}})
		c, err := ReadDir(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if all, _ := c.Totals(); all.Bytes != 24 {
			t.Errorf("bytes = %d, want 24", all.Bytes)
		}
	})
	t.Run("two copies without index", func(t *testing.T) {
		dir := t.TempDir()
		writeST(t, dir, "consolidated.safetensors", []tspec{{"a", "F32", []int64{3}}})
		writeST(t, dir, "other.safetensors", []tspec{{"a", "F32", []int64{3}}})
		_, err := ReadDir(ctx, dir)
		if err == nil || !strings.Contains(err.Error(), "several checkpoints") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		_, err := ReadDir(ctx, t.TempDir())
		if !errors.Is(err, ErrNoCheckpoint) {
			t.Fatalf("err = %v, want ErrNoCheckpoint", err)
		}
	})
	t.Run("bad index", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, IndexFile), []byte(`{}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadDir(ctx, dir); err == nil || !strings.Contains(err.Error(), IndexFile) {
			t.Fatalf("err = %v", err)
		}
	})
}
