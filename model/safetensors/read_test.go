package safetensors

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// manyTensors makes a header longer than FirstReadBytes.
func manyTensors(n int) []tspec {
	ts := make([]tspec, n)
	for i := range ts {
		ts[i] = tspec{fmt.Sprintf("model.layers.%d.mlp.down_proj.weight", i), "BF16", []int64{4096, 14336}}
	}
	return ts
}

func TestReadHeaderReads(t *testing.T) {
	small, smallData := buildPrefix(t, nil, []tspec{{"w", "BF16", []int64{1024, 1024}}})
	big, bigData := buildPrefix(t, nil, manyTensors(2000))
	if len(big) <= FirstReadBytes {
		t.Fatalf("test header is %d bytes; want it longer than %d", len(big), FirstReadBytes)
	}
	tests := []struct {
		name      string
		prefix    []byte
		data      int64
		passSize  bool
		wantReads []int64
	}{
		{"small header, size known: one read", small, smallData, true, []int64{0}},
		{"small header, size unknown: one read", small, smallData, false, []int64{0}},
		{"long header, size known: exactly two reads", big, bigData, true, []int64{0, FirstReadBytes}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVirtual(tc.prefix, tc.data)
			size := int64(-1)
			if tc.passSize {
				size = v.size
			}
			h, err := ReadHeader(v, size)
			if err != nil {
				t.Fatal(err)
			}
			if h.DataBytes != tc.data {
				t.Errorf("DataBytes = %d, want %d", h.DataBytes, tc.data)
			}
			if fmt.Sprint(v.reads) != fmt.Sprint(tc.wantReads) {
				t.Errorf("reads at offsets %v, want %v", v.reads, tc.wantReads)
			}
		})
	}
}

// sizedVirtual reports its size after the first read, like a remote file
// whose first range response carries Content-Range.
type sizedVirtual struct{ *virtualFile }

func (s sizedVirtual) Size() int64 { return s.size }

func TestReadHeaderLearnsSizeFromSizer(t *testing.T) {
	big, bigData := buildPrefix(t, nil, manyTensors(2000))
	v := sizedVirtual{newVirtual(big, bigData)}
	if _, err := ReadHeader(v, -1); err != nil {
		t.Fatal(err)
	}
	if len(v.reads) != 2 {
		t.Errorf("%d reads, want 2 (size learnt from the first)", len(v.reads))
	}
	// The same file cut short by one byte is refused because the Sizer
	// reports the real size.
	short := sizedVirtual{&virtualFile{prefix: big, size: int64(len(big)) + bigData - 1}}
	if _, err := ReadHeader(short, -1); err == nil || !strings.Contains(err.Error(), "truncated or padded") {
		t.Errorf("err = %v, want a size mismatch", err)
	}
}

func TestReadHeaderUnknownSizeLongHeader(t *testing.T) {
	big, bigData := buildPrefix(t, nil, manyTensors(2000))
	v := newVirtual(big, bigData)
	h, err := ReadHeader(v, -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Tensors) != 2000 {
		t.Errorf("%d tensors, want 2000", len(h.Tensors))
	}
}

func TestReadHeaderSizeChecks(t *testing.T) {
	prefix, data := buildPrefix(t, nil, []tspec{{"w", "F32", []int64{8}}})
	tests := []struct {
		name string
		size int64
		want string
	}{
		{"data section one byte short", int64(len(prefix)) + data - 1, "truncated or padded"},
		{"one extra byte", int64(len(prefix)) + data + 1, "truncated or padded"},
		{"header longer than file", 20, "does not fit in a 20-byte file"},
		{"file of 4 bytes", 4, "shorter than the 8-byte header length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &virtualFile{prefix: prefix, size: tc.size}
			_, err := ReadHeader(v, tc.size)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestReadHeaderHostileLengthUnknownSize: a length prefix claiming 99 MB on
// a stream that ends early fails without reading (or allocating) anywhere
// near 99 MB.
func TestReadHeaderHostileLengthUnknownSize(t *testing.T) {
	b := frame([]byte(`{}`))
	b[0], b[1], b[2], b[3] = 0x00, 0xe1, 0xf5, 0x05 // 99,999,999+1 = 0x05f5e100
	v := &virtualFile{prefix: b, size: int64(len(b))}
	_, err := ReadHeader(v, -1)
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("err = %v, want truncation", err)
	}
	if len(v.reads) > 2 {
		t.Errorf("%d reads; the short read should stop at the first chunk", len(v.reads))
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	prefix, data := buildPrefix(t, map[string]string{"format": "pt"}, []tspec{{"w", "F16", []int64{16, 16}}})
	p := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(p, fullFile(prefix, data), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if h.DataBytes != 512 || h.Metadata["format"] != "pt" {
		t.Errorf("header = %+v", h)
	}
	// Truncating the file by one byte makes it invalid, with the path named.
	if err := os.Truncate(p, int64(len(prefix))+data-1); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v, want an error naming %s", err, p)
	}
	if _, err := ReadFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadFile(dir) err = %v", err)
	}
}
