package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Request limits. They bound what one request can make the server hold or
// pass to a command; a real request uses a handful of short values.
const (
	// maxParams is the most parameters one request may carry.
	maxParams = 64
	// maxValueBytes is the longest single value (a Hugging Face id with a
	// revision is under 300 bytes).
	maxValueBytes = 1024
	// maxSliceItems is the most items in one list parameter.
	maxSliceItems = 64
)

// inputError is a request the API rejects before running anything; it
// becomes a 4xx response with {"error": msg}.
type inputError struct {
	status int
	msg    string
}

func (e *inputError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return &inputError{status: 400, msg: fmt.Sprintf(format, a...)}
}

// values holds a request's parameters, already checked against their
// types and normalized to the text the CLI flag parser takes.
type values map[string][]string

// fromQuery validates GET query parameters.
func (c *compiled) fromQuery(q url.Values) (values, error) {
	if len(q) > maxParams {
		return nil, badRequest("too many parameters (%d; at most %d)", len(q), maxParams)
	}
	out := values{}
	for _, name := range sortedKeys(q) {
		p, err := c.lookup(name)
		if err != nil {
			return nil, err
		}
		raw := q[name]
		if p.typ() != StringSlice && len(raw) > 1 {
			return nil, badRequest("parameter %s is given %d times; give it once", name, len(raw))
		}
		if len(raw) > maxSliceItems {
			return nil, badRequest("parameter %s has %d values; at most %d", name, len(raw), maxSliceItems)
		}
		for _, s := range raw {
			v, err := normalizeText(p, s)
			if err != nil {
				return nil, err
			}
			out[name] = append(out[name], v)
		}
	}
	return out, nil
}

// fromJSON validates a POST body: one JSON object whose keys are the same
// parameter names as the query form. JSON types must match the flag types
// (a number for int and float, true/false for bool, a string or an array of
// strings for lists); null means "not given".
func (c *compiled) fromJSON(body []byte) (values, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, badRequest("empty body: send a JSON object such as {\"model\": \"llama-3.1-8b\"}, or use GET with query parameters")
		}
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return nil, badRequest("the body must be a JSON object of parameters, not %s", ute.Value)
		}
		return nil, badRequest("the body is not valid JSON: %v", err)
	}
	if obj == nil {
		return nil, badRequest("the body must be a JSON object of parameters, not null")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("the body has data after its JSON object")
	}
	if len(obj) > maxParams {
		return nil, badRequest("too many parameters (%d; at most %d)", len(obj), maxParams)
	}
	out := values{}
	for _, name := range sortedKeys(obj) {
		p, err := c.lookup(name)
		if err != nil {
			return nil, err
		}
		v := obj[name]
		if v == nil {
			continue
		}
		var texts []string
		switch p.typ() {
		case Int:
			n, ok := v.(json.Number)
			if !ok {
				return nil, badRequest("parameter %s must be an integer, not %s", name, jsonKind(v))
			}
			s, err := integerText(n)
			if err != nil {
				return nil, badRequest("parameter %s must be an integer: %v", name, err)
			}
			texts = []string{s}
		case Float:
			n, ok := v.(json.Number)
			if !ok {
				return nil, badRequest("parameter %s must be a number, not %s", name, jsonKind(v))
			}
			texts = []string{n.String()}
		case Bool:
			b, ok := v.(bool)
			if !ok {
				return nil, badRequest("parameter %s must be true or false, not %s", name, jsonKind(v))
			}
			texts = []string{strconv.FormatBool(b)}
		case String:
			s, ok := scalarText(v)
			if !ok {
				return nil, badRequest("parameter %s must be a string, not %s", name, jsonKind(v))
			}
			texts = []string{s}
		case StringSlice:
			switch x := v.(type) {
			case []any:
				if len(x) > maxSliceItems {
					return nil, badRequest("parameter %s has %d items; at most %d", name, len(x), maxSliceItems)
				}
				for _, item := range x {
					s, ok := scalarText(item)
					if !ok {
						return nil, badRequest("parameter %s must be a list of strings; an item is %s", name, jsonKind(item))
					}
					texts = append(texts, s)
				}
			default:
				s, ok := scalarText(v)
				if !ok {
					return nil, badRequest("parameter %s must be a string or a list of strings, not %s", name, jsonKind(v))
				}
				texts = []string{s}
			}
		}
		for _, s := range texts {
			norm, err := normalizeText(p, s)
			if err != nil {
				return nil, err
			}
			out[name] = append(out[name], norm)
		}
	}
	return out, nil
}

