package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder captures failures instead of failing the real test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

func TestSection(t *testing.T) {
	p := filepath.Join(t.TempDir(), "doc.md")
	os.WriteFile(p, []byte("intro\n<!-- x:begin -->\nold\n<!-- x:end -->\noutro\n"), 0o644)
	r := &recorder{TB: t}
	Section(r, p, "x", "new\n", false)
	if !r.failed {
		t.Error("an out-of-date section passed")
	}
	Section(t, p, "x", "new\n", true)
	b, _ := os.ReadFile(p)
	if string(b) != "intro\n<!-- x:begin -->\nnew\n<!-- x:end -->\noutro\n" {
		t.Errorf("rewritten document: %q", b)
	}
	r = &recorder{TB: t}
	Section(r, p, "x", "new\n", false)
	if r.failed {
		t.Error("an up-to-date section failed")
	}
	r = &recorder{TB: t}
	Section(r, p, "missing", "", false)
	if !r.failed {
		t.Error("missing markers passed")
	}
}

func TestFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "out.txt")
	File(t, p, "hello\n", true)
	File(t, p, "hello\n", false)
	r := &recorder{TB: t}
	File(r, p, "bye\n", false)
	if !r.failed {
		t.Error("a differing file passed")
	}
}

func TestDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	files := map[string]string{"a.yaml": "a: 1\n", "b.sh": "echo b\n"}
	Dir(t, dir, files, true)
	r := &recorder{TB: t}
	Dir(r, dir, files, false)
	if r.failed {
		t.Error("an up-to-date directory failed")
	}
	for name, changed := range map[string]map[string]string{
		"changed content": {"a.yaml": "a: 2\n", "b.sh": "echo b\n"},
		"file dropped":    {"a.yaml": "a: 1\n"},
		"file added":      {"a.yaml": "a: 1\n", "b.sh": "echo b\n", "c.md": "c\n"},
	} {
		r := &recorder{TB: t}
		Dir(r, dir, changed, false)
		if !r.failed {
			t.Errorf("%s: passed", name)
		}
	}
	Dir(t, dir, map[string]string{"a.yaml": "a: 1\n"}, true)
	if _, err := os.Stat(filepath.Join(dir, "b.sh")); !os.IsNotExist(err) {
		t.Errorf("update left a file the code no longer produces (%v)", err)
	}
}
