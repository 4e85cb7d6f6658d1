package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestREADMETour runs every "$ gpuplan …" example in the README's console
// blocks and checks the output shown there is what the binary prints now
// (go test ./cmd/gpuplan -run TestREADMETour -update rewrites it).
func TestREADMETour(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```console\n\\$ gpuplan ([^\n]*)\n(.*?)```")
	doc := string(b)
	changed := false
	out := block.ReplaceAllStringFunc(doc, func(m string) string {
		sub := block.FindStringSubmatch(m)
		args := strings.Fields(sub[1])
		var stdout, stderr bytes.Buffer
		opts := testOptions(&stdout, &stderr)
		Run(context.Background(), args, opts)
		got := stdout.String()
		if got != sub[2] {
			changed = true
			if !*update {
				t.Errorf("README example %q prints something else now:\n%s", sub[1], got)
			}
		}
		return "```console\n$ gpuplan " + sub[1] + "\n" + got + "```"
	})
	if changed && *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// testOptions pins the clock and environment so outputs are reproducible.
func testOptions(stdout, stderr *bytes.Buffer) Options {
	return Options{
		Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr,
		Now:    func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) },
		Getenv: func(string) string { return "" },
	}
}

// TestREADMESetUp: the set-up installs the command the tour runs, and
// names the Go version go.mod requires.
func TestREADMESetUp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	for _, want := range []string{"Go " + string(m[1]) + " or newer", "go install ./cmd/gpuplan"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README set-up lacks %q", want)
		}
	}
}

// BenchmarkREADMEPlan runs the README's plan example end to end, as the
// command does: catalogs, the search over every VM size, the best 5 rows
// replayed with 2,000 simulated requests each (the default), the CPU
// rows, the Azure OpenAI comparison and the printed table (docs/perf.md
// reports it; the target is under 300 ms on one core: -cpu 1).
func BenchmarkREADMEPlan(b *testing.B) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^\\$ gpuplan (plan [^\n]*)$").FindSubmatch(readme)
	if m == nil {
		b.Fatal("no plan example in the README")
	}
	args := strings.Fields(string(m[1]))
	for b.Loop() {
		var stdout, stderr bytes.Buffer
		if code := Run(context.Background(), args, testOptions(&stdout, &stderr)); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
		if !strings.Contains(strings.Join(strings.Fields(stdout.String()), " "), "comes from simulating 2,000 requests each") {
			b.Fatalf("the README example did not simulate its best rows:\n%s", stdout.String())
		}
	}
}
