// Package golden compares generated text with files kept in the
// repository — golden files and generated sections of Markdown documents —
// and rewrites them when a test runs with -update. Tests use it so that
// docs/accuracy.md, docs/cli.md and command outputs cannot drift from what
// the code produces.
package golden

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// File compares got with the file at path. With update it writes got
// there instead (creating directories as needed).
func File(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
		return
	}
	if string(want) != got {
		t.Errorf("%s differs from what the code produces now (run the test with -update if the change is intended; -want +got):\n%s",
			path, cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")))
	}
}

// Dir compares a directory of golden files with files (name → content):
// the same names, each with the same content. With update it replaces the
// directory's files with files.
func Dir(t testing.TB, dir string, files map[string]string, update bool) {
	t.Helper()
	if update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		File(t, filepath.Join(dir, name), files[name], update)
	}
	if update {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok {
			t.Errorf("%s is in %s but the code no longer produces it (run the test with -update to remove it)", e.Name(), dir)
		}
	}
}

// Section compares body with the text between the lines
// "<!-- NAME:begin -->" and "<!-- NAME:end -->" of the Markdown file at
// path. With update it rewrites that text.
func Section(t testing.TB, path, name, body string, update bool) {
	t.Helper()
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
		return
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i+len(begin) {
		t.Fatalf("%s lacks the %q … %q markers", path, strings.TrimSpace(begin), end)
		return
	}
	if s[i+len(begin):j] == body {
		return
	}
	if !update {
		t.Errorf("%s section %q is out of date (run the test with -update to regenerate it)", path, name)
		return
	}
	if err := os.WriteFile(path, []byte(s[:i+len(begin)]+body+s[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
}
