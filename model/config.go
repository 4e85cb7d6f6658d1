package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
)

// maxConfigBytes bounds ParseConfig's input. Real config.json files are a
// few kilobytes (Llama 4's, with its vision block, is about 2 KB).
const maxConfigBytes = 4 << 20

// ParseConfig reads a Hugging Face config.json into a Spec.
//
// Keys the file omits take the defaults of the transformers configuration
// class for its model_type (e.g. Gemma 3's text defaults, Qwen2's q/k/v
// biases), so that a minimal config gives the same model transformers would
// build. Multimodal configs (Gemma 3, Llama 4, Mistral 3, Kimi-VL) are read
// from their text_config and vision_config. The input is untrusted: shapes
// outside generous limits are errors, never panics or huge allocations.
// ID, Source and Revision are left for the caller to set.
func ParseConfig(data []byte) (*Spec, error) {
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("config.json is %d bytes, more than the %d a model config can plausibly be; check that the file is a config.json", len(data), maxConfigBytes)
	}
	top, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("parse config.json: %w", err)
	}
	if top == nil {
		return nil, fmt.Errorf("parse config.json: the file holds null, not a JSON object")
	}
	mt, err := top.str("model_type", "")
	if err != nil {
		return nil, fmt.Errorf("parse config.json: %w", err)
	}
	archs, err := top.strList("architectures")
	if err != nil {
		return nil, fmt.Errorf("parse config.json: %w", err)
	}
	if mt == "" {
		return nil, fmt.Errorf("config.json has no model_type, so its architecture is unknown; supply the model's config.json as published on Hugging Face or use --catalog")
	}

	s := &Spec{ModelType: mt}
	if len(archs) > 0 {
		s.Architecture = archs[0]
	}

	text, textType := top, mt
	multimodalWrapper, isWrapper := multimodalWrappers[mt]
	if isWrapper {
		if text, err = top.child("text_config"); err != nil {
			return nil, fmt.Errorf("parse config.json: %w", err)
		}
		if text == nil {
			// The wrapper class builds its default text config; most use
			// the text config class's defaults (an empty object here).
			text = multimodalWrapper.defaultText
			if text == nil {
				text = jsonObject{}
			}
		}
		if textType, err = text.str("model_type", multimodalWrapper.text); err != nil {
			return nil, fmt.Errorf("parse config.json text_config: %w", err)
		}
	}
	build, ok := textBuilders[textType]
	if !ok {
		return nil, unsupported(mt, textType, archs)
	}
	s.TextModelType = textType
	if err := build(text, s); err != nil {
		return nil, fmt.Errorf("parse %s config: %w", mt, err)
	}

	if s.DType, err = configDType(top, text); err != nil {
		return nil, fmt.Errorf("parse %s config: %w", mt, err)
	}
	qraw := top.value("quantization_config")
	if qraw == nil && isWrapper {
		qraw = text.value("quantization_config")
	}
	if qraw != nil {
		if s.Quant, err = parseQuantization(qraw); err != nil {
			return nil, fmt.Errorf("parse %s config: %w", mt, err)
		}
	}
	if isWrapper {
		if s.Vision, err = multimodalWrapper.vision(top, s); err != nil {
			return nil, fmt.Errorf("parse %s config: %w", mt, err)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("parse %s config: %w", mt, err)
	}
	return s, nil
}

