package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// chunkInfo is what the read loop needs from one streamed event.
type chunkInfo struct {
	choices  bool   // choices is a non-empty array
	piece    string // text + delta.content + delta.reasoning_content + delta.reasoning of choices[0]
	finished bool   // choices[0].finish_reason is a non-empty string
	usage    *usageObj
	errRaw   []byte // the "error" value, when present and not null
}

// decodeChunk extracts chunkInfo from an event's data. The common token
// chunk is scanned by hand (encoding/json's reflection was the largest
// harness cost after system calls, see docs/bench.md); anything the fast
// scanner does not handle exactly like json.Unmarshal into streamChunk
// (odd types, non-ASCII or escaped keys, non-integer counts, trailing data)
// falls back to json.Unmarshal, so both paths always agree (FuzzDecodeChunk).
func decodeChunk(data []byte) (chunkInfo, error) {
	if ci, err := fastChunk(data); !errors.Is(err, errFallback) {
		return ci, err
	}
	return slowChunk(data)
}

func slowChunk(data []byte) (chunkInfo, error) {
	var ch streamChunk
	if err := jsonUnmarshal(data, &ch); err != nil {
		return chunkInfo{}, err
	}
	ci := chunkInfo{usage: ch.Usage}
	if len(ch.Error) > 0 && string(ch.Error) != "null" {
		ci.errRaw = ch.Error
	}
	if len(ch.Choices) > 0 {
		ci.choices = true
		c0 := &ch.Choices[0]
		ci.piece = c0.Text + c0.Delta.Content + c0.Delta.ReasoningContent + c0.Delta.Reasoning
		ci.finished = c0.FinishReason != nil && *c0.FinishReason != ""
	}
	return ci, nil
}

var errFallback = errors.New("fallback to encoding/json")

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return errFallback
	}
	s.i++
	return nil
}

// str reads a string token and returns its raw contents (without quotes)
// and whether it holds escapes.
func (s *scanner) str() ([]byte, bool, error) {
	if s.peek() != '"' {
		return nil, false, errFallback
	}
	s.i++
	start, esc := s.i, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			return raw, esc, nil
		case c == '\\':
			esc = true
			if s.i+1 >= len(s.b) {
				return nil, false, errFallback
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return nil, false, errFallback
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return nil, false, errFallback
					}
				}
				s.i += 6
			default:
				return nil, false, errFallback
			}
		case c < 0x20:
			return nil, false, errFallback
		default:
			s.i++
		}
	}
	return nil, false, errFallback
}

// strValue decodes a JSON string to Go, unescaping only when needed.
func (s *scanner) strValue() (string, error) {
	start := s.i
	raw, esc, err := s.str()
	if err != nil {
		return "", err
	}
	if !esc && utf8.Valid(raw) {
		return string(raw), nil
	}
	s.ws()
	var out string
	if err := json.Unmarshal(s.b[start:s.i], &out); err != nil {
		return "", errFallback
	}
	return out, nil
}

func (s *scanner) lit(word string) error {
	s.ws()
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return errFallback
	}
	s.i += len(word)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number skips a JSON number (RFC 8259 grammar) and returns its text.
func (s *scanner) number() ([]byte, error) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
		return nil, errFallback
	}
	if s.b[s.i] == '0' {
		s.i++
	} else {
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return nil, errFallback
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return nil, errFallback
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	return s.b[start:s.i], nil
}

// skip passes over any JSON value, validating it; depth bounds recursion.
func (s *scanner) skip(depth int) error {
	if depth > 64 {
		return errFallback
	}
	switch s.peek() {
	case '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return nil
		}
		for {
			if _, _, err := s.str(); err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return errFallback
			}
		}
	case '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return errFallback
			}
		}
	case '"':
		_, _, err := s.str()
		return err
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	default:
		_, err := s.number()
		return err
	}
}

// key reads an object key; keys must be plain ASCII without escapes so
// that exact comparison matches encoding/json's case-insensitive matching
// once we also compare case-insensitively.
func (s *scanner) key() ([]byte, error) {
	raw, esc, err := s.str()
	if err != nil || esc {
		return nil, errFallback
	}
	for _, c := range raw {
		if c >= 0x80 {
			return nil, errFallback
		}
	}
	if err := s.expect(':'); err != nil {
		return nil, err
	}
	return raw, nil
}

// object calls field for each key of an object (or accepts null when
// nullOK); field must consume the value.
func (s *scanner) object(nullOK bool, field func(k []byte) error) error {
	if nullOK && s.peek() == 'n' {
		return s.lit("null")
	}
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		k, err := s.key()
		if err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errFallback
		}
	}
}

