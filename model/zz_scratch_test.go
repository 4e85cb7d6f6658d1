package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
)

func TestScratch(t *testing.T) {
	files, _ := filepath.Glob("/work/shared/reference/configs/*.json")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		s, err := ParseConfig(b)
		if err != nil {
			fmt.Println(filepath.Base(f), "ERR", err)
			continue
		}
		p := s.Params()
		fmt.Printf("%-50s total=%d (%.3fB) active=%d (%.3fB) ane=%.3fB withMTP=%.3fB kv/tok=%d\n", filepath.Base(f), p.Total, float64(p.Total)/1e9, p.Active, float64(p.Active)/1e9, float64(p.ActiveNonEmbedding)/1e9, float64(p.TotalWithMTP)/1e9, s.KVBytesPerToken(dtype.KVAuto))
	}
	var gt struct{ Models map[string]struct {
		Config map[string]any
		Params_total int64 `json:"params_total"`
		Groups map[string]int64 `json:"params_by_group"`
		KV []int64 `json:"kv_bytes_per_layer_bf16_for_T_tokens"`
	} }
	b, _ := os.ReadFile("/work/shared/reference/h200-groundtruth.json")
	json.Unmarshal(b, &gt)
	var names []string
	for k := range gt.Models { names = append(names, k) }
	sort.Strings(names)
	for _, n := range names {
		m := gt.Models[n]
		cb, _ := json.Marshal(m.Config)
		s, err := ParseConfig(cb)
		if err != nil { fmt.Println(n, err); continue }
		p := s.Params()
		g := map[string]int64{}
		for k, v := range p.Groups { g[k] = v }
		g["mlp"] += g["router"]; delete(g, "router")
		fmt.Println(n, p.Total == m.Params_total, p.Total, m.Params_total)
		for k, v := range m.Groups { if g[k] != v { fmt.Println("   group", k, g[k], v) } }
		for k, v := range g { if _, ok := m.Groups[k]; !ok { fmt.Println("   extra", k, v) } }
		kl := s.KVLayers()
		for i, want := range m.KV {
			s2 := *s; s2.Layers = 1; s2.LayerAttention = nil
			if s.LayerAttention != nil { s2.LayerAttention = s.LayerAttention[i:i+1] }
			got := s2.KVBytesReference(256, dtype.KVBF16)
			if int64(got) != want { fmt.Println("   kv", i, got, want, kl[i]) }
		}
	}
}

func TestScratch2(t *testing.T) {
	for _, c := range []string{`{"model_type":"mistral3"}`, `{"model_type":"gemma"}`, `{"model_type":"qwen2_moe"}`, `{"model_type":"falcon"}`, `{"model_type":"falcon","tie_word_embeddings":false}`} {
		s, err := ParseConfig([]byte(c))
		if err != nil { fmt.Println(err); continue }
		p := s.Params()
		fmt.Println(c, p.Total, p.Active, p.Groups)
	}
}
