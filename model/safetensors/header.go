package safetensors

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderBytes is the largest header accepted: the reference
// implementation refuses headers over 100,000,000 bytes
// (MAX_HEADER_SIZE in huggingface/safetensors safetensors/src/tensor.rs,
// error HeaderTooLarge), so no valid file has a longer one.
const MaxHeaderBytes = 100_000_000

// lengthBytes is the size of the little-endian u64 header length that opens
// every file (N_LEN in the reference implementation).
const lengthBytes = 8

// maxDataBytes bounds the data section at 1 EiB. No checkpoint comes near
// it, and it keeps every element and byte sum within int64 (an F4 tensor
// has two elements per byte).
const maxDataBytes = 1 << 60

// metadataKey is the reserved entry holding free-form string metadata.
const metadataKey = "__metadata__"

// ErrFormat is wrapped by every error about malformed header bytes, so
// callers can tell a bad file from an I/O failure with errors.Is.
var ErrFormat = errors.New("invalid safetensors header")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// Tensor is one entry of a header.
type Tensor struct {
	// Name is the tensor's key in the header.
	Name string `json:"name"`
	// DType is the element type as the file spells it ("BF16", "F8_E4M3").
	DType string `json:"dtype"`
	// Shape is the tensor's dimensions; an empty shape is a scalar.
	Shape []int64 `json:"shape"`
	// Elements is the product of Shape.
	Elements int64 `json:"elements"`
	// Begin and End delimit the tensor's bytes within the data section,
	// which starts right after the header.
	Begin int64 `json:"begin"`
	End   int64 `json:"end"`
}

// Bytes is the tensor's stored size.
func (t Tensor) Bytes() int64 { return t.End - t.Begin }

// Header is a validated safetensors header.
type Header struct {
	// HeaderBytes is N, the length of the JSON header (padding included).
	HeaderBytes int64 `json:"header_bytes"`
	// Metadata is the optional "__metadata__" object (nil when absent).
	Metadata map[string]string `json:"metadata,omitempty"`
	// Tensors are sorted by their position in the data section.
	Tensors []Tensor `json:"tensors"`
	// DataBytes is the size of the data section: the end of the last tensor.
	DataBytes int64 `json:"data_bytes"`
}

// FileBytes is the size the whole file must have: length prefix, header
// and data section.
func (h *Header) FileBytes() int64 { return lengthBytes + h.HeaderBytes + h.DataBytes }

// HeaderLength decodes the 8-byte little-endian header length at the start
// of a file and checks it against MaxHeaderBytes.
func HeaderLength(prefix []byte) (int64, error) {
	if len(prefix) < lengthBytes {
		return 0, formatErr("file is %d bytes, shorter than the 8-byte header length", len(prefix))
	}
	n := binary.LittleEndian.Uint64(prefix[:lengthBytes])
	if n > MaxHeaderBytes {
		return 0, formatErr("header length %d exceeds the %d-byte limit of the safetensors reference implementation; this is not a safetensors file or it is corrupt", n, MaxHeaderBytes)
	}
	if n < 2 {
		return 0, formatErr("header length %d is too short for a JSON object", n)
	}
	return int64(n), nil
}

// ParseHeader parses the start of a safetensors file: the 8-byte length N
// and the N bytes of JSON that follow. b may extend past the header (the
// rest is ignored) but must hold all of it.
func ParseHeader(b []byte) (*Header, error) {
	n, err := HeaderLength(b)
	if err != nil {
		return nil, err
	}
	if int64(len(b))-lengthBytes < n {
		return nil, formatErr("header length %d exceeds the %d bytes available after the length prefix (truncated file?)", n, len(b)-lengthBytes)
	}
	h, err := ParseHeaderJSON(b[lengthBytes : lengthBytes+n])
	if err != nil {
		return nil, err
	}
	return h, nil
}

// ParseHeaderJSON parses and validates the JSON part of a header.
func ParseHeaderJSON(js []byte) (*Header, error) {
	return parseHeaderJSON(context.Background(), js)
}

// ctxCheckEvery is how many entries parseHeaderJSON parses between checks
// of its context: a 77 MB header has about a million entries.
const ctxCheckEvery = 1024

func parseHeaderJSON(ctx context.Context, js []byte) (*Header, error) {
	if !utf8.Valid(js) {
		return nil, formatErr("header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, formatErr("header is not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, formatErr("header is not a JSON object")
	}
	h := &Header{HeaderBytes: int64(len(js))}
	seen := make(map[string]bool)
	for n := 0; dec.More(); n++ {
		if n%ctxCheckEvery == ctxCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, formatErr("header JSON: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, formatErr("header JSON: object key is not a string")
		}
		if seen[name] {
			return nil, formatErr("entry %q appears twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, formatErr("entry %q: unexpected end of JSON", name)
			}
			return nil, formatErr("entry %q: %v", name, err)
		}
		if name == metadataKey {
			md, err := parseMetadata(raw)
			if err != nil {
				return nil, err
			}
			h.Metadata = md
			continue
		}
		t, err := parseTensor(name, raw)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, t)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, formatErr("header JSON: %v", err)
	}
	// Only whitespace may follow the object: writers pad the header with
	// spaces to a multiple of 8 bytes (safetensors tensor.rs, prepare).
	if rest := js[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, formatErr("unexpected bytes after the header's JSON object")
	}
	if err := h.validateLayout(); err != nil {
		return nil, err
	}
	return h, nil
}

