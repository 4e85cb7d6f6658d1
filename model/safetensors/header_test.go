package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHeaderValid(t *testing.T) {
	tests := []struct {
		name      string
		md        map[string]string
		tensors   []tspec
		wantData  int64
		wantElems map[string]int64
	}{
		{
			name: "bf16 matrix and f32 vector with metadata",
			md:   map[string]string{"format": "pt"},
			tensors: []tspec{
				{"w", "BF16", []int64{3, 4}},
				{"b", "F32", []int64{4}},
			},
			wantData:  3*4*2 + 4*4,
			wantElems: map[string]int64{"w": 12, "b": 4},
		},
		{
			name:      "scalar has one element",
			tensors:   []tspec{{"s", "I64", nil}},
			wantData:  8,
			wantElems: map[string]int64{"s": 1},
		},
		{
			name:      "zero-sized tensor between others",
			tensors:   []tspec{{"a", "U8", []int64{2}}, {"empty", "F16", []int64{0, 7}}, {"c", "U8", []int64{3}}},
			wantData:  5,
			wantElems: map[string]int64{"a": 2, "empty": 0, "c": 3},
		},
		{
			name:      "fp4 packs two elements per byte",
			tensors:   []tspec{{"q", "F4", []int64{4, 8}}, {"scale", "F8_E8M0", []int64{4, 1}}},
			wantData:  16 + 4,
			wantElems: map[string]int64{"q": 32, "scale": 4},
		},
		{
			name:      "fp6 needs a multiple of 4 elements",
			tensors:   []tspec{{"q", "F6_E3M2", []int64{8}}},
			wantData:  6,
			wantElems: map[string]int64{"q": 8},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix, data := buildPrefix(t, tc.md, tc.tensors)
			h, err := ParseHeader(prefix)
			if err != nil {
				t.Fatal(err)
			}
			if h.DataBytes != tc.wantData || data != tc.wantData {
				t.Errorf("DataBytes = %d (writer %d), want %d", h.DataBytes, data, tc.wantData)
			}
			got := make(map[string]int64)
			for _, ts := range h.Tensors {
				got[ts.Name] = ts.Elements
			}
			if diff := cmp.Diff(tc.wantElems, got); diff != "" {
				t.Errorf("elements (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.md, h.Metadata); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			if h.FileBytes() != int64(len(prefix))+tc.wantData {
				t.Errorf("FileBytes = %d, want %d", h.FileBytes(), int64(len(prefix))+tc.wantData)
			}
		})
	}
}

// TestParseHeaderSortsByOffset: JSON key order is arbitrary (the reference
// writer emits keys sorted by dtype alignment, others by name); the parser
// orders tensors by their position in the data section.
func TestParseHeaderSortsByOffset(t *testing.T) {
	js := `{"z":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`
	h, err := ParseHeader(frame([]byte(js)))
	if err != nil {
		t.Fatal(err)
	}
	if h.Tensors[0].Name != "z" || h.Tensors[1].Name != "a" {
		t.Errorf("order = %s, %s; want z, a", h.Tensors[0].Name, h.Tensors[1].Name)
	}
}

