package gguf

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// magic opens every GGUF file (GGUF_MAGIC in gguf.h).
const magic = "GGUF"

// Versions this reader accepts. Version 1 used 32-bit counts and lengths
// and is refused by llama.cpp itself ("GGUFv1 is no longer supported").
const (
	minVersion = 2
	maxVersion = 3 // GGUF_VERSION in gguf.h
)

// DefaultAlignment is the tensor data alignment when general.alignment is
// absent (GGUF_DEFAULT_ALIGNMENT in gguf.h).
const DefaultAlignment = 32

// maxDims is GGML_MAX_DIMS (ggml.h): tensors have at most four dimensions.
const maxDims = 4

// maxNameBytes: tensor names must be shorter than GGML_MAX_NAME (64) bytes,
// which gguf.cpp checks.
const maxNameBytes = 64

// Minimum encoded sizes, used to refuse counts that cannot fit: a KV is a
// key (u64 length + at least one byte), a u32 type and at least one byte of
// value; a tensor info is a name (u64 length), n_dims (u32), type (u32)
// and offset (u64).
const (
	minKVBytes     = 8 + 1 + 4 + 1
	minTensorBytes = 8 + 4 + 4 + 8
)

// Caps on table sizes, so that a hostile header of tiny entries cannot
// make the parser allocate many times the header's size (an entry costs
// more in memory than its minimum encoding). Real files have tens to a few
// hundred metadata entries and at most a few thousand tensors (tens of
// thousands with one tensor per expert); llama.cpp itself bounds neither.
const (
	maxKVs     = 1 << 16
	maxTensors = 1 << 20
	// maxKeptElements bounds the array elements kept across the whole
	// file (each costs a Value); arrays beyond the budget keep only their
	// length.
	maxKeptElements = 1 << 18
)

// Tensor is one entry of the tensor table.
type Tensor struct {
	Name string
	// Dims are the dimensions in ggml order: Dims[0] is the row length
	// (the innermost, contiguous dimension), the reverse of PyTorch's
	// shape order.
	Dims []uint64
	Type GGMLType
	// Offset is the position of the tensor's data relative to the start
	// of the data section.
	Offset uint64
	// Elements is the product of Dims: the number of weights stored.
	Elements int64
	// Bytes is the tensor's exact stored size (ggml_nbytes).
	Bytes int64
}

// File is a parsed GGUF header.
type File struct {
	Version uint32
	// KV is the metadata, in file order.
	KV []KV
	// Tensors is the tensor table, in file order.
	Tensors []Tensor
	// Alignment is general.alignment or DefaultAlignment.
	Alignment uint64
	// HeaderBytes is where the tensor table ends.
	HeaderBytes int64
	// DataOffset is where the tensor data section starts.
	DataOffset int64
	// DataBytes is the size of the data section: each tensor padded to
	// the alignment, as gguf.cpp computes it.
	DataBytes int64
	// Size is the file size, or -1 when unknown.
	Size int64

	index map[string]int
}

// Options tune how much is read.
type Options struct {
	// MaxHeaderBytes bounds the bytes read (DefaultMaxHeaderBytes if 0).
	MaxHeaderBytes int64
	// FirstReadBytes is the first read's size (DefaultFirstReadBytes if 0).
	FirstReadBytes int64
}

// Sizer is implemented by readers that learn the file size while reading
// (a remote file whose first range response carries it).
type Sizer interface {
	Size() int64
}

// Parse reads the GGUF header from r. size is the file size, or -1 when
// unknown (a Sizer reader may supply it after the first read); when known,
// the tensor data must lie within the file.
func Parse(r io.ReaderAt, size int64, opts *Options) (*File, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.FirstReadBytes <= 0 {
		o.FirstReadBytes = DefaultFirstReadBytes
	}
	p := &prefix{r: r, size: size, limit: o.MaxHeaderBytes, step: min(o.FirstReadBytes, o.MaxHeaderBytes)}
	d := &decoder{p: p}
	// The first read is a full step, so a header that fits in it costs one
	// read whatever its field sizes.
	if err := p.prefetch(); err != nil {
		return nil, err
	}
	if p.size < 0 {
		if s, ok := r.(Sizer); ok && s.Size() >= 0 {
			p.size = s.Size()
		}
	}
	f, err := parse(d)
	if err != nil {
		return nil, err
	}
	f.Size = p.size
	return f, nil
}