// lookup finds a parameter by its API name, with a hint for the CLI
// spelling (input-tokens → input_tokens).
func (c *compiled) lookup(name string) (param, error) {
	if p, ok := c.params[name]; ok {
		return p, nil
	}
	if len(name) > 64 {
		name = name[:64] + "…"
	}
	hint := ""
	if p, ok := c.params[ParamName(strings.TrimLeft(name, "-"))]; ok {
		hint = fmt.Sprintf(" (did you mean %s?)", p.name)
	}
	known := "it takes no parameters"
	if len(c.names) > 0 {
		known = "known: " + strings.Join(c.names, ", ")
	}
	return param{}, badRequest("unknown parameter %q for %s%s; %s", name, c.Name, hint, known)
}

// normalizeText checks one textual value against its parameter's type and
// returns the text handed to the CLI.
func normalizeText(p param, s string) (string, error) {
	if len(s) > maxValueBytes {
		return "", badRequest("parameter %s is %d bytes long; at most %d", p.name, len(s), maxValueBytes)
	}
	if !utf8.ValidString(s) {
		return "", badRequest("parameter %s is not valid UTF-8", p.name)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", badRequest("parameter %s contains a control character", p.name)
		}
	}
	switch p.typ() {
	case Int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", badRequest("parameter %s must be an integer, got %q", p.name, s)
		}
		return strconv.FormatInt(n, 10), nil
	case Float:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", badRequest("parameter %s must be a finite number, got %q", p.name, s)
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return "", badRequest("parameter %s must be true or false, got %q", p.name, s)
		}
		return strconv.FormatBool(b), nil
	}
	if p.arg != nil {
		// Positional arguments are normalised once, here, and the trimmed
		// value is both checked and passed on: a check of the raw value
		// while the command trims would let " ~" through as "~".
		s = strings.TrimSpace(s)
		if s == "" {
			return "", badRequest("parameter %s is empty", p.name)
		}
		// A leading '-' would be read as a flag by the command line parser.
		if strings.HasPrefix(s, "-") {
			return "", badRequest("parameter %s must not start with '-'", p.name)
		}
		if p.arg.Validate != nil {
			if err := p.arg.Validate(s); err != nil {
				return "", badRequest("parameter %s: %v", p.name, err)
			}
		}
	}
	return s, nil
}

// integerText accepts a JSON number that is a whole number within int64
// (8192, 8.192e3) and returns it in plain digits.
func integerText(n json.Number) (string, error) {
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return strconv.FormatInt(i, 10), nil
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsInf(f, 0) {
		return "", fmt.Errorf("%s is out of range", n)
	}
	// 2^63 is the first float64 beyond int64.
	if f != math.Trunc(f) || f >= 1<<63 || f < -(1<<63) {
		return "", fmt.Errorf("%s is not a whole number within ±2^63", n)
	}
	return strconv.FormatInt(int64(f), 10), nil
}

// scalarText is the text of a JSON string or number (numbers are accepted
// where a flag takes text, such as a list "1,8,32" given as 8).
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// cliArgs turns validated values into the command's argument list:
// the command name, --flag=value for each given flag (flags not given keep
// the CLI's defaults, so "was it set" checks behave as on the command
// line), then the positional arguments.
func (c *compiled) cliArgs(v values) ([]string, error) {
	args := []string{c.Name}
	for _, name := range c.names {
		p := c.params[name]
		if p.flag == nil {
			continue
		}
		for _, s := range v[name] {
			args = append(args, "--"+p.flag.Name+"="+s)
		}
	}
	var pos []string
	for i, a := range c.Args {
		name := ArgParamName(a.Name)
		vs, ok := v[name]
		if !ok {
			for _, later := range c.Args[i+1:] {
				if _, given := v[ArgParamName(later.Name)]; given {
					return nil, badRequest("parameter %s needs %s too", ArgParamName(later.Name), name)
				}
			}
			break
		}
		pos = append(pos, vs[0])
	}
	return append(args, pos...), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
