package termtext

import "testing"

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":            "plain text",
		"a\x1b[2Jb":             "a [2Jb",
		"line1\nline2\r":        "line1 line2 ",
		"tab\there":             "tab here",
		"bell\x07\x7f\u0085":    "bell   ",
		"sep\u2028par\u2029":    "sep par ",
		"bidi\u202eevil\u2066x": "bidi evil x",
		"bad utf8 \xff\xfe end": "bad utf8  end",
		"unicode ok: µs, é, 日本": "unicode ok: µs, é, 日本",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