// SupportedModelTypes lists the config.json model_type values ParseConfig
// reads (language models and multimodal wrappers), sorted.
func SupportedModelTypes() []string {
	var out []string
	for k := range textBuilders {
		out = append(out, k)
	}
	for k := range multimodalWrappers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func unsupported(mt, textType string, archs []string) error {
	what := fmt.Sprintf("model_type %q", mt)
	if textType != mt {
		what += fmt.Sprintf(" with a %q language model", textType)
	}
	if len(archs) > 0 {
		what += fmt.Sprintf(" (%s)", strings.Join(archs, ", "))
	}
	return fmt.Errorf("unsupported architecture: %s; gpuplan counts parameters exactly only for %s. Supply the config.json of a supported architecture, or pick a catalog model with --catalog",
		what, strings.Join(SupportedModelTypes(), ", "))
}

// configDType reads torch_dtype (transformers 4) or dtype (transformers 5),
// top level first, then the text config.
func configDType(top, text jsonObject) (dtype.DType, error) {
	for _, o := range []jsonObject{top, text} {
		for _, k := range []string{"torch_dtype", "dtype"} {
			v, err := o.str(k, "")
			if err != nil {
				return "", err
			}
			if v == "" || v == "auto" {
				continue
			}
			d, err := dtype.ParseDType(v)
			if err != nil {
				return "", fmt.Errorf("%s: %w", k, err)
			}
			return d, nil
		}
	}
	return "", nil
}

// textBuilder fills a Spec's language-model fields from a (text) config,
// applying the transformers config class's defaults for absent keys.
type textBuilder func(o jsonObject, s *Spec) error

// textBuilders maps a language model's model_type to its builder.
var textBuilders = map[string]textBuilder{
	"llama":           buildLlama,
	"granite":         buildGranite,
	"mistral":         buildMistral,
	"mixtral":         buildMixtral,
	"qwen2":           buildQwen2,
	"qwen2_moe":       buildQwen2MoE,
	"qwen3":           buildQwen3,
	"qwen3_moe":       buildQwen3MoE,
	"gemma":           buildGemma,
	"gemma2":          buildGemma2,
	"gemma3_text":     buildGemma3Text,
	"phi":             buildPhi,
	"phi3":            buildPhi3,
	"falcon":          buildFalcon,
	"RefinedWeb":      buildFalcon, // pre-transformers Falcon-40B configs (vLLM's RWConfig reads them)
	"RefinedWebModel": buildFalcon, // pre-transformers Falcon-7B configs
	"deepseek_v2":     buildDeepseekV2,
	"deepseek_v3":     buildDeepseekV3,
	"gpt_oss":         buildGptOss,
	"llama4_text":     buildLlama4Text,
}

// multimodalWrapper is a multimodal config: the language model lives in text_config
// (of model type text when text_config omits model_type) and vision reads
// the vision tower and projector.
type multimodalWrapper struct {
	text   string
	vision func(top jsonObject, s *Spec) (*Vision, error)
	// defaultText and defaultVision replace an absent text_config or
	// vision_config when the wrapper class builds non-default sub-configs.
	defaultText, defaultVision jsonObject
}

var multimodalWrappers = map[string]multimodalWrapper{
	"gemma3":   {text: "gemma3_text", vision: gemma3Vision},
	"llama4":   {text: "llama4_text", vision: llama4Vision},
	"mistral3": {text: "mistral", vision: mistral3Vision, defaultText: mistral3Text, defaultVision: mistral3Pixtral},
	"kimi_vl":  {text: "deepseek_v3", vision: kimiVLVision},
}

// Mistral3Config builds these sub-configs (Mistral Small 3.1's shape) when
// text_config or vision_config is absent.
var (
	mistral3Text = jsonObject{
		"model_type": rawJSON(`"mistral"`), "head_dim": rawJSON(`128`), "hidden_size": rawJSON(`5120`),
		"intermediate_size": rawJSON(`32768`), "max_position_embeddings": rawJSON(`131072`),
		"num_attention_heads": rawJSON(`32`), "num_hidden_layers": rawJSON(`40`),
		"num_key_value_heads": rawJSON(`8`), "sliding_window": rawJSON(`null`), "vocab_size": rawJSON(`131072`),
	}
	mistral3Pixtral = jsonObject{
		"model_type": rawJSON(`"pixtral"`), "intermediate_size": rawJSON(`4096`), "hidden_size": rawJSON(`1024`),
		"patch_size": rawJSON(`14`), "image_size": rawJSON(`1540`), "num_hidden_layers": rawJSON(`24`),
		"num_attention_heads": rawJSON(`16`), "head_dim": rawJSON(`64`),
	}
)

// rawJSON wraps a literal JSON value.
func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

// textShape holds a config class's defaults for the common keys. kvHeads 0
// means "as many as heads"; headDim 0 means hidden / heads.
type textShape struct {
	vocab, hidden, inter, layers, heads, kvHeads, headDim, maxPos int
	tie                                                           bool
}

// readTextShape reads the common keys into s.
func readTextShape(o jsonObject, s *Spec, d textShape) error {
	var err error
	get := func(dst *int, key string, def, hi int) {
		if err == nil {
			*dst, err = o.int(key, def, 0, hi)
		}
	}
	get(&s.Vocab, "vocab_size", d.vocab, maxVocab)
	get(&s.Hidden, "hidden_size", d.hidden, maxHidden)
	get(&s.Intermediate, "intermediate_size", d.inter, maxWidth)
	get(&s.Layers, "num_hidden_layers", d.layers, maxLayers)
	get(&s.Heads, "num_attention_heads", d.heads, maxHeads)
	get(&s.KVHeads, "num_key_value_heads", d.kvHeads, maxHeads)
	get(&s.HeadDim, "head_dim", d.headDim, maxHeadDim)
	get(&s.MaxPositionEmbeddings, "max_position_embeddings", d.maxPos, 1<<40)
	if err != nil {
		return err
	}
	if s.TiedEmbeddings, err = o.boolean("tie_word_embeddings", d.tie); err != nil {
		return err
	}
	fillHeads(s)
	return nil
}

// fillHeads applies transformers' fallbacks: num_key_value_heads None means
// multi-head attention; head_dim None means hidden_size // heads.
func fillHeads(s *Spec) {
	if s.KVHeads == 0 {
		s.KVHeads = s.Heads
	}
	if s.HeadDim == 0 && s.Heads > 0 {
		s.HeadDim = s.Hidden / s.Heads
	}
}

// llamaLike sets the structure shared by Llama-style decoders: RMSNorm
// before attention and MLP, SwiGLU MLP.
func llamaLike(s *Spec) {
	s.Norm = NormRMS
	s.NormsPerLayer = 2
	s.MLPGated = true
}

// readBias reads attention_bias (q, k, v and o biases) and mlp_bias.
func readBias(o jsonObject, s *Spec, attnDef bool) error {
	b, err := o.boolean("attention_bias", attnDef)
	if err != nil {
		return err
	}
	s.QKVBias, s.OutBias = b, b
	s.MLPBias, err = o.boolean("mlp_bias", false)
	return err
}

// buildLlama: LlamaConfig defaults (vocab 32000, hidden 4096, intermediate
// 11008, 32 layers, 32 heads, 2048 positions, untied, no biases).
func buildLlama(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 32000, hidden: 4096, inter: 11008, layers: 32, heads: 32, maxPos: 2048}); err != nil {
		return err
	}
	return readBias(o, s, false)
}

// buildGranite: GraniteConfig has LlamaConfig's defaults; its embedding,
// residual, attention and logits multipliers scale activations and add no
// parameters.
func buildGranite(o jsonObject, s *Spec) error { return buildLlama(o, s) }

// buildMistral: MistralConfig defaults (intermediate 14336, 8 KV heads,
// 131072 positions, sliding_window 4096). Mistral applies its sliding window
// in every layer when one is set.
func buildMistral(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 32000, hidden: 4096, inter: 14336, layers: 32, heads: 32, kvHeads: 8, maxPos: 4096 * 32}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	return allLayersWindow(o, s, 4096)
}

// allLayersWindow reads sliding_window (absent: def; null or 0: none) and,
// when set, marks every layer sliding, as transformers' DynamicCache does
// for configs without layer_types.
func allLayersWindow(o jsonObject, s *Spec, def int) error {
	w, err := o.int("sliding_window", def, 0, maxWindow)
	if err != nil {
		return err
	}
	if w > 0 {
		s.SlidingWindow = w
		s.LayerAttention = uniformAttention(s.Layers, AttentionSliding)
	}
	return nil
}

// buildMixtral: MixtralConfig defaults (8 experts, top-2, no sliding
// window); each expert is a SwiGLU MLP of intermediate_size and the router
// has no bias.
func buildMixtral(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 32000, hidden: 4096, inter: 14336, layers: 32, heads: 32, kvHeads: 8, maxPos: 4096 * 32}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	e, err := o.int("num_local_experts", 8, 0, maxExperts)
	if err != nil {
		return err
	}
	k, err := o.int("num_experts_per_tok", 2, 0, maxExperts)
	if err != nil {
		return err
	}
	s.MoE = &MoE{Experts: e, ExpertsPerToken: k, ExpertIntermediate: s.Intermediate}
	return allLayersWindow(o, s, 0)
}

// qwenWindows applies Qwen2/Qwen3's layer_types rule: with
// use_sliding_window, layers from max_window_layers on slide; otherwise the
// sliding_window key is ignored (the config class sets it to None).
func qwenWindows(o jsonObject, s *Spec, defWindow, defMaxWindow int) error {
	if ok, err := explicitLayerTypes(o, s); ok || err != nil {
		if err == nil && hasSliding(s.LayerAttention) {
			s.SlidingWindow, err = o.int("sliding_window", defWindow, 0, maxWindow)
		}
		return err
	}
	use, err := o.boolean("use_sliding_window", false)
	if err != nil || !use {
		return err
	}
	w, err := o.int("sliding_window", defWindow, 0, maxWindow)
	if err != nil || w == 0 {
		return err
	}
	from, err := o.int("max_window_layers", defMaxWindow, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	s.SlidingWindow = w
	s.LayerAttention = make([]AttentionKind, s.Layers)
	for i := range s.LayerAttention {
		s.LayerAttention[i] = AttentionFull
		if i >= from {
			s.LayerAttention[i] = AttentionSliding
		}
	}
	return nil
}

// buildQwen2: Qwen2Config defaults (vocab 151936, hidden 4096, intermediate
// 22016, 32 layers, 32 heads, 32 KV heads, 32768 positions). Qwen2Attention
// always has q, k and v biases and no output bias.
func buildQwen2(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 151936, hidden: 4096, inter: 22016, layers: 32, heads: 32, kvHeads: 32, maxPos: 32768}); err != nil {
		return err
	}
	s.QKVBias = true
	return qwenWindows(o, s, 4096, 28)
}

