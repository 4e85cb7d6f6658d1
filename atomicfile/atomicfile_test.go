package atomicfile

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "missing", "plan.json"), []byte("x"), 0o644); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	p := filepath.Join(dir, "plan.json")
	if err := Write(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An existing file keeps its mode: the user made it 0600, and a
	// rewrite with the default 0644 must not widen it (perm applies to new
	// files only; this test used to expect perm to win).
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "two" {
		t.Fatalf("content %q, %v", b, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("%d entries left in the directory, want only the file", len(entries))
	}
}

// A failed write leaves the old file as it was and no temporary file.
func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	if err := Write(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Renaming a file over a directory fails.
	target := filepath.Join(dir, "d")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(target, []byte("new"), 0o644); err == nil {
		t.Fatal("writing over a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary file left behind: %v", entries)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("old file changed: %q", b)
	}
}

// TestWriteThroughSymlink: a plan.json that is a link to a shared file is
// written through: the link stays a link, the target gets the content and
// keeps its mode.
func TestWriteThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(shared, "plan.json")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "plan.json")
	if err := os.Symlink("shared/plan.json", link); err != nil {
		t.Fatal(err)
	}
	// A link to a link, too.
	link2 := filepath.Join(dir, "current.json")
	if err := os.Symlink(link, link2); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{link, link2} {
		want := fmt.Sprintf("new %d", i)
		if err := Write(p, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(p); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("%s is no longer a symbolic link (%v)", p, err)
		}
		b, _ := os.ReadFile(target)
		if string(b) != want {
			t.Errorf("target holds %q, want %q", b, want)
		}
		if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
			t.Errorf("target mode %v, want 0600", st.Mode().Perm())
		}
	}
	// A dangling link creates its target.
	dangling := filepath.Join(dir, "new.json")
	if err := os.Symlink("shared/created.json", dangling); err != nil {
		t.Fatal(err)
	}
	if err := Write(dangling, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(shared, "created.json")); err != nil || string(b) != "x" {
		t.Errorf("dangling link target: %q, %v", b, err)
	}
	// A loop is an error, not a hang.
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink("loop", loop); err != nil {
		t.Fatal(err)
	}
	if err := Write(loop, []byte("x"), 0o644); err == nil {
		t.Error("wrote through a symlink loop")
	}
}

// TestLockSerialisesWriters: read-modify-write under Lock from many
// goroutines at once loses no update.
func TestLockSerialisesWriters(t *testing.T) {
	p := filepath.Join(t.TempDir(), "counter")
	if err := Write(p, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := Lock(context.Background(), p)
			if err != nil {
				errs <- err
				return
			}
			defer release()
			b, _ := os.ReadFile(p)
			n, _ := strconv.Atoi(string(b))
			time.Sleep(time.Millisecond)
			if err := Write(p, []byte(strconv.Itoa(n+1)), 0o644); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "20" {
		t.Errorf("counter = %s after 20 locked increments, want 20", b)
	}
	// A held lock makes a second taker wait until its context ends.
	release, err := Lock(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, p); err == nil {
		t.Error("took a lock that is held")
	}
}
