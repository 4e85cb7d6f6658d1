package bench

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/internal/benchtest"
)

func TestNewcombeReference(t *testing.T) {
	b, err := os.ReadFile("testdata/newcombe-paired.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			PairedTable
			Estimate, Lower, Upper float64
		}
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, c := range ref.Cases {
		lo, hi := c.DropInterval(Z95TwoSided)
		round := func(v float64) float64 { return math.Round(v*1e4) / 1e4 }
		if round(c.Drop()) != c.Estimate || round(lo) != c.Lower || round(hi) != c.Upper {
			t.Errorf("%+v: estimate %.4f CI [%.4f, %.4f], want %.4f [%.4f, %.4f]", c.PairedTable, c.Drop(), lo, hi, c.Estimate, c.Lower, c.Upper)
		}
	}
}

func TestDropIntervalProperties(t *testing.T) {
	// Swapping the models mirrors the interval.
	tb := PairedTable{BothRight: 150, OnlyBaseline: 12, OnlyCandidate: 4, BothWrong: 34}
	lo, hi := tb.DropInterval(Z95TwoSided)
	lo2, hi2 := PairedTable{150, 4, 12, 34}.DropInterval(Z95TwoSided)
	if math.Abs(lo+hi2) > 1e-12 || math.Abs(hi+lo2) > 1e-12 {
		t.Errorf("not mirrored: [%v %v] vs [%v %v]", lo, hi, lo2, hi2)
	}
	if !(lo < tb.Drop() && tb.Drop() < hi) {
		t.Errorf("estimate %v outside [%v, %v]", tb.Drop(), lo, hi)
	}
	// The one-sided bound (z 1.645) is tighter than the two-sided 95% upper end.
	if _, up := tb.DropInterval(Z95OneSided); !(up < hi && up > tb.Drop()) {
		t.Errorf("one-sided bound %v vs two-sided %v", up, hi)
	}
	// Identical models on 200 items still leave an honest positive bound
	// (a Wald interval would collapse to [0, 0]).
	same := PairedTable{BothRight: 180, BothWrong: 20}
	if _, up := same.DropInterval(Z95OneSided); !(up > 0.005 && up < 0.03) {
		t.Errorf("no-disagreement upper bound %v", up)
	}
	if lo, hi := (PairedTable{}).DropInterval(Z95TwoSided); lo != -1 || hi != 1 {
		t.Errorf("empty table [%v %v]", lo, hi)
	}
}

func TestWilson(t *testing.T) {
	// Wilson (1927) interval for 81 of 263 at 95%: 0.2553 to 0.3662, the
	// worked example in Newcombe (1998), Statistics in Medicine 17:857.
	lo, hi := Wilson(81, 263, Z95TwoSided)
	if math.Round(lo*1e4) != 2553 || math.Round(hi*1e4) != 3662 {
		t.Errorf("Wilson(81, 263) = [%.4f, %.4f]", lo, hi)
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		it   QualityItem
		ans  string
		want bool
	}{
		{QualityItem{Answer: "42", Match: MatchNumber}, "42", true},
		{QualityItem{Answer: "42", Match: MatchNumber}, " 42.\n", true},
		{QualityItem{Answer: "42", Match: MatchNumber}, "The answer is 42", true},
		{QualityItem{Answer: "1234", Match: MatchNumber}, "1,234", true},
		{QualityItem{Answer: "42", Match: MatchNumber}, "41", false},
		{QualityItem{Answer: "42", Match: MatchNumber}, "forty-two", false},
		{QualityItem{Answer: "PLANET", Match: MatchExact}, "PLANET", true},
		{QualityItem{Answer: "PLANET", Match: MatchExact}, "planet", false},
		{QualityItem{Answer: "PLANET", Match: MatchExact}, "`PLANET`", true},
		{QualityItem{Answer: "tenalp", Match: MatchExactCI}, "Tenalp.", true},
		{QualityItem{Answer: "Paris", Aliases: []string{"Paris, France"}}, "Paris, France", true},
		{QualityItem{Answer: "Paris"}, "paris", false},
	}
	for _, tt := range tests {
		if got := tt.it.Score(tt.ans); got != tt.want {
			t.Errorf("%s %q vs %q = %v", tt.it.Match, tt.ans, tt.it.Answer, got)
		}
	}
}

