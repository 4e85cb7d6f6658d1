package bench

import (
	"strings"
	"testing"
)

func TestSyntheticPrompts(t *testing.T) {
	ps := SyntheticPrompts(50, 100, 3)
	starts := map[string]bool{}
	for _, p := range ps {
		if n := len(strings.Fields(p.Text)); n != 100 || p.InputTokens != 100 {
			t.Fatalf("%d words, %d tokens", n, p.InputTokens)
		}
		starts[strings.Join(strings.Fields(p.Text)[:4], " ")] = true
	}
	// Distinct starts defeat prefix caching across requests.
	if len(starts) < 49 {
		t.Errorf("only %d distinct 4-word prefixes in 50 prompts", len(starts))
	}
	if again := SyntheticPrompts(50, 100, 3); again[7].Text != ps[7].Text {
		t.Error("not reproducible")
	}
	for _, w := range syntheticWords {
		if w != strings.ToLower(w) || strings.ContainsAny(w, " \t") {
			t.Errorf("word %q", w)
		}
	}
}

func TestLoadPrompts(t *testing.T) {
	ps, err := LoadPrompts(strings.NewReader(`{"prompt":"hello there","output_tokens":5}

{"prompt":"x","input_tokens":1}`), "p.jsonl")
	if err != nil || len(ps) != 2 || ps[0].OutputTokens != 5 || ps[1].InputTokens != 1 {
		t.Fatalf("%v %+v", err, ps)
	}
	for _, bad := range []struct{ in, want string }{
		{`{"prompt":""}`, `p.jsonl:1: "prompt" is missing`}, {`{"text":"x"}`, `p.jsonl:1: json: unknown field "text"`}, {"\n\n{", "p.jsonl:3: "},
		{`{"prompt":"x","output_tokens":-1}`, "p.jsonl:1: token counts must not be negative"}, {"", "p.jsonl: no prompts"},
	} {
		if _, err := LoadPrompts(strings.NewReader(bad.in), "p.jsonl"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.in, err, bad.want)
		}
	}
}

func TestTargetEndpointAndLoopback(t *testing.T) {
	for _, tt := range []struct {
		t    Target
		want string
	}{
		{Target{URL: "http://127.0.0.1:8000/v1"}, "http://127.0.0.1:8000/v1/chat/completions"},
		{Target{URL: "http://127.0.0.1:8000/v1/", API: APICompletions}, "http://127.0.0.1:8000/v1/completions"},
		{Target{URL: "http://localhost:8000/v1/chat/completions"}, "http://localhost:8000/v1/chat/completions"},
		{Target{URL: "https://res.openai.azure.com", AzureDeployment: "gpt 4o"}, "https://res.openai.azure.com/openai/deployments/gpt%204o/chat/completions?api-version=" + DefaultAzureAPIVersion},
		{Target{URL: "https://res.openai.azure.com/openai/deployments/d", AzureDeployment: "d", AzureAPIVersion: "2025-01-01-preview"}, "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2025-01-01-preview"},
	} {
		got, err := tt.t.Endpoint()
		if err != nil || got != tt.want {
			t.Errorf("%+v: %q %v, want %q", tt.t, got, err, tt.want)
		}
	}
	for _, bad := range []string{"ftp://x/v1", "127.0.0.1:8000", "http:///v1", "http://[::1"} {
		if _, err := (Target{URL: bad}).Endpoint(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, u := range []string{"http://127.0.0.1:1/v1", "http://127.9.9.9/v1", "http://[::1]:80/v1", "http://LOCALHOST/v1"} {
		if err := CheckLoopback(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1/v1", "https://res.openai.azure.com", "http://localhost.evil.com/v1", "http://0.0.0.0/v1"} {
		if err := CheckLoopback(u); err == nil {
			t.Errorf("%s accepted as loopback", u)
		}
	}
}
