package model

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
)

// h200Truth is testdata/groundtruth/h200-models.json: the reference
// implementation's exact counts for 13 partial configs.
type h200Truth struct {
	Models map[string]struct {
		Config       map[string]any   `json:"config"`
		Total        int64            `json:"params_total"`
		Groups       map[string]int64 `json:"params_by_group"`
		KVBytes      []int64          `json:"kv_bytes_per_layer_bf16_for_T_tokens"`
		KVLayerTypes []string         `json:"kv_layer_types"`
		KVTokens     int64            `json:"kv_oracle_tokens"`
	} `json:"models"`
}

func loadH200Truth(t *testing.T) h200Truth {
	t.Helper()
	var gt h200Truth
	b, err := os.ReadFile(filepath.Join("testdata", "groundtruth", "h200-models.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &gt); err != nil {
		t.Fatal(err)
	}
	if len(gt.Models) != 13 {
		t.Fatalf("ground truth has %d models, want 13", len(gt.Models))
	}
	return gt
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func parseSpec(t *testing.T, data []byte) *Spec {
	t.Helper()
	s, err := ParseConfig(data)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return s
}

// readRefConfig returns an embedded config.json (data/configs/name), the
// bytes the catalog serves; their provenance is in data/catalog.json.
func readRefConfig(t *testing.T, name string) []byte {
	t.Helper()
	b, err := catalogFS.ReadFile(path.Join(catalogConfigDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParamsGroundTruth checks the total and every group against the
// reference implementation for the 13 partial configs, whose missing keys
// transformers filled from its config-class defaults.
func TestParamsGroundTruth(t *testing.T) {
	gt := loadH200Truth(t)
	for _, name := range sortedNames(gt.Models) {
		m := gt.Models[name]
		t.Run(name, func(t *testing.T) {
			cfg, err := json.Marshal(m.Config)
			if err != nil {
				t.Fatal(err)
			}
			p := parseSpec(t, cfg).Params()
			if p.Total != m.Total {
				t.Errorf("total = %d, want %d (diff %d)", p.Total, m.Total, p.Total-m.Total)
			}
			// The reference put routers in "mlp" (it grouped by parameter
			// name, and a router is neither attention nor an expert).
			got := map[string]int64{}
			for k, v := range p.Groups {
				got[k] = v
			}
			got[GroupMLP] += got[GroupRouter]
			delete(got, GroupRouter)
			for _, k := range sortedNames(m.Groups) {
				if got[k] != m.Groups[k] {
					t.Errorf("group %s = %d, want %d", k, got[k], m.Groups[k])
				}
			}
			for _, k := range sortedNames(got) {
				if _, ok := m.Groups[k]; !ok {
					t.Errorf("group %s = %d, absent from the reference", k, got[k])
				}
			}
		})
	}
}

// publishedCounts is testdata/groundtruth/published.json.
type publishedCounts struct {
	Models []struct {
		Config     string          `json:"config"`
		ConfigJSON json.RawMessage `json:"config_json"`
		Name       string          `json:"name"`
		Total      int64           `json:"total"`
		Active     int64           `json:"active"`
		ActiveNE   int64           `json:"active_non_embedding"`
		HFTotal    int64           `json:"hf_safetensors"`
		HeadStored int64           `json:"hub_head_stored"`
		CardTotal  float64         `json:"card_total_b"`
		CardActive float64         `json:"card_active_b"`
		CardANE    float64         `json:"card_active_non_embedding_b"`
		CardText   float64         `json:"card_active_text_b"`
		CardNonEmb float64         `json:"card_non_embedding_b"`
		Source     string          `json:"source"`
	} `json:"models"`
}

// cardAgrees reports whether count (parameters) matches a card's rounded
// figure in billions within one unit of the card's last digit.
func cardAgrees(count int64, cardB float64) (bool, string) {
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", cardB), "0"), ".")
	unit := 1.0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		unit = math.Pow(10, -float64(len(s)-i-1))
	}
	got := float64(count) / 1e9
	return math.Abs(got-cardB) < unit, fmt.Sprintf("%.3fB vs card %sB (±%g)", got, s, unit)
}

// TestParamsPublished checks the embedded configs listed in published.json against
// published sizes: exact where a public source gives the exact count, the
// model card's rounded size otherwise (see published.json for sources).
func TestParamsPublished(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "groundtruth", "published.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pub publishedCounts
	if err := json.Unmarshal(b, &pub); err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, m := range pub.Models {
		name := m.Config
		if name == "" {
			name = m.Name
		}
		t.Run(name, func(t *testing.T) {
			var data []byte
			if m.Config != "" {
				data = readRefConfig(t, m.Config)
				covered[m.Config] = true
			} else {
				data = m.ConfigJSON
			}
			s := parseSpec(t, data)
			p := s.Params()
			exact := []struct {
				what      string
				got, want int64
			}{
				{"total", p.Total, m.Total},
				{"active", p.Active, m.Active},
				{"active non-embedding", p.ActiveNonEmbedding, m.ActiveNE},
			}
			for _, e := range exact {
				if e.want != 0 && e.got != e.want {
					t.Errorf("%s = %d, want %d (diff %d; source: %s)", e.what, e.got, e.want, e.got-e.want, m.Source)
				}
			}
			nonEmbedding := p.Total - p.Groups[GroupEmbed] - p.Groups[GroupLMHead]
			textActive := p.Active - p.Groups[GroupVision]
			cards := []struct {
				what string
				got  int64
				card float64
			}{
				{"total", p.Total, m.CardTotal},
				{"active", p.Active, m.CardActive},
				{"active non-embedding", p.ActiveNonEmbedding, m.CardANE},
				{"active language model", textActive, m.CardText},
				{"non-embedding", nonEmbedding, m.CardNonEmb},
			}
			for _, c := range cards {
				if c.card == 0 {
					continue
				}
				if ok, msg := cardAgrees(c.got, c.card); !ok {
					t.Errorf("%s: %s (source: %s)", c.what, msg, m.Source)
				}
			}
			if m.HeadStored != 0 {
				if !s.TiedEmbeddings {
					t.Fatalf("hub_head_stored is for tied configs")
				}
				if got := p.Total + int64(s.Vocab)*int64(s.Hidden); got != m.HeadStored {
					t.Errorf("total + a stored head = %d, want %d (diff %d)", got, m.HeadStored, got-m.HeadStored)
				}
			}
			if m.HFTotal != 0 {
				if got := checkpointTensors(t, s); got != m.HFTotal {
					t.Errorf("checkpoint tensors = %d, want the Hub's %d (diff %d)", got, m.HFTotal, got-m.HFTotal)
				}
			}
		})
	}
	if len(covered) < 49 {
		t.Errorf("published.json covers %d embedded configs, want the 49 with published sizes", len(covered))
	}
}

// checkpointTensors rebuilds the element count of DeepSeek-V3's published
// checkpoint from the Spec: the loaded model, the MTP module plus the
// embedding and head copies it stores (README_WEIGHTS.md: layer 61 holds
// embed_tokens and shared_head.head), one e_score_correction_bias of
// n_routed_experts per MoE layer (a buffer, not a transformers parameter),
// and one fp32 weight_scale_inv per 128 × 128 block of every FP8 linear
// weight (every projection in the decoder layers; not the routers, eh_proj,
// embeddings or head, which are bf16).
func checkpointTensors(t *testing.T, s *Spec) int64 {
	t.Helper()
	if s.MLA == nil || s.MoE == nil || s.Quant == nil || len(s.Quant.BlockSize) != 2 {
		t.Fatalf("checkpointTensors handles DeepSeek-V3-style FP8 MLA checkpoints only")
	}
	p := s.Params()
	H, V := int64(s.Hidden), int64(s.Vocab)
	bs := int64(s.Quant.BlockSize[0])
	blocks := func(out, in int64) int64 { return ((out + bs - 1) / bs) * ((in + bs - 1) / bs) }
	m, a := s.MoE, s.MLA
	heads := int64(s.Heads)
	qk := int64(a.QKNopeHeadDim + a.QKRopeHeadDim)
	attn := blocks(int64(a.QLoRARank), H) + blocks(heads*qk, int64(a.QLoRARank)) +
		blocks(int64(a.KVLoRARank+a.QKRopeHeadDim), H) +
		blocks(heads*int64(a.QKNopeHeadDim+a.VHeadDim), int64(a.KVLoRARank)) +
		blocks(H, heads*int64(a.VHeadDim))
	mlp := func(inter int64) int64 { return 2*blocks(inter, H) + blocks(H, inter) }
	moe := int64(m.Experts)*mlp(int64(m.ExpertIntermediate)) + mlp(int64(m.SharedIntermediate))
	dense := int64(len(m.DenseLayers))
	moeLayers := int64(s.MoELayers() + s.MTPLayers)
	scales := int64(s.Layers+s.MTPLayers)*attn + dense*mlp(int64(s.Intermediate)) + moeLayers*moe
	return p.TotalWithMTP + int64(s.MTPLayers)*2*V*H + moeLayers*int64(m.Experts) + scales
}

// TestParseConfigFields spot-checks the fields other packages read.
func TestParseConfigFields(t *testing.T) {
	t.Run("Llama-3.1-8B", func(t *testing.T) {
		s := parseSpec(t, readRefConfig(t, "meta-llama__Llama-3.1-8B.json"))
		want := Spec{Architecture: "LlamaForCausalLM", ModelType: "llama", TextModelType: "llama", DType: dtype.BF16,
			Layers: 32, Hidden: 4096, Intermediate: 14336, Heads: 32, KVHeads: 8, HeadDim: 128, Vocab: 128256,
			MaxPositionEmbeddings: 131072, MLPGated: true, Norm: NormRMS, NormsPerLayer: 2}
		if !sameShape(s, &want) {
			t.Errorf("got %+v\nwant %+v", *s, want)
		}
		if s.LayerAttention != nil || s.MoE != nil || s.MLA != nil || s.Vision != nil || s.Quant != nil {
			t.Errorf("dense full-attention text model has extras: %+v", *s)
		}
	})
	t.Run("Qwen2.5-7B has q/k/v biases only", func(t *testing.T) {
		s := parseSpec(t, readRefConfig(t, "Qwen__Qwen2.5-7B.json"))
		if !s.QKVBias || s.OutBias || s.QKNorm {
			t.Errorf("QKVBias %v OutBias %v QKNorm %v, want true false false", s.QKVBias, s.OutBias, s.QKNorm)
		}
		if s.LayerAttention != nil || s.SlidingWindow != 0 {
			t.Errorf("use_sliding_window is false, yet layers %v window %d", s.LayerAttention, s.SlidingWindow)
		}
	})
	t.Run("Gemma 3 27B", func(t *testing.T) {
		s := parseSpec(t, readRefConfig(t, "google__gemma-3-27b-it.json"))
		if s.ModelType != "gemma3" || s.TextModelType != "gemma3_text" || s.Vocab != 262208 || !s.TiedEmbeddings || !s.QKNorm || s.NormsPerLayer != 4 {
			t.Errorf("gemma3 text defaults not applied: %+v", *s)
		}
		if s.SlidingWindow != 1024 || len(s.LayerAttention) != 62 {
			t.Fatalf("window %d, %d layer kinds", s.SlidingWindow, len(s.LayerAttention))
		}
		for i, k := range s.LayerAttention {
			want := AttentionSliding
			if (i+1)%6 == 0 { // a global layer every sixth (Gemma3TextConfig sliding_window_pattern 6)
				want = AttentionFull
			}
			if k != want {
				t.Errorf("layer %d is %s, want %s", i, k, want)
			}
		}
		v := s.Vision
		if v == nil || v.ModelType != "siglip_vision_model" || v.Layers != 27 || v.Hidden != 1152 || v.ImageSize != 896 || v.PatchSize != 14 {
			t.Fatalf("vision = %+v", v)
		}
	})
	t.Run("Gemma 3 4B takes text defaults", func(t *testing.T) {
		s := parseSpec(t, readRefConfig(t, "google__gemma-3-4b-it.json"))
		if s.Heads != 8 || s.KVHeads != 4 || s.HeadDim != 256 {
			t.Errorf("heads %d/%d × %d, want Gemma3TextConfig's 8/4 × 256", s.Heads, s.KVHeads, s.HeadDim)
		}
	})
	t.Run("Llama 4 Scout", func(t *testing.T) {
		s := parseSpec(t, readRefConfig(t, "meta-llama__Llama-4-Scout-17B-16E-Instruct.json"))
		m := s.MoE
		if m == nil || m.Experts != 16 || m.ExpertsPerToken != 1 || m.ExpertIntermediate != 8192 || m.SharedIntermediate != 8192 || len(m.DenseLayers) != 0 || s.Intermediate != 16384 {
			t.Fatalf("moe = %+v, dense width %d", m, s.Intermediate)
		}
		if s.AttentionChunk != 8192 {
			t.Errorf("chunk = %d", s.AttentionChunk)
		}
		for i, k := range s.LayerAttention {
			want := AttentionChunked
			if (i+1)%4 == 0 { // NoPE layers attend globally
				want = AttentionFull
			}
			if k != want {
				t.Errorf("layer %d is %s, want %s", i, k, want)
			}
		}
		if s.Vision == nil || s.Vision.ModelType != "llama4_vision_model" {
			t.Errorf("vision = %+v", s.Vision)
		}
	})
	t.Run("DeepSeek-V3", func(t *testing.T) {
		s := parseSpec(t, readRefConfig(t, "deepseek-ai__DeepSeek-V3.json"))
		want := MLA{QLoRARank: 1536, KVLoRARank: 512, QKNopeHeadDim: 128, QKRopeHeadDim: 64, VHeadDim: 128}
		if s.MLA == nil || *s.MLA != want {
			t.Errorf("mla = %+v, want %+v", s.MLA, want)
		}
		m := s.MoE
		if m == nil || m.Experts != 256 || m.ExpertsPerToken != 8 || m.SharedExperts != 1 || m.SharedIntermediate != 2048 || fmt.Sprint(m.DenseLayers) != "[0 1 2]" {
			t.Errorf("moe = %+v", m)
		}
		if s.MTPLayers != 1 || s.HeadDim != 192 || s.MoELayers() != 58 {
			t.Errorf("mtp %d, head dim %d, moe layers %d", s.MTPLayers, s.HeadDim, s.MoELayers())
		}
	})
	t.Run("DeepSeek-V2-Lite projects queries directly", func(t *testing.T) {
		s := parseSpec(t, readRefConfig(t, "deepseek-ai__DeepSeek-V2-Lite.json"))
		if s.MLA == nil || s.MLA.QLoRARank != 0 || s.MTPLayers != 0 {
			t.Errorf("mla %+v mtp %d", s.MLA, s.MTPLayers)
		}
	})
	t.Run("gpt-oss-120b", func(t *testing.T) {
		s := parseSpec(t, readRefConfig(t, "openai__gpt-oss-120b.json"))
		if s.DType != "" || s.ComputeDType() != dtype.BF16 {
			t.Errorf("dtype %q compute %q: the config has no torch_dtype", s.DType, s.ComputeDType())
		}
		if !s.AttentionSinks || !s.QKVBias || !s.OutBias || !s.MoE.RouterBias || !s.MoE.ExpertBias {
			t.Errorf("gpt-oss biases/sinks missing: %+v %+v", *s, *s.MoE)
		}
		if s.SlidingWindow != 128 || s.AttentionAt(0) != AttentionSliding || s.AttentionAt(1) != AttentionFull {
			t.Errorf("window %d layer0 %s layer1 %s", s.SlidingWindow, s.AttentionAt(0), s.AttentionAt(1))
		}
	})
	t.Run("Phi-2", func(t *testing.T) {
		s := parseSpec(t, readRefConfig(t, "microsoft__phi-2.json"))
		if s.DType != dtype.FP16 || s.MLPGated || s.Norm != NormLayer || s.NormsPerLayer != 1 || !s.LMHeadBias || !s.MLPBias {
			t.Errorf("phi-2 structure: %+v", *s)
		}
	})
	t.Run("Mistral-7B-v0.1 slides in every layer", func(t *testing.T) {
		s := parseSpec(t, readRefConfig(t, "mistralai__Mistral-7B-v0.1.json"))
		if s.SlidingWindow != 4096 || len(s.LayerAttention) != 32 || s.AttentionAt(31) != AttentionSliding {
			t.Errorf("window %d kinds %v", s.SlidingWindow, s.LayerAttention)
		}
	})
}

// sameShape compares the scalar fields that TestParseConfigFields sets.
func sameShape(a, b *Spec) bool {
	return a.Architecture == b.Architecture && a.ModelType == b.ModelType && a.TextModelType == b.TextModelType &&
		a.DType == b.DType && a.Layers == b.Layers && a.Hidden == b.Hidden && a.Intermediate == b.Intermediate &&
		a.Heads == b.Heads && a.KVHeads == b.KVHeads && a.HeadDim == b.HeadDim && a.Vocab == b.Vocab &&
		a.TiedEmbeddings == b.TiedEmbeddings && a.MaxPositionEmbeddings == b.MaxPositionEmbeddings &&
		a.MLPGated == b.MLPGated && a.Norm == b.Norm && a.NormsPerLayer == b.NormsPerLayer &&
		a.QKVBias == b.QKVBias && a.OutBias == b.OutBias && a.QKNorm == b.QKNorm
}

func TestParseConfigErrors(t *testing.T) {
	big := `{"model_type":"llama","padding":"` + strings.Repeat("x", maxConfigBytes) + `"}`
	cases := []struct {
		name, config string
		want         []string // substrings of the error
	}{
		{"empty", ``, []string{"empty input"}},
		{"not JSON", `{"model_type": llama}`, []string{"invalid JSON"}},
		{"array", `[1,2]`, []string{"want a JSON object, got an array"}},
		{"null", `null`, []string{"null"}},
		{"too large", big, []string{"more than"}},
		{"no model_type", `{"hidden_size": 4096}`, []string{"no model_type", "--catalog"}},
		{"unsupported", `{"model_type":"bert","architectures":["BertModel"]}`, []string{`model_type "bert"`, "BertModel", "--catalog", "llama"}},
		{"unsupported text model", `{"model_type":"gemma3","text_config":{"model_type":"t5"}}`, []string{`"t5" language model`}},
		{"model_type not a string", `{"model_type": 7}`, []string{"model_type: want a string"}},
		{"negative hidden", `{"model_type":"llama","hidden_size":-4096}`, []string{"hidden_size = -4096 is out of range"}},
		{"zero heads", `{"model_type":"llama","num_attention_heads":0}`, []string{"num_attention_heads = 0"}},
		{"billions of layers", `{"model_type":"llama","num_hidden_layers":3000000000}`, []string{"num_hidden_layers = 3000000000 is out of range"}},
		{"fractional width", `{"model_type":"llama","intermediate_size":11008.5}`, []string{"intermediate_size: want an integer"}},
		{"string width", `{"model_type":"llama","hidden_size":"4096"}`, []string{"hidden_size: want an integer, got a string"}},
		{"bool as int", `{"model_type":"llama","num_hidden_layers":true}`, []string{"want an integer"}},
		{"uneven GQA", `{"model_type":"llama","num_attention_heads":32,"num_key_value_heads":5}`, []string{"not a multiple"}},
		{"overflowing product", `{"model_type":"mixtral","num_hidden_layers":4096,"hidden_size":1048576,"intermediate_size":16777216,"num_local_experts":65536}`, []string{"more than 100000000000000 parameters"}},
		{"top-k above experts", `{"model_type":"mixtral","num_local_experts":8,"num_experts_per_tok":9}`, []string{"experts per token 9"}},
		{"text_config not an object", `{"model_type":"gemma3","text_config":[1]}`, []string{"text_config: want a JSON object"}},
		{"short layer_types", `{"model_type":"gpt_oss","num_hidden_layers":4,"layer_types":["full_attention"]}`, []string{"layer_types has 1 entries for 4 layers"}},
		{"unknown layer type", `{"model_type":"gpt_oss","num_hidden_layers":2,"layer_types":["full_attention","linear_attention"]}`, []string{`"linear_attention"`}},
		{"sliding without a window", `{"model_type":"gemma2","sliding_window":null}`, []string{"sliding_window is null"}},
		{"unknown dtype", `{"model_type":"llama","torch_dtype":"float7"}`, []string{`unknown data type "float7"`}},
		{"quantization not an object", `{"model_type":"llama","quantization_config":"fp8"}`, []string{"quantization_config: want a JSON object"}},
		{"quantization without method", `{"model_type":"llama","quantization_config":{"bits":4}}`, []string{"no quant_method"}},
		{"deepseek without top-k", `{"model_type":"deepseek_v2"}`, []string{"num_experts_per_tok is missing"}},
		{"wrong vision tower", `{"model_type":"gemma3","vision_config":{"model_type":"clip_vision_model"}}`, []string{`"clip_vision_model"`}},
		{"non-square image", `{"model_type":"llama4","vision_config":{"image_size":[336,448]}}`, []string{"only square sizes"}},
		{"vision without layers", `{"model_type":"gemma3","vision_config":{"num_hidden_layers":0}}`, []string{"not a valid vision tower"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseConfig([]byte(c.config))
			if err == nil {
				t.Fatalf("ParseConfig succeeded (%+v), want an error", s)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestParseConfigDefaults checks transformers' fallbacks for absent and
// null keys.
func TestParseConfigDefaults(t *testing.T) {
	cases := []struct {
		name, config string
		check        func(*Spec) string
	}{
		{"null KV heads mean MHA", `{"model_type":"llama","num_key_value_heads":null}`, func(s *Spec) string {
			return wantInt("kv heads", s.KVHeads, 32)
		}},
		{"head_dim from hidden", `{"model_type":"mistral","hidden_size":5120,"num_attention_heads":32}`, func(s *Spec) string {
			return wantInt("head dim", s.HeadDim, 160)
		}},
		{"explicit head_dim wins", `{"model_type":"mistral","hidden_size":5120,"num_attention_heads":32,"head_dim":128}`, func(s *Spec) string {
			return wantInt("head dim", s.HeadDim, 128)
		}},
		{"Qwen3-MoE head_dim from hidden", `{"model_type":"qwen3_moe"}`, func(s *Spec) string {
			return wantInt("head dim", s.HeadDim, 64) // 2048 / 32: Qwen3MoeConfig has no head_dim default
		}},
		{"mistral null window", `{"model_type":"mistral","sliding_window":null}`, func(s *Spec) string {
			if s.LayerAttention != nil {
				return "null sliding_window should leave full attention"
			}
			return ""
		}},
		{"mistral default window", `{"model_type":"mistral"}`, func(s *Spec) string {
			return wantInt("window", s.SlidingWindow, 4096)
		}},
		{"qwen2 use_sliding_window", `{"model_type":"qwen2","num_hidden_layers":4,"use_sliding_window":true,"sliding_window":512,"max_window_layers":2}`, func(s *Spec) string {
			return wantStr("kinds", fmt.Sprint(s.LayerAttention), "[full full sliding sliding]")
		}},
		{"qwen3-moe mlp_only_layers and step", `{"model_type":"qwen3_moe","num_hidden_layers":6,"decoder_sparse_step":2,"mlp_only_layers":[3]}`, func(s *Spec) string {
			return wantStr("dense layers", fmt.Sprint(s.MoE.DenseLayers), "[0 2 3 4]")
		}},
		{"qwen3-moe without experts is dense", `{"model_type":"qwen3_moe","num_experts":0}`, func(s *Spec) string {
			if s.MoE != nil {
				return "num_experts 0 should give a dense model"
			}
			return ""
		}},
		{"llama4 interleaved MoE", `{"model_type":"llama4_text","num_hidden_layers":4,"interleave_moe_layer_step":2}`, func(s *Spec) string {
			return wantStr("dense layers", fmt.Sprint(s.MoE.DenseLayers), "[0 2]")
		}},
		{"llama4 explicit no_rope_layers", `{"model_type":"llama4_text","num_hidden_layers":3,"no_rope_layers":[1,0,1]}`, func(s *Spec) string {
			return wantStr("kinds", fmt.Sprint(s.LayerAttention), "[chunked full chunked]")
		}},
		{"deepseek moe_layer_freq", `{"model_type":"deepseek_v3","num_hidden_layers":6,"first_k_dense_replace":1,"moe_layer_freq":2}`, func(s *Spec) string {
			return wantStr("dense layers", fmt.Sprint(s.MoE.DenseLayers), "[0 1 3 5]")
		}},
		{"falcon aliases", `{"model_type":"RefinedWeb","n_embed":256,"n_layer":2,"n_head":8,"n_head_kv":2}`, func(s *Spec) string {
			return wantStr("shape", fmt.Sprint(s.Hidden, s.Layers, s.Heads, s.KVHeads, s.NormsPerLayer), "256 2 8 2 2")
		}},
		{"falcon-7b multi-query", `{"model_type":"falcon"}`, func(s *Spec) string {
			return wantStr("shape", fmt.Sprint(s.KVHeads, s.HeadDim, s.Intermediate, s.NormsPerLayer, s.TiedEmbeddings), "1 64 18176 1 true")
		}},
		{"transformers 5 dtype key", `{"model_type":"llama","dtype":"float16"}`, func(s *Spec) string {
			return wantStr("dtype", string(s.DType), "fp16")
		}},
		{"wrapper text dtype", `{"model_type":"llama4","text_config":{"torch_dtype":"float32"}}`, func(s *Spec) string {
			return wantStr("dtype", string(s.DType), "fp32")
		}},
		{"integral float", `{"model_type":"llama","hidden_size":4096.0}`, func(s *Spec) string {
			return wantInt("hidden", s.Hidden, 4096)
		}},
		{"image size as a pair", `{"model_type":"llama4","vision_config":{"image_size":[336,336],"patch_size":14}}`, func(s *Spec) string {
			return wantInt("image size", s.Vision.ImageSize, 336)
		}},
		{"gemma3 explicit layer_types", `{"model_type":"gemma3_text","num_hidden_layers":3,"sliding_window":512,"layer_types":["sliding_attention","full_attention","full_attention"]}`, func(s *Spec) string {
			return wantStr("kinds", fmt.Sprint(s.LayerAttention, s.SlidingWindow), "[sliding full full] 512")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if msg := c.check(parseSpec(t, []byte(c.config))); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func wantInt(what string, got, want int) string {
	if got != want {
		return fmt.Sprintf("%s = %d, want %d", what, got, want)
	}
	return ""
}

func wantStr(what, got, want string) string {
	if got != want {
		return fmt.Sprintf("%s = %s, want %s", what, got, want)
	}
	return ""
}
