package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// jsonObject is one JSON object with lazily decoded values.
type jsonObject map[string]json.RawMessage

// parseObject decodes data as a JSON object; JSON null gives a nil object.
func parseObject(data []byte) (jsonObject, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return nil, fmt.Errorf("empty input, not a JSON object")
	}
	if bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	if t[0] != '{' {
		return nil, fmt.Errorf("want a JSON object, got %s", describeJSON(t))
	}
	var o jsonObject
	if err := json.Unmarshal(t, &o); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if o == nil {
		o = jsonObject{}
	}
	return o, nil
}

func describeJSON(t []byte) string {
	switch t[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number or invalid JSON"
}

// value returns the value of key, or nil when absent or null.
func (o jsonObject) value(key string) json.RawMessage {
	r, ok := o[key]
	if !ok {
		return nil
	}
	t := bytes.TrimSpace(r)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil
	}
	return t
}

// has reports whether key is present with a non-null value.
func (o jsonObject) has(key string) bool { return o.value(key) != nil }

// present reports whether key is present at all (null included).
func (o jsonObject) present(key string) bool {
	_, ok := o[key]
	return ok
}

// int reads an integer key: absent gives def, null gives 0 (transformers'
// None), anything else must be an integral number within [lo, hi].
func (o jsonObject) int(key string, def, lo, hi int) (int, error) {
	if !o.present(key) {
		return def, nil
	}
	r := o.value(key)
	if r == nil {
		return 0, nil
	}
	v, err := parseJSONInt(r)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	if v < int64(lo) || v > int64(hi) {
		return 0, fmt.Errorf("%s = %d is out of range [%d, %d]", key, v, lo, hi)
	}
	return int(v), nil
}

// intAlt reads the first present key of keys (aliases), else def.
func (o jsonObject) intAlt(keys []string, def, lo, hi int) (int, error) {
	for _, k := range keys {
		if o.present(k) {
			return o.int(k, def, lo, hi)
		}
	}
	return def, nil
}

// parseInt reads a JSON number that must be a whole number (configs
// sometimes write 10000.0 for an integer).
func parseJSONInt(r json.RawMessage) (int64, error) {
	s := string(r)
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, fmt.Errorf("want an integer, got %s", describeJSON(r))
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("want an integer, got %.40s", s)
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("want an integer, got %.40s", s)
	}
	return int64(f), nil
}

// str reads a string key; absent or null gives def.
func (o jsonObject) str(key, def string) (string, error) {
	r := o.value(key)
	if r == nil {
		return def, nil
	}
	var v string
	if err := json.Unmarshal(r, &v); err != nil {
		return "", fmt.Errorf("%s: want a string, got %s", key, describeJSON(r))
	}
	return v, nil
}

// boolean reads a boolean key; absent or null gives def.
func (o jsonObject) boolean(key string, def bool) (bool, error) {
	r := o.value(key)
	if r == nil {
		return def, nil
	}
	var v bool
	if err := json.Unmarshal(r, &v); err != nil {
		return false, fmt.Errorf("%s: want true or false, got %s", key, describeJSON(r))
	}
	return v, nil
}

// strList reads a list of strings; a single string is a one-element list.
func (o jsonObject) strList(key string) ([]string, error) {
	r := o.value(key)
	if r == nil {
		return nil, nil
	}
	if r[0] == '"' {
		v, err := o.str(key, "")
		return []string{v}, err
	}
	var v []string
	if err := json.Unmarshal(r, &v); err != nil {
		return nil, fmt.Errorf("%s: want a list of strings, got %s", key, describeJSON(r))
	}
	return v, nil
}

// intList reads a list of integers in [0, hi].
func (o jsonObject) intList(key string, hi int) ([]int, error) {
	r := o.value(key)
	if r == nil {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(r, &items); err != nil {
		return nil, fmt.Errorf("%s: want a list of integers, got %s", key, describeJSON(r))
	}
	out := make([]int, 0, len(items))
	for _, e := range items {
		v, err := parseJSONInt(bytes.TrimSpace(e))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if v < 0 || v > int64(hi) {
			return nil, fmt.Errorf("%s: %d is out of range [0, %d]", key, v, hi)
		}
		out = append(out, int(v))
	}
	return out, nil
}

// child reads a nested object; absent or null gives nil.
func (o jsonObject) child(key string) (jsonObject, error) {
	r := o.value(key)
	if r == nil {
		return nil, nil
	}
	v, err := parseObject(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return v, nil
}
