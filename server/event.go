package server

import (
	"encoding/json"
	"time"

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

// validate checks an event as the protocol checks a client's publish, so
// that events from Go and HTTP obey the same limits as those from clients.
func (e *Event) validate() error {
	m := protocol.ClientMessage{
		Action:  protocol.ActionPublish,
		Channel: e.Channel,
		Type:    e.Type,
		Payload: e.Payload,
		Meta:    e.Meta,
		Ref:     e.ID,
	}
	return m.Validate()
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
	m := protocol.ServerMessage{
		Channel: ev.Channel,
		Type:    ev.Type,
		Payload: ev.Payload,
		Meta:    nullToEmpty(ev.Meta),
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
