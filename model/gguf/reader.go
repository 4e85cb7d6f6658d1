package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// DefaultMaxHeaderBytes bounds how much of a file is read as header. The
// largest real headers are a few MB to a few tens of MB (a 262k-entry
// tokenizer vocabulary with scores and token types, or an embedded
// tokenizer.json); 256 MiB leaves room for those and still refuses a
// header that would exhaust memory.
const DefaultMaxHeaderBytes = 256 << 20

// DefaultFirstReadBytes is the first read's size: enough for most headers
// of models with small vocabularies, and a single range request remotely.
// Later reads double it.
const DefaultFirstReadBytes = 2 << 20

// ErrFormat is wrapped by errors about malformed GGUF bytes.
var ErrFormat = errors.New("invalid GGUF file")

// ErrHeaderTooLarge is wrapped when the header runs past the read limit.
var ErrHeaderTooLarge = errors.New("GGUF header larger than the read limit")

// prefix holds bytes [0, len(buf)) of the file, grown on demand.
type prefix struct {
	r     io.ReaderAt
	size  int64 // file size, or -1 when unknown
	buf   []byte
	eof   bool  // the reader ended: buf is the whole file
	limit int64 // never read past this offset
	step  int64 // size of the next read
}

// prefetch makes the first read: one step, or the whole file if smaller.
// Only I/O errors are reported; a short file is noted and left to ensure.
func (p *prefix) prefetch() error {
	want := min(p.step, p.limit)
	if p.size >= 0 {
		want = min(want, p.size)
	}
	chunk := make([]byte, want)
	n, err := p.r.ReadAt(chunk, 0)
	p.buf = chunk[:n]
	p.step *= 2
	if n < len(chunk) {
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		p.eof = true
	}
	return nil
}

// ensure makes bytes [0, end) available.
func (p *prefix) ensure(end int64) error {
	if end <= int64(len(p.buf)) {
		return nil
	}
	if p.size >= 0 && end > p.size || p.eof {
		return fmt.Errorf("%w: the file ends at byte %d, inside the header (truncated file?)", ErrFormat, int64(len(p.buf)))
	}
	if end > p.limit {
		return fmt.Errorf("%w: the header needs more than %d bytes", ErrHeaderTooLarge, p.limit)
	}
	target := max(end, int64(len(p.buf))+p.step)
	target = min(target, p.limit)
	if p.size >= 0 {
		target = min(target, p.size)
	}
	chunk := make([]byte, target-int64(len(p.buf)))
	n, err := p.r.ReadAt(chunk, int64(len(p.buf)))
	p.buf = append(p.buf, chunk[:n]...)
	p.step *= 2
	if n < len(chunk) {
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		p.eof = true
	}
	if end > int64(len(p.buf)) {
		return fmt.Errorf("%w: the file ends at byte %d, inside the header (truncated file?)", ErrFormat, int64(len(p.buf)))
	}
	return nil
}

// decoder reads little-endian GGUF primitives from a prefix, with a sticky
// error: after the first failure every read returns zero values.
type decoder struct {
	p    *prefix
	pos  int64
	err  error
	kept int64 // array elements kept so far (see maxKeptElements)
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) failf(format string, args ...any) {
	d.fail(fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...)))
}

// remaining is how many more bytes the header could possibly hold: up to
// the file end when known, else up to the read limit.
func (d *decoder) remaining() int64 {
	end := d.p.limit
	if d.p.size >= 0 {
		end = min(end, d.p.size)
	}
	return max(end-d.pos, 0)
}

func (d *decoder) bytes(n int64) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.remaining() {
		d.fail(d.tooBig(fmt.Sprintf("a %d-byte field at offset %d", n, d.pos), uint64(n)))
		return nil
	}
	if err := d.p.ensure(d.pos + n); err != nil {
		d.fail(err)
		return nil
	}
	b := d.p.buf[d.pos : d.pos+n]
	d.pos += n
	return b
}

// tooBig explains why need more bytes at the current position cannot be
// read: the file ends first (corrupt or truncated), or the header read
// limit comes first.
func (d *decoder) tooBig(what string, need uint64) error {
	if size := d.p.size; size >= 0 && need > uint64(max(size-d.pos, 0)) {
		return fmt.Errorf("%w: %s needs %d bytes, but the file ends %d bytes later (corrupt or truncated file)", ErrFormat, what, need, max(size-d.pos, 0))
	}
	return fmt.Errorf("%w: %s needs %d bytes, beyond the %d-byte header read limit", ErrHeaderTooLarge, what, need, d.p.limit)
}