// ParseBytes parses a header held in memory (b may be the whole file or
// only its beginning; only b is read).
func ParseBytes(b []byte) (*File, error) {
	return Parse(bytes.NewReader(b), int64(len(b)), &Options{MaxHeaderBytes: max(int64(len(b)), 1)})
}

// ReadFile parses the header of a local GGUF file.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read GGUF header of %s: not a regular file", path)
	}
	f, err := Parse(fh, st.Size(), nil)
	if err != nil {
		return nil, fmt.Errorf("read GGUF header of %s: %w", path, err)
	}
	return f, nil
}

func parse(d *decoder) (*File, error) {
	if m := d.bytes(4); d.err == nil && string(m) != magic {
		return nil, fmt.Errorf("%w: magic is %q, not %q: not a GGUF file", ErrFormat, m, magic)
	}
	f := &File{Version: d.u32(), Alignment: DefaultAlignment, index: make(map[string]int)}
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case f.Version&0xFFFF == 0:
		// gguf.cpp's test: a version this large is a byte-swapped small one.
		return nil, fmt.Errorf("%w: version %#x looks byte-swapped: big-endian GGUF files are not supported", ErrFormat, f.Version)
	case f.Version < minVersion:
		return nil, fmt.Errorf("%w: GGUF version %d is no longer supported (llama.cpp reads versions %d-%d); re-convert the model", ErrFormat, f.Version, minVersion, maxVersion)
	case f.Version > maxVersion:
		return nil, fmt.Errorf("%w: GGUF version %d is newer than this program supports (%d-%d)", ErrFormat, f.Version, minVersion, maxVersion)
	}
	nTensors := d.u64()
	nKV := d.u64()
	if d.err != nil {
		return nil, d.err
	}
	if nKV > maxKVs {
		return nil, fmt.Errorf("%w: header claims %d metadata entries; no GGUF file has more than a few hundred (limit %d)", ErrFormat, nKV, maxKVs)
	}
	if nTensors > maxTensors {
		return nil, fmt.Errorf("%w: header claims %d tensors; no GGUF model has more than tens of thousands (limit %d)", ErrFormat, nTensors, maxTensors)
	}
	if nKV > uint64(d.remaining()/minKVBytes) {
		return nil, d.tooBig(fmt.Sprintf("a header with %d metadata entries", nKV), satMul(nKV, minKVBytes))
	}
	if nTensors > uint64(d.remaining()/minTensorBytes) {
		return nil, d.tooBig(fmt.Sprintf("a header with %d tensors", nTensors), satMul(nTensors, minTensorBytes))
	}
	for i := uint64(0); i < nKV && d.err == nil; i++ {
		key := d.str("metadata key")
		if d.err != nil {
			break
		}
		if key == "" {
			d.failf("metadata entry %d has an empty key", i)
			break
		}
		if _, dup := f.index[key]; dup {
			d.failf("metadata key %q appears twice", key)
			break
		}
		t := ValueType(d.u32())
		v := d.value(t, key)
		if d.err != nil {
			break
		}
		f.index[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Value: v})
	}
	if d.err != nil {
		return nil, d.err
	}
	if v, ok := f.Get("general.alignment"); ok {
		// gguf.cpp requires a u32 power of two.
		if v.Type != TypeUint32 || v.u == 0 || v.u&(v.u-1) != 0 {
			return nil, fmt.Errorf("%w: general.alignment must be a u32 power of two, got %s %s", ErrFormat, v.Type, v)
		}
		f.Alignment = v.u
	}
	names := make(map[string]bool)
	for i := uint64(0); i < nTensors && d.err == nil; i++ {
		t := d.tensorInfo(i)
		if d.err != nil {
			break
		}
		if names[t.Name] {
			d.failf("tensor name %q appears twice", t.Name)
			break
		}
		names[t.Name] = true
		f.Tensors = append(f.Tensors, t)
	}
	if d.err != nil {
		return nil, d.err
	}
	f.HeaderBytes = d.pos
	f.DataOffset = d.pos
	if len(f.Tensors) > 0 {
		f.DataOffset = pad(d.pos, int64(f.Alignment))
	}
	// Tensors must follow each other in file order, each padded to the
	// alignment (gguf.cpp: "tensor has offset X, expected Y").
	var next, elems int64
	for _, t := range f.Tensors {
		if elems > math.MaxInt64-t.Elements {
			return nil, fmt.Errorf("%w: element count overflows at tensor %q", ErrFormat, t.Name)
		}
		elems += t.Elements
		if t.Offset != uint64(next) {
			return nil, fmt.Errorf("%w: tensor %q has data offset %d, expected %d (tensors must be stored in table order, aligned to %d)", ErrFormat, t.Name, t.Offset, next, f.Alignment)
		}
		padded := pad(t.Bytes, int64(f.Alignment))
		if padded < 0 || next > math.MaxInt64-padded || f.DataOffset > math.MaxInt64-next-padded {
			return nil, fmt.Errorf("%w: tensor data size overflows at tensor %q", ErrFormat, t.Name)
		}
		next += padded
	}
	f.DataBytes = next
	if size := d.p.size; size >= 0 && len(f.Tensors) > 0 {
		last := f.Tensors[len(f.Tensors)-1]
		if end := f.DataOffset + int64(last.Offset) + last.Bytes; end > size {
			return nil, fmt.Errorf("%w: tensor data ends at byte %d but the file is %d bytes (truncated download?)", ErrFormat, end, size)
		}
	}
	return f, nil
}

