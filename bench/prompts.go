package bench

import (
	"errors"
	"github.com/gpuplan/gpuplan/internal/jsonl"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Prompt is one load-test prompt.
type Prompt struct {
	Text string
	// InputTokens is the prompt length in tokens as the harness estimates
	// it (synthetic prompts) or as the prompts file states it; the server's
	// usage.prompt_tokens replaces it when reported.
	InputTokens int
	// OutputTokens is this prompt's max_tokens; 0 means the run's default.
	OutputTokens int
}

// syntheticWords are very common lowercase English words, chosen because
// byte-pair vocabularies trained on English text (the GPT, Llama 3 and Qwen
// families) hold such a word, with its leading space, as one token. So a
// prompt of N of them is taken as N tokens, plus whatever the chat template
// adds. That is an approximation, not checked against every tokenizer: the
// server's usage.prompt_tokens, reported per level as input_tokens_mean, is
// the exact count.
var syntheticWords = strings.Fields(`the of and to in is that for it as was with be by on not he this are or
his from at which but have an they you were her she there one all we their has been if more when will
would who so no out up into do than can time only new some could these two may first then any like
other over also after made many did most back our way years where much your well down should because
each just those people how too little state good very make world still own see men work long here get
both between life being under never day same another know while last might us great old year off come
since against go came right used take three small large next early young important few public
place number part point group case system water program question city home room fact month book night
word side kind head house service friend father power hour game line end law car name team idea body
face level door health art war history party result change morning reason research girl guy food moment
air teacher force education`)

// SyntheticPrompts returns n distinct prompts of about inputTokens tokens.
// Each starts with its own random words so that no two share a prefix a
// server could cache (vLLM's automatic prefix caching would otherwise turn
// the prefill into a lookup and understate TTFT). Deterministic for a seed.
func SyntheticPrompts(n, inputTokens int, seed uint64) []Prompt {
	if n < 1 {
		n = 1
	}
	if inputTokens < 1 {
		inputTokens = 1
	}
	rng := rand.New(rand.NewPCG(seed, 0x67707570_6c616e)) // "gpuplan"
	out := make([]Prompt, n)
	var sb strings.Builder
	for i := range out {
		sb.Reset()
		for w := 0; w < inputTokens; w++ {
			if w > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(syntheticWords[rng.IntN(len(syntheticWords))])
		}
		out[i] = Prompt{Text: sb.String(), InputTokens: inputTokens}
	}
	return out
}

// PromptLine is one line of a prompts file (JSON Lines, UTF-8, one object
// per line; blank lines are skipped). docs/bench.md documents it.
type PromptLine struct {
	// Prompt is the text sent as the user message (chat) or the prompt
	// (completions). Required.
	Prompt string `json:"prompt"`
	// InputTokens optionally states the prompt's length in tokens, used for
	// reporting when the server sends no usage.
	InputTokens int `json:"input_tokens,omitempty"`
	// OutputTokens optionally sets this prompt's max_tokens.
	OutputTokens int `json:"output_tokens,omitempty"`
}

// Limits on prompt files.
const (
	maxPromptLine  = 16 << 20 // one prompt of ~4M tokens is beyond any context window
	maxPromptLines = 1_000_000
)

// LoadPrompts reads a JSON Lines prompts file, named name in errors
// ("prompts.jsonl:3: ..."; jsonl.Read).
func LoadPrompts(r io.Reader, name string) ([]Prompt, error) {
	lines, err := jsonl.Read(r, name, jsonl.Limits{MaxLineBytes: maxPromptLine, MaxRecords: maxPromptLines, Records: "prompts"},
		func(_ int, pl *PromptLine) error {
			if pl.Prompt == "" {
				return errors.New(`"prompt" is missing or empty (each line must be a JSON object like {"prompt": "...", "output_tokens": 128})`)
			}
			if pl.InputTokens < 0 || pl.OutputTokens < 0 {
				return errors.New("token counts must not be negative")
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	out := make([]Prompt, len(lines))
	for i, pl := range lines {
		out[i] = Prompt{Text: pl.Prompt, InputTokens: pl.InputTokens, OutputTokens: pl.OutputTokens}
	}
	return out, nil
}

// requestID names request i of level l; the fake server in tests keys its
// send timestamps by it.
func requestID(level, i int, warm bool) string {
	p := "m"
	if warm {
		p = "w"
	}
	return p + strconv.Itoa(level) + "-" + strconv.Itoa(i)
}