// solve answers a built-in item from its prompt alone, independently of the
// generator, to prove the answers are verifiable.
func solve(t *testing.T, p string) string {
	t.Helper()
	if m := regexp.MustCompile(`What is (\d+) ([+\-×]) (\d+)\?`).FindStringSubmatch(p); m != nil {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[3])
		switch m[2] {
		case "+":
			return strconv.Itoa(a + b)
		case "-":
			return strconv.Itoa(a - b)
		default:
			return strconv.Itoa(a * b)
		}
	}
	if m := regexp.MustCompile(`word "(\w+)" backwards`).FindStringSubmatch(p); m != nil {
		return reverse(m[1])
	}
	if m := regexp.MustCompile(`word "(\w+)" in capital letters`).FindStringSubmatch(p); m != nil {
		return strings.ToUpper(m[1])
	}
	if m := regexp.MustCompile(`letters are in the word "(\w+)"`).FindStringSubmatch(p); m != nil {
		return strconv.Itoa(len(m[1]))
	}
	if m := regexp.MustCompile(`Join the words "(\w+)" and "(\w+)"`).FindStringSubmatch(p); m != nil {
		return m[1] + "-" + m[2]
	}
	if m := regexp.MustCompile(`codes: (.*)\. What is the code for (\w+)\?`).FindStringSubmatch(p); m != nil {
		for _, kv := range strings.Split(m[1], ", ") {
			k, v, _ := strings.Cut(kv, "=")
			if k == m[2] {
				return v
			}
		}
	}
	t.Fatalf("cannot solve %q", p)
	return ""
}

func TestBuiltinDataset(t *testing.T) {
	a := BuiltinDataset(300, 1)
	b := BuiltinDataset(300, 1)
	if len(a) != 300 {
		t.Fatalf("%d items", len(a))
	}
	tasks := map[string]int{}
	ids, prompts := map[string]bool{}, map[string]bool{}
	for i := range a {
		if a[i].Prompt != b[i].Prompt || a[i].Answer != b[i].Answer {
			t.Fatal("not reproducible")
		}
		if prompts[a[i].Prompt] {
			t.Fatalf("duplicate prompt %q", a[i].Prompt)
		}
		prompts[a[i].Prompt] = true
		if ids[a[i].ID] {
			t.Fatalf("duplicate id %s", a[i].ID)
		}
		ids[a[i].ID] = true
		tasks[strings.Split(a[i].Task, "/")[0]]++
		if !a[i].Score(solve(t, a[i].Prompt)) {
			t.Errorf("%s: independent answer to %q does not score against %q", a[i].ID, a[i].Prompt, a[i].Answer)
		}
	}
	if tasks["arithmetic"] != 100 || tasks["string"] != 100 || tasks["lookup"] != 100 {
		t.Errorf("task mix %v", tasks)
	}
	if big := BuiltinDataset(MaxBuiltinItems+10, 9); len(big) != MaxBuiltinItems {
		t.Errorf("capped at %d items", len(big))
	} else {
		distinct := map[string]bool{}
		for _, it := range big {
			distinct[it.Prompt] = true
		}
		if len(distinct) != MaxBuiltinItems {
			t.Errorf("%d distinct prompts of %d", len(distinct), MaxBuiltinItems)
		}
	}
	if c := BuiltinDataset(3, 2); c[0].Prompt == a[0].Prompt && c[1].Prompt == a[1].Prompt {
		t.Error("seed has no effect")
	}
}

func TestLoadDataset(t *testing.T) {
	good := `{"id":"a","prompt":"2+2?","answer":"4","match":"number"}

{"prompt":"Capital of France?","answer":"Paris","aliases":["paris"]}`
	items, err := LoadDataset(strings.NewReader(good), "qa.jsonl")
	if err != nil || len(items) != 2 || items[1].Match != MatchExact || items[1].ID != "line-3" {
		t.Fatalf("%v %+v", err, items)
	}
	for _, bad := range []struct{ in, want string }{
		{`{"prompt":"x"}`, "qa.jsonl:1: \"answer\""},
		{`{"answer":"x"}`, "qa.jsonl:1: \"prompt\""},
		{`{"prompt":"x","answer":"y","match":"fuzzy"}`, "unknown match"},
		{`{"prompt":"x","answer":"y","match":"number"}`, "not a number"},
		{`{"prompt":"x","answer":"1","extra":1}`, "unknown field"},
		{`{"id":"a","prompt":"x","answer":"1"}` + "\n" + `{"id":"a","prompt":"x","answer":"1"}`, "qa.jsonl:2: id \"a\" already used on line 1"},
		{`not json`, "qa.jsonl:1: "},
		{``, "qa.jsonl: no items"},
	} {
		if _, err := LoadDataset(strings.NewReader(bad.in), "qa.jsonl"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: err %v, want %q", bad.in, err, bad.want)
		}
	}
}

