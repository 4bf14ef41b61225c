package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

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
