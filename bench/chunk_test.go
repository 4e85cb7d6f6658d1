package bench

import (
	"bytes"
	"testing"
)

func TestDecodeChunk(t *testing.T) {
	tests := []struct {
		in       string
		piece    string
		choices  bool
		finished bool
		usage    *usageObj
		errRaw   string
		bad      bool
	}{
		{in: `{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`, piece: "hi", choices: true},
		{in: `{"choices":[{"text":" a\n\u00e9","finish_reason":"length"}]}`, piece: " a\né", choices: true, finished: true},
		{in: `{"choices":[{"delta":{"reasoning_content":"th","content":null}}]}`, piece: "th", choices: true},
		{in: `{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}}`, usage: &usageObj{12, 4}},
		{in: `{"choices":[{"delta":{"role":"assistant","content":""}}],"prompt_filter_results":[{"x":[1,2.5e3,true,false,null]}]}`, choices: true},
		{in: `{"error":{"message":"oom","code":500}}`, errRaw: `{"message":"oom","code":500}`},
		{in: `{"error":null,"choices":null}`},
		{in: `{"Choices":[{"Delta":{"Content":"x"}}]}`, piece: "x", choices: true}, // encoding/json matches keys case-insensitively
		{in: `{"usage":{"completion_tokens":1.5}}`, bad: true},
		{in: `{"choices":[{"delta":{"content":"a"}}]} x`, bad: true},
		{in: `{"choices":[{"delta":{"content":"a}]}`, bad: true},
		{in: `[1]`, bad: true},
	}
	for _, tt := range tests {
		got, err := decodeChunk([]byte(tt.in))
		if (err != nil) != tt.bad {
			t.Errorf("%s: err %v", tt.in, err)
			continue
		}
		if tt.bad {
			continue
		}
		if got.piece != tt.piece || got.choices != tt.choices || got.finished != tt.finished || string(got.errRaw) != tt.errRaw ||
			(got.usage == nil) != (tt.usage == nil) || (got.usage != nil && *got.usage != *tt.usage) {
			t.Errorf("%s: got %+v", tt.in, got)
		}
	}
	// The shapes real servers send must take the fast path.
	for _, tt := range tests[:8] {
		if _, err := fastChunk([]byte(tt.in)); err != nil {
			t.Errorf("%s: fell back to encoding/json", tt.in)
		}
	}
}

// FuzzDecodeChunk checks that the hand-written fast path agrees with
// json.Unmarshal on every input: same error status, same extracted fields.
func FuzzDecodeChunk(f *testing.F) {
	for _, s := range []string{
		`{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`,
		`{"choices":[{"text":"\u00e9\n","finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`,
		`{"error":{"message":"x"}}`, `{"choices":[null,{"a":[]}]}`, `{"choices":[{"delta":{"content":"a"},"delta":{"reasoning":"b"}}]}`,
		`{"usage":null,"usage":{}}`, "{\"choices\":[{\"text\":\"\xff\"}]}", `{"choices":[{"delta":null}]}`, `null`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fast, ferr := decodeChunk(in)
		slow, serr := slowChunk(in)
		if (ferr != nil) != (serr != nil) {
			t.Fatalf("%q: fast err %v, json err %v", in, ferr, serr)
		}
		if ferr != nil {
			return
		}
		if fast.piece != slow.piece || fast.choices != slow.choices || fast.finished != slow.finished || !bytes.Equal(fast.errRaw, slow.errRaw) ||
			(fast.usage == nil) != (slow.usage == nil) || (fast.usage != nil && *fast.usage != *slow.usage) {
			t.Fatalf("%q:\nfast %+v\njson %+v", in, fast, slow)
		}
	})
}
