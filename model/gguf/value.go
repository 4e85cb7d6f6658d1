package gguf

import (
	"fmt"
	"math"
)

// ValueType is a metadata value type (enum gguf_type in ggml/include/gguf.h,
// GGUFValueType in gguf-py).
type ValueType uint32

// Metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"}

// String names the type as gguf.cpp does ("u32", "str", "arr").
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("gguf_type(%d)", uint32(t))
}

// size is the encoded size of a fixed-size scalar (0 for str and arr), as
// GGUF_TYPE_SIZE in gguf.cpp.
func (t ValueType) size() int64 {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

func (t ValueType) known() bool { return t <= TypeFloat64 }

func (t ValueType) integer() bool {
	switch t {
	case TypeUint8, TypeInt8, TypeUint16, TypeInt16, TypeUint32, TypeInt32, TypeUint64, TypeInt64:
		return true
	}
	return false
}

// MaxKeptArray is the longest array whose elements are kept. Longer arrays
// (tokenizer vocabularies, merges and scores run to 100k–260k entries) are
// read past and only their length is kept: nothing gpuplan needs is in
// them beyond their length. A file-wide budget of kept elements also
// applies, far above what per-layer arrays need.
const MaxKeptArray = 4096

// Value is one metadata value: a scalar, or an array of scalars.
type Value struct {
	// Type is the value's type; TypeArray for arrays.
	Type ValueType
	// ElemType is the element type of an array.
	ElemType ValueType
	// Len is the number of elements of an array.
	Len uint64

	// Scalars, by kind: unsigned and signed integers, floats, bools and
	// strings each use one field.
	u uint64
	i int64
	f float64
	b bool
	s string

	// Kept array elements (when Len <= MaxKeptArray), one slice per kind.
	nums []Value
	kept bool
}

// Uint returns an integer value that is non-negative, whatever its width.
func (v Value) Uint() (uint64, bool) {
	switch {
	case v.Type == TypeUint8 || v.Type == TypeUint16 || v.Type == TypeUint32 || v.Type == TypeUint64:
		return v.u, true
	case v.Type.integer() && v.i >= 0:
		return uint64(v.i), true
	}
	return 0, false
}

// Int returns an integer value that fits int64.
func (v Value) Int() (int64, bool) {
	switch {
	case v.Type == TypeUint8 || v.Type == TypeUint16 || v.Type == TypeUint32 || v.Type == TypeUint64:
		if v.u > math.MaxInt64 {
			return 0, false
		}
		return int64(v.u), true
	case v.Type.integer():
		return v.i, true
	}
	return 0, false
}

// Float returns a float or integer value as float64.
func (v Value) Float() (float64, bool) {
	switch v.Type {
	case TypeFloat32, TypeFloat64:
		return v.f, true
	}
	if n, ok := v.Int(); ok {
		return float64(n), true
	}
	if n, ok := v.Uint(); ok {
		return float64(n), true
	}
	return 0, false
}

// Bool returns a bool value.
func (v Value) Bool() (bool, bool) { return v.b, v.Type == TypeBool }

// Text returns a string value.
func (v Value) Text() (string, bool) { return v.s, v.Type == TypeString }

// Elems returns the elements of an array whose elements were kept (at most
// MaxKeptArray of them), each as a scalar Value.
func (v Value) Elems() ([]Value, bool) {
	if v.Type != TypeArray || !v.kept {
		return nil, false
	}
	return v.nums, true
}

// Uints returns an array of non-negative integers.
func (v Value) Uints() ([]uint64, bool) {
	el, ok := v.Elems()
	if !ok {
		return nil, false
	}
	out := make([]uint64, len(el))
	for i, e := range el {
		if out[i], ok = e.Uint(); !ok {
			return nil, false
		}
	}
	return out, true
}

// Bools returns an array of bools.
func (v Value) Bools() ([]bool, bool) {
	el, ok := v.Elems()
	if !ok || v.ElemType != TypeBool {
		return nil, false
	}
	out := make([]bool, len(el))
	for i, e := range el {
		out[i] = e.b
	}
	return out, true
}

// String renders the value briefly, for listings.
func (v Value) String() string {
	switch v.Type {
	case TypeArray:
		return fmt.Sprintf("[%d × %s]", v.Len, v.ElemType)
	case TypeString:
		if len(v.s) > 64 {
			return fmt.Sprintf("%q…", v.s[:64])
		}
		return fmt.Sprintf("%q", v.s)
	case TypeBool:
		return fmt.Sprint(v.b)
	case TypeFloat32, TypeFloat64:
		return fmt.Sprint(v.f)
	}
	if n, ok := v.Uint(); ok {
		return fmt.Sprint(n)
	}
	return fmt.Sprint(v.i)
}

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}
