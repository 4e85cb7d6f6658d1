// Package units holds the small typed quantities gpuplan passes between
// packages, so that a byte count is never confused with a GiB figure and a
// per-token size is never confused with a total.
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bytes is an amount of memory in bytes. Internally every memory figure is
// bytes; GiB and GB exist only at the edges (flags and printed tables).
type Bytes int64

// Binary and decimal multiples. vLLM, PyTorch and nvidia-smi print GiB
// (2^30); GPU datasheets and the seed's sizing rule use GB (10^9).
const (
	KiB Bytes = 1 << 10
	MiB Bytes = 1 << 20
	GiB Bytes = 1 << 30
	TiB Bytes = 1 << 40

	KB Bytes = 1e3
	MB Bytes = 1e6
	GB Bytes = 1e9
	TB Bytes = 1e12
)

// GiB returns b in gibibytes.
func (b Bytes) GiB() float64 { return float64(b) / float64(GiB) }

// GB returns b in decimal gigabytes.
func (b Bytes) GB() float64 { return float64(b) / float64(GB) }

// String prints b in GiB with two decimals, the way vLLM logs memory.
func (b Bytes) String() string { return fmt.Sprintf("%.2f GiB", b.GiB()) }

// FromGiB converts a GiB figure (as printed by vLLM) to bytes, rounded to
// the nearest byte.
func FromGiB(g float64) Bytes { return Bytes(math.Round(g * float64(GiB))) }

// FromGB converts a decimal GB figure to bytes.
func FromGB(g float64) Bytes { return Bytes(math.Round(g * float64(GB))) }

// ParseBytes reads a memory size such as "79.19GiB", "80GB", "512MiB",
// "1.5 TiB" or a bare byte count. The unit is required unless the value is
// a whole number of bytes, because "80" alone is ambiguous between GB and GiB.
func ParseBytes(s string) (Bytes, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty memory size: give a value with a unit such as 79.19GiB or 80GB")
	}
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("memory size %q: want a non-negative number with a unit such as 79.19GiB or 80GB", s)
	}
	mult := map[string]Bytes{
		"": 1, "b": 1,
		"kib": KiB, "mib": MiB, "gib": GiB, "tib": TiB,
		"kb": KB, "mb": MB, "gb": GB, "tb": TB,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("memory size %q: unknown unit %q (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)", s, unit)
	}
	if unit == "" || unit == "b" {
		if v != math.Trunc(v) {
			return 0, fmt.Errorf("memory size %q: a bare number is a byte count and must be whole; add a unit such as GiB", s)
		}
	}
	total := v * float64(mult)
	if total > math.MaxInt64/2 {
		return 0, fmt.Errorf("memory size %q is too large", s)
	}
	return Bytes(math.Round(total)), nil
}

// BytesPerToken is the KV-cache footprint of one token.
type BytesPerToken int64

// Times returns the bytes needed for n tokens.
func (b BytesPerToken) Times(n int64) Bytes { return Bytes(int64(b) * n) }