// tensorInfo reads one tensor table entry and sizes it.
func (d *decoder) tensorInfo(i uint64) Tensor {
	var t Tensor
	t.Name = d.str("tensor name")
	if d.err != nil {
		return t
	}
	if len(t.Name) >= maxNameBytes {
		d.failf("tensor %d name is %d bytes; ggml allows at most %d", i, len(t.Name), maxNameBytes-1)
		return t
	}
	nDims := d.u32()
	if d.err != nil {
		return t
	}
	if nDims > maxDims {
		d.failf("tensor %q has %d dimensions; ggml allows at most %d", t.Name, nDims, maxDims)
		return t
	}
	t.Dims = make([]uint64, nDims)
	for j := range t.Dims {
		t.Dims[j] = d.u64()
	}
	t.Type = GGMLType(d.u32())
	t.Offset = d.u64()
	if d.err != nil {
		return t
	}
	var err error
	t.Elements, t.Bytes, err = tensorBytes(t.Type, t.Dims)
	if err != nil {
		d.failf("tensor %q: %v", t.Name, err)
	}
	return t
}

// pad rounds n up to a multiple of align (GGML_PAD), or returns -1 on
// overflow.
func pad(n, align int64) int64 {
	if n > math.MaxInt64-(align-1) {
		return -1
	}
	return (n + align - 1) / align * align
}

// Get returns the value of a metadata key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.index[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// Tensor returns the tensor with the given name.
func (f *File) Tensor(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// TypeTotal is the elements and bytes stored in one ggml type.
type TypeTotal struct {
	Elements int64
	Bytes    int64
}

// Totals sums every tensor, and per ggml type name.
func (f *File) Totals() (all TypeTotal, byType map[string]TypeTotal) {
	return sumTensors(f.Tensors)
}

func sumTensors(ts []Tensor) (all TypeTotal, byType map[string]TypeTotal) {
	byType = make(map[string]TypeTotal)
	for _, t := range ts {
		all.Elements += t.Elements
		all.Bytes += t.Bytes
		tt := byType[t.Type.String()]
		tt.Elements += t.Elements
		tt.Bytes += t.Bytes
		byType[t.Type.String()] = tt
	}
	return all, byType
}

// Keys lists the metadata keys, sorted.
func (f *File) Keys() []string {
	out := make([]string, 0, len(f.KV))
	for _, kv := range f.KV {
		out = append(out, kv.Key)
	}
	sort.Strings(out)
	return out
}
