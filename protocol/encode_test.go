package protocol

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The basic level must be byte for byte what Refine's documented WebSocket
// provider sends and expects.
func TestAppendClientBasicBytes(t *testing.T) {
	tests := []struct {
		name string
		msg  ClientMessage
		want string
	}{
		{"subscribe", ClientMessage{Action: ActionSubscribe, Channel: "resources/posts"},
			`{"action":"subscribe","channel":"resources/posts"}`},
		{"unsubscribe", ClientMessage{Action: ActionUnsubscribe, Channel: "resources/posts"},
			`{"action":"unsubscribe","channel":"resources/posts"}`},
		{"publish", ClientMessage{Action: ActionPublish, Channel: "resources/posts", Type: "created", Payload: json.RawMessage(`{"ids":[1]}`)},
			`{"action":"publish","channel":"resources/posts","type":"created","payload":{"ids":[1]}}`},
		{"publish without payload", ClientMessage{Action: ActionPublish, Channel: "c", Type: "t"},
			`{"action":"publish","channel":"c","type":"t","payload":{}}`},
		{"subscribe since", ClientMessage{Action: ActionSubscribe, Channel: "c", Since: &Position{Epoch: "e1", Seq: 42}},
			`{"action":"subscribe","channel":"c","since":{"epoch":"e1","seq":42}}`},
		{"publish extended", ClientMessage{Action: ActionPublish, Channel: "c", Type: "t", Payload: json.RawMessage(`{}`), Meta: json.RawMessage(`{"a":1}`), Ref: "r1"},
			`{"action":"publish","channel":"c","type":"t","payload":{},"meta":{"a":1},"ref":"r1"}`},
		{"hello", ClientMessage{Action: ActionHello, Protocol: Version},
			`{"action":"hello","protocol":"refine-live.v1"}`},
		{"auth", ClientMessage{Action: ActionAuth, Token: "tok"},
			`{"action":"auth","token":"tok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendClient(nil, &tt.msg))
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if _, err := DecodeClient([]byte(got), 0); err != nil {
				t.Fatalf("own encoding does not decode: %v", err)
			}
		})
	}
}

func TestAppendServerBytes(t *testing.T) {
	tests := []struct {
		name string
		msg  ServerMessage
		want string
	}{
		{"basic event", ServerMessage{Channel: "resources/posts", Type: "updated", Payload: json.RawMessage(`{"ids":["1"]}`)},
			`{"channel":"resources/posts","type":"updated","payload":{"ids":["1"]}}`},
		{"event without payload", ServerMessage{Channel: "c", Type: "t"},
			`{"channel":"c","type":"t","payload":{}}`},
		{"extended event", ServerMessage{Channel: "c", Type: "t", Payload: json.RawMessage(`{}`), ID: "r1", Seq: 7, Epoch: "e", Date: 1700000000000},
			`{"channel":"c","type":"t","payload":{},"id":"r1","seq":7,"epoch":"e","date":1700000000000}`},
		{"hello", ServerMessage{Action: ActionHello, Protocol: Version, Session: "s", Heartbeat: 25000, MaxMessage: 65536},
			`{"action":"hello","protocol":"refine-live.v1","session":"s","heartbeat":25000,"maxMessage":65536}`},
		{"subscribed", ServerMessage{Action: ActionSubscribed, Channel: "c", Seq: 3, Epoch: "e", Recovered: true},
			`{"action":"subscribed","channel":"c","seq":3,"epoch":"e","recovered":true}`},
		{"error", ServerMessage{Action: ActionError, Code: CodeRateLimited, Message: "slow down", RetryAfter: 500},
			`{"action":"error","code":"rate_limited","message":"slow down","retryAfter":500}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendServer(nil, &tt.msg))
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			var back ServerMessage
			require.NoError(t, DecodeServer([]byte(got), 0, &back), "own encoding does not decode")
		})
	}
}

// appendString must agree with encoding/json on every input, so that any
// JSON parser reads back the same string.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "nl\n\r\t", "\x00\x01\x1f", "é ü 日本", "\u2028\u2029", "bad\xffutf8", "\xc3"} {
		got := appendString(nil, s)
		var back string
		require.NoError(t, json.Unmarshal(got, &back), "%q encoded as invalid JSON %s", s, got)
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("%q: round trip %q, encoding/json gives %q", s, back, wantBack)
		}
	}
}

func TestCloseCodes(t *testing.T) {
	retryable := []CloseCode{CloseNormal, CloseGoingAway, CloseAbnormal, CloseTooBig, CloseInternalErr, CloseRestart, CloseTryLater,
		CloseShutdown, CloseHeartbeatTimeout, CloseSlowConsumer, CloseRateLimited, 4499}
	terminal := []CloseCode{CloseProtocolErr, CloseUnsupported, CloseUnauthorized, CloseTokenExpired, CloseForbidden, CloseBadRequest, 4999}
	for _, c := range retryable {
		if !c.Retryable() {
			t.Errorf("%d (%s) should be retryable", c, c)
		}
	}
	for _, c := range terminal {
		if c.Retryable() {
			t.Errorf("%d (%s) should be terminal", c, c)
		}
	}
	if got := CloseCode(4321).String(); got != "close code 4321" {
		t.Errorf("unnamed code String() = %q", got)
	}
}

func TestCloseReason(t *testing.T) {
	r := CloseReason{Message: "server shutting down", RetryAfter: 1500e6}
	enc := r.Encode()
	if enc != `{"message":"server shutting down","retryAfter":1500}` {
		t.Fatalf("Encode() = %s", enc)
	}
	if got := ParseCloseReason(enc); got != r {
		t.Fatalf("ParseCloseReason(%s) = %+v, want %+v", enc, got, r)
	}
	if got := ParseCloseReason("plain words"); got.Message != "plain words" || got.RetryAfter != 0 {
		t.Fatalf("plain reason parsed as %+v", got)
	}
	if got := ParseCloseReason(`{"retryAfter":-5}`); got.RetryAfter != 0 {
		t.Fatalf("negative hint accepted: %+v", got)
	}
	long := CloseReason{Message: string(make([]byte, 500)), RetryAfter: 1e9}
	if n := len(long.Encode()); n > maxCloseReason {
		t.Fatalf("encoded reason is %d bytes, above %d", n, maxCloseReason)
	}
}
