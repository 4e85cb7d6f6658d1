package probe

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// A two-core, four-thread excerpt in /proc/cpuinfo's format.
const cpuinfo = `processor	: 0
model name	: AMD EPYC 9V74 80-Core Processor
physical id	: 0
core id		: 0
flags		: fpu sse4_2 avx avx2 fma avx512f avx512_vnni avx512_bf16
processor	: 1
model name	: AMD EPYC 9V74 80-Core Processor
physical id	: 0
core id		: 0
flags		: fpu sse4_2 avx avx2 fma avx512f avx512_vnni avx512_bf16
processor	: 2
physical id	: 0
core id		: 1
processor	: 3
physical id	: 0
core id		: 1
`

func TestParseCPUInfo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cpuinfo")
	if err := os.WriteFile(p, []byte(cpuinfo), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(p)
	defer f.Close()
	got := parseCPUInfo(f, 4)
	if got.Model != "AMD EPYC 9V74 80-Core Processor" || got.Cores != 2 || got.Threads != 4 {
		t.Errorf("parsed %+v", got)
	}
	if want := []string{"avx", "avx2", "avx512_bf16", "avx512_vnni", "avx512f", "fma", "sse4_2"}; !reflect.DeepEqual(got.Flags, want) {
		t.Errorf("flags %v, want %v", got.Flags, want)
	}
}

func TestRunMeasuresPlausibleFigures(t *testing.T) {
	h := Run("t", Options{BufferBytes: 64 << 20, Passes: 2, MatrixN: 64}, time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	// Any machine reads memory faster than 100 MB/s and multiplies faster
	// than 10 MFLOP/s, and no DRAM system here reads 10 TB/s.
	if h.BandwidthGBPerS < 0.1 || h.BandwidthGBPerS > 1e4 || h.MatrixGFLOPSPerCore < 0.01 {
		t.Errorf("implausible: %+v", h)
	}
	if h.Measured.String() != "2026-12-06" {
		t.Errorf("date %s", h.Measured)
	}
}
