// Package jsonl is the one JSON Lines reader: bench's prompts and quality
// datasets and perf's simulation traces are read through it. It reads one
// JSON object per line into a Go type, refuses unknown fields and anything
// after the object on its line, skips blank lines, bounds the line length
// and the record count, and names the file and line in every error
// ("prompts.jsonl:3: ..."), so a user can open the file at the bad line.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Limits bound what Read accepts.
type Limits struct {
	// MaxLineBytes bounds one line (without its newline); a longer line is
	// an error, not a truncation.
	MaxLineBytes int
	// MaxRecords bounds the number of records (blank lines do not count).
	MaxRecords int
	// Records names the records in errors, plural: "prompts", "requests".
	Records string
}

// Error is a failure at a line of a named input. Line is 0 for errors
// about the input as a whole (no records, a read error).
type Error struct {
	Name string
	Line int
	Err  error
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.Name, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrTooLong marks a line longer than Limits.MaxLineBytes.
var ErrTooLong = errors.New("line too long")

// Read decodes r, named name in errors, as JSON Lines of T. check, if not
// nil, is called for each record with its line number and may adjust the
// record or refuse it; its error is reported at that line. Read returns an
// error for an input with no records.
func Read[T any](r io.Reader, name string, lim Limits, check func(line int, v *T) error) ([]T, error) {
	if lim.MaxLineBytes <= 0 || lim.MaxRecords <= 0 {
		return nil, &Error{Name: name, Err: errors.New("jsonl: limits must be positive")}
	}
	records := lim.Records
	if records == "" {
		records = "records"
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(lim.MaxLineBytes, 64<<10)), lim.MaxLineBytes)
	var out []T
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(out) >= lim.MaxRecords {
			return nil, &Error{Name: name, Line: line, Err: fmt.Errorf("more than %d %s; split the file", lim.MaxRecords, records)}
		}
		var v T
		if err := decodeLine(b, &v); err != nil {
			return nil, &Error{Name: name, Line: line, Err: err}
		}
		if check != nil {
			if err := check(line, &v); err != nil {
				return nil, &Error{Name: name, Line: line, Err: err}
			}
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &Error{Name: name, Line: line + 1, Err: fmt.Errorf("%w: longer than %d bytes", ErrTooLong, lim.MaxLineBytes)}
		}
		return nil, &Error{Name: name, Err: fmt.Errorf("read: %w", err)}
	}
	if len(out) == 0 {
		return nil, &Error{Name: name, Err: fmt.Errorf("no %s", records)}
	}
	return out, nil
}

// decodeLine decodes one JSON value into v, refusing unknown fields and
// anything after the value.
func decodeLine(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}