// answerer returns a fake server's answer function that solves built-in
// items, getting those with wrong(id) wrong.
func answerer(t *testing.T, items []QualityItem, wrong func(i int) bool) func(benchtest.Request) string {
	byPrompt := map[string]int{}
	for i, it := range items {
		byPrompt[it.Prompt] = i
	}
	return func(r benchtest.Request) string {
		i, ok := byPrompt[r.Text()]
		if !ok {
			return "?"
		}
		if wrong(i) {
			return "I am not sure"
		}
		return items[i].Answer
	}
}

func qualityClients(t *testing.T, base, cand *benchtest.Server) (*Client, *Client) {
	mk := func(s *benchtest.Server) *Client {
		c, err := NewClient(Target{URL: s.BaseURL(), Model: "m", API: APIChat}, nil, time.Now, 8)
		if err != nil {
			t.Fatal(err)
		}
		c.KeepText = true
		return c
	}
	return mk(base), mk(cand)
}

func TestRunQualityGate(t *testing.T) {
	items := BuiltinDataset(240, 3)
	base := benchtest.New(benchtest.Options{Answer: answerer(t, items, func(i int) bool { return i%20 == 0 })})
	defer base.Close()
	// Same model: the gate passes.
	same := benchtest.New(benchtest.Options{Answer: answerer(t, items, func(i int) bool { return i%20 == 0 })})
	defer same.Close()
	// A candidate that also fails every 10th item: 5 points lower.
	worse := benchtest.New(benchtest.Options{Answer: answerer(t, items, func(i int) bool { return i%10 == 0 || i%20 == 0 })})
	defer worse.Close()

	b, c := qualityClients(t, base, same)
	res, err := RunQuality(context.Background(), QualityConfig{Baseline: b, Candidate: c, Items: items, MaxDrop: 0.02, MinN: 200, Concurrency: 8, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || res.N != 240 || res.BaselineAccuracy != 228.0/240 || res.AgreementRate != 1 || res.Drop != 0 {
		t.Errorf("same model: %+v", res)
	}
	r := base.Requests()[0]
	if r.Temperature == nil && !strings.Contains(r.Header.Get("Content-Type"), "json") {
		t.Error("request shape")
	}

	b, c = qualityClients(t, base, worse)
	res, err = RunQuality(context.Background(), QualityConfig{Baseline: b, Candidate: c, Items: items, MaxDrop: 0.02, MinN: 200, Concurrency: 8, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Items 10, 30, 50, … (12 of them) are wrong only on the candidate.
	if res.Passed || res.Table.OnlyBaseline != 12 || res.Table.OnlyCandidate != 0 || res.Drop != 0.05 {
		t.Errorf("worse candidate: passed %v table %+v drop %v", res.Passed, res.Table, res.Drop)
	}
	if !(res.DropUpper95 > res.Drop && res.DropCI95[0] > 0) {
		t.Errorf("bounds %v %v", res.DropCI95, res.DropUpper95)
	}
	if len(res.ByTask) == 0 {
		t.Error("no per-task accuracy")
	}
}

func TestRunQualityRetriesAndTooFew(t *testing.T) {
	items := BuiltinDataset(30, 4)
	// Every request's first attempt gets a 503, the retry succeeds.
	flaky := benchtest.New(benchtest.Options{Answer: answerer(t, items, func(int) bool { return false }), Fault: func(n int64, _ string) benchtest.Fault {
		if n%2 == 1 {
			return benchtest.Fault{Kind: benchtest.Status, Code: 503, RetryAfter: "0.01"}
		}
		return benchtest.Fault{}
	}})
	defer flaky.Close()
	ok := benchtest.New(benchtest.Options{Answer: answerer(t, items, func(int) bool { return false })})
	defer ok.Close()
	b, c := qualityClients(t, ok, flaky)
	res, err := RunQuality(context.Background(), QualityConfig{Baseline: b, Candidate: c, Items: items, MaxDrop: 0.02, MinN: 10, Concurrency: 1, Timeout: 5 * time.Second, Retries: 2})
	if err != nil || res.N != 30 || len(res.Errors) != 0 {
		t.Fatalf("retries: err %v n %d errors %v", err, res.N, res.Errors)
	}
	// Without retries half the candidate requests fail: fewer than MinN.
	res, err = RunQuality(context.Background(), QualityConfig{Baseline: b, Candidate: c, Items: items, MaxDrop: 0.02, MinN: 20, Concurrency: 1, Timeout: 5 * time.Second})
	if !errors.Is(err, ErrTooFewPairs) || res.N >= 20 || res.Errors["candidate_http_503"] == 0 || res.Passed {
		t.Fatalf("too few: err %v n %d errors %v", err, res.N, res.Errors)
	}
}
