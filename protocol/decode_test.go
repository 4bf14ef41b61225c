package protocol

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeClientErrors(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		kind  error
		field string
	}{
		{"empty", ``, ErrMalformed, ""},
		{"truncated", `{"action":"subscribe","chan`, ErrMalformed, ""},
		{"array", `[1,2]`, ErrMalformed, ""},
		{"string", `"subscribe"`, ErrMalformed, ""},
		{"null", `null`, ErrMalformed, ""},
		{"trailing garbage", `{"action":"ping"} x`, ErrMalformed, ""},
		{"no action", `{"channel":"c"}`, ErrInvalidField, "action"},
		{"unknown action", `{"action":"dance"}`, ErrUnknownAction, "action"},
		{"action not string", `{"action":5}`, ErrWrongType, "action"},
		{"channel not string", `{"action":"subscribe","channel":1}`, ErrWrongType, "channel"},
		{"channel missing", `{"action":"subscribe"}`, ErrInvalidField, "channel"},
		{"channel too long", `{"action":"subscribe","channel":"` + strings.Repeat("c", MaxChannelLen+1) + `"}`, ErrInvalidField, "channel"},
		{"since wrong type", `{"action":"subscribe","channel":"c","since":"yesterday"}`, ErrWrongType, "since"},
		{"seq negative", `{"action":"subscribe","channel":"c","since":{"epoch":"e","seq":-1}}`, ErrWrongType, "since.seq"},
		{"publish no type", `{"action":"publish","channel":"c","payload":{}}`, ErrInvalidField, "type"},
		{"payload not object", `{"action":"publish","channel":"c","type":"t","payload":[1]}`, ErrWrongType, "payload"},
		{"meta not object", `{"action":"publish","channel":"c","type":"t","meta":3}`, ErrWrongType, "meta"},
		{"bad ref", `{"action":"publish","channel":"c","type":"t","ref":"a b"}`, ErrInvalidField, "ref"},
		{"hello without protocol", `{"action":"hello"}`, ErrInvalidField, "protocol"},
		{"auth without token", `{"action":"auth"}`, ErrInvalidField, "token"},
		{"too large", `{"action":"publish","channel":"c","type":"t","payload":{"x":"` + strings.Repeat("x", DefaultMaxMessage) + `"}}`, ErrTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeClient([]byte(tt.frame), 0)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a *DecodeError", err)
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("got %v, want kind %v", err, tt.kind)
			}
			if de.Field != tt.field {
				t.Fatalf("field = %q, want %q", de.Field, tt.field)
			}
			if !strings.HasPrefix(err.Error(), "failed to decode message: ") {
				t.Fatalf("error text %q", err)
			}
		})
	}
}

func TestDecodeClientAccepts(t *testing.T) {
	frames := []string{
		`{"action":"subscribe","channel":"resources/posts"}`,
		` {"action":"unsubscribe","channel":"resources/posts"}`,
		`{"action":"publish","channel":"c","type":"created","payload":{"ids":[1]},"date":"2024-01-01T00:00:00Z","extra":true}`,
		`{"action":"publish","channel":"c","type":"created","payload":null}`,
		`{"action":"subscribe","channel":"c","since":{"epoch":"e","seq":18446744073709551615}}`,
		`{"action":"hello","protocol":"refine-live.v1"}`,
		`{"action":"ping"}`,
	}
	for _, f := range frames {
		if _, err := DecodeClient([]byte(f), 0); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestDecodeServer(t *testing.T) {
	var m ServerMessage
	require.NoError(t, DecodeServer([]byte(`{"channel":"c","type":"updated","payload":{"ids":[1]}}`), 0, &m))
	if !m.IsEvent() || m.Channel != "c" || string(m.Payload) != `{"ids":[1]}` {
		t.Fatalf("decoded %+v", m)
	}
	// Reuse must not leak fields of the previous frame.
	require.NoError(t, DecodeServer([]byte(`{"action":"subscribed","channel":"c","epoch":"e","seq":4}`), 0, &m))
	if m.Type != "" || m.Payload != nil || m.Position() != (Position{Epoch: "e", Seq: 4}) {
		t.Fatalf("decoded %+v", m)
	}

	bad := []struct {
		frame string
		kind  error
	}{
		{`{"channel":"c"}`, ErrInvalidField},
		{`{"type":"t"}`, ErrInvalidField},
		{`{"channel":"c","type":"t","seq":3}`, ErrInvalidField},
		{`{"channel":"c","type":"t","seq":"3","epoch":"e"}`, ErrWrongType},
		{`{"channel":"c","type":"t","date":-1}`, ErrInvalidField},
		{`{"channel":"c","type":"t","payload":"x"}`, ErrWrongType},
		{`{"action":"hello"}`, ErrInvalidField},
		{`{"action":"hello","protocol":"p","heartbeat":-1}`, ErrInvalidField},
		{`{"action":"ack"}`, ErrInvalidField},
		{`{"action":"error"}`, ErrInvalidField},
		{`{"action":"subscribed"}`, ErrInvalidField},
		{`{"action":"teleport"}`, ErrUnknownAction},
		{`{"channel":"c","type":"t","recovered":"yes"}`, ErrWrongType},
		{`{`, ErrMalformed},
	}
	for _, b := range bad {
		m = ServerMessage{Channel: "stale"}
		err := DecodeServer([]byte(b.frame), 0, &m)
		if !errors.Is(err, b.kind) {
			t.Errorf("%s: got %v, want %v", b.frame, err, b.kind)
		}
		if m.Channel != "" {
			t.Errorf("%s: failed decode left fields behind: %+v", b.frame, m)
		}
	}
	if err := DecodeServer([]byte(`{"channel":"c","type":"t"}`), 10, &m); !errors.Is(err, ErrTooLarge) {
		t.Errorf("limit not enforced: %v", err)
	}
}

func TestDecodeErrorCodes(t *testing.T) {
	cases := map[error]string{ErrTooLarge: CodeTooLarge, ErrUnknownAction: CodeUnknownAction, ErrMalformed: CodeBadRequest, ErrWrongType: CodeBadRequest}
	for kind, want := range cases {
		if got := (&DecodeError{Kind: kind}).Code(); got != want {
			t.Errorf("%v: Code() = %q, want %q", kind, got, want)
		}
	}
	if ValidRef("") || ValidRef("a/b") || !ValidRef("c-1:x_y.z") {
		t.Error("ValidRef disagrees with the documented alphabet")
	}
}
