package server

import (
	"net/url"
	"strings"
	"testing"
)

// checkArgs asserts what any accepted request must produce: the command
// name first, only known flags as --name=value, no control characters, and
// positional arguments that cannot be read as flags.
func checkArgs(t *testing.T, c *compiled, args []string) {
	t.Helper()
	if len(args) == 0 || args[0] != c.Name {
		t.Fatalf("args %q do not start with %s", args, c.Name)
	}
	for _, a := range args[1:] {
		for _, r := range a {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("arg %q has a control character", a)
			}
		}
		if strings.HasPrefix(a, "-") {
			name, _, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if !ok || !strings.HasPrefix(a, "--") {
				t.Fatalf("flag arg %q is not --name=value", a)
			}
			if p, known := c.params[ParamName(name)]; !known || p.flag == nil || p.flag.Name != name {
				t.Fatalf("arg %q names no known flag", a)
			}
		}
	}
}

func fuzzCommand(t testing.TB) *compiled {
	c, err := compile(testCommands[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func FuzzFromJSON(f *testing.F) {
	for _, s := range []string{
		`{"model":"llama-3.1-8b","context":8192,"gpu_memory_utilization":0.9}`,
		`{"vm":["a","b"],"verbose":true}`,
		`{"context":1e300}`, `{"context":"8"}`, `[]`, `null`, `{"model":"-x"}`, `{"precision":"a\u0000b"}`,
		`{"vm":"a,b","context":-0}`, `{} {}`, `{"model":null}`, `{"context":9223372036854775807}`, `{"context":9.3e18}`,
	} {
		f.Add([]byte(s))
	}
	c := fuzzCommand(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := c.fromJSON(body)
		if err != nil {
			if _, ok := err.(*inputError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		args, err := c.cliArgs(v)
		if err != nil {
			return
		}
		checkArgs(t, c, args)
	})
}

func FuzzFromQuery(f *testing.F) {
	for _, s := range []string{
		"model=llama-3.1-8b&context=8192", "vm=a&vm=b&verbose=1", "context=1.5", "model=--help",
		"precision=%0A", "gpu_memory_utilization=NaN", "x=1", "model=a&model=b", "precision=%ff",
	} {
		f.Add(s)
	}
	c := fuzzCommand(f)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		v, err := c.fromQuery(q)
		if err != nil {
			return
		}
		args, err := c.cliArgs(v)
		if err != nil {
			return
		}
		checkArgs(t, c, args)
	})
}
