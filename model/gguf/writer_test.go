package gguf

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
)

// The test writer follows the GGUF layout llama.cpp documents (and
// gguf-py's GGUFWriter produces): magic, u32 version, u64 tensor count,
// u64 KV count, KVs, tensor infos, padding to the alignment, then tensor
// data with each tensor padded to the alignment.

type wkv struct {
	key string
	typ ValueType
	val any // uint64, int64, float64, bool, string, or warr
}

type warr struct {
	et    ValueType
	elems []any
}

type wtensor struct {
	name string
	dims []uint64
	typ  GGMLType
}

type writer struct {
	bytes.Buffer
}

func (w *writer) u8(v uint8)   { w.WriteByte(v) }
func (w *writer) u16(v uint16) { w.Write(binary.LittleEndian.AppendUint16(nil, v)) }
func (w *writer) u32(v uint32) { w.Write(binary.LittleEndian.AppendUint32(nil, v)) }
func (w *writer) u64(v uint64) { w.Write(binary.LittleEndian.AppendUint64(nil, v)) }
func (w *writer) str(s string) { w.u64(uint64(len(s))); w.WriteString(s) }

func (w *writer) scalar(t ValueType, v any) {
	switch t {
	case TypeUint8, TypeInt8:
		w.u8(uint8(toU64(v)))
	case TypeUint16, TypeInt16:
		w.u16(uint16(toU64(v)))
	case TypeUint32, TypeInt32:
		w.u32(uint32(toU64(v)))
	case TypeUint64, TypeInt64:
		w.u64(toU64(v))
	case TypeFloat32:
		w.u32(math.Float32bits(float32(v.(float64))))
	case TypeFloat64:
		w.u64(math.Float64bits(v.(float64)))
	case TypeBool:
		if v.(bool) {
			w.u8(1)
		} else {
			w.u8(0)
		}
	case TypeString:
		w.str(v.(string))
	default:
		panic("test writer: bad type")
	}
}

func toU64(v any) uint64 {
	switch x := v.(type) {
	case uint64:
		return x
	case int64:
		return uint64(x)
	case int:
		return uint64(x)
	}
	panic("test writer: not an integer")
}

// build returns the header (padded to the data section) and the data
// section size. Offsets are laid out as llama.cpp requires.
func build(version uint32, kvs []wkv, ts []wtensor, align int64) ([]byte, int64) {
	var w writer
	w.WriteString("GGUF")
	w.u32(version)
	w.u64(uint64(len(ts)))
	w.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		w.str(kv.key)
		w.u32(uint32(kv.typ))
		if kv.typ == TypeArray {
			a := kv.val.(warr)
			w.u32(uint32(a.et))
			w.u64(uint64(len(a.elems)))
			for _, e := range a.elems {
				w.scalar(a.et, e)
			}
			continue
		}
		w.scalar(kv.typ, kv.val)
	}
	var off int64
	for _, t := range ts {
		w.str(t.name)
		w.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			w.u64(d)
		}
		w.u32(uint32(t.typ))
		w.u64(uint64(off))
		_, size, err := tensorBytes(t.typ, t.dims)
		if err != nil {
			panic(err)
		}
		off += pad(size, align)
	}
	if len(ts) > 0 {
		for int64(w.Len())%align != 0 {
			w.u8(0)
		}
	}
	return w.Bytes(), off
}

// virtual is an io.ReaderAt over a header followed by zeros that are never
// materialised; it records each read as [offset, length).
type virtual struct {
	head  []byte
	size  int64
	reads [][2]int64
}

func (v *virtual) ReadAt(p []byte, off int64) (int, error) {
	v.reads = append(v.reads, [2]int64{off, int64(len(p))})
	if off >= v.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off+int64(n) < v.size {
		pos := off + int64(n)
		if pos < int64(len(v.head)) {
			n += copy(p[n:], v.head[pos:])
			continue
		}
		k := int(min(int64(len(p)-n), v.size-pos))
		clear(p[n : n+k])
		n += k
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func strs(prefix string, n int) warr {
	a := warr{et: TypeString}
	for i := 0; i < n; i++ {
		a.elems = append(a.elems, prefix+string(rune('a'+i%26)))
	}
	return a
}

func u32s(vals ...uint64) warr {
	a := warr{et: TypeUint32}
	for _, v := range vals {
		a.elems = append(a.elems, v)
	}
	return a
}
