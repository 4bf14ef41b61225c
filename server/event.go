package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Event is one live event. Publishers set Channel, Type, Payload and
// optionally Meta and ID; the broker assigns Seq, Epoch and Date when it
// stores the event.
type Event struct {
	Channel string          `json:"channel"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Meta    json.RawMessage `json:"meta,omitempty"`
	// ID identifies the event. A publish with an ID already present in the
	// channel's history is not stored again. Empty on Server.Publish means
	// "generate one".
	ID    string    `json:"id,omitempty"`
	Seq   uint64    `json:"seq,omitempty"`
	Epoch string    `json:"epoch,omitempty"`
	Date  time.Time `json:"-"`
}

// Position returns the event's position in its channel.
func (e *Event) Position() protocol.Position {
	return protocol.Position{Epoch: e.Epoch, Seq: e.Seq}
}

// ErrInvalidEvent is matched (errors.Is) by the error Publish returns for
// an event that breaks the event rules of docs/server.md. The error also
// holds the *protocol.DecodeError naming the rule (errors.As), whose Code
// is what the WebSocket and POST /publish answer for the same event.
var ErrInvalidEvent = errors.New("invalid event")

// prepare normalizes ev, then checks it against the event rules. Every
// entry point (POST /publish, a client's publish, Server.Publish) goes
// through it, so that each accepts exactly the events the others accept.
// The refusal is a *protocol.DecodeError.
func (ev *Event) prepare(maxMessage int) error {
	ev.Payload = normalizePayload(trimSpace(ev.Payload))
	ev.Meta = nullToEmpty(trimSpace(ev.Meta))
	// The protocol's own checks first, so that an event breaking them is
	// refused with the words a client's frame would get.
	m := protocol.ClientMessage{
		Action:  protocol.ActionPublish,
		Channel: ev.Channel,
		Type:    ev.Type,
		Payload: ev.Payload,
		Meta:    ev.Meta,
		Ref:     ev.ID,
	}
	if err := m.Validate(); err != nil {
		return err
	}
	// A decoded frame never holds invalid UTF-8 in a string (the decoders
	// substitute U+FFFD), but a Go caller can, and the hub would then route
	// on a name that no subscriber can spell.
	if !utf8.ValidString(ev.Channel) {
		return &protocol.DecodeError{Kind: protocol.ErrInvalidField, Field: "channel", Detail: "invalid UTF-8"}
	}
	if !utf8.ValidString(ev.Type) {
		return &protocol.DecodeError{Kind: protocol.ErrInvalidField, Field: "type", Detail: "invalid UTF-8"}
	}
	if n := ev.publishSize(); n > maxMessage {
		return &protocol.DecodeError{Kind: protocol.ErrTooLarge,
			Detail: "event of " + strconv.Itoa(n) + " bytes as a publish frame, limit " + strconv.Itoa(maxMessage)}
	}
	if err := checkRawObject("payload", ev.Payload); err != nil {
		return err
	}
	return checkRawObject("meta", ev.Meta)
}

// trimSpace drops the JSON whitespace around a raw value, which a decoded
// frame never has but a Go caller's bytes may (a trailing newline).
func trimSpace(raw json.RawMessage) json.RawMessage {
	return bytes.Trim(raw, " \t\r\n")
}

// checkRawObject checks what the wire decoders do not: the bytes are one
// well-formed object (a Go caller hands them in unchecked) and valid UTF-8
// (the decoders copy a raw value without looking inside its strings, and a
// browser fails a connection that receives a text frame of invalid UTF-8,
// so one bad publish would disconnect every subscriber).
func checkRawObject(field string, raw []byte) error {
	if len(raw) == 0 {
		return nil
	}
	if !utf8.Valid(raw) {
		return &protocol.DecodeError{Kind: protocol.ErrInvalidField, Field: field, Detail: "invalid UTF-8"}
	}
	if !protocol.ValidObject(raw) {
		return &protocol.DecodeError{Kind: protocol.ErrMalformed, Field: field, Detail: "not a well-formed JSON object"}
	}
	return nil
}

// publishSize is the length of ev as the compact publish frame a client
// would send for it, so that MaxMessage bounds an event the same way
// whichever way it arrives. Payload and meta are copied verbatim by the
// encoder, so only the rest is encoded; ev.Payload is never empty here and
// replaces the "{}" the encoder writes in its absence.
func (ev *Event) publishSize() int {
	head := protocol.ClientMessage{Action: protocol.ActionPublish, Channel: ev.Channel, Type: ev.Type, Ref: ev.ID}
	n := len(protocol.AppendClient(make([]byte, 0, 128), &head)) - len(`{}`) + len(ev.Payload)
	if len(ev.Meta) > 0 {
		n += len(`,"meta":`) + len(ev.Meta)
	}
	return n
}

// frames is an event encoded once for each level, shared by every
// connection it is sent to. The byte slices are never modified.
type frames struct {
	ev       Event
	extended []byte
	basic    []byte
}

func encodeEvent(ev Event) *frames {
	return &frames{ev: ev, extended: appendExtended(nil, &ev), basic: appendBasic(nil, &ev)}
}

// appendBasic writes exactly {"channel":C,"type":T,"payload":P}: the
// message of Refine's documented provider, with no extra keys.
func appendBasic(dst []byte, ev *Event) []byte {
	m := protocol.ServerMessage{Channel: ev.Channel, Type: ev.Type, Payload: ev.Payload}
	return protocol.AppendServer(dst, &m)
}

func appendExtended(dst []byte, ev *Event) []byte {
	// Extended frames may be batched, whose messages end at a newline.
	m := protocol.ServerMessage{
		Channel: ev.Channel,
		Type:    ev.Type,
		Payload: protocol.OneLine(ev.Payload),
		Meta:    protocol.OneLine(nullToEmpty(ev.Meta)),
		ID:      ev.ID,
		Seq:     ev.Seq,
		Epoch:   ev.Epoch,
		Date:    ev.Date.UnixMilli(),
	}
	return protocol.AppendServer(dst, &m)
}

// nullToEmpty drops a JSON null so that it is omitted rather than sent.
func nullToEmpty(raw json.RawMessage) json.RawMessage {
	if string(raw) == "null" {
		return nil
	}
	return raw
}

// for returns the frame for a connection of the given level.
func (f *frames) forLevel(extended bool) []byte {
	if extended {
		return f.extended
	}
	return f.basic
}
