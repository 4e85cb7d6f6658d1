package hardware

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestNormalizeCurrency(t *testing.T) {
	good := map[string]string{"": "USD", "usd": "USD", " EUR ": "EUR", "jpy": "JPY", "TWD": "TWD"}
	for in, want := range good {
		if got, err := NormalizeCurrency(in); err != nil || got != want {
			t.Errorf("NormalizeCurrency(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"/../../X", "..", "US", "USDX", "XYZ", "U$D", "eur/", "EU\x00", "€"} {
		if got, err := NormalizeCurrency(in); err == nil {
			t.Errorf("NormalizeCurrency(%q) = %q, want an error", in, got)
		} else if !strings.Contains(err.Error(), "ISO 4217") {
			t.Errorf("NormalizeCurrency(%q): %v does not say what is allowed", in, err)
		}
	}
}

// TestPriceCachePathStaysInDir: whatever the currency text, the cache file
// is a file directly in dir (a traversal once read any X.json).
func TestPriceCachePathStaysInDir(t *testing.T) {
	dir := t.TempDir()
	for _, cur := range []string{"/../../X", "../x", "eur", "", "a/b", `..\..\x`} {
		p := PriceCachePath(dir, cur)
		if filepath.Dir(p) != dir || strings.Contains(filepath.Base(p), "..") {
			t.Errorf("PriceCachePath(%q) = %s, outside %s", cur, p, dir)
		}
	}
	if _, _, err := LoadPriceCache(dir, "/../../X"); err == nil {
		t.Error("LoadPriceCache accepted a path as a currency")
	}
}
