package safetensors

import (
	"context"
	"fmt"
	"io"
	"os"
)

// FirstReadBytes is the size of the first read of a file. Most headers fit
// in it, so a remote header usually costs one HTTP range request; a longer
// one costs exactly one more.
const FirstReadBytes = 64 << 10

// growStep is the first chunk size used to read the rest of a header when
// the file size is unknown, so that a hostile length prefix cannot make the
// reader allocate more than the bytes actually delivered (plus one chunk).
const growStep = 1 << 20

// Sizer is implemented by readers that learn the file size while reading,
// such as hfhub.File, whose first range response carries it.
type Sizer interface {
	Size() int64
}

// ReadHeader reads and validates the header of the safetensors file behind
// r. size is the file size in bytes, or -1 when unknown; when it is known
// (or r is a Sizer that knows it after the first read) the data section must
// end exactly at the end of the file, as the reference implementation
// requires. Only the header is read, never the weights.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	return ReadHeaderContext(context.Background(), r, size)
}

// ReadHeaderContext is ReadHeader that stops when ctx is done (between
// reads and while parsing) and draws the header's length from the
// context's Budget (WithBudget) before allocating it.
func ReadHeaderContext(ctx context.Context, r io.ReaderAt, size int64) (*Header, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	first := int64(FirstReadBytes)
	if size >= 0 && size < first {
		first = size
	}
	buf := make([]byte, first)
	n, err := r.ReadAt(buf, 0)
	if n < len(buf) {
		if err != nil && err != io.EOF {
			return nil, err
		}
		if size >= 0 {
			return nil, formatErr("file ends after %d bytes although its size is %d", n, size)
		}
	}
	buf = buf[:n]
	if size < 0 {
		if s, ok := r.(Sizer); ok {
			size = s.Size()
		}
	}
	hl, err := HeaderLength(buf)
	if err != nil {
		return nil, err
	}
	total := lengthBytes + hl
	if size >= 0 && total > size {
		return nil, formatErr("header length %d does not fit in a %d-byte file", hl, size)
	}
	// The first read (at most FirstReadBytes) is not charged: the budget
	// bounds what a header's length prefix makes the reader allocate.
	if extra := total - int64(len(buf)); extra > 0 {
		if err := budgetFrom(ctx).take(extra, nameOf(r)); err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) < total {
		if size >= 0 {
			// The size bounds the allocation: one more read fetches the rest.
			rest := make([]byte, total-int64(len(buf)))
			if err := readFull(r, rest, int64(len(buf))); err != nil {
				return nil, err
			}
			buf = append(buf, rest...)
		} else {
			// Unknown size: grow by chunks so memory follows delivered bytes.
			for step := int64(growStep); int64(len(buf)) < total; step *= 2 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				want := min(step, total-int64(len(buf)))
				chunk := make([]byte, want)
				if err := readFull(r, chunk, int64(len(buf))); err != nil {
					return nil, err
				}
				buf = append(buf, chunk...)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := parseHeaderJSON(ctx, buf[lengthBytes:total])
	if err != nil {
		return nil, err
	}
	if size >= 0 && h.FileBytes() != size {
		return nil, formatErr("header describes %d bytes of tensor data but the file holds %d after the header (truncated or padded file?)", h.DataBytes, size-total)
	}
	return h, nil
}

// nameOf names r in messages: its Name() if it has one (hfhub.File,
// *os.File), else "a file".
func nameOf(r io.ReaderAt) string {
	if n, ok := r.(interface{ Name() string }); ok {
		return n.Name()
	}
	return "a file"
}

// ReadFile reads the header of a local safetensors file.
func ReadFile(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read safetensors header of %s: not a regular file", path)
	}
	h, err := ReadHeader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("read safetensors header of %s: %w", path, err)
	}
	return h, nil
}
