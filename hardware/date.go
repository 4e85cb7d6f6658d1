package hardware

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Date is a calendar day (UTC), printed and parsed as RFC 3339 full-date
// ("2026-08-22"). Catalog rows are dated by day; times of day would suggest
// a precision the sources do not have.
type Date struct{ t time.Time }

// dateLayout is RFC 3339 full-date.
const dateLayout = "2006-01-02"

// ParseDate reads "YYYY-MM-DD". A full RFC 3339 timestamp is accepted too
// and truncated to its UTC day, because the Retail Prices API dates rows
// that way ("2020-08-01T00:00:00Z").
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(dateLayout, s); err == nil {
		return Date{t.UTC()}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return DateOf(t), nil
	}
	return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
}

// MustDate is ParseDate for constants in tests and examples; it panics on a
// malformed literal.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the UTC day containing t.
func DateOf(t time.Time) Date {
	if t.IsZero() {
		return Date{}
	}
	u := t.UTC()
	return Date{time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)}
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Time returns midnight UTC of the day.
func (d Date) Time() time.Time { return d.t }

// Before reports whether d is an earlier day than o.
func (d Date) Before(o Date) bool { return d.t.Before(o.t) }

// After reports whether d is a later day than o.
func (d Date) After(o Date) bool { return d.t.After(o.t) }

// String prints YYYY-MM-DD, or "unknown" when unset.
func (d Date) String() string {
	if d.IsZero() {
		return "unknown"
	}
	return d.t.Format(dateLayout)
}

// MarshalJSON writes "YYYY-MM-DD", or null when unset.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.t.Format(dateLayout))
}

// JSONSchema describes MarshalJSON's output as an OpenAPI 3.0 schema (the
// API's document is generated from the Go types it answers with).
func (Date) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "format": "date", "nullable": true}
}

// UnmarshalJSON reads "YYYY-MM-DD" (or null).
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: want a \"YYYY-MM-DD\" string: %w", err)
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
