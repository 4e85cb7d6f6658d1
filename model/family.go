package model

import (
	"encoding/json"
	"fmt"
)

// An architecture family is registered in one file, family_<name>.go: the
// Hugging Face model_type values it reads (with their builders, which apply
// the transformers config class's defaults), the multimodal wrappers around
// them, and the llama.cpp architecture names of the same models with the
// sliding or chunked attention pattern llama.cpp applies to them. Adding a
// family means adding one such file and listing it in families below
// (docs/contributing.md has the recipe).
type family struct {
	name string
	// text maps a language model's model_type to its builder.
	text map[string]textBuilder
	// wrappers maps a multimodal model_type to its wrapper.
	wrappers map[string]multimodalWrapper
	// gguf lists the llama.cpp architectures (LLM_ARCH_NAMES in
	// src/llama-arch.cpp) of this family.
	gguf []ggufArch
}

// ggufArch is one llama.cpp architecture name and what llama.cpp assumes
// about its attention when the GGUF metadata does not say.
type ggufArch struct {
	name string
	// modelType is the Hugging Face model_type of the same architecture;
	// empty when gpuplan has no builder for it.
	modelType string
	// slidingPattern n: llama.cpp's hparams.set_swa_pattern(n) in
	// src/llama-model.cpp, applied when the GGUF has a sliding window but no
	// per-layer pattern; layer i slides unless (i+1) % n == 0. 0: none.
	slidingPattern int
	// chunk and chunkPattern: chunked attention llama.cpp sets without a
	// GGUF key (LLAMA_SWA_TYPE_CHUNKED): chunk tokens on every layer but
	// each chunkPattern-th.
	chunk, chunkPattern int
}

// families lists every registered architecture family.
var families = []family{
	llamaFamily, mistralFamily, llama4Family, qwenFamily, gemmaFamily, phiFamily,
	falconFamily, deepseekFamily, gptOssFamily, cohereFamily,
}

// The lookup tables ParseConfig and SpecFromGGUF use, built from families.
var textBuilders, multimodalWrappers, ggufArchs = indexFamilies(families)

// indexFamilies builds the lookup tables; a model_type or architecture
// registered twice is a programming error caught by every test run.
func indexFamilies(fs []family) (map[string]textBuilder, map[string]multimodalWrapper, map[string]ggufArch) {
	text := map[string]textBuilder{}
	wrappers := map[string]multimodalWrapper{}
	archs := map[string]ggufArch{}
	for _, f := range fs {
		for mt, b := range f.text {
			if _, dup := text[mt]; dup {
				panic(fmt.Sprintf("model: model_type %q registered twice (family %s)", mt, f.name))
			}
			text[mt] = b
		}
		for mt, w := range f.wrappers {
			if _, dup := wrappers[mt]; dup {
				panic(fmt.Sprintf("model: multimodal model_type %q registered twice (family %s)", mt, f.name))
			}
			wrappers[mt] = w
		}
		for _, a := range f.gguf {
			if _, dup := archs[a.name]; dup {
				panic(fmt.Sprintf("model: GGUF architecture %q registered twice (family %s)", a.name, f.name))
			}
			archs[a.name] = a
		}
	}
	return text, wrappers, archs
}

// textBuilder fills a Spec's language-model fields from a (text) config,
// applying the transformers config class's defaults for absent keys.
type textBuilder func(o jsonObject, s *Spec) error

// multimodalWrapper is a multimodal config: the language model lives in
// text_config (of model type text when text_config omits model_type) and
// vision describes the vision tower and projector.
type multimodalWrapper struct {
	text   string
	vision visionTower
	// defaultText replaces an absent text_config when the wrapper class
	// builds a non-default one.
	defaultText jsonObject
}

// rawJSON wraps a literal JSON value.
func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }
