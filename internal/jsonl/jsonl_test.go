package jsonl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type rec struct {
	A int    `json:"a"`
	S string `json:"s,omitempty"`
}

var lim = Limits{MaxLineBytes: 64, MaxRecords: 3, Records: "recs"}

func TestRead(t *testing.T) {
	got, err := Read[rec](strings.NewReader("{\"a\":1}\n\n  \r\n{\"a\":2,\"s\":\"x\"}\r\n"), "f.jsonl", lim, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (rec{A: 1}) || got[1] != (rec{A: 2, S: "x"}) {
		t.Errorf("got %+v", got)
	}
}

func TestReadErrors(t *testing.T) {
	notNeg := func(line int, r *rec) error {
		if r.A < 0 {
			return fmt.Errorf("a %d is negative", r.A)
		}
		return nil
	}
	for _, tc := range []struct{ in, want string }{
		{"", "f.jsonl: no recs"},
		{"\n\n", "f.jsonl: no recs"},
		{"{\"a\":1}\n\n{", "f.jsonl:3: unexpected EOF"},
		{"{\"b\":1}", `f.jsonl:1: json: unknown field "b"`},
		{"{\"a\":1} {\"a\":2}", "f.jsonl:1: more than one JSON value on the line"},
		{"{\"a\":1}\n{\"a\":-1}", "f.jsonl:2: a -1 is negative"},
		{"{\"a\":1}\n{\"a\":1}\n\n{\"a\":1}\n{\"a\":1}", "f.jsonl:5: more than 3 recs; split the file"},
		{"{\"a\":1}\n{\"s\":\"" + strings.Repeat("x", 80) + "\"}", "f.jsonl:2: line too long: longer than 64 bytes"},
		{"[1]", "f.jsonl:1: json: cannot unmarshal array"},
	} {
		_, err := Read[rec](strings.NewReader(tc.in), "f.jsonl", lim, notNeg)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%.30q: err = %v, want prefix %q", tc.in, err, tc.want)
		}
	}
	_, err := Read[rec](strings.NewReader("{\"a\":1}\n{\"s\":\""+strings.Repeat("x", 80)+"\"}"), "f", lim, nil)
	var le *Error
	if !errors.Is(err, ErrTooLong) || !errors.As(err, &le) || le.Line != 2 {
		t.Errorf("too long: %v", err)
	}
}

// FuzzRead: no input panics; every error names the input; a success has
// one record per non-blank line, each within the limits.
func FuzzRead(f *testing.F) {
	f.Add("{\"a\":1}\n\n{\"a\":2,\"s\":\"x\"}")
	f.Add("{\"a\":1} 2")
	f.Add("\r\n{\"s\":\"\\u00e9\"}\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Read[rec](strings.NewReader(in), "fuzz.jsonl", lim, nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.jsonl:") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		n := 0
		for _, l := range strings.Split(in, "\n") {
			if strings.TrimSpace(l) != "" {
				n++
				if len(l) > lim.MaxLineBytes {
					t.Fatalf("accepted a line of %d bytes", len(l))
				}
				var r rec
				if json.Unmarshal([]byte(strings.TrimSpace(l)), &r) != nil {
					t.Fatalf("accepted a line json.Unmarshal refuses: %q", l)
				}
			}
		}
		if len(got) != n || n > lim.MaxRecords {
			t.Fatalf("%d records from %d non-blank lines", len(got), n)
		}
	})
}
