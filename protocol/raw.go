package protocol

// Helpers over raw JSON for code that must look inside a forwarded payload
// without decoding it, such as the client's ids filter. They never panic
// and treat invalid JSON as absent.

// ValidObject reports whether raw is exactly one valid JSON object.
func ValidObject(raw []byte) bool {
	s := scanner{data: raw}
	if s.peek() != '{' {
		return false
	}
	if err := s.skip(0); err != nil {
		return false
	}
	s.ws()
	return s.pos == len(raw)
}

// ObjectField returns the raw value of key in the JSON object raw, the last
// one if the key repeats, or nil when raw is not a valid object or lacks the
// key.
func ObjectField(raw []byte, key string) []byte {
	s := scanner{data: raw}
	var found []byte
	err := s.object(func(k []byte) error {
		v, err := s.value()
		if err == nil && string(k) == key {
			found = v
		}
		return err
	})
	if err != nil {
		return nil
	}
	if s.ws(); s.pos != len(raw) {
		return nil
	}
	return found
}

// ArrayElements calls fn with the raw bytes of each element of the JSON
// array raw. It reports false, without calling fn, when raw is not a valid
// array.
func ArrayElements(raw []byte, fn func(elem []byte)) bool {
	s := scanner{data: raw}
	if s.peek() != '[' {
		return false
	}
	if err := s.skip(0); err != nil {
		return false
	}
	if s.ws(); s.pos != len(raw) {
		return false
	}
	s = scanner{data: raw, pos: 0}
	s.peek()
	s.pos++ // '['
	if s.peek() == ']' {
		return true
	}
	for {
		v, _ := s.value()
		fn(v)
		if s.peek() == ']' {
			return true
		}
		s.pos++ // ','
	}
}

// UnquoteString returns the value of the JSON string token raw, decoded as
// encoding/json would, and false when raw is not a valid string token.
func UnquoteString(raw []byte) (string, bool) {
	s := scanner{data: raw}
	if s.peek() != '"' {
		return "", false
	}
	tok, escaped, err := s.stringToken()
	if err != nil || s.pos != len(raw) {
		return "", false
	}
	if !escaped {
		str, _ := unquote(tok) // also replaces invalid UTF-8
		return str, true
	}
	str, err := unquote(tok)
	return str, err == nil
}
