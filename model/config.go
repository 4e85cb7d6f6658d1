package model

import (
	"fmt"
	"sort"
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
		if s.Vision, err = multimodalWrapper.vision.read(top, s); err != nil {
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
