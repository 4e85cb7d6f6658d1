package bench

import (
	"context"
	"errors"
	"fmt"
	"github.com/gpuplan/gpuplan/internal/jsonl"
	"io"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MatchMode says how an answer is scored against the reference.
type MatchMode string

// Scoring rules (docs/bench.md, "Quality dataset").
const (
	// MatchExact: the answer equals the reference (or an alias) after
	// trimming white space, surrounding quotes or backticks, and one
	// trailing period. Case matters.
	MatchExact MatchMode = "exact"
	// MatchExactCI is MatchExact ignoring letter case.
	MatchExactCI MatchMode = "exact_ci"
	// MatchNumber: the answer, or else the last number in it, equals the
	// reference numerically (thousands separators ignored).
	MatchNumber MatchMode = "number"
)

// QualityItem is one prompt with a verifiable reference answer.
type QualityItem struct {
	ID     string `json:"id"`
	Task   string `json:"task,omitempty"`
	System string `json:"system,omitempty"`
	Prompt string `json:"prompt"`
	Answer string `json:"answer"`
	// Aliases are other accepted answers.
	Aliases []string  `json:"aliases,omitempty"`
	Match   MatchMode `json:"match,omitempty"`
	// MaxTokens bounds the answer (DefaultQualityMaxTokens when 0).
	MaxTokens int `json:"max_tokens,omitempty"`
}

// DefaultQualityMaxTokens is enough for the short answers the built-in
// dataset asks for, with room for a sentence around them.
const DefaultQualityMaxTokens = 32

var (
	numberRe  = regexp.MustCompile(`-?\d[\d,]*(?:\.\d+)?`)
	trimChars = " \t\r\n\"'`"
)

func normalizeAnswer(s string) string {
	s = strings.Trim(s, trimChars)
	s = strings.TrimSuffix(s, ".")
	s = strings.Trim(s, trimChars)
	return strings.Join(strings.Fields(s), " ")
}

func parseNumber(s string) (float64, bool) {
	s = strings.ReplaceAll(s, ",", "")
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

// Score reports whether answer matches the item's reference.
func (it QualityItem) Score(answer string) bool {
	refs := append([]string{it.Answer}, it.Aliases...)
	got := normalizeAnswer(answer)
	switch it.Match {
	case MatchNumber:
		v, ok := parseNumber(got)
		if !ok {
			all := numberRe.FindAllString(got, -1)
			if len(all) == 0 {
				return false
			}
			v, ok = parseNumber(all[len(all)-1])
			if !ok {
				return false
			}
		}
		for _, r := range refs {
			if w, ok := parseNumber(normalizeAnswer(r)); ok && w == v {
				return true
			}
		}
		return false
	case MatchExactCI:
		for _, r := range refs {
			if strings.EqualFold(got, normalizeAnswer(r)) {
				return true
			}
		}
		return false
	default:
		for _, r := range refs {
			if got == normalizeAnswer(r) {
				return true
			}
		}
		return false
	}
}

// Limits on quality datasets.
const (
	maxDatasetLine  = 1 << 20
	maxDatasetItems = 100_000
)

// LoadDataset reads a quality dataset in JSON Lines (one QualityItem per
// line; blank lines skipped), named name in errors ("qa.jsonl:3: ...";
// jsonl.Read).
func LoadDataset(r io.Reader, name string) ([]QualityItem, error) {
	seen := map[string]int{}
	return jsonl.Read(r, name, jsonl.Limits{MaxLineBytes: maxDatasetLine, MaxRecords: maxDatasetItems, Records: "items"},
		func(line int, it *QualityItem) error {
			if strings.TrimSpace(it.Prompt) == "" {
				return errors.New(`"prompt" is missing or empty (expected {"prompt": "...", "answer": "...", "match": "exact|exact_ci|number"})`)
			}
			if strings.TrimSpace(it.Answer) == "" {
				return errors.New(`"answer" is missing or empty`)
			}
			switch it.Match {
			case "":
				it.Match = MatchExact
			case MatchExact, MatchExactCI:
			case MatchNumber:
				if _, ok := parseNumber(normalizeAnswer(it.Answer)); !ok {
					return fmt.Errorf("match is \"number\" but answer %q is not a number", it.Answer)
				}
			default:
				return fmt.Errorf("unknown match %q (use exact, exact_ci or number)", it.Match)
			}
			if it.MaxTokens < 0 || it.MaxTokens > 1<<20 {
				return fmt.Errorf("max_tokens %d is out of range", it.MaxTokens)
			}
			if it.ID == "" {
				it.ID = "line-" + strconv.Itoa(line)
			}
			if prev, dup := seen[it.ID]; dup {
				return fmt.Errorf("id %q already used on line %d", it.ID, prev)
			}
			seen[it.ID] = line
			return nil
		})
}

// builtinSystem asks for bare answers, which keeps exact matching fair.
const builtinSystem = "Answer with only the final answer: no explanation, no punctuation, no quotes."

var lookupNames = strings.Fields(`apple river stone cloud maple tiger lemon piano orbit candle falcon meadow
copper harbor velvet glacier comet willow saddle lantern pepper marble canyon thistle`)

var stringWords = strings.Fields(`planet garden window yellow silver bridge castle forest rocket button
island pocket monkey dragon winter summer basket mirror ladder jungle pencil orange purple turtle
rabbit kitten wizard anchor cactus helmet`)

// MaxBuiltinItems is the largest built-in dataset with distinct prompts
// (the string tasks have about 960 distinct forms, a third of the items).
const MaxBuiltinItems = 1500

// BuiltinDataset generates n items (at most MaxBuiltinItems) with answers
// known by construction, in equal shares of arithmetic, string and lookup
// tasks, all prompts distinct, reproducibly for a seed. The tasks are easy
// for any instruction-tuned model, so a drop in accuracy points at the
// candidate's numerics, not at the test's difficulty.
func BuiltinDataset(n int, seed uint64) []QualityItem {
	n = min(n, MaxBuiltinItems)
	rng := rand.New(rand.NewPCG(seed, 0x7175616c697479)) // "quality"
	out := make([]QualityItem, 0, n)
	seen := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		var it QualityItem
		// Draw again on a repeated prompt: a duplicate would count one
		// question twice in the paired test. 1,000 draws always find a new
		// one below MaxBuiltinItems.
		for try := 0; try < 1000; try++ {
			switch i % 3 {
			case 0:
				it = arithmeticItem(rng)
			case 1:
				it = stringItem(rng)
			default:
				it = lookupItem(rng)
			}
			if !seen[it.Prompt] {
				break
			}
		}
		seen[it.Prompt] = true
		it.ID = fmt.Sprintf("builtin-%d-%04d", seed, i)
		it.System = builtinSystem
		it.MaxTokens = DefaultQualityMaxTokens
		out = append(out, it)
	}
	return out
}

func arithmeticItem(rng *rand.Rand) QualityItem {
	a, b := rng.IntN(90)+10, rng.IntN(90)+10
	switch rng.IntN(3) {
	case 0:
		return QualityItem{Task: "arithmetic/add", Prompt: fmt.Sprintf("What is %d + %d?", a, b), Answer: strconv.Itoa(a + b), Match: MatchNumber}
	case 1:
		if a < b {
			a, b = b, a
		}
		return QualityItem{Task: "arithmetic/subtract", Prompt: fmt.Sprintf("What is %d - %d?", a, b), Answer: strconv.Itoa(a - b), Match: MatchNumber}
	default:
		c := rng.IntN(8) + 2
		return QualityItem{Task: "arithmetic/multiply", Prompt: fmt.Sprintf("What is %d × %d?", a, c), Answer: strconv.Itoa(a * c), Match: MatchNumber}
	}
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func stringItem(rng *rand.Rand) QualityItem {
	w := stringWords[rng.IntN(len(stringWords))]
	switch rng.IntN(4) {
	case 0:
		return QualityItem{Task: "string/reverse", Prompt: fmt.Sprintf("Write the word %q backwards.", w), Answer: reverse(w), Match: MatchExactCI}
	case 1:
		return QualityItem{Task: "string/upper", Prompt: fmt.Sprintf("Write the word %q in capital letters.", w), Answer: strings.ToUpper(w), Match: MatchExact}
	case 2:
		return QualityItem{Task: "string/length", Prompt: fmt.Sprintf("How many letters are in the word %q?", w), Answer: strconv.Itoa(len(w)), Match: MatchNumber}
	default:
		v := stringWords[rng.IntN(len(stringWords))]
		return QualityItem{Task: "string/join", Prompt: fmt.Sprintf("Join the words %q and %q with a hyphen between them.", w, v), Answer: w + "-" + v, Match: MatchExactCI}
	}
}

func lookupItem(rng *rand.Rand) QualityItem {
	k := 5
	idx := rng.Perm(len(lookupNames))[:k]
	var sb strings.Builder
	vals := make([]int, k)
	for j, x := range idx {
		vals[j] = rng.IntN(900) + 100
		if j > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s=%d", lookupNames[x], vals[j])
	}
	q := rng.IntN(k)
	return QualityItem{Task: "lookup/code", Prompt: fmt.Sprintf("Here is a table of codes: %s. What is the code for %s?", sb.String(), lookupNames[idx[q]]),
		Answer: strconv.Itoa(vals[q]), Match: MatchNumber}
}

// QualityConfig configures RunQuality.
type QualityConfig struct {
	Baseline, Candidate *Client
	Items               []QualityItem
	// MaxDrop is the largest tolerated accuracy drop (0.02 = 2 points).
	MaxDrop float64
	// MinN is the smallest number of scored pairs the gate decides on.
	MinN int
	// Concurrency per endpoint.
	Concurrency int
	// Timeout bounds one attempt; Retries is how many more attempts a
	// request gets after a 429, 5xx, timeout or cut connection.
	Timeout time.Duration
	Retries int
	// Progress, when set, is called with (done, total) pairs.
	Progress func(done, total int)
}

// QualityRecord is one item's outcome on both endpoints.
type QualityRecord struct {
	ID               string     `json:"id"`
	Task             string     `json:"task,omitempty"`
	BaselineAnswer   string     `json:"baseline_answer"`
	CandidateAnswer  string     `json:"candidate_answer"`
	BaselineCorrect  bool       `json:"baseline_correct"`
	CandidateCorrect bool       `json:"candidate_correct"`
	BaselineError    ErrorClass `json:"baseline_error,omitempty"`
	CandidateError   ErrorClass `json:"candidate_error,omitempty"`
}

// TaskAccuracy is accuracy on one task family.
type TaskAccuracy struct {
	Task      string  `json:"task"`
	N         int     `json:"n"`
	Baseline  float64 `json:"baseline_accuracy"`
	Candidate float64 `json:"candidate_accuracy"`
}

// QualityEndpoint names one side of a quality comparison: the endpoint
// URL as the client reached it and the model asked for.
type QualityEndpoint struct {
	Endpoint string `json:"endpoint"`
	Model    string `json:"model"`
}

// QualityReport is what `gpuplan bench quality` prints with -o json or -o
// yaml: the dataset, both endpoints, and the gate's outcome.
type QualityReport struct {
	Dataset   string          `json:"dataset"`
	Baseline  QualityEndpoint `json:"baseline"`
	Candidate QualityEndpoint `json:"candidate"`
	*QualityResult
}

// QualityResult is the gate's outcome.
type QualityResult struct {
	// N counts pairs scored (both endpoints answered); Errors counts items
	// left out because one side failed after retries.
	N                 int     `json:"n"`
	Items             int     `json:"items"`
	BaselineAccuracy  float64 `json:"baseline_accuracy"`
	CandidateAccuracy float64 `json:"candidate_accuracy"`
	// AgreementRate is the share of pairs whose normalised answers are
	// identical.
	AgreementRate float64     `json:"agreement_rate"`
	Table         PairedTable `json:"paired"`
	// Drop is baseline minus candidate accuracy; DropCI95 its two-sided 95%
	// interval and DropUpper95 the one-sided 95% upper bound that the gate
	// compares with MaxDrop.
	Drop        float64            `json:"drop"`
	DropCI95    [2]float64         `json:"drop_ci95"`
	DropUpper95 float64            `json:"drop_upper95"`
	MaxDrop     float64            `json:"max_drop"`
	MinN        int                `json:"min_n"`
	Passed      bool               `json:"passed"`
	Method      string             `json:"method"`
	ByTask      []TaskAccuracy     `json:"by_task,omitempty"`
	Errors      map[ErrorClass]int `json:"errors"`
	Records     []QualityRecord    `json:"-"`
}

// ErrTooFewPairs means fewer than MinN pairs were scored.
var ErrTooFewPairs = errors.New("too few scored pairs for the gate")

// RunQuality sends every item at temperature 0 to both endpoints, scores
// the answers and applies the gate. The result is returned even when
// scoring fell short of MinN (with ErrTooFewPairs).
func RunQuality(ctx context.Context, cfg QualityConfig) (*QualityResult, error) {
	if cfg.Baseline == nil || cfg.Candidate == nil {
		return nil, errors.New("bench: quality needs a baseline and a candidate client")
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	zero := 0.0
	recs := make([]QualityRecord, len(cfg.Items))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	jobs := make(chan int)
	ask := func(cl *Client, it QualityItem) (string, ErrorClass) {
		mt := it.MaxTokens
		if mt == 0 {
			mt = DefaultQualityMaxTokens
		}
		body, err := cl.Body(Request{Prompt: it.Prompt, System: it.System, MaxTokens: mt, Temperature: &zero})
		if err != nil {
			return "", ErrMalformedEvent
		}
		var last RequestRecord
		for attempt := 0; attempt <= cfg.Retries; attempt++ {
			if attempt > 0 {
				// Exponential backoff from 500 ms, or the server's Retry-After.
				wait := time.Duration(500<<min(attempt-1, 6)) * time.Millisecond
				if last.RetryAfter > 0 {
					wait = min(last.RetryAfter, DefaultMaxRetryAfter)
				}
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return "", ErrCancelled
				}
			}
			rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			last = cl.Do(rctx, it.ID, body, 0)
			cancel()
			if last.OK() || ctx.Err() != nil || !retryable(last) {
				break
			}
		}
		if !last.OK() {
			return "", last.Err
		}
		return last.Text, ""
	}
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				it := cfg.Items[i]
				r := QualityRecord{ID: it.ID, Task: it.Task}
				r.BaselineAnswer, r.BaselineError = ask(cfg.Baseline, it)
				r.CandidateAnswer, r.CandidateError = ask(cfg.Candidate, it)
				r.BaselineCorrect = r.BaselineError == "" && it.Score(r.BaselineAnswer)
				r.CandidateCorrect = r.CandidateError == "" && it.Score(r.CandidateAnswer)
				recs[i] = r
				if cfg.Progress != nil {
					mu.Lock()
					done++
					cfg.Progress(done, len(cfg.Items))
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for i := range cfg.Items {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()

	res := ScoreQuality(recs, cfg.Items, cfg.MaxDrop, cfg.MinN)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if res.N < cfg.MinN {
		return res, fmt.Errorf("%w: %d scored of %d items (minimum %d)", ErrTooFewPairs, res.N, len(cfg.Items), cfg.MinN)
	}
	return res, nil
}

func retryable(r RequestRecord) bool {
	switch {
	case r.Status == 429, r.Status >= 500:
		return true
	case r.Err == ErrTimeout, r.Err == ErrDisconnect, r.Err == ErrConnect:
		return true
	}
	return false
}

// ScoreQuality builds the gate's result from per-item records. Items where
// either side failed (or that were never sent) are left out of the pairs
// and counted in Errors.
func ScoreQuality(recs []QualityRecord, items []QualityItem, maxDrop float64, minN int) *QualityResult {
	res := &QualityResult{Items: len(items), MaxDrop: maxDrop, MinN: minN, Errors: map[ErrorClass]int{},
		Method: "Newcombe square-and-add interval for paired proportions (Wilson score components); one-sided 95% upper bound = upper end of the two-sided 90% interval"}
	var agree int
	tasks := map[string]*[4]int{} // n, base, cand
	var order []string
	for i := range recs {
		r := &recs[i]
		if r.ID == "" {
			res.Errors[ErrCancelled]++
			continue
		}
		if r.BaselineError != "" || r.CandidateError != "" {
			if r.BaselineError != "" {
				res.Errors["baseline_"+r.BaselineError]++
			}
			if r.CandidateError != "" {
				res.Errors["candidate_"+r.CandidateError]++
			}
			continue
		}
		switch {
		case r.BaselineCorrect && r.CandidateCorrect:
			res.Table.BothRight++
		case r.BaselineCorrect:
			res.Table.OnlyBaseline++
		case r.CandidateCorrect:
			res.Table.OnlyCandidate++
		default:
			res.Table.BothWrong++
		}
		if normalizeAnswer(r.BaselineAnswer) == normalizeAnswer(r.CandidateAnswer) {
			agree++
		}
		if r.Task != "" {
			t, ok := tasks[r.Task]
			if !ok {
				t = &[4]int{}
				tasks[r.Task] = t
				order = append(order, r.Task)
			}
			t[0]++
			if r.BaselineCorrect {
				t[1]++
			}
			if r.CandidateCorrect {
				t[2]++
			}
		}
	}
	t := res.Table
	res.N = t.N()
	nf := float64(res.N)
	res.BaselineAccuracy = safeDiv(float64(t.BothRight+t.OnlyBaseline), nf)
	res.CandidateAccuracy = safeDiv(float64(t.BothRight+t.OnlyCandidate), nf)
	res.AgreementRate = safeDiv(float64(agree), nf)
	res.Drop = t.Drop()
	lo, hi := t.DropInterval(Z95TwoSided)
	res.DropCI95 = [2]float64{lo, hi}
	_, res.DropUpper95 = t.DropInterval(Z95OneSided)
	res.Passed = res.N >= minN && res.N > 0 && res.DropUpper95 <= maxDrop
	for _, name := range order {
		c := tasks[name]
		res.ByTask = append(res.ByTask, TaskAccuracy{Task: name, N: c[0], Baseline: safeDiv(float64(c[1]), float64(c[0])), Candidate: safeDiv(float64(c[2]), float64(c[0]))})
	}
	return res
}
