package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// rulesLimit is MaxMessage for the event-rules tests: small, so that the
// size cases stay small, and large enough for the nesting case.
const rulesLimit = 2048

// eventCase is one event and what every entry point must do with it. The
// members are raw JSON values, "" for an absent member, so that null,
// absent and wrongly typed values can all be written. The same table is run
// against POST /publish, a WebSocket publish and Server.Publish.
type eventCase struct {
	name                            string
	channel, typ, payload, meta, id string
	// extra is more raw members, such as a key in the wrong case.
	extra string
	// wire marks a case only JSON can express (a field of the wrong type),
	// which Server.Publish therefore cannot receive.
	wire bool
	// want is the code of the refusal, "" when the event is accepted.
	want string
	// stored and storedMeta are the payload and meta subscribers receive
	// ("" for no meta) when the event is accepted.
	stored, storedMeta string
}

var eventCases = []eventCase{
	// Normalized, then accepted.
	{name: "payload and meta objects", channel: `"c"`, typ: `"t"`, payload: `{"ids":[1]}`, meta: `{"by":"billing"}`, stored: `{"ids":[1]}`, storedMeta: `{"by":"billing"}`},
	{name: "payload absent", channel: `"c"`, typ: `"t"`, stored: `{}`},
	{name: "payload null", channel: `"c"`, typ: `"t"`, payload: `null`, stored: `{}`},
	{name: "payload empty object", channel: `"c"`, typ: `"t"`, payload: `{}`, stored: `{}`},
	{name: "payload with space around it", channel: `"c"`, typ: `"t"`, payload: " \n{\"a\":1}\t ", stored: `{"a":1}`},
	{name: "meta absent", channel: `"c"`, typ: `"t"`, payload: `{"ids":[1]}`, stored: `{"ids":[1]}`},
	{name: "meta null", channel: `"c"`, typ: `"t"`, payload: `{"ids":[1]}`, meta: `null`, stored: `{"ids":[1]}`},
	{name: "payload and meta null", channel: `"c"`, typ: `"t"`, payload: `null`, meta: `null`, stored: `{}`},
	{name: "meta empty object", channel: `"c"`, typ: `"t"`, meta: `{}`, stored: `{}`, storedMeta: `{}`},
	{name: "id given", channel: `"c"`, typ: `"t"`, id: `"order-7"`, stored: `{}`},
	{name: "id null", channel: `"c"`, typ: `"t"`, id: `null`, stored: `{}`},
	{name: "id of 64 allowed characters", channel: `"c"`, typ: `"t"`, id: `"` + strings.Repeat("aZ09-_.:", 8) + `"`, stored: `{}`},
	{name: "channel of 256 bytes", channel: `"` + strings.Repeat("c", 256) + `"`, typ: `"t"`, stored: `{}`},
	{name: "channel with escapes", channel: `"r\u00e9sum\u00e9/\"q\""`, typ: `"t"`, stored: `{}`},
	{name: "type of 64 bytes", channel: `"c"`, typ: `"` + strings.Repeat("t", 64) + `"`, stored: `{}`},
	{name: "unknown members ignored", channel: `"c"`, typ: `"t"`, extra: `"seq":99,"date":5`, wire: true, stored: `{}`},
	{name: "event exactly at the limit", channel: `"c"`, typ: `"t"`, payload: paddedObject(0, false), stored: paddedObject(0, false)},

	// Refused.
	{name: "channel absent", typ: `"t"`, want: "bad_request"},
	{name: "channel null", channel: `null`, typ: `"t"`, want: "bad_request"},
	{name: "channel empty", channel: `""`, typ: `"t"`, want: "bad_request"},
	{name: "channel of 257 bytes", channel: `"` + strings.Repeat("c", 257) + `"`, typ: `"t"`, want: "bad_request"},
	{name: "channel not a string", channel: `5`, typ: `"t"`, wire: true, want: "bad_request"},
	{name: "channel key in another case", extra: `"Channel":"c"`, typ: `"t"`, wire: true, want: "bad_request"},
	{name: "type absent", channel: `"c"`, want: "bad_request"},
	{name: "type empty", channel: `"c"`, typ: `""`, want: "bad_request"},
	{name: "type of 65 bytes", channel: `"c"`, typ: `"` + strings.Repeat("t", 65) + `"`, want: "bad_request"},
	{name: "type not a string", channel: `"c"`, typ: `true`, wire: true, want: "bad_request"},
	{name: "payload an array", channel: `"c"`, typ: `"t"`, payload: `[1]`, want: "bad_request"},
	{name: "payload a string", channel: `"c"`, typ: `"t"`, payload: `"x"`, want: "bad_request"},
	{name: "payload a number", channel: `"c"`, typ: `"t"`, payload: `5`, want: "bad_request"},
	{name: "payload not well-formed", channel: `"c"`, typ: `"t"`, payload: `{"a":`, want: "bad_request"},
	{name: "payload with invalid UTF-8", channel: `"c"`, typ: `"t"`, payload: "{\"s\":\"\xff\"}", want: "bad_request"},
	{name: "payload nested too deep", channel: `"c"`, typ: `"t"`, payload: `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, want: "bad_request"},
	{name: "meta an array", channel: `"c"`, typ: `"t"`, meta: `[1]`, want: "bad_request"},
	{name: "meta a string", channel: `"c"`, typ: `"t"`, meta: `"m"`, want: "bad_request"},
	{name: "meta with invalid UTF-8", channel: `"c"`, typ: `"t"`, meta: "{\"s\":\"\xfe\"}", want: "bad_request"},
	{name: "id with a space", channel: `"c"`, typ: `"t"`, id: `"has space"`, want: "bad_request"},
	{name: "id not ASCII", channel: `"c"`, typ: `"t"`, id: `"\u00e9"`, want: "bad_request"},
	{name: "id of 65 characters", channel: `"c"`, typ: `"t"`, id: `"` + strings.Repeat("i", 65) + `"`, want: "bad_request"},
	{name: "id not a string", channel: `"c"`, typ: `"t"`, id: `7`, wire: true, want: "bad_request"},
	{name: "event one byte over the limit", channel: `"c"`, typ: `"t"`, payload: paddedObject(1, false), want: "too_large"},
	// The frame fits, but not once the payload it lacks is added.
	{name: "no payload, over the limit with the one it gets", channel: `"c"`, typ: `"t"`, meta: paddedObject(-4, true), want: "too_large"},
}

// paddedObject is an object that makes the compact publish frame
// {"action":"publish","channel":"c","type":"t",<payload or meta>} exactly
// rulesLimit+over bytes long.
func paddedObject(over int, asMeta bool) string {
	probe := eventCase{channel: `"c"`, typ: `"t"`}
	if asMeta {
		probe.meta = `{"s":""}`
	} else {
		probe.payload = `{"s":""}`
	}
	return `{"s":"` + strings.Repeat("a", rulesLimit+over-len(wsFrame(probe))) + `"}`
}

// members writes the case's members in the order the protocol's encoder
// uses, so that a frame built from them is the compact publish frame the
// size rule measures. idKey is "id" on HTTP and "ref" on the WebSocket.
func (tc eventCase) members(idKey string) string {
	var b strings.Builder
	for _, m := range [...]struct{ key, raw string }{
		{"channel", tc.channel}, {"type", tc.typ}, {"payload", tc.payload}, {"meta", tc.meta}, {idKey, tc.id},
	} {
		if m.raw != "" {
			b.WriteString(`,"` + m.key + `":` + m.raw)
		}
	}
	if tc.extra != "" {
		b.WriteString("," + tc.extra)
	}
	return b.String()
}

// httpBody is the case as the body of POST /publish.
func httpBody(tc eventCase) string { return "{" + strings.TrimPrefix(tc.members("id"), ",") + "}" }

// wsFrame is the case as a client's publish frame.
func wsFrame(tc eventCase) string { return `{"action":"publish"` + tc.members("ref") + "}" }

// goEvent is the case as a Go caller's Event; false when JSON typing is
// needed to express it.
func goEvent(tc eventCase) (Event, bool) {
	var ev Event
	for _, f := range [...]struct {
		raw string
		dst *string
	}{{tc.channel, &ev.Channel}, {tc.typ, &ev.Type}, {tc.id, &ev.ID}} {
		if f.raw == "" || f.raw == "null" {
			continue
		}
		if f.raw[0] != '"' || json.Unmarshal([]byte(f.raw), f.dst) != nil {
			return Event{}, false
		}
	}
	if tc.payload != "" {
		ev.Payload = json.RawMessage(tc.payload)
	}
	if tc.meta != "" {
		ev.Meta = json.RawMessage(tc.meta)
	}
	return ev, tc.extra == ""
}

// goString decodes a case's raw string member; "" for absent or null.
func goString(raw string) string {
	var s string
	_ = json.Unmarshal([]byte(raw), &s)
	return s
}

// entryPoint publishes a case's event and returns the code it was refused
// with, "" when it was accepted.
type entryPoint func(t *testing.T, s *testServer, tc eventCase) string

// runEventRules runs every case of the table against one entry point, each
// on a fresh server with a subscriber, and checks what the subscriber gets:
// the normalized event when it was accepted, nothing when it was refused.
func runEventRules(t *testing.T, publish entryPoint) {
	for _, tc := range eventCases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Config{MaxMessage: rulesLimit})
			channel := "c"
			if tc.want == "" {
				channel = goString(tc.channel)
			}
			sub, _ := livetest.DialExtended(t, s.WSURL)
			subscribeSince(sub, channel, nil)
			expectSubscribed(t, sub, channel, 0, false)

			if got := publish(t, s, tc); got != tc.want {
				t.Fatalf("refused with %q, want %q", got, tc.want)
			}
			if tc.want != "" {
				// Nothing was stored: the next event is the first.
				if _, err := s.Publish(context.Background(), Event{Channel: "c", Type: "sentinel"}); err != nil {
					t.Fatal(err)
				}
				if m := sub.NextNonPing(); m.Type != "sentinel" || m.Seq != 1 {
					t.Fatalf("a refused event reached the subscriber: %+v", m)
				}
				return
			}
			m := sub.NextNonPing()
			if !m.IsEvent() || m.Channel != channel || m.Type != goString(tc.typ) || m.Seq != 1 {
				t.Fatalf("got %+v", m)
			}
			if string(m.Payload) != tc.stored || string(m.Meta) != tc.storedMeta {
				t.Fatalf("stored payload %s meta %s, want %s and %s", m.Payload, m.Meta, tc.stored, tc.storedMeta)
			}
			if id := goString(tc.id); m.ID == "" || id != "" && m.ID != id {
				t.Fatalf("stored id %q, want %q", m.ID, id)
			}
		})
	}
}

func TestEventRulesOverHTTP(t *testing.T) {
	runEventRules(t, func(t *testing.T, s *testServer, tc eventCase) string {
		resp, body := post(t, s.URL+"/publish", "", httpBody(tc))
		var answer struct{ Code string }
		require.NoError(t, json.Unmarshal([]byte(body), &answer), "answer %d %q", resp.StatusCode, body)
		wantStatus := map[string]int{"": http.StatusOK, "bad_request": http.StatusBadRequest, "too_large": http.StatusRequestEntityTooLarge}[answer.Code]
		if resp.StatusCode != wantStatus {
			t.Fatalf("status %d with code %q: %s", resp.StatusCode, answer.Code, body)
		}
		return answer.Code
	})
}

func TestEventRulesOverWebSocket(t *testing.T) {
	runEventRules(t, func(t *testing.T, s *testServer, tc eventCase) string {
		c, _ := livetest.DialExtended(t, s.WSURL)
		frame := wsFrame(tc)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		// Frames are handled in order, so the pong tells that the publish
		// was handled without an answer; write errors show as the close.
		_ = c.WS.Write(ctx, websocket.MessageText, []byte(frame))
		_ = c.WS.Write(ctx, websocket.MessageText, []byte(`{"action":"ping"}`))
		for {
			m, open := nextOrClose(t, c)
			switch {
			case !open:
				// A frame over MaxMessage is not read: the connection closes
				// with 1009, the WebSocket's answer to too_large.
				if code, _ := c.Closed(); code != protocol.CloseTooBig || len(frame) <= rulesLimit {
					t.Fatalf("closed with %d for a frame of %d bytes", code, len(frame))
				}
				return protocol.CodeTooLarge
			case m.Action == protocol.ActionError:
				return m.Code
			case m.Action == protocol.ActionAck:
				if m.Ref != goString(tc.id) || m.Seq != 1 {
					t.Fatalf("ack %+v", m)
				}
			case m.Action == protocol.ActionPong:
				return ""
			}
		}
	})
}

func TestEventRulesThroughPublish(t *testing.T) {
	runEventRules(t, func(t *testing.T, s *testServer, tc eventCase) string {
		if tc.wire {
			t.Skip("needs JSON typing: an Event cannot hold it")
		}
		ev, ok := goEvent(tc)
		if !ok {
			t.Fatal("case cannot be written as an Event: mark it wire")
		}
		stored, err := s.Publish(context.Background(), ev)
		if err == nil {
			if stored.Seq != 1 || stored.ID == "" {
				t.Fatalf("stored %+v", stored)
			}
			return ""
		}
		var de *protocol.DecodeError
		if !errors.Is(err, ErrInvalidEvent) || !errors.As(err, &de) {
			t.Fatalf("error %v is no invalid event", err)
		}
		return de.Code()
	})
}

// A Go caller can hand in names that no decoded frame holds.
func TestPublishRefusesInvalidUTF8Names(t *testing.T) {
	s := startServer(t, Config{})
	for _, ev := range []Event{{Channel: "c\xff", Type: "t"}, {Channel: "c", Type: "t\xfe"}} {
		_, err := s.Publish(context.Background(), ev)
		var de *protocol.DecodeError
		if !errors.Is(err, ErrInvalidEvent) || !errors.As(err, &de) || de.Code() != protocol.CodeBadRequest {
			t.Errorf("%q/%q: got %v", ev.Channel, ev.Type, err)
		}
	}
}

// nextOrClose returns the next frame other than a ping, or false once the
// connection has ended.
func nextOrClose(t *testing.T, c *livetest.Conn) (protocol.ServerMessage, bool) {
	t.Helper()
	for {
		var b []byte
		select {
		case b = <-c.Frames:
		case <-c.Done:
			select {
			case b = <-c.Frames:
			default:
				return protocol.ServerMessage{}, false
			}
		case <-time.After(wait):
			t.Fatal("timed out waiting for an answer")
		}
		var m protocol.ServerMessage
		require.NoError(t, protocol.DecodeServer(b, 1<<20, &m), "decode %s", b)
		if m.Action != protocol.ActionPing {
			return m, true
		}
	}
}