func (d *decoder) u8() uint8 {
	b := d.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) u16() uint16 {
	b := d.bytes(2)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

func (d *decoder) u32() uint32 {
	b := d.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (d *decoder) u64() uint64 {
	b := d.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// str reads a GGUF string: a u64 length and that many bytes. The length is
// checked against what is left before anything is allocated.
func (d *decoder) str(what string) string {
	n := d.u64()
	if d.err != nil {
		return ""
	}
	if n > uint64(d.remaining()) {
		d.fail(d.tooBig(fmt.Sprintf("%s at offset %d", what, d.pos-8), n))
		return ""
	}
	return string(d.bytes(int64(n)))
}

// skipStr reads past a string without keeping it.
func (d *decoder) skipStr(what string) {
	n := d.u64()
	if d.err != nil {
		return
	}
	if n > uint64(d.remaining()) {
		d.fail(d.tooBig(fmt.Sprintf("%s at offset %d", what, d.pos-8), n))
		return
	}
	d.bytes(int64(n))
}

// scalar reads one value of a non-array type.
func (d *decoder) scalar(t ValueType, keepString bool) Value {
	v := Value{Type: t}
	switch t {
	case TypeUint8:
		v.u = uint64(d.u8())
	case TypeInt8:
		v.i = int64(int8(d.u8()))
	case TypeUint16:
		v.u = uint64(d.u16())
	case TypeInt16:
		v.i = int64(int16(d.u16()))
	case TypeUint32:
		v.u = uint64(d.u32())
	case TypeInt32:
		v.i = int64(int32(d.u32()))
	case TypeUint64:
		v.u = d.u64()
	case TypeInt64:
		v.i = int64(d.u64())
	case TypeFloat32:
		v.f = float64(math.Float32frombits(d.u32()))
	case TypeFloat64:
		v.f = math.Float64frombits(d.u64())
	case TypeBool:
		// gguf.cpp reads an int8 and treats non-zero as true.
		v.b = d.u8() != 0
	case TypeString:
		if keepString {
			v.s = d.str("string value")
		} else {
			d.skipStr("string value")
		}
	default:
		d.failf("unknown metadata value type %d at offset %d", uint32(t), d.pos-4)
	}
	return v
}

// value reads a typed metadata value (the type code already read).
func (d *decoder) value(t ValueType, key string) Value {
	if t != TypeArray {
		if !t.known() {
			d.failf("key %q has unknown value type %d", key, uint32(t))
			return Value{}
		}
		return d.scalar(t, true)
	}
	et := ValueType(d.u32())
	n := d.u64()
	if d.err != nil {
		return Value{}
	}
	switch {
	case et == TypeArray:
		// gguf.cpp refuses nested arrays; so does this reader.
		d.failf("key %q is an array of arrays, which GGUF loaders do not accept", key)
		return Value{}
	case !et.known():
		d.failf("key %q is an array of unknown type %d", key, uint32(et))
		return Value{}
	}
	// Every element takes at least its fixed size (8 bytes of length for a
	// string): refuse counts the rest of the header cannot hold.
	minSize := et.size()
	if et == TypeString {
		minSize = 8
	}
	if n > uint64(d.remaining()/minSize) {
		d.fail(d.tooBig(fmt.Sprintf("key %q with %d array elements of type %s", key, n, et), satMul(n, uint64(minSize))))
		return Value{}
	}
	v := Value{Type: TypeArray, ElemType: et, Len: n}
	keep := n <= MaxKeptArray && d.kept+int64(n) <= maxKeptElements
	if keep {
		d.kept += int64(n)
		v.kept = true
		v.nums = make([]Value, 0, n)
	}
	if et != TypeString && !keep {
		d.bytes(int64(n) * minSize) // fixed-size elements: skip them in one step
		return v
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		e := d.scalar(et, keep)
		if keep {
			v.nums = append(v.nums, e)
		}
	}
	return v
}

// satMul multiplies, saturating at the maximum uint64.
func satMul(a, b uint64) uint64 {
	if b != 0 && a > math.MaxUint64/b {
		return math.MaxUint64
	}
	return a * b
}
