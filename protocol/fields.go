package protocol

import (
	"strconv"
	"unicode/utf8"
)

// Typed readers for the scanner: each consumes one value, treats null as
// absent, and reports a wrong JSON type as ErrWrongType naming the field.

func wrongType(field, want string) error {
	return decodeErr(ErrWrongType, field, "want "+want)
}

func (s *scanner) isNull() bool {
	if s.peek() == 'n' {
		return s.literal("null") == nil
	}
	return false
}

func (s *scanner) str(field string) (string, error) {
	b, err := s.strBytes(field)
	if err != nil || b == nil {
		return "", err
	}
	return string(b), nil
}

// internedStr is str that reuses a string seen before, when the scanner
// has an intern table.
func (s *scanner) internedStr(field string) (string, error) {
	b, err := s.strBytes(field)
	if err != nil || b == nil {
		return "", err
	}
	if s.interned == nil {
		return string(b), nil
	}
	if v, ok := s.interned[string(b)]; ok {
		return v, nil
	}
	v := string(b)
	if len(s.interned) < maxInterned {
		s.interned[v] = v
	}
	return v, nil
}

// strBytes returns the string's bytes; they alias the input unless the
// string had escapes or invalid UTF-8. nil means null.
func (s *scanner) strBytes(field string) ([]byte, error) {
	if s.isNull() {
		return nil, nil
	}
	if s.peek() != '"' {
		return nil, s.wrongValue(field, "string")
	}
	raw, escaped, err := s.stringToken()
	if err != nil {
		return nil, err
	}
	body := raw[1 : len(raw)-1]
	if !escaped && utf8.Valid(body) {
		return body, nil
	}
	u, err := unquote(raw)
	if err != nil {
		return nil, err
	}
	return []byte(u), nil
}

func (s *scanner) integer(field string, signed bool) (uint64, bool, error) {
	if s.isNull() {
		return 0, false, nil
	}
	c := s.peek()
	if c != '-' && (c < '0' || c > '9') {
		return 0, false, s.wrongValue(field, "integer")
	}
	num, err := s.number()
	if err != nil {
		return 0, false, err
	}
	neg := num[0] == '-'
	digits := num
	if neg {
		digits = num[1:]
	}
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, false, wrongType(field, "integer")
		}
	}
	if neg && !signed {
		return 0, false, wrongType(field, "unsigned integer")
	}
	n, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil {
		return 0, false, wrongType(field, "integer in range")
	}
	return n, neg, nil
}

func (s *scanner) uint(field string) (uint64, error) {
	n, _, err := s.integer(field, false)
	return n, err
}

func (s *scanner) int(field string) (int64, error) {
	n, neg, err := s.integer(field, true)
	if err != nil {
		return 0, err
	}
	if neg {
		if n > 1<<63 {
			return 0, wrongType(field, "integer in range")
		}
		return -int64(n), nil
	}
	if n > 1<<63-1 {
		return 0, wrongType(field, "integer in range")
	}
	return int64(n), nil
}

func (s *scanner) boolean(field string) (bool, error) {
	switch s.peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return false, s.literal("null")
	}
	return false, s.wrongValue(field, "boolean")
}

// raw returns any JSON value as its bytes; null gives nil.
func (s *scanner) raw() ([]byte, error) {
	if s.isNull() {
		return nil, nil
	}
	return s.value()
}

func (s *scanner) position(field string) (*Position, error) {
	if s.isNull() {
		return nil, nil
	}
	if s.peek() != '{' {
		return nil, s.wrongValue(field, "object")
	}
	var p Position
	err := s.fields(func(key []byte) error {
		var err error
		switch string(key) {
		case "epoch":
			p.Epoch, err = s.str(field + ".epoch")
		case "seq":
			p.Seq, err = s.uint(field + ".seq")
		default:
			err = s.skip(1)
		}
		return err
	})
	return &p, err
}

// action reads an action member into a, which an error leaves as it was.
func (s *scanner) action(a *Action) error {
	b, err := s.strBytes("action")
	if err == nil {
		*a = action(b)
	}
	return err
}

// eventType reads a type member into t, which an error leaves as it was.
func (s *scanner) eventType(t *string) error {
	b, err := s.strBytes("type")
	if err == nil {
		*t = eventType(b)
	}
	return err
}

// action maps the bytes to one of the known constants without allocating;
// an unknown action is kept as a string so that Validate can name it.
func action(b []byte) Action {
	for _, a := range [...]Action{ActionSubscribe, ActionUnsubscribe, ActionPublish, ActionHello, ActionAuth,
		ActionPing, ActionPong, ActionSubscribed, ActionAck, ActionError} {
		if string(b) == string(a) {
			return a
		}
	}
	return Action(b)
}

// eventType returns Refine's common types without allocating.
func eventType(b []byte) string {
	switch string(b) {
	case "created":
		return "created"
	case "updated":
		return "updated"
	case "deleted":
		return "deleted"
	case "*":
		return "*"
	}
	return string(b)
}
