// Package boundedfile reads whole files of untrusted size: a user's plan,
// prompts, dataset, calibration or config file is read up to a limit, and
// a larger file is an error rather than a silent truncation or an
// allocation as large as the file.
package boundedfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge marks a file or stream longer than the limit.
var ErrTooLarge = errors.New("larger than the limit")

// Read reads all of r if it holds at most limit bytes.
func Read(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// ReadFile reads the file at path if it holds at most limit bytes. A
// missing file's error satisfies errors.Is(err, fs.ErrNotExist).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := Read(f, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}
