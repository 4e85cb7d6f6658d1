package model

// gptOssFamily: OpenAI gpt-oss.
var gptOssFamily = family{
	name: "gpt-oss",
	text: map[string]textBuilder{"gpt_oss": buildGptOss},
	gguf: []ggufArch{{name: "gpt-oss", modelType: "gpt_oss", slidingPattern: gptOssSlidingPattern}},
}

// gptOssSlidingPattern: GptOssConfig slides on every other layer starting
// with the first (window 128); llama.cpp's set_swa_pattern(2).
const (
	gptOssSlidingPattern = 2
	gptOssDefaultWindow  = 128
)

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
	return alternating(o, s, gptOssSlidingPattern, gptOssDefaultWindow)
}
