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
