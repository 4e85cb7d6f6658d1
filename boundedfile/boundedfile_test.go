package boundedfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		limit   int64
		want    string
		tooLong bool
	}{
		{10, "0123456789", false},
		{100, "0123456789", false},
		{9, "", true},
		{0, "", true},
	} {
		b, err := ReadFile(p, tc.limit)
		if tc.tooLong {
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p) {
				t.Errorf("limit %d: err %v, want ErrTooLarge naming the file", tc.limit, err)
			}
			continue
		}
		if err != nil || string(b) != tc.want {
			t.Errorf("limit %d: %q %v", tc.limit, b, err)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if b, err := Read(strings.NewReader(""), 0); err != nil || len(b) != 0 {
		t.Errorf("empty: %q %v", b, err)
	}
}