func parseMetadata(raw json.RawMessage) (map[string]string, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var md map[string]string
	if err := json.Unmarshal(raw, &md); err != nil {
		return nil, formatErr("%q must be an object of strings: %v", metadataKey, err)
	}
	return md, nil
}

// parseTensor decodes one tensor entry. Keys are matched exactly (unlike
// encoding/json's case-insensitive struct matching), unknown keys are
// ignored as the reference implementation's serde derive does.
func parseTensor(name string, raw json.RawMessage) (Tensor, error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return Tensor{}, formatErr("tensor %q: entry is not an object", name)
	}
	t := Tensor{Name: name}
	rawDType, ok := fields["dtype"]
	if !ok {
		return Tensor{}, formatErr("tensor %q: no dtype", name)
	}
	if err := json.Unmarshal(rawDType, &t.DType); err != nil {
		return Tensor{}, formatErr("tensor %q: dtype is not a string", name)
	}
	bits, ok := DTypeBits(t.DType)
	if !ok {
		return Tensor{}, formatErr("tensor %q: unknown dtype %q (known: %s)", name, t.DType, strings.Join(DTypes(), ", "))
	}
	rawShape, ok := fields["shape"]
	if !ok {
		return Tensor{}, formatErr("tensor %q: no shape", name)
	}
	shape, err := parseInts(rawShape)
	if err != nil {
		return Tensor{}, formatErr("tensor %q: shape: %v", name, err)
	}
	t.Shape = shape
	rawOffsets, ok := fields["data_offsets"]
	if !ok {
		return Tensor{}, formatErr("tensor %q: no data_offsets", name)
	}
	offs, err := parseInts(rawOffsets)
	if err != nil {
		return Tensor{}, formatErr("tensor %q: data_offsets: %v", name, err)
	}
	if len(offs) != 2 {
		return Tensor{}, formatErr("tensor %q: data_offsets has %d numbers, want 2", name, len(offs))
	}
	t.Begin, t.End = offs[0], offs[1]
	if t.End < t.Begin {
		return Tensor{}, formatErr("tensor %q: data_offsets [%d, %d] end before they begin", name, t.Begin, t.End)
	}
	elems := int64(1)
	for _, d := range shape {
		if d != 0 && elems > math.MaxInt64/d {
			return Tensor{}, formatErr("tensor %q: shape %v overflows 64-bit element count", name, shape)
		}
		elems *= d
	}
	t.Elements = elems
	if elems > math.MaxInt64/bits {
		return Tensor{}, formatErr("tensor %q: shape %v × %d bits overflows", name, shape, bits)
	}
	nbits := elems * bits
	if nbits%8 != 0 {
		return Tensor{}, formatErr("tensor %q: %d elements of %s do not fill whole bytes", name, elems, t.DType)
	}
	if size := nbits / 8; t.End-t.Begin != size {
		return Tensor{}, formatErr("tensor %q: data_offsets [%d, %d] hold %d bytes but %s × %v needs %d", name, t.Begin, t.End, t.End-t.Begin, t.DType, shape, size)
	}
	return t, nil
}

// parseInts reads a JSON array of non-negative integers that fit in int64
// (the reference implementation reads them as usize).
func parseInts(raw json.RawMessage) ([]int64, error) {
	var nums []json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&nums); err != nil {
		return nil, errors.New("not an array of integers")
	}
	if nums == nil {
		return nil, errors.New("not an array of integers")
	}
	out := make([]int64, len(nums))
	for i, n := range nums {
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%s is not a non-negative integer", n)
		}
		out[i] = v
	}
	return out, nil
}

// validateLayout sorts the tensors by offset and checks that they tile the
// data section exactly: the first starts at 0 and each begins where the
// previous ended (Metadata::validate in the reference implementation).
func (h *Header) validateLayout() error {
	sort.SliceStable(h.Tensors, func(i, j int) bool {
		a, b := h.Tensors[i], h.Tensors[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		if a.End != b.End {
			return a.End < b.End
		}
		return a.Name < b.Name
	})
	var end int64
	for _, t := range h.Tensors {
		if t.End > maxDataBytes {
			return formatErr("tensor %q ends at byte %d, beyond any real checkpoint (limit %d)", t.Name, t.End, int64(maxDataBytes))
		}
		switch {
		case t.Begin > end:
			return formatErr("tensor %q starts at byte %d but the previous tensor ends at %d: a hole in the data section", t.Name, t.Begin, end)
		case t.Begin < end:
			return formatErr("tensor %q starts at byte %d, inside the previous tensor (which ends at %d)", t.Name, t.Begin, end)
		}
		end = t.End
	}
	h.DataBytes = end
	return nil
}

// Totals are element and byte sums.
type Totals struct {
	Elements int64 `json:"elements"`
	Bytes    int64 `json:"bytes"`
}

// Totals sums all tensors, and the tensors of each dtype.
func (h *Header) Totals() (all Totals, byDType map[string]Totals) {
	return sumTensors(h.Tensors)
}

func sumTensors(ts []Tensor) (all Totals, byDType map[string]Totals) {
	byDType = make(map[string]Totals)
	for _, t := range ts {
		all.Elements += t.Elements
		all.Bytes += t.Bytes()
		d := byDType[t.DType]
		d.Elements += t.Elements
		d.Bytes += t.Bytes()
		byDType[t.DType] = d
	}
	return all, byDType
}

// readFull reads len(p) bytes at off, turning a short read into a clear
// truncation error.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return formatErr("file ends after %d bytes, inside the header (truncated file?)", off+int64(n))
	}
	return err
}
