// Package atomicfile writes files so that a reader sees either the old
// content or the whole new content, never a partial file: gpuplan's caches,
// plan.json, calibration files and reports are all written this way, and
// a failure leaves no temporary file behind.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes data to path through a temporary file in the same directory
// (so the final rename stays on one file system). The directory must
// exist: a path the user typed into a missing directory is an error, not a
// reason to create one (caches create theirs first).
//
// An existing file keeps what the user set up: a symbolic link is written
// through to its target (the link stays a link), and a regular file keeps
// its permission bits (a plan.json made 0600 stays 0600); perm applies to
// new files only. Anything but a regular file (a directory, a FIFO, a
// device) is refused rather than replaced or blocked on.
func Write(path string, data []byte, perm os.FileMode) error {
	target, err := resolve(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if st, err := os.Stat(target); err == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("write %s: %s is not a regular file (%s); choose another path", path, target, st.Mode().Type())
		}
		perm = st.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := replace(target, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// maxLinks bounds the symbolic links followed, as the kernel's ELOOP does.
const maxLinks = 40

// resolve follows path while it is a symbolic link and returns the file it
// finally names (which need not exist yet: a dangling link is written
// through, creating its target).
func resolve(path string) (string, error) {
	for i := 0; i < maxLinks; i++ {
		st, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", fmt.Errorf("more than %d symbolic links", maxLinks)
}

// replace writes data to a temporary file beside path, syncs it, gives it
// perm and renames it over path.
func replace(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(name)
		return err
	}
	if err := os.Chmod(name, perm); err != nil {
		_ = os.Remove(name)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		_ = os.Remove(name)
		return err
	}
	return nil
}
