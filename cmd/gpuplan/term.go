package main

import (
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal (an *os.File on a tty).
// Progress lines rewrite themselves with \r only there; elsewhere (a file,
// a pipe, CI logs) they are whole lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// outputWidth is the width human tables must fit on w: COLUMNS when it is
// set (as shells export it, and as a user may set it for a pipe), else the
// terminal's width when w is one. ok is false when neither applies (piped,
// no COLUMNS): then tables print every column.
func (a *app) outputWidth(w io.Writer) (width int, ok bool) {
	if s := strings.TrimSpace(a.Getenv("COLUMNS")); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n, true
		}
	}
	if f, isFile := w.(*os.File); isFile && term.IsTerminal(int(f.Fd())) {
		if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
			return n, true
		}
	}
	return 0, false
}
