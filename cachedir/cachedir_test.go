package cachedir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == Env {
				return v
			}
			return ""
		}
	}
	if d, err := Dir(env(" /tmp/x ")); err != nil || d != "/tmp/x" {
		t.Errorf("override: %q %v", d, err)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		t.Skip(err)
	}
	for _, getenv := range []func(string) string{nil, env(""), env("   ")} {
		if d, err := Dir(getenv); err != nil || d != filepath.Join(base, "gpuplan") {
			t.Errorf("default: %q %v, want %s", d, err, filepath.Join(base, "gpuplan"))
		}
	}
}
