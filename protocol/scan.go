package protocol

import (
	"unicode/utf16"
	"unicode/utf8"
)

// A small, strict JSON scanner. The decoders use it instead of
// encoding/json: it does only what an envelope needs, allocates only the
// strings it returns, and keeps encoding/json and the reflection behind it
// out of live.wasm. Raw values it returns alias the input.

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 512

type scanner struct {
	data []byte
	pos  int
	// interned, when set, lets internedStr reuse strings across frames.
	interned map[string]string
}

// errSyntax is returned for any grammar violation; callers turn it into a
// DecodeError of kind ErrMalformed.
var errSyntax = decodeErr(ErrMalformed, "", "invalid JSON")

// The hot loops below work on locals rather than s.pos: in wasm a field
// is a memory load and store per byte, a local is not.

func (s *scanner) ws() {
	data, i := s.data, s.pos
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			s.pos = i
			return
		}
	}
	s.pos = i
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// begin consumes the opening brace of an object.
func (s *scanner) begin() error {
	if s.peek() != '{' {
		return errSyntax
	}
	s.pos++
	return nil
}

// next advances to the next member of the object begun with begin and
// returns its key, positioned before the value, which the caller must
// consume. ok is false after the closing brace. first must start true.
// Iterating instead of taking a callback keeps decoding free of closures,
// which would otherwise be allocated on every frame.
func (s *scanner) next(first *bool) (key []byte, ok bool, err error) {
	c := s.peek()
	if *first {
		*first = false
		if c == '}' {
			s.pos++
			return nil, false, nil
		}
	} else {
		switch c {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil, false, nil
		default:
			return nil, false, errSyntax
		}
	}
	if s.peek() != '"' {
		return nil, false, errSyntax
	}
	raw, escaped, err := s.stringToken()
	if err != nil {
		return nil, false, err
	}
	key = raw[1 : len(raw)-1]
	if escaped {
		k, err := unquote(raw)
		if err != nil {
			return nil, false, err
		}
		key = []byte(k)
	}
	if s.peek() != ':' {
		return nil, false, errSyntax
	}
	s.pos++
	return key, true, nil
}

// object calls member for each key of the object at the cursor; member must
// consume the value. Duplicate keys are passed on in order, so the last one
// wins, as with encoding/json.
func (s *scanner) object(member func(key []byte) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	for first := true; ; {
		key, ok, err := s.next(&first)
		if err != nil || !ok {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
	}
}

// fields is object for typed members: a member's wrong-type error is kept
// (the first one) while scanning goes on and returned at the end, so that a
// syntax error later in the input still wins.
func (s *scanner) fields(member func(key []byte) error) error {
	var typeErr error
	err := s.object(func(key []byte) error {
		err := member(key)
		if de, ok := err.(*DecodeError); ok && de.Kind == ErrWrongType {
			if typeErr == nil {
				typeErr = err
			}
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return typeErr
}

// wrongValue consumes a value of the wrong JSON type and reports it as
// such, naming field and the type it wants; a syntax error in the value
// wins.
func (s *scanner) wrongValue(field, want string) error {
	if err := s.skip(0); err != nil {
		return err
	}
	return wrongType(field, want)
}

// value validates the value at the cursor and returns its bytes.
func (s *scanner) value() ([]byte, error) {
	s.ws()
	start := s.pos
	if err := s.skip(0); err != nil {
		return nil, err
	}
	return s.data[start:s.pos], nil
}

func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return decodeErr(ErrMalformed, "", "nesting too deep")
	}
	switch c := s.peek(); {
	case c == '{':
		s.pos++
		for first := true; ; {
			_, ok, err := s.next(&first)
			if err != nil || !ok {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
		}
	case c == '[':
		s.pos++
		if s.peek() == ']' {
			s.pos++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return nil
			default:
				return errSyntax
			}
		}
	case c == '"':
		_, _, err := s.stringToken()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		_, err := s.number()
		return err
	}
	return errSyntax
}

func (s *scanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return errSyntax
	}
	s.pos += len(word)
	return nil
}

// stringToken consumes a string and returns it with its quotes, and whether
// it contains escapes. Control characters must be escaped, as JSON requires.
func (s *scanner) stringToken() (raw []byte, escaped bool, err error) {
	data, start := s.data, s.pos
	i := start + 1 // opening quote
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return data[start:s.pos], escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				return nil, false, errSyntax
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || !isHex4(data[i+2:i+6]) {
					return nil, false, errSyntax
				}
				i += 6
			default:
				return nil, false, errSyntax
			}
		case c < 0x20:
			return nil, false, errSyntax
		default:
			i++
		}
	}
	return nil, false, errSyntax
}

// number consumes a number following the JSON grammar exactly.
func (s *scanner) number() ([]byte, error) {
	start := s.pos
	d := s.data
	if s.pos < len(d) && d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(d) && d[s.pos] == '0':
		s.pos++
	case s.pos < len(d) && d[s.pos] >= '1' && d[s.pos] <= '9':
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	default:
		return nil, errSyntax
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if !s.digits() {
			return nil, errSyntax
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if !s.digits() {
			return nil, errSyntax
		}
	}
	return d[start:s.pos], nil
}

func (s *scanner) digits() bool {
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos > start
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// unquote decodes a validated string token, replacing invalid UTF-8 and
// lone surrogates with U+FFFD as encoding/json does.
func unquote(raw []byte) (string, error) {
	body := raw[1 : len(raw)-1]
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				out = append(out, c)
				i++
				continue
			}
			r, size := utf8.DecodeRune(body[i:])
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
			i += size
			continue
		}
		switch e := body[i+1]; e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hexRune(body[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(body) && body[i] == '\\' && body[i+1] == 'u' {
					if r2 := hexRune(body[i+2 : i+6]); utf16.DecodeRune(r, r2) != utf8.RuneError {
						out = utf8.AppendRune(out, utf16.DecodeRune(r, r2))
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, e)
		}
		i += 2
	}
	return string(out), nil
}

// hexRune reads four hex digits that stringToken already validated.
func hexRune(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
