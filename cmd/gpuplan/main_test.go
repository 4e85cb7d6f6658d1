package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and README examples")

// run executes the CLI in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, testOptions(&stdout, &stderr))
	return stdout.String(), stderr.String(), code
}

// runJSON runs the CLI, requires exit code want and decodes stdout (the
// command's -o json document) into v; it returns stdout for further
// checks. It is the run-and-decode step the command tests share.
func runJSON(t *testing.T, v any, want int, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, args...)
	if code != want {
		t.Fatalf("%v: exit %d, want %d: %s", args, code, want, errOut)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v: stdout is not the JSON document: %v\n%s", args, err, out)
	}
	return out
}
