package safetensors

import (
	"bytes"
	"testing"
)

// FuzzParseHeader feeds arbitrary bytes to the header parser and to
// ReadHeader over the same bytes as a whole file. Neither may panic, and a
// header that parses must describe a consistent layout.
func FuzzParseHeader(f *testing.F) {
	valid, data := buildPrefix(f, map[string]string{"format": "pt"}, []tspec{
		{"w", "BF16", []int64{2, 3}},
		{"q", "F4", []int64{4}},
		{"s", "F8_E8M0", nil},
	})
	f.Add(valid)
	f.Add(fullFile(valid, data))
	f.Add(frame([]byte(`{}`)))
	f.Add(frame([]byte(`{"__metadata__":{"a":"b"}}`)))
	f.Add(frame([]byte(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`)))
	f.Add(frame([]byte(`{"a":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}}`)))
	f.Add(frame([]byte(`{"a":{"dtype":"I64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err == nil {
			checkLayout(t, h)
		}
		h2, err2 := ReadHeader(bytes.NewReader(b), int64(len(b)))
		if err2 == nil {
			checkLayout(t, h2)
			if h2.FileBytes() != int64(len(b)) {
				t.Fatalf("ReadHeader accepted a %d-byte file whose header describes %d bytes", len(b), h2.FileBytes())
			}
		}
	})
}

func checkLayout(t *testing.T, h *Header) {
	var end, sum int64
	for _, ts := range h.Tensors {
		if ts.Begin != end {
			t.Fatalf("tensor %q begins at %d, previous ended at %d", ts.Name, ts.Begin, end)
		}
		bits, ok := DTypeBits(ts.DType)
		if !ok {
			t.Fatalf("accepted unknown dtype %q", ts.DType)
		}
		if ts.Elements*bits/8 != ts.Bytes() {
			t.Fatalf("tensor %q: %d elements of %d bits in %d bytes", ts.Name, ts.Elements, bits, ts.Bytes())
		}
		end = ts.End
		sum += ts.Bytes()
	}
	if end != h.DataBytes || sum != h.DataBytes {
		t.Fatalf("data section %d, tensors end at %d and sum to %d", h.DataBytes, end, sum)
	}
	if all, _ := h.Totals(); all.Bytes != h.DataBytes {
		t.Fatalf("Totals bytes %d != data %d", all.Bytes, h.DataBytes)
	}
}