func TestParseHeaderInvalid(t *testing.T) {
	u8 := func(name string, shape string, b, e int) string {
		return fmt.Sprintf(`%q:{"dtype":"U8","shape":%s,"data_offsets":[%d,%d]}`, name, shape, b, e)
	}
	tests := []struct {
		name string
		json string
		want string
	}{
		{"not an object", `[1,2]`, "not a JSON object"},
		{"not JSON", `{"a":`, `entry "a": unexpected end of JSON`},
		{"trailing bytes", `{} x`, "unexpected bytes after"},
		{"unknown dtype", `{"a":{"dtype":"Q4_K","shape":[1],"data_offsets":[0,1]}}`, `unknown dtype "Q4_K"`},
		{"lower-case dtype", `{"a":{"dtype":"bf16","shape":[1],"data_offsets":[0,2]}}`, `unknown dtype "bf16"`},
		{"dtype not a string", `{"a":{"dtype":5,"shape":[1],"data_offsets":[0,1]}}`, "dtype is not a string"},
		{"no dtype", `{"a":{"shape":[1],"data_offsets":[0,1]}}`, "no dtype"},
		{"no shape", `{"a":{"dtype":"U8","data_offsets":[0,1]}}`, "no shape"},
		{"no offsets", `{"a":{"dtype":"U8","shape":[1]}}`, "no data_offsets"},
		{"case-mangled key is not the key", `{"a":{"DTYPE":"U8","shape":[1],"data_offsets":[0,1]}}`, "no dtype"},
		{"tensor not an object", `{"a":[1]}`, "not an object"},
		{"negative dim", `{` + u8("a", "[-1]", 0, 1) + `}`, "not a non-negative integer"},
		{"fractional dim", `{` + u8("a", "[1.5]", 0, 1) + `}`, "not a non-negative integer"},
		{"exponent dim", `{` + u8("a", "[1e2]", 0, 100) + `}`, "not a non-negative integer"},
		{"dim beyond int64", `{` + u8("a", "[9223372036854775808]", 0, 1) + `}`, "not a non-negative integer"},
		{"three offsets", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, "has 3 numbers"},
		{"end before begin", `{` + u8("a", "[0]", 4, 2) + `}`, "end before they begin"},
		{"size mismatch", `{` + u8("a", "[2,3]", 0, 5) + `}`, "hold 5 bytes but U8"},
		{"shape product overflows", `{` + u8("a", "[4294967296,4294967296]", 0, 1) + `}`, "overflows 64-bit"},
		{"bits overflow", `{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,1]}}`, "bits overflows"},
		{"odd fp4 count", `{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, "do not fill whole bytes"},
		{"hole at start", `{` + u8("a", "[1]", 1, 2) + `}`, "a hole in the data section"},
		{"hole between", `{` + u8("a", "[1]", 0, 1) + `,` + u8("b", "[1]", 2, 3) + `}`, "a hole"},
		{"overlap", `{` + u8("a", "[2]", 0, 2) + `,` + u8("b", "[2]", 1, 3) + `}`, "inside the previous tensor"},
		{"same range twice", `{` + u8("a", "[2]", 0, 2) + `,` + u8("b", "[2]", 0, 2) + `}`, "inside the previous tensor"},
		{"duplicate name", `{` + u8("a", "[1]", 0, 1) + `,` + u8("a", "[1]", 1, 2) + `}`, "appears twice"},
		{"metadata not strings", `{"__metadata__":{"n":1}}`, "must be an object of strings"},
		{"beyond 1 EiB", `{` + u8("a", "[1152921504606846975]", 0, 1152921504606846975) + `,` + u8("b", "[2]", 1152921504606846975, 1152921504606846977) + `}`, "beyond any real checkpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHeader(frame([]byte(tc.json)))
			if err == nil {
				t.Fatalf("ParseHeader(%s) succeeded, want error containing %q", tc.json, tc.want)
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseHeaderFraming(t *testing.T) {
	withLen := func(n uint64, body string) []byte {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, n)
		return append(b, body...)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"shorter than length prefix", []byte{1, 2, 3}, "shorter than the 8-byte header length"},
		{"length over reference limit", withLen(MaxHeaderBytes+1, "{}"), "exceeds the 100000000-byte limit"},
		{"huge length", withLen(1<<63, "{}"), "exceeds the 100000000-byte limit"},
		{"length too short for JSON", withLen(1, "{"), "too short for a JSON object"},
		{"truncated header", withLen(100, "{}"), "truncated file?"},
		{"invalid UTF-8", withLen(4, "{\xff}\n"), "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHeader(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestMaxHeaderAccepted: a header of exactly the reference limit is legal.
func TestHeaderLengthAtLimit(t *testing.T) {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, MaxHeaderBytes)
	n, err := HeaderLength(b)
	if err != nil || n != MaxHeaderBytes {
		t.Fatalf("HeaderLength = %d, %v; want %d, nil", n, err, MaxHeaderBytes)
	}
}

func TestTotals(t *testing.T) {
	prefix, _ := buildPrefix(t, nil, []tspec{
		{"a", "BF16", []int64{10, 10}},
		{"b", "BF16", []int64{5}},
		{"c", "F8_E4M3", []int64{7, 3}},
	})
	h, err := ParseHeader(prefix)
	if err != nil {
		t.Fatal(err)
	}
	all, by := h.Totals()
	if want := (Totals{Elements: 126, Bytes: 231}); all != want {
		t.Errorf("all = %+v, want %+v", all, want)
	}
	want := map[string]Totals{"BF16": {Elements: 105, Bytes: 210}, "F8_E4M3": {Elements: 21, Bytes: 21}}
	if diff := cmp.Diff(want, by); diff != "" {
		t.Errorf("by dtype (-want +got):\n%s", diff)
	}
}
