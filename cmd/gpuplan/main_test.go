package main

import (
	"bytes"
	"context"
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