// buildQwen3: Qwen3Config defaults (as Qwen2, head_dim 128); per-head
// q_norm/k_norm, attention_bias default false.
func buildQwen3(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 151936, hidden: 4096, inter: 22016, layers: 32, heads: 32, kvHeads: 32, headDim: 128, maxPos: 32768}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	s.QKNorm = true
	return qwenWindows(o, s, 4096, 28)
}

// qwenMoELayers sets DenseLayers from Qwen-MoE's rule: a layer has experts
// when it is not in mlp_only_layers and (i + 1) % decoder_sparse_step == 0.
func qwenMoELayers(o jsonObject, s *Spec) error {
	step, err := o.int("decoder_sparse_step", 1, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	only, err := o.intList("mlp_only_layers", math.MaxInt32)
	if err != nil {
		return err
	}
	mlpOnly := map[int]bool{}
	for _, i := range only {
		mlpOnly[i] = true
	}
	for i := 0; i < s.Layers && i <= maxLayers; i++ {
		if mlpOnly[i] || step <= 0 || (i+1)%step != 0 {
			s.MoE.DenseLayers = append(s.MoE.DenseLayers, i)
		}
	}
	return nil
}

// buildQwen2MoE: Qwen2MoeConfig defaults (hidden 2048, intermediate 5632,
// 24 layers, 16 heads, 60 experts, top-4, expert width 1408, one shared
// expert of width 5632 with a sigmoid gate, qkv_bias true).
func buildQwen2MoE(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 151936, hidden: 2048, inter: 5632, layers: 24, heads: 16, kvHeads: 16, maxPos: 32768}); err != nil {
		return err
	}
	var err error
	if s.QKVBias, err = o.boolean("qkv_bias", true); err != nil {
		return err
	}
	m := &MoE{}
	if m.Experts, err = o.int("num_experts", 60, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertsPerToken, err = o.int("num_experts_per_tok", 4, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertIntermediate, err = o.int("moe_intermediate_size", 1408, 0, maxWidth); err != nil {
		return err
	}
	if m.SharedIntermediate, err = o.int("shared_expert_intermediate_size", 5632, 0, maxWidth); err != nil {
		return err
	}
	if m.SharedIntermediate > 0 {
		m.SharedExperts, m.SharedExpertGate = 1, true
	}
	if m.Experts > 0 {
		s.MoE = m
		if err := qwenMoELayers(o, s); err != nil {
			return err
		}
	}
	// Qwen2MoeConfig: sliding on odd-numbered layers below max_window_layers
	// when use_sliding_window is set.
	if ok, err := explicitLayerTypes(o, s); ok || err != nil {
		if err == nil && hasSliding(s.LayerAttention) {
			s.SlidingWindow, err = o.int("sliding_window", 4096, 0, maxWindow)
		}
		return err
	}
	use, err := o.boolean("use_sliding_window", false)
	if err != nil || !use {
		return err
	}
	if s.SlidingWindow, err = o.int("sliding_window", 4096, 0, maxWindow); err != nil || s.SlidingWindow == 0 {
		return err
	}
	from, err := o.int("max_window_layers", 28, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	s.LayerAttention = make([]AttentionKind, s.Layers)
	for i := range s.LayerAttention {
		s.LayerAttention[i] = AttentionFull
		if (i+1)%2 == 1 && i < from {
			s.LayerAttention[i] = AttentionSliding
		}
	}
	return nil
}

// buildQwen3MoE: Qwen3MoeConfig defaults (hidden 2048, intermediate 6144,
// 24 layers, 32 heads, 4 KV heads, 128 experts, top-8, expert width 768).
// The class has no head_dim field; the attention uses head_dim when the
// file gives one, else hidden // heads.
func buildQwen3MoE(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 151936, hidden: 2048, inter: 6144, layers: 24, heads: 32, kvHeads: 4, maxPos: 32768}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	s.QKNorm = true
	m := &MoE{}
	var err error
	if m.Experts, err = o.int("num_experts", 128, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertsPerToken, err = o.int("num_experts_per_tok", 8, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertIntermediate, err = o.int("moe_intermediate_size", 768, 0, maxWidth); err != nil {
		return err
	}
	if m.Experts > 0 {
		s.MoE = m
		if err := qwenMoELayers(o, s); err != nil {
			return err
		}
	}
	return qwenWindows(o, s, 4096, 28)
}

// gemmaLike sets Gemma's structure: RMSNorm (stored as 1 + weight, still
// one vector), GeGLU MLP, no biases.
func gemmaLike(s *Spec, normsPerLayer int) {
	s.Norm = NormRMS
	s.NormsPerLayer = normsPerLayer
	s.MLPGated = true
}

// buildGemma: GemmaConfig defaults (vocab 256000, hidden 3072, intermediate
// 24576, 28 layers, 16 heads, 16 KV heads, head_dim 256, 8192 positions,
// tied embeddings).
func buildGemma(o jsonObject, s *Spec) error {
	gemmaLike(s, 2)
	if err := readTextShape(o, s, textShape{vocab: 256000, hidden: 3072, inter: 24576, layers: 28, heads: 16, kvHeads: 16, headDim: 256, maxPos: 8192, tie: true}); err != nil {
		return err
	}
	return readBias(o, s, false)
}

// alternating reads explicit layer_types or marks layers sliding when
// (i + 1) % pattern != 0 (Gemma 2: pattern 2; Gemma 3: 6; gpt-oss: 2), then
// reads sliding_window (absent: defWindow).
func alternating(o jsonObject, s *Spec, pattern, defWindow int) error {
	w, err := o.int("sliding_window", defWindow, 0, maxWindow)
	if err != nil {
		return err
	}
	ok, err := explicitLayerTypes(o, s)
	if err != nil {
		return err
	}
	if !ok {
		s.LayerAttention = make([]AttentionKind, s.Layers)
		for i := range s.LayerAttention {
			s.LayerAttention[i] = AttentionFull
			if pattern > 0 && (i+1)%pattern != 0 {
				s.LayerAttention[i] = AttentionSliding
			}
		}
	}
	if hasSliding(s.LayerAttention) {
		if w == 0 {
			return fmt.Errorf("layers use sliding attention but sliding_window is null")
		}
		s.SlidingWindow = w
	}
	return nil
}

// buildGemma2: Gemma2Config defaults (hidden 2304, intermediate 9216, 26
// layers, 8 heads, 4 KV heads, head_dim 256, sliding_window 4096 on every
// other layer starting with the first, tied); four norms per layer.
func buildGemma2(o jsonObject, s *Spec) error {
	gemmaLike(s, 4)
	if err := readTextShape(o, s, textShape{vocab: 256000, hidden: 2304, inter: 9216, layers: 26, heads: 8, kvHeads: 4, headDim: 256, maxPos: 8192, tie: true}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	return alternating(o, s, 2, 4096)
}

// buildGemma3Text: Gemma3TextConfig defaults (vocab 262208, hidden 2304,
// intermediate 9216, 26 layers, 8 heads, 4 KV heads, head_dim 256, 131072
// positions, sliding_window 4096 with a full layer every 6th, tied); four
// norms per layer plus per-head q/k norms.
func buildGemma3Text(o jsonObject, s *Spec) error {
	gemmaLike(s, 4)
	if err := readTextShape(o, s, textShape{vocab: 262208, hidden: 2304, inter: 9216, layers: 26, heads: 8, kvHeads: 4, headDim: 256, maxPos: 131072, tie: true}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	s.QKNorm = true
	pattern, err := o.intAlt([]string{"sliding_window_pattern", "_sliding_window_pattern"}, 6, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	return alternating(o, s, pattern, 4096)
}

// buildPhi: PhiConfig defaults (vocab 51200, hidden 2048, intermediate
// 8192, 24 layers, 32 heads, untied). PhiDecoderLayer: one LayerNorm, q, k,
// v and dense projections with biases, fc1/fc2 MLP with biases, parallel
// attention and MLP; the output head has a bias; qk_layernorm adds a
// LayerNorm of head_dim on queries and keys.
func buildPhi(o jsonObject, s *Spec) error {
	if err := readTextShape(o, s, textShape{vocab: 51200, hidden: 2048, inter: 8192, layers: 24, heads: 32, maxPos: 2048}); err != nil {
		return err
	}
	s.Norm, s.NormsPerLayer = NormLayer, 1
	s.QKVBias, s.OutBias, s.MLPBias, s.LMHeadBias = true, true, true, true
	var err error
	s.QKNorm, err = o.boolean("qk_layernorm", false)
	return err
}

// buildPhi3: Phi3Config defaults (vocab 32064, hidden 3072, intermediate
// 8192, 32 layers, 32 heads, 4096 positions, untied, no sliding window).
// Phi3 fuses q/k/v into qkv_proj and gate/up into gate_up_proj, without
// biases: the same counts as separate matrices. A sliding_window applies to
// every layer.
func buildPhi3(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 32064, hidden: 3072, inter: 8192, layers: 32, heads: 32, maxPos: 4096}); err != nil {
		return err
	}
	return allLayersWindow(o, s, 0)
}

// buildFalcon: FalconConfig defaults (vocab 65024, hidden 4544, 32 layers,
// 71 heads, multi-query, parallel attention, no biases, MLP width 4 ×
// hidden, 2048 positions, tied). Old configs name layers n_layer, heads
// n_head, KV heads n_head_kv and the width n_embed; model_type RefinedWeb
// meant the new decoder architecture (vLLM's RWConfig).
func buildFalcon(o jsonObject, s *Spec) error {
	var err error
	geti := func(keys []string, def, hi int) int {
		if err != nil {
			return 0
		}
		var v int
		v, err = o.intAlt(keys, def, 0, hi)
		return v
	}
	s.Vocab = geti([]string{"vocab_size"}, 65024, maxVocab)
	s.Hidden = geti([]string{"hidden_size", "n_embed"}, 4544, maxHidden)
	s.Layers = geti([]string{"num_hidden_layers", "n_layer"}, 32, maxLayers)
	s.Heads = geti([]string{"num_attention_heads", "n_head"}, 71, maxHeads)
	kv := geti([]string{"num_kv_heads", "n_head_kv"}, 0, maxHeads)
	s.Intermediate = geti([]string{"ffn_hidden_size"}, 0, maxWidth)
	s.MaxPositionEmbeddings = geti([]string{"max_position_embeddings"}, 2048, 1<<40)
	lnParallel := geti([]string{"num_ln_in_parallel_attn"}, 0, 16)
	if err != nil {
		return err
	}
	newArch, err := o.boolean("new_decoder_architecture", s.ModelType == "RefinedWeb" || s.TextModelType == "RefinedWeb")
	if err != nil {
		return err
	}
	multiQuery, err := o.boolean("multi_query", true)
	if err != nil {
		return err
	}
	parallel, err := o.boolean("parallel_attn", true)
	if err != nil {
		return err
	}
	bias, err := o.boolean("bias", false)
	if err != nil {
		return err
	}
	if s.TiedEmbeddings, err = o.boolean("tie_word_embeddings", true); err != nil {
		return err
	}
	if s.Intermediate == 0 {
		s.Intermediate = 4 * s.Hidden
	}
	if s.Heads > 0 {
		s.HeadDim = s.Hidden / s.Heads
	}
	// FalconAttention: the new architecture has num_kv_heads groups;
	// otherwise multi-query shares one K/V head, else one per head.
	switch {
	case newArch:
		s.KVHeads = kv
		if s.KVHeads == 0 {
			s.KVHeads = s.Heads
		}
	case multiQuery:
		s.KVHeads = 1
	default:
		s.KVHeads = s.Heads
	}
	s.QKVBias, s.OutBias, s.MLPBias = bias, bias, bias
	s.Norm = NormLayer
	// FalconDecoderLayer: two LayerNorms unless attention and MLP run in
	// parallel from one (num_ln_in_parallel_attn defaults to 2 with the new
	// architecture).
	if lnParallel == 0 && newArch {
		lnParallel = 2
	}
	s.NormsPerLayer = 1
	if !parallel || lnParallel == 2 {
		s.NormsPerLayer = 2
	}
	return nil
}

// deepseekDefaults are a DeepSeek config class's defaults for the MLA and
// MoE keys.
type deepseekDefaults struct {
	textShape
	qLoRA, kvLoRA, nope, rope, v         int
	experts, shared, expertInter, firstK int
	topK                                 int  // 0: the config must give it
	mtp                                  bool // reads num_nextn_predict_layers
}

// buildDeepseek reads a DeepSeek V2/V3 (MLA + MoE) config.

func buildDeepseek(o jsonObject, s *Spec, d deepseekDefaults) error {
	llamaLike(s)
	if err := readTextShape(o, s, d.textShape); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	s.MLPBias = false
	a := &MLA{}
	var err error
	geti := func(dst *int, key string, def, hi int) {
		if err == nil {
			*dst, err = o.int(key, def, 0, hi)
		}
	}
	geti(&a.QLoRARank, "q_lora_rank", d.qLoRA, maxWidth) // null: queries projected directly
	geti(&a.KVLoRARank, "kv_lora_rank", d.kvLoRA, maxWidth)
	geti(&a.QKNopeHeadDim, "qk_nope_head_dim", d.nope, maxHeadDim)
	geti(&a.QKRopeHeadDim, "qk_rope_head_dim", d.rope, maxHeadDim)
	geti(&a.VHeadDim, "v_head_dim", d.v, maxHeadDim)
	m := &MoE{}
	var firstK, freq int
	geti(&m.Experts, "n_routed_experts", d.experts, maxExperts)
	geti(&m.ExpertsPerToken, "num_experts_per_tok", d.topK, maxExperts)
	geti(&m.ExpertIntermediate, "moe_intermediate_size", d.expertInter, maxWidth)
	geti(&m.SharedExperts, "n_shared_experts", d.shared, maxExperts)
	geti(&firstK, "first_k_dense_replace", d.firstK, math.MaxInt32)
	geti(&freq, "moe_layer_freq", 1, math.MaxInt32)
	if d.mtp {
		geti(&s.MTPLayers, "num_nextn_predict_layers", 0, 64)
	}
	if err != nil {
		return err
	}
	s.MLA = a
	s.HeadDim = a.QKNopeHeadDim + a.QKRopeHeadDim
	if m.Experts > 0 {
		if m.ExpertsPerToken == 0 {
			return fmt.Errorf("n_routed_experts is %d but num_experts_per_tok is missing", m.Experts)
		}
		m.SharedIntermediate = m.ExpertIntermediate * m.SharedExperts
		// vLLM deepseek_v2.py: experts in layer i when i >= first_k_dense_replace
		// and i % moe_layer_freq == 0 (transformers ignores the frequency,
		// which is 1 in every released config).
		for i := 0; i < s.Layers && i <= maxLayers; i++ {
			if i < firstK || freq <= 0 || i%freq != 0 {
				m.DenseLayers = append(m.DenseLayers, i)
			}
		}
		s.MoE = m
	}
	return nil
}

// buildDeepseekV2: DeepseekV2Config defaults (LlamaConfig's shape, q_lora
// 1536, kv_lora 512, 64 routed experts of width 1407, 2 shared, no dense
// layers; num_experts_per_tok has no default).
func buildDeepseekV2(o jsonObject, s *Spec) error {
	return buildDeepseek(o, s, deepseekDefaults{
		textShape: textShape{vocab: 32000, hidden: 4096, inter: 11008, layers: 32, heads: 32, maxPos: 2048},
		qLoRA:     1536, kvLoRA: 512, nope: 128, rope: 64, v: 128,
		experts: 64, shared: 2, expertInter: 1407, firstK: 0,
	})
}

// buildDeepseekV3: DeepseekV3Config defaults (DeepSeek-V3's own shape).
// The router's e_score_correction_bias is a buffer in transformers, not a
// parameter, and is not counted (it is n_routed_experts fp32 values per MoE
// layer in the checkpoint).
func buildDeepseekV3(o jsonObject, s *Spec) error {
	return buildDeepseek(o, s, deepseekDefaults{
		textShape: textShape{vocab: 129280, hidden: 7168, inter: 18432, layers: 61, heads: 128, kvHeads: 128, maxPos: 4096},
		qLoRA:     1536, kvLoRA: 512, nope: 128, rope: 64, v: 128,
		experts: 256, shared: 1, expertInter: 2048, firstK: 3, topK: 8,
		mtp: true,
	})
}

// buildGptOss: GptOssConfig defaults (36 layers, 128 experts, top-4,
// hidden 2880, expert width 2880, 64 heads of 64, 8 KV heads, sliding
// window 128 on every other layer starting with the first, untied,
// attention biases). Each layer also has one sink logit per head; the
// router and the experts have biases.
func buildGptOss(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 201088, hidden: 2880, inter: 2880, layers: 36, heads: 64, kvHeads: 8, headDim: 64, maxPos: 131072}); err != nil {
		return err
	}
	if err := readBias(o, s, true); err != nil {
		return err
	}
	s.AttentionSinks = true
	m := &MoE{ExpertIntermediate: s.Intermediate, RouterBias: true, ExpertBias: true}
	var err error
	if m.Experts, err = o.int("num_local_experts", 128, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertsPerToken, err = o.intAlt([]string{"num_experts_per_tok", "experts_per_token"}, 4, 0, maxExperts); err != nil {
		return err
	}
	s.MoE = m
	return alternating(o, s, 2, 128)
}

// buildLlama4Text: Llama4TextConfig defaults (Llama-4-Scout's shape: vocab
// 202048, hidden 5120, expert and shared-expert width 8192, dense width
// 16384, 48 layers, 40 heads of 128, 8 KV heads, 16 experts, top-1, every
// layer MoE, a NoPE full-attention layer every 4th, chunked attention of
// 8192 elsewhere). Its q/k norm is an L2 norm without weights.
func buildLlama4Text(o jsonObject, s *Spec) error {
	llamaLike(s)
	if err := readTextShape(o, s, textShape{vocab: 202048, hidden: 5120, inter: 8192, layers: 48, heads: 40, kvHeads: 8, headDim: 128, maxPos: 4096 * 32}); err != nil {
		return err
	}
	if err := readBias(o, s, false); err != nil {
		return err
	}
	s.MLPBias = false
	m := &MoE{ExpertIntermediate: s.Intermediate, SharedIntermediate: s.Intermediate, SharedExperts: 1}
	var err error
	if s.Intermediate, err = o.int("intermediate_size_mlp", 16384, 0, maxWidth); err != nil {
		return err
	}
	if m.Experts, err = o.int("num_local_experts", 16, 0, maxExperts); err != nil {
		return err
	}
	if m.ExpertsPerToken, err = o.int("num_experts_per_tok", 1, 0, maxExperts); err != nil {
		return err
	}
	moeLayers, err := o.intList("moe_layers", math.MaxInt32)
	if err != nil {
		return err
	}
	if !o.has("moe_layers") {
		step, err := o.int("interleave_moe_layer_step", 1, 0, math.MaxInt32)
		if err != nil {
			return err
		}
		for i := step - 1; step > 0 && i < s.Layers && i <= maxLayers; i += step {
			moeLayers = append(moeLayers, i)
		}
	}
	isMoE := map[int]bool{}
	for _, i := range moeLayers {
		isMoE[i] = true
	}
	for i := 0; i < s.Layers && i <= maxLayers; i++ {
		if !isMoE[i] {
			m.DenseLayers = append(m.DenseLayers, i)
		}
	}
	if m.Experts > 0 && len(m.DenseLayers) < s.Layers {
		s.MoE = m
	} else if s.Intermediate == 0 {
		s.Intermediate = m.ExpertIntermediate
	}

	chunk, err := o.int("attention_chunk_size", 8192, 0, maxWindow)
	if err != nil {
		return err
	}
	ok, err := explicitLayerTypes(o, s)
	if err != nil {
		return err
	}
	if !ok {
		noRope, err := o.intList("no_rope_layers", 1)
		if err != nil {
			return err
		}
		if len(noRope) == 0 { // an empty list means "use the default"
			interval, err := o.int("no_rope_layer_interval", 4, 0, math.MaxInt32)
			if err != nil {
				return err
			}
			for i := 0; i < s.Layers && i <= maxLayers; i++ {
				r := 1
				if interval > 0 && (i+1)%interval == 0 {
					r = 0
				}
				noRope = append(noRope, r)
			}
		}
		if len(noRope) < s.Layers {
			return fmt.Errorf("no_rope_layers has %d entries for %d layers", len(noRope), s.Layers)
		}
		// Llama4TextConfig: rotary layers use chunked attention, NoPE
		// layers full attention.
		s.LayerAttention = make([]AttentionKind, s.Layers)
		for i := range s.LayerAttention {
			s.LayerAttention[i] = AttentionFull
			if noRope[i] != 0 {
				s.LayerAttention[i] = AttentionChunked
			}
		}
	}
	if chunk == 0 {
		// attention_chunk_size null: chunked layers attend to everything.
		for i, k := range s.LayerAttention {
			if k == AttentionChunked {
				s.LayerAttention[i] = AttentionFull
			}
		}
	} else if hasAttention(s.LayerAttention, AttentionChunked) {
		s.AttentionChunk = chunk
	}
	if hasSliding(s.LayerAttention) {
		return fmt.Errorf("layer_types has sliding_attention, which llama4_text does not use")
	}
	return nil
}

// explicitLayerTypes reads a "layer_types" list when the config has one.
func explicitLayerTypes(o jsonObject, s *Spec) (bool, error) {
	if !o.has("layer_types") {
		return false, nil
	}
	names, err := o.strList("layer_types")
	if err != nil {
		return false, err
	}
	if len(names) < s.Layers {
		return false, fmt.Errorf("layer_types has %d entries for %d layers", len(names), s.Layers)
	}
	kinds := make([]AttentionKind, s.Layers)
	for i := range kinds {
		switch names[i] {
		case "full_attention":
			kinds[i] = AttentionFull
		case "sliding_attention":
			kinds[i] = AttentionSliding
		case "chunked_attention":
			kinds[i] = AttentionChunked
		default:
			return false, fmt.Errorf("layer %d has layer type %q, which gpuplan cannot size; supported: full_attention, sliding_attention, chunked_attention", i, names[i])
		}
	}
	s.LayerAttention = kinds
	return true, nil
}

func uniformAttention(n int, k AttentionKind) []AttentionKind {
	if n < 0 || n > maxLayers {
		return nil // Validate rejects the layer count
	}
	out := make([]AttentionKind, n)
	for i := range out {
		out[i] = k
	}
	return out
}

func hasAttention(ks []AttentionKind, k AttentionKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func hasSliding(ks []AttentionKind) bool { return hasAttention(ks, AttentionSliding) }

// ---- vision towers and projectors ----

// visionShape reads a vision config's common keys.
func visionShape(o jsonObject, model string, d Vision) (*Vision, error) {
	v := &Vision{ModelType: model}
	var err error
	get := func(dst *int, key string, def int) {
		if err == nil {
			*dst, err = o.int(key, def, 0, maxWidth)
		}
	}
	get(&v.Layers, "num_hidden_layers", d.Layers)
	get(&v.Hidden, "hidden_size", d.Hidden)
	get(&v.Intermediate, "intermediate_size", d.Intermediate)
	get(&v.Heads, "num_attention_heads", d.Heads)
	if err == nil {
		v.ImageSize, err = squareSize(o, "image_size", d.ImageSize)
	}
	if err == nil {
		v.PatchSize, err = squareSize(o, "patch_size", d.PatchSize)
	}
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	if v.Layers < 1 || v.Layers > maxLayers || v.Hidden < 1 || v.Hidden > maxHidden || v.Heads < 1 || v.Intermediate < 1 || v.PatchSize < 1 {
		return nil, fmt.Errorf("vision_config: layers %d, hidden %d, heads %d, intermediate %d, patch %d are not a valid vision tower", v.Layers, v.Hidden, v.Heads, v.Intermediate, v.PatchSize)
	}
	return v, nil
}

// squareSize reads an image or patch size given as one integer or as a
// [height, width] pair; gpuplan counts square inputs only, which is what
// the supported towers are released with.
func squareSize(o jsonObject, key string, def int) (int, error) {
	if r := o.value(key); r != nil && r[0] == '[' {
		l, err := o.intList(key, maxWidth)
		if err != nil {
			return 0, err
		}
		if len(l) != 2 || l[0] != l[1] {
			return 0, fmt.Errorf("%s %v: only square sizes are supported", key, l)
		}
		return l[0], nil
	}
	return o.int(key, def, 0, maxWidth)
}

// visionConfig returns the vision_config object (def, or an empty object
// meaning the vision config class's defaults, when absent) and checks its
// model_type.
func visionConfig(top jsonObject, want string, def jsonObject) (jsonObject, error) {
	o, err := top.child("vision_config")
	if err != nil {
		return nil, err
	}
	if o == nil {
		o = def
	}
	if o == nil {
		o = jsonObject{}
	}
	mt, err := o.str("model_type", want)
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	if mt != want {
		return nil, fmt.Errorf("vision_config model_type %q is not the %q tower this architecture uses; gpuplan cannot count it", mt, want)
	}
	return o, nil
}

// gemma3Vision: SiglipVisionModel (SiglipVisionConfig defaults: hidden 768,
// intermediate 3072, 12 layers, 12 heads, 3 channels, 224-pixel images, 16-
// pixel patches) and Gemma3MultiModalProjector (mm_input_projection_weight
// vision × text hidden, mm_soft_emb_norm of vision hidden).
func gemma3Vision(top jsonObject, s *Spec) (*Vision, error) {
	o, err := visionConfig(top, "siglip_vision_model", nil)
	if err != nil {
		return nil, err
	}
	v, err := visionShape(o, "siglip_vision_model", Vision{Layers: 12, Hidden: 768, Intermediate: 3072, Heads: 12, ImageSize: 224, PatchSize: 16})
	if err != nil {
		return nil, err
	}
	channels, err := o.int("num_channels", 3, 1, 64)
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	// SiglipVisionTransformer builds the attention-pooling head unless
	// vision_use_head is false.
	head, err := o.boolean("vision_use_head", true)
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	var a countAcc
	H, I, L := int64(v.Hidden), int64(v.Intermediate), int64(v.Layers)
	side := int64(v.ImageSize / v.PatchSize)
	patch := a.add(a.mul(int64(channels), int64(v.PatchSize), int64(v.PatchSize), H), H) // Conv2d with bias
	pos := a.mul(side, side, H)                                                          // position_embedding
	layer := a.add(
		a.mul(4, H),                           // layer_norm1, layer_norm2 (weight + bias)
		a.mul(4, a.add(a.mul(H, H), H)),       // q, k, v, out_proj with biases
		a.add(a.mul(H, I), I, a.mul(I, H), H)) // fc1, fc2 with biases
	tower := a.add(patch, pos, a.mul(L, layer), a.mul(2, H)) // + post_layernorm
	if head {
		// SiglipMultiheadAttentionPoolingHead: probe, nn.MultiheadAttention
		// (in_proj 3H×H + 3H, out_proj H×H + H), layernorm, MLP.
		tower = a.add(tower, H, a.mul(3, H, H), a.mul(3, H), a.mul(H, H), H, a.mul(2, H),
			a.add(a.mul(H, I), I, a.mul(I, H), H))
	}
	v.TowerParams = tower
	v.ProjectorParams = a.add(a.mul(H, int64(s.Hidden)), H)
	if a.overflow {
		return nil, fmt.Errorf("vision_config: parameter count overflows")
	}
	return v, nil
}

// llama4Vision: Llama4VisionModel (Llama4VisionConfig defaults: hidden
// 768, 34 layers, 16 heads, intermediate 5632, 448-pixel images, 14-pixel
// patches, projector 4096 → 4096, output 7680) and Llama4MultiModalProjector
// (vision_output_dim → text hidden, no bias).
func llama4Vision(top jsonObject, s *Spec) (*Vision, error) {
	o, err := visionConfig(top, "llama4_vision_model", nil)
	if err != nil {
		return nil, err
	}
	v, err := visionShape(o, "llama4_vision_model", Vision{Layers: 34, Hidden: 768, Intermediate: 5632, Heads: 16, ImageSize: 448, PatchSize: 14})
	if err != nil {
		return nil, err
	}
	var channels, projIn, projOut, outDim int
	get := func(dst *int, key string, def int) {
		if err == nil {
			*dst, err = o.int(key, def, 1, maxWidth)
		}
	}
	get(&channels, "num_channels", 3)
	get(&projIn, "projector_input_dim", 4096)
	get(&projOut, "projector_output_dim", 4096)
	get(&outDim, "vision_output_dim", 7680)
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	var a countAcc
	H, I, L, P := int64(v.Hidden), int64(v.Intermediate), int64(v.Layers), int64(v.PatchSize)
	side := int64(v.ImageSize / v.PatchSize)
	tower := a.add(
		a.mul(int64(channels), P, P, H),       // Llama4UnfoldConvolution linear, no bias
		H,                                     // class_embedding
		a.mul(a.add(a.mul(side, side), 1), H), // positional_embedding_vlm (patches + class token)
		a.mul(4, H),                           // layernorm_pre, layernorm_post
		a.mul(L, a.add(
			a.mul(4, a.add(a.mul(H, H), H)),       // q, k, v, o with biases
			a.add(a.mul(H, I), I, a.mul(I, H), H), // fc1, fc2 with biases
			a.mul(4, H))),                         // input/post_attention LayerNorms
		// vision_adapter (Llama4VisionPixelShuffleMLP → Llama4VisionMLP2):
		// fc1 intermediate → projector_input_dim, fc2 output → output, no biases.
		a.mul(I, int64(projIn)), a.mul(int64(projOut), int64(projOut)))
	v.TowerParams = tower
	v.ProjectorParams = a.mul(int64(outDim), int64(s.Hidden))
	if a.overflow {
		return nil, fmt.Errorf("vision_config: parameter count overflows")
	}
	return v, nil
}

// mistral3Vision: PixtralVisionModel (PixtralVisionConfig defaults: hidden
// 1024, intermediate 4096, 24 layers, 16 heads, 3 channels, 1024-pixel
// images, 16-pixel patches; RMSNorms, bias-free attention and SwiGLU MLP,
// patch convolution without bias) and Mistral3MultiModalProjector (RMSNorm,
// patch merger of spatial_merge_size² patches, two linears with
// multimodal_projector_bias).
func mistral3Vision(top jsonObject, s *Spec) (*Vision, error) {
	o, err := visionConfig(top, "pixtral", mistral3Pixtral)
	if err != nil {
		return nil, err
	}
	v, err := visionShape(o, "pixtral", Vision{Layers: 24, Hidden: 1024, Intermediate: 4096, Heads: 16, ImageSize: 1024, PatchSize: 16})
	if err != nil {
		return nil, err
	}
	channels, err := o.int("num_channels", 3, 1, 64)
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	merge, err := top.int("spatial_merge_size", 2, 1, 64)
	if err != nil {
		return nil, err
	}
	bias, err := top.boolean("multimodal_projector_bias", false)
	if err != nil {
		return nil, err
	}
	// vision_feature_layer: an int, or a list whose features are
	// concatenated before linear_1.
	featureLayers := int64(1)
	if r := top.value("vision_feature_layer"); r != nil && r[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(r, &items); err != nil || len(items) == 0 {
			return nil, fmt.Errorf("vision_feature_layer: want an integer or a non-empty list of integers")
		}
		featureLayers = int64(len(items))
	}
	var a countAcc
	H, I, L, P, T := int64(v.Hidden), int64(v.Intermediate), int64(v.Layers), int64(v.PatchSize), int64(s.Hidden)
	v.TowerParams = a.add(
		a.mul(int64(channels), P, P, H), // patch_conv
		H,                               // ln_pre
		a.mul(L, a.add(a.mul(4, H, H), a.mul(3, H, I), a.mul(2, H))))
	m := int64(merge)
	v.ProjectorParams = a.add(
		H,                           // norm
		a.mul(H, m, m, H),           // patch_merger.merging_layer
		a.mul(H, featureLayers, T),  // linear_1
		a.mul(T, T),                 // linear_2
		boolCount(bias)*a.mul(2, T)) // their biases
	if a.overflow {
		return nil, fmt.Errorf("vision_config: parameter count overflows")
	}
	return v, nil
}

// kimiVLVision: MoonViT (vLLM moonvit.py, from Kimi-VL's modeling code;
// MoonViTConfig defaults: hidden 1152, intermediate 4304, 27 layers, 16
// heads, 14-pixel patches, a 64 × 64 learned position grid, 2 × 2 merge)
// and KimiVLMultiModalProjector (LayerNorm, linear 4·hidden → 4·hidden,
// linear → text hidden, with biases).
func kimiVLVision(top jsonObject, s *Spec) (*Vision, error) {
	o, err := visionConfig(top, "moonvit", nil)
	if err != nil {
		return nil, err
	}
	v, err := visionShape(o, "moonvit", Vision{Layers: 27, Hidden: 1152, Intermediate: 4304, Heads: 16, PatchSize: 14})
	if err != nil {
		return nil, err
	}
	ph, err := o.int("init_pos_emb_height", 64, 1, 1<<16)
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	pw, err := o.int("init_pos_emb_width", 64, 1, 1<<16)
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	mk, err := o.intList("merge_kernel_size", 64)
	if err != nil {
		return nil, fmt.Errorf("vision_config: %w", err)
	}
	if !o.has("merge_kernel_size") {
		mk = []int{2, 2}
	}
	if len(mk) != 2 || mk[0] < 1 || mk[1] < 1 {
		return nil, fmt.Errorf("vision_config: merge_kernel_size %v: want two positive integers", mk)
	}
	var a countAcc
	H, I, L, P, T := int64(v.Hidden), int64(v.Intermediate), int64(v.Layers), int64(v.PatchSize), int64(s.Hidden)
	v.TowerParams = a.add(
		a.add(a.mul(3, P, P, H), H),    // patch_embed.proj Conv2d(3, H) with bias
		a.mul(int64(ph), int64(pw), H), // patch_embed.pos_emb
		a.mul(L, a.add(
			a.mul(4, H),                             // norm0, norm1
			a.add(a.mul(3, H, H), a.mul(3, H)),      // wqkv with bias
			a.add(a.mul(H, H), H),                   // wo with bias
			a.add(a.mul(H, I), I, a.mul(I, H), H))), // fc0, fc1 with biases
		a.mul(2, H)) // final_layernorm
	M := a.mul(H, int64(mk[0]), int64(mk[1]))
	v.ProjectorParams = a.add(a.mul(2, H), a.mul(M, M), M, a.mul(M, T), T)
	if a.overflow {
		return nil, fmt.Errorf("vision_config: parameter count overflows")
	}
	return v, nil
}

// ---- JSON access ----

// jsonObject is one JSON object with lazily decoded values.
type jsonObject map[string]json.RawMessage

// parseObject decodes data as a JSON object; JSON null gives a nil object.
func parseObject(data []byte) (jsonObject, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return nil, fmt.Errorf("empty input, not a JSON object")
	}
	if bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	if t[0] != '{' {
		return nil, fmt.Errorf("want a JSON object, got %s", describeJSON(t))
	}
	var o jsonObject
	if err := json.Unmarshal(t, &o); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if o == nil {
		o = jsonObject{}
	}
	return o, nil
}

func describeJSON(t []byte) string {
	switch t[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number or invalid JSON"
}

// value returns the value of key, or nil when absent or null.
func (o jsonObject) value(key string) json.RawMessage {
	r, ok := o[key]
	if !ok {
		return nil
	}
	t := bytes.TrimSpace(r)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil
	}
	return t
}

// has reports whether key is present with a non-null value.
func (o jsonObject) has(key string) bool { return o.value(key) != nil }

// present reports whether key is present at all (null included).
func (o jsonObject) present(key string) bool {
	_, ok := o[key]
	return ok
}

// int reads an integer key: absent gives def, null gives 0 (transformers'
// None), anything else must be an integral number within [lo, hi].
func (o jsonObject) int(key string, def, lo, hi int) (int, error) {
	if !o.present(key) {
		return def, nil
	}
	r := o.value(key)
	if r == nil {
		return 0, nil
	}
	v, err := parseJSONInt(r)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	if v < int64(lo) || v > int64(hi) {
		return 0, fmt.Errorf("%s = %d is out of range [%d, %d]", key, v, lo, hi)
	}
	return int(v), nil
}

// intAlt reads the first present key of keys (aliases), else def.
func (o jsonObject) intAlt(keys []string, def, lo, hi int) (int, error) {
	for _, k := range keys {
		if o.present(k) {
			return o.int(k, def, lo, hi)
		}
	}
	return def, nil
}

// parseInt reads a JSON number that must be a whole number (configs
// sometimes write 10000.0 for an integer).
func parseJSONInt(r json.RawMessage) (int64, error) {
	s := string(r)
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, fmt.Errorf("want an integer, got %s", describeJSON(r))
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("want an integer, got %.40s", s)
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("want an integer, got %.40s", s)
	}
	return int64(f), nil
}

// str reads a string key; absent or null gives def.
func (o jsonObject) str(key, def string) (string, error) {
	r := o.value(key)
	if r == nil {
		return def, nil
	}
	var v string
	if err := json.Unmarshal(r, &v); err != nil {
		return "", fmt.Errorf("%s: want a string, got %s", key, describeJSON(r))
	}
	return v, nil
}

// boolean reads a boolean key; absent or null gives def.
func (o jsonObject) boolean(key string, def bool) (bool, error) {
	r := o.value(key)
	if r == nil {
		return def, nil
	}
	var v bool
	if err := json.Unmarshal(r, &v); err != nil {
		return false, fmt.Errorf("%s: want true or false, got %s", key, describeJSON(r))
	}
	return v, nil
}

// strList reads a list of strings; a single string is a one-element list.
func (o jsonObject) strList(key string) ([]string, error) {
	r := o.value(key)
	if r == nil {
		return nil, nil
	}
	if r[0] == '"' {
		v, err := o.str(key, "")
		return []string{v}, err
	}
	var v []string
	if err := json.Unmarshal(r, &v); err != nil {
		return nil, fmt.Errorf("%s: want a list of strings, got %s", key, describeJSON(r))
	}
	return v, nil
}

// intList reads a list of integers in [0, hi].
func (o jsonObject) intList(key string, hi int) ([]int, error) {
	r := o.value(key)
	if r == nil {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(r, &items); err != nil {
		return nil, fmt.Errorf("%s: want a list of integers, got %s", key, describeJSON(r))
	}
	out := make([]int, 0, len(items))
	for _, e := range items {
		v, err := parseJSONInt(bytes.TrimSpace(e))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if v < 0 || v > int64(hi) {
			return nil, fmt.Errorf("%s: %d is out of range [0, %d]", key, v, hi)
		}
		out = append(out, int(v))
	}
	return out, nil
}

// child reads a nested object; absent or null gives nil.
func (o jsonObject) child(key string) (jsonObject, error) {
	r := o.value(key)
	if r == nil {
		return nil, nil
	}
	v, err := parseObject(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return v, nil
}
