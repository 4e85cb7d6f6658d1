package main

import (
	"path/filepath"
	"testing"

	"github.com/gpuplan/gpuplan/internal/golden"
)

// goldenFile compares got with testdata/NAME, rewriting it under -update.
func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	golden.File(t, filepath.Join("testdata", name), got, *update)
}

// goldenRun is one command whose stdout is compared with testdata/NAME.
type goldenRun struct {
	name string
	args []string
	// code is the exit code the command must end with (exitOK unless set).
	code int
}

// checkGoldenRuns runs each command with runner (run, runCost, ...),
// requires its exit code and compares stdout with its golden file: the
// run-and-compare loop the command tests share.
func checkGoldenRuns(t *testing.T, runner func(*testing.T, ...string) (string, string, int), runs []goldenRun) {
	t.Helper()
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			out, errOut, code := runner(t, r.args...)
			if code != r.code {
				t.Fatalf("%v: exit %d, want %d; stderr: %s", r.args, code, r.code, errOut)
			}
			goldenFile(t, r.name, out)
		})
	}
}
