package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func apply(t *testing.T, text, name string) (*model.Catalog, *hardware.Catalog, error) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p)
	if err != nil {
		return nil, nil, err
	}
	mc, err := model.EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.Apply(Catalogs{Models: mc, Hardware: hardware.Default(), Costs: cost.Default()}, now)
	return c.Models, c.Hardware, err
}

// A measured CUDA figure overrides the H100's, field by field, and a new
// model with an inline config resolves by id and alias.
func TestApplyYAML(t *testing.T) {
	const overlay = `
schema_version: 1
gpus:
  - id: h100-sxm
    cuda_memory_bytes: 85000000000
    source: https://example.com/our-h100-measurement
    as_of: "2026-11-01"
models:
  - id: example/tiny-llama
    aliases: [tiny-llama]
    source: https://example.com/tiny-llama/config.json
    as_of: "2026-10-01"
    config_json:
      architectures: [LlamaForCausalLM]
      model_type: llama
      hidden_size: 256
      intermediate_size: 1024
      num_hidden_layers: 2
      num_attention_heads: 4
      num_key_value_heads: 2
      vocab_size: 1000
      max_position_embeddings: 2048
      tie_word_embeddings: false
      torch_dtype: bfloat16
`
	mc, hc, err := apply(t, overlay, "overlay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := hc.LookupGPU("h100-sxm")
	if err != nil {
		t.Fatal(err)
	}
	if g.CUDAMemory != units.Bytes(85000000000) {
		t.Errorf("h100-sxm CUDA memory = %d, want the overlay's 85000000000", g.CUDAMemory)
	}
	if g.MemoryBandwidth == 0 {
		t.Error("the overlay should change only cuda_memory_bytes, but bandwidth was lost")
	}
	base, _ := hardware.Default().LookupGPU("h100-sxm")
	if base.CUDAMemory == units.Bytes(85000000000) {
		t.Error("Apply modified the shared default hardware catalog")
	}
	spec, _, err := mc.Lookup("tiny-llama")
	if err != nil {
		t.Fatal(err)
	}
	// embed 1000×256 + lm_head 1000×256 + 2 layers × (q 256×256 + k,v 2×256×128
	// + o 256×256 + mlp 3×256×1024 + 2 norms × 256) + final norm 256.
	want := int64(1000*256*2 + 2*(256*256+2*256*128+256*256+3*256*1024+2*256) + 256)
	if got := spec.Params().Total; got != want {
		t.Errorf("tiny-llama params = %d, want %d", got, want)
	}
}

func TestRejects(t *testing.T) {
	tests := map[string]string{
		"unknown key":     `{"schema_version":1,"gpu":[]}`,
		"no version":      `{"models":[]}`,
		"future date":     `{"schema_version":1,"gpus":[{"id":"h100-sxm","cuda_memory_bytes":1,"source":"x","as_of":"2999-01-01"}]}`,
		"missing source":  `{"schema_version":1,"gpus":[{"id":"h100-sxm","cuda_memory_bytes":1,"as_of":"2026-01-01"}]}`,
		"model no source": `{"schema_version":1,"models":[{"id":"a/b","as_of":"2026-01-01","config_json":{"model_type":"llama"}}]}`,
		"bad config":      `{"schema_version":1,"models":[{"id":"a/b","source":"https://x","as_of":"2026-01-01","config_json":{"model_type":"llama","num_hidden_layers":-1}}]}`,
		"not yaml":        "models: [\n",
		"empty":           "  ",
	}
	for name, text := range tests {
		if _, _, err := apply(t, text, "o.json"); err == nil {
			t.Errorf("%s: overlay accepted", name)
		}
	}
}

func TestConfigPath(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":2,"vocab_size":10,"max_position_embeddings":128}`
	if err := os.WriteFile(filepath.Join(dir, "cfg.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	over := `{"schema_version":1,"models":[{"id":"x/y","source":"https://x","as_of":"2026-01-01","config_path":"cfg.json"}]}`
	p := filepath.Join(dir, "o.json")
	if err := os.WriteFile(p, []byte(over), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	mc, _ := model.EmbeddedCatalog()
	c, err := f.Apply(Catalogs{Models: mc, Hardware: hardware.Default(), Costs: cost.Default()}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Models.Lookup("x/y"); err != nil {
		t.Error(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"schema_version":1}`)
	f.Add("schema_version: 1\ngpus:\n  - id: t4\n")
	f.Add(`{"schema_version":1,"models":[{"id":"a","config_json":{}}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		file, err := Parse(strings.NewReader(in), "fuzz")
		if err == nil && file.SchemaVersion != SchemaVersion {
			t.Fatalf("accepted schema_version %d", file.SchemaVersion)
		}
	})
}
