package units

import "testing"

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want Bytes
	}{
		{"79.19GiB", Bytes(85029615043)}, // 79.19 × 2^30, rounded
		{"80GB", 80_000_000_000},
		{"80 gb", 80_000_000_000},
		{"512MiB", 512 << 20},
		{"1024", 1024},
		{"1.5TiB", 3 << 39},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if err != nil {
			t.Fatalf("ParseBytes(%q): %v", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1GiB", "NaNGiB", "1.5", "12parsecs", "1e400GB"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) succeeded, want an error", bad)
		}
	}
}

func TestConversions(t *testing.T) {
	if g := (80 * GiB).GiB(); g != 80 {
		t.Errorf("80 GiB = %v GiB", g)
	}
	if g := (80 * GiB).GB(); g < 85.899 || g > 85.900 {
		t.Errorf("80 GiB = %v GB, want 85.899", g)
	}
	if s := (16 * GiB).String(); s != "16.00 GiB" {
		t.Errorf("String() = %q", s)
	}
	if b := BytesPerToken(131072).Times(8192); b != GiB {
		t.Errorf("131072 B/token × 8192 = %d, want 1 GiB", b)
	}
}
