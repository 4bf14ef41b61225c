package protocol

import (
	"errors"
	"strconv"
)

// Sentinel errors; every decoding error matches exactly one with errors.Is.
var (
	// ErrMalformed: the frame is not a JSON object (syntax error, truncated,
	// a bare array or string, or empty).
	ErrMalformed = errors.New("malformed message")
	// ErrTooLarge: the frame is longer than the decoder's limit.
	ErrTooLarge = errors.New("message too large")
	// ErrWrongType: a known field holds a value of the wrong JSON type.
	ErrWrongType = errors.New("field has the wrong type")
	// ErrInvalidField: a field is missing, empty, too long or out of range.
	ErrInvalidField = errors.New("invalid field")
	// ErrUnknownAction: the action is not one this side understands.
	ErrUnknownAction = errors.New("unknown action")
)

// DecodeError describes why a frame could not be decoded.
type DecodeError struct {
	// Kind is one of the Err* sentinels.
	Kind error
	// Field names the offending field, when there is one.
	Field string
	// Detail is a short explanation. It never echoes the frame's content.
	Detail string
}

func (e *DecodeError) Error() string {
	s := "failed to decode message: " + e.Kind.Error()
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap lets errors.Is match the sentinel.
func (e *DecodeError) Unwrap() error { return e.Kind }

// Code returns the error code a server reports for this error.
func (e *DecodeError) Code() string {
	switch e.Kind {
	case ErrTooLarge:
		return CodeTooLarge
	case ErrUnknownAction:
		return CodeUnknownAction
	default:
		return CodeBadRequest
	}
}

func decodeErr(kind error, field, detail string) *DecodeError {
	return &DecodeError{Kind: kind, Field: field, Detail: detail}
}

// memberDecoder is a message that reads one member from the scanner.
type memberDecoder interface {
	member(s *scanner, key []byte) error
}

// memberFunc adapts a function to memberDecoder.
type memberFunc func(s *scanner, key []byte) error

func (f memberFunc) member(s *scanner, key []byte) error { return f(s, key) }

// parseObject checks the size limit, scans one JSON object into m, and
// rejects trailing data. A syntax error anywhere wins over a wrong-typed
// field, as with encoding/json.
func parseObject(data []byte, limit int, m memberDecoder, interned map[string]string) error {
	return parseWith(&scanner{}, data, limit, m, interned)
}

// parseWith is parseObject on a caller's scanner: the interface call below
// makes the scanner escape, so a Decoder keeps one to reuse.
func parseWith(s *scanner, data []byte, limit int, m memberDecoder, interned map[string]string) error {
	if limit <= 0 {
		limit = DefaultMaxMessage
	}
	if len(data) > limit {
		return decodeErr(ErrTooLarge, "", strconv.Itoa(len(data))+" bytes, limit "+strconv.Itoa(limit))
	}
	*s = scanner{data: data, interned: interned}
	if s.peek() != '{' {
		return decodeErr(ErrMalformed, "", "not a JSON object")
	}
	s.pos++
	var typeErr error
	for first := true; ; {
		key, ok, err := s.next(&first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := m.member(s, key); err != nil {
			if de, isDE := err.(*DecodeError); !isDE || de.Kind != ErrWrongType {
				return err
			}
			if typeErr == nil {
				typeErr = err
			}
		}
	}
	if s.ws(); s.pos != len(data) {
		return decodeErr(ErrMalformed, "", "data after the object")
	}
	return typeErr
}

// DecodeClient decodes one frame sent by a client. limit is the largest frame
// accepted, DefaultMaxMessage when zero or negative.
func DecodeClient(data []byte, limit int) (ClientMessage, error) {
	var m ClientMessage
	if err := parseObject(data, limit, &m, nil); err != nil {
		return ClientMessage{}, err
	}
	if err := m.Validate(); err != nil {
		return ClientMessage{}, err
	}
	return m, nil
}

// Validate checks the fields the message's action requires.
func (m *ClientMessage) Validate() error {
	switch m.Action {
	case ActionSubscribe:
		return m.validateSubscribe()
	case ActionUnsubscribe:
		return checkChannel(m.Channel)
	case ActionPublish:
		if err := checkChannel(m.Channel); err != nil {
			return err
		}
		if err := checkType(m.Type); err != nil {
			return err
		}
		if err := checkRef(m.Ref); err != nil {
			return err
		}
		if err := checkObject("payload", m.Payload); err != nil {
			return err
		}
		return checkObject("meta", m.Meta)
	case ActionHello:
		if m.Protocol == "" {
			return decodeErr(ErrInvalidField, "protocol", "required")
		}
		if m.MaxMessage < 0 {
			return decodeErr(ErrInvalidField, "maxMessage", "negative")
		}
		return nil
	case ActionAuth:
		if m.Token == "" || len(m.Token) > MaxTokenLen {
			return decodeErr(ErrInvalidField, "token", "must be 1 to "+strconv.Itoa(MaxTokenLen)+" bytes")
		}
		return nil
	case ActionPing, ActionPong:
		return nil
	case "":
		return decodeErr(ErrInvalidField, "action", "required")
	default:
		return decodeErr(ErrUnknownAction, "action", "")
	}
}

// DecodeServer decodes one frame sent by a server into m, which is reset
// first so that a caller can reuse one value for every frame. limit is the
// largest frame accepted, DefaultMaxMessage when zero or negative.
func DecodeServer(data []byte, limit int, m *ServerMessage) error {
	*m = ServerMessage{}
	if err := parseObject(data, limit, m, nil); err != nil {
		*m = ServerMessage{}
		return err
	}
	if err := m.Validate(); err != nil {
		*m = ServerMessage{}
		return err
	}
	return nil
}

// Validate checks the fields the message's action requires.
func (m *ServerMessage) Validate() error {
	switch m.Action {
	case "":
		if err := checkChannel(m.Channel); err != nil {
			return err
		}
		if err := checkType(m.Type); err != nil {
			return err
		}
		if err := checkRef(m.ID); err != nil {
			return decodeErr(ErrInvalidField, "id", "must be at most "+strconv.Itoa(MaxRefLen)+" bytes")
		}
		if m.Seq > 0 && m.Epoch == "" {
			return decodeErr(ErrInvalidField, "epoch", "required with seq")
		}
		if m.Date < 0 {
			return decodeErr(ErrInvalidField, "date", "negative")
		}
		if err := checkObject("payload", m.Payload); err != nil {
			return err
		}
		return checkObject("meta", m.Meta)
	case ActionHello:
		if m.Protocol == "" {
			return decodeErr(ErrInvalidField, "protocol", "required")
		}
		if m.Heartbeat < 0 {
			return decodeErr(ErrInvalidField, "heartbeat", "negative")
		}
		if m.MaxMessage < 0 {
			return decodeErr(ErrInvalidField, "maxMessage", "negative")
		}
		return nil
	case ActionSubscribed:
		return checkChannel(m.Channel)
	case ActionAck:
		if m.Ref == "" {
			return decodeErr(ErrInvalidField, "ref", "required")
		}
		return nil
	case ActionError:
		if m.Code == "" {
			return decodeErr(ErrInvalidField, "code", "required")
		}
		if m.RetryAfter < 0 {
			return decodeErr(ErrInvalidField, "retryAfter", "negative")
		}
		return nil
	case ActionPing, ActionPong:
		return nil
	default:
		return decodeErr(ErrUnknownAction, "action", "")
	}
}

func (m *ClientMessage) member(s *scanner, key []byte) error {
	var err error
	switch string(key) {
	case "action":
		err = s.action(&m.Action)
	case "channel":
		m.Channel, err = s.str("channel")
	case "type":
		err = s.eventType(&m.Type)
	case "payload":
		m.Payload, err = s.raw()
	case "meta":
		m.Meta, err = s.raw()
	case "ref":
		m.Ref, err = s.str("ref")
	case "since":
		m.Since, err = s.position("since")
	case "age":
		m.Age, err = s.int("age")
	case "channels":
		m.Channels, err = s.channelRequests("channels")
	case "protocol":
		m.Protocol, err = s.str("protocol")
	case "batch":
		m.Batch, err = s.boolean("batch")
	case "maxMessage":
		m.MaxMessage, err = s.int("maxMessage")
	case "token":
		m.Token, err = s.str("token")
	default:
		err = s.skip(1)
	}
	return err
}

func (m *ServerMessage) member(s *scanner, key []byte) error {
	var err error
	switch string(key) {
	case "action":
		err = s.action(&m.Action)
	case "channel":
		m.Channel, err = s.internedStr("channel")
	case "type":
		err = s.eventType(&m.Type)
	case "payload":
		m.Payload, err = s.raw()
	case "meta":
		m.Meta, err = s.raw()
	case "id":
		m.ID, err = s.str("id")
	case "seq":
		m.Seq, err = s.uint("seq")
	case "epoch":
		m.Epoch, err = s.internedStr("epoch")
	case "date":
		m.Date, err = s.int("date")
	case "protocol":
		m.Protocol, err = s.str("protocol")
	case "session":
		m.Session, err = s.str("session")
	case "heartbeat":
		m.Heartbeat, err = s.int("heartbeat")
	case "maxMessage":
		m.MaxMessage, err = s.int("maxMessage")
	case "batch":
		m.Batch, err = s.boolean("batch")
	case "recovered":
		m.Recovered, err = s.boolean("recovered")
	case "ref":
		m.Ref, err = s.str("ref")
	case "code":
		m.Code, err = s.str("code")
	case "message":
		m.Message, err = s.str("message")
	case "retryAfter":
		m.RetryAfter, err = s.int("retryAfter")
	default:
		err = s.skip(1)
	}
	return err
}

// Decoder decodes server frames, remembering the strings that repeat from
// frame to frame (channels, epochs) so that decoding an event allocates at
// most its id. A Decoder is not safe for concurrent use.
type Decoder struct {
	// Limit is the largest frame accepted; DefaultMaxMessage when zero.
	Limit    int
	interned map[string]string
	scan     scanner
}

// maxInterned bounds the Decoder's memory when a server sends ever new
// channel names.
const maxInterned = 4096

// Reset forgets the interned strings.
func (d *Decoder) Reset() { d.interned = nil }

// Decode is DecodeServer with interning.
func (d *Decoder) Decode(data []byte, m *ServerMessage) error {
	if d.interned == nil {
		d.interned = make(map[string]string)
	}
	*m = ServerMessage{}
	err := parseWith(&d.scan, data, d.Limit, m, d.interned)
	d.scan = scanner{} // do not keep the frame alive
	if err != nil {
		*m = ServerMessage{}
		return err
	}
	if err := m.Validate(); err != nil {
		*m = ServerMessage{}
		return err
	}
	return nil
}