// optString reads a string or null ("" for null).
func (s *scanner) optString() (string, bool, error) {
	if s.peek() == 'n' {
		return "", false, s.lit("null")
	}
	v, err := s.strValue()
	return v, true, err
}

func (s *scanner) optInt() (int, error) {
	if s.peek() == 'n' {
		return 0, s.lit("null")
	}
	raw, err := s.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, errFallback // fractions, exponents, overflow: let encoding/json decide
	}
	return v, nil
}

func eq(k []byte, name string) bool { return bytes.EqualFold(k, []byte(name)) }

// once guards a key the fast path interprets: a repeated key (which
// encoding/json merges in ways that depend on the value types) sends the
// event to the slow path.
type once uint16

// Keys the fast path interprets, one bit each.
const (
	kChoices once = 1 << iota
	kText
	kFinish
	kDelta
	kContent
	kReasoningContent
	kReasoning
	kUsage
	kPromptTokens
	kCompletionTokens
	kError
)

func (o *once) first(k once) error {
	if *o&k != 0 {
		return errFallback
	}
	*o |= k
	return nil
}

func fastChunk(data []byte) (chunkInfo, error) {
	s := &scanner{b: data}
	var seen once
	var (
		ci                           chunkInfo
		text, content, rc, reasoning string
		finish                       string
		haveFinish                   bool
	)
	err := s.object(false, func(k []byte) error {
		switch {
		case eq(k, "choices"):
			if err := seen.first(kChoices); err != nil {
				return err
			}
			if s.peek() == 'n' {
				return s.lit("null")
			}
			if err := s.expect('['); err != nil {
				return err
			}
			if s.peek() == ']' {
				s.i++
				return nil
			}
			for idx := 0; ; idx++ {
				if idx == 0 {
					ci.choices = true
					err := s.object(true, func(k []byte) error {
						var err error
						switch {
						case eq(k, "text"):
							if err = seen.first(kText); err == nil {
								text, _, err = s.optString()
							}
						case eq(k, "finish_reason"):
							if err = seen.first(kFinish); err == nil {
								finish, haveFinish, err = s.optString()
							}
						case eq(k, "delta"):
							if err = seen.first(kDelta); err != nil {
								return err
							}
							err = s.object(true, func(k []byte) error {
								var err error
								switch {
								case eq(k, "content"):
									if err = seen.first(kContent); err == nil {
										content, _, err = s.optString()
									}
								case eq(k, "reasoning_content"):
									if err = seen.first(kReasoningContent); err == nil {
										rc, _, err = s.optString()
									}
								case eq(k, "reasoning"):
									if err = seen.first(kReasoning); err == nil {
										reasoning, _, err = s.optString()
									}
								default:
									err = s.skip(0)
								}
								return err
							})
						default:
							err = s.skip(0)
						}
						return err
					})
					if err != nil {
						return err
					}
				} else if err := s.skip(0); err != nil {
					return err
				}
				switch s.peek() {
				case ',':
					s.i++
				case ']':
					s.i++
					return nil
				default:
					return errFallback
				}
			}
		case eq(k, "usage"):
			if err := seen.first(kUsage); err != nil {
				return err
			}
			if s.peek() == 'n' {
				ci.usage = nil
				return s.lit("null")
			}
			u := &usageObj{}
			ci.usage = u
			return s.object(false, func(k []byte) error {
				var err error
				switch {
				case eq(k, "prompt_tokens"):
					if err = seen.first(kPromptTokens); err == nil {
						u.PromptTokens, err = s.optInt()
					}
				case eq(k, "completion_tokens"):
					if err = seen.first(kCompletionTokens); err == nil {
						u.CompletionTokens, err = s.optInt()
					}
				default:
					err = s.skip(0)
				}
				return err
			})
		case eq(k, "error"):
			if err := seen.first(kError); err != nil {
				return err
			}
			s.ws()
			start := s.i
			if err := s.skip(0); err != nil {
				return err
			}
			if raw := s.b[start:s.i]; string(raw) != "null" {
				ci.errRaw = raw
			} else {
				ci.errRaw = nil
			}
			return nil
		default:
			return s.skip(0)
		}
	})
	if err != nil {
		return chunkInfo{}, errFallback
	}
	if s.ws(); s.i != len(s.b) {
		return chunkInfo{}, errFallback
	}
	if ci.choices {
		ci.piece = text + content + rc + reasoning
		ci.finished = haveFinish && finish != ""
	}
	return ci, nil
}
