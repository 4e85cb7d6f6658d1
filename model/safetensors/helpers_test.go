package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"testing"
)

// tspec describes one tensor for the test writer.
type tspec struct {
	name  string
	dtype string
	shape []int64
}

// buildPrefix writes a header the way the reference writer does: tensors
// laid out back to back in the given order, JSON padded with spaces to a
// multiple of 8 bytes. It returns the 8-byte length plus header, and the
// size of the data section that must follow.
func buildPrefix(t testing.TB, md map[string]string, ts []tspec) ([]byte, int64) {
	t.Helper()
	obj := make(map[string]any)
	if md != nil {
		obj["__metadata__"] = md
	}
	var off int64
	for _, s := range ts {
		bits, ok := DTypeBits(s.dtype)
		if !ok {
			t.Fatalf("test writer: unknown dtype %s", s.dtype)
		}
		n := int64(1)
		for _, d := range s.shape {
			n *= d
		}
		size := n * bits / 8
		shape := s.shape
		if shape == nil {
			shape = []int64{}
		}
		obj[s.name] = map[string]any{"dtype": s.dtype, "shape": shape, "data_offsets": []int64{off, off + size}}
		off += size
	}
	js, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return frame(js), off
}

// frame prefixes JSON with its padded length.
func frame(js []byte) []byte {
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	out := make([]byte, 8, 8+len(js))
	binary.LittleEndian.PutUint64(out, uint64(len(js)))
	return append(out, js...)
}

// virtualFile is an io.ReaderAt over a header followed by a data section of
// zeros that is never materialised, so multi-gigabyte checkpoints cost
// nothing. It counts reads to check the range-request strategy.
type virtualFile struct {
	prefix []byte
	size   int64
	reads  []int64 // offsets of each ReadAt
}

func (v *virtualFile) ReadAt(p []byte, off int64) (int, error) {
	v.reads = append(v.reads, off)
	if off >= v.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off+int64(n) < v.size {
		pos := off + int64(n)
		if pos < int64(len(v.prefix)) {
			n += copy(p[n:], v.prefix[pos:])
			continue
		}
		end := min(int64(len(p)-n), v.size-pos)
		clear(p[n : n+int(end)])
		n += int(end)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func newVirtual(prefix []byte, data int64) *virtualFile {
	return &virtualFile{prefix: prefix, size: int64(len(prefix)) + data}
}

// fullFile materialises a small file.
func fullFile(prefix []byte, data int64) []byte {
	return append(bytes.Clone(prefix), make([]byte, data)...)
}
