package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// textTable is a human table that fits a width: the shared renderer of
// the CLI's tables (docs/cli.md, "Output width"). With a width (the
// terminal's, or COLUMNS), long cells of Notes columns move to numbered
// notes below the table, then Drop columns are hidden in order until the
// rows fit, and a last line says what was hidden and that --wide shows it.
// Without a width (piped, no COLUMNS, or --wide) every column is printed
// in full, as tabwriter did. JSON and YAML never go through it.
type textTable struct {
	Header []string
	Rows   [][]string
	// Drop lists column indices in the order they may be hidden; columns
	// not listed are always shown.
	Drop []int
	// Notes lists columns whose cells longer than noteCellRunes become
	// "[n]" with the text as note n below the table.
	Notes []int
	// A nil Header prints the rows alone.
}

// noteCellRunes is the longest cell a Notes column keeps in the row when
// fitting a width.
const noteCellRunes = 24

// columnGap separates columns (as the tabwriter padding of 2 did).
const columnGap = 2

// write prints the table for width (0: every column, in full).
func (t textTable) write(w io.Writer, width int) error {
	header := append([]string(nil), t.Header...)
	noHeader := t.Header == nil
	if noHeader && len(t.Rows) > 0 {
		header = make([]string, len(t.Rows[0])) // a table without a header row
	}
	rows := make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		rows[i] = append([]string(nil), r...)
	}
	var notes []string
	if width > 0 {
		for _, r := range rows {
			for _, c := range t.Notes {
				if c < len(r) && utf8.RuneCountInString(r[c]) > noteCellRunes {
					notes = append(notes, r[c])
					r[c] = fmt.Sprintf("[%d]", len(notes))
				}
			}
		}
	}
	shown := make([]bool, len(header))
	for i := range shown {
		shown[i] = true
	}
	widths := columnWidths(header, rows)
	var hidden []string
	if width > 0 {
		for _, c := range t.Drop {
			if lineWidth(widths, shown) <= width {
				break
			}
			if c < len(shown) && shown[c] {
				shown[c] = false
				hidden = append(hidden, header[c])
			}
		}
	}
	var b strings.Builder
	if !noHeader {
		writeRow(&b, header, widths, shown)
	}
	for _, r := range rows {
		writeRow(&b, r, widths, shown)
	}
	for i, n := range notes {
		b.WriteString(wrapLine(fmt.Sprintf("[%d] %s", i+1, n), width, len(fmt.Sprintf("[%d] ", i+1))))
	}
	if len(hidden) > 0 {
		b.WriteString(wrapLine(fmt.Sprintf("(%d column(s) hidden to fit %d columns: %s; --wide shows every column, -o json every field)", len(hidden), width, strings.Join(hidden, ", ")), width, 1))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func columnWidths(header []string, rows [][]string) []int {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
	}
	return widths
}

func lineWidth(widths []int, shown []bool) int {
	n := 0
	for i, w := range widths {
		if shown[i] {
			if n > 0 {
				n += columnGap
			}
			n += w
		}
	}
	return n
}

func writeRow(b *strings.Builder, r []string, widths []int, shown []bool) {
	var line strings.Builder
	first := true
	for i := range widths {
		if !shown[i] {
			continue
		}
		c := ""
		if i < len(r) {
			c = r[i]
		}
		if !first {
			line.WriteString(strings.Repeat(" ", columnGap))
		}
		first = false
		line.WriteString(c)
		line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
	}
	b.WriteString(strings.TrimRight(line.String(), " "))
	b.WriteByte('\n')
}

// wrapLine is wrapText (plan.go) for output that fits a width: a line
// ending in a newline, wrapped at width with continuation lines indented
// by indent spaces; width 0 (no limit) leaves it on one line.
func wrapLine(s string, width, indent int) string {
	if width <= 0 {
		return s + "\n"
	}
	return wrapText(s, width, strings.Repeat(" ", indent)) + "\n"
}

// tableWidth is the width human output must fit on w: 0 (no limit) with
// --wide, else outputWidth's answer.
func (a *app) tableWidth(w io.Writer) int {
	if a.wide {
		return 0
	}
	if n, ok := a.outputWidth(w); ok {
		return n
	}
	return 0
}
