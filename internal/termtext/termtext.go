// Package termtext makes text from outside gpuplan (a price API's error
// body, a GGUF's metadata, a Hub message) safe to print on a terminal or
// in a one-line message: control characters, which can move the cursor,
// clear the screen or fake a line of output, become spaces.
package termtext

import (
	"strings"
	"unicode"
)

// Printable replaces every control character (C0, DEL, C1, including ESC,
// CR and LF) and every Unicode line or paragraph separator with a space,
// and drops invalid UTF-8.
func Printable(s string) string {
	s = strings.ToValidUTF8(s, "")
	if strings.IndexFunc(s, unsafe) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unsafe(r) {
			return ' '
		}
		return r
	}, s)
}

func unsafe(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) ||
		// Bidirectional overrides and isolates reorder what follows them
		// (CVE-2021-42574, "Trojan Source").
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}
