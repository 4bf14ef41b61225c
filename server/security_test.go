package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// hostile are inputs that would break out of a JSON string or an HTML
// context if echoed verbatim.
var hostile = []string{
	`</script><script>alert(1)</script>`,
	`"},"code":"ok","x":{"`,
	`back\slash and "quotes"`,
	"line\nbreak\u2028sep\x00nul",
	"bad utf8 \xff\xfe",
}

// checkEcho fails when an answer is not one valid JSON object in UTF-8, or
// when an echoed input added a key of its own: an echo is always a JSON
// string, escaped, never markup or structure. (JSON over a WebSocket is
// never parsed as HTML, so "<" need not be escaped there; encoding/json
// escapes it in HTTP answers anyway.)
func checkEcho(t *testing.T, what string, raw []byte, input string) {
	t.Helper()
	raw = bytes.TrimSpace(raw)
	var m map[string]any
	if !utf8.Valid(raw) || json.Unmarshal(raw, &m) != nil {
		t.Errorf("%s: not one valid JSON object in UTF-8: %q", what, raw)
		return
	}
	if _, injected := m["x"]; injected || m["code"] == "ok" {
		t.Errorf("%s: input %q broke out of its string: %s", what, input, raw)
	}
	if bytes.ContainsAny(raw, "\n\x00") {
		t.Errorf("%s: raw control character in %q", what, raw)
	}
}

// No error, over WebSocket or HTTP, echoes its input unescaped: every
// answer stays one valid JSON value whatever the input.
func TestErrorsDoNotEchoInputUnescaped(t *testing.T) {
	s := startServer(t, Config{
		PublishToken: "tok",
		Authorizer: AuthorizerFunc(func(_ context.Context, _ *Identity, _ protocol.Action, ch string) error {
			if strings.HasPrefix(ch, "ok") {
				return nil
			}
			return ErrInvalidToken
		}),
	})
	c, _ := livetest.DialExtended(t, s.WSURL)
	for _, in := range hostile {
		q, _ := json.Marshal(in) // how a client would send it
		frames := []string{
			`{"action":"subscribe","channel":` + string(q) + `}`,                                       // forbidden
			`{"action":"publish","channel":` + string(q) + `,"type":"t","payload":{},"ref":"r"}`,       // forbidden
			`{"action":` + string(q) + `}`,                                                             // unknown action
			`{"action":"subscribe","channel":` + string(q) + `,"since":{"epoch":` + string(q) + `}}`,   // bad since
			`{"action":"publish","channel":"ok","type":` + string(q) + `,"payload":` + string(q) + `}`, // payload not an object
		}
		for _, f := range frames {
			c.Send(f)
			raw := c.NextRaw()
			for bytes.Contains(raw, []byte(`"action":"ping"`)) {
				raw = c.NextRaw()
			}
			checkEcho(t, "ws answer to "+f, raw, in)
		}
		for _, body := range []string{
			`{"channel":` + string(q) + `,"type":` + string(q) + `,"payload":` + string(q) + `}`,
			`{"channel":"ok","type":"t","id":` + string(q) + `}`,
			string(q),
		} {
			resp, text := post(t, s.URL+"/publish", "tok", body)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("POST %s: %d %s", body, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			checkEcho(t, "POST /publish "+body, []byte(text), in)
		}
	}
	// Every error counted above stayed below the limit of invalid frames.
	publishN(t, s, "ok", 1)
}

// With JWT auth, a token that expires closes the connection with 4501; the
// engine then asks its token source for a fresh token before it reconnects
// and its subscription resumes with nothing missed.
func TestEngineFetchesAFreshTokenAfterExpiry(t *testing.T) {
	s := startServer(t, Config{Authenticator: &JWTAuthenticator{Secret: testSecret}, AuthTimeout: time.Minute})
	var mu sync.Mutex
	var issued []time.Time
	c := livetest.NewEngine(t, provider.Config{
		URLs: []string{s.WSURL}, Protocol: protocol.LevelExtended,
		MinDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond,
		Token: func(context.Context) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			exp := time.Now().Add(time.Hour)
			if len(issued) == 0 {
				exp = time.Now().Add(time.Second) // the first token expires at once
			}
			issued = append(issued, exp)
			return token(t, testSecret, exp, []string{"resources/*"}, nil), nil
		},
	})
	got := &livetest.Events{}
	sub := livetest.Subscribe(t, c, "resources/posts", got)
	publishRange(t, s, "resources/posts", 1, 1)
	got.WaitLen(t, 1)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(issued) >= 2
	}, wait, tick, "a second token")
	livetest.Subscribed(t, sub)
	publishRange(t, s, "resources/posts", 2, 2)
	events := got.WaitLen(t, 2)
	if events[1].Seq != 2 || events[1].Resync != "" {
		t.Fatalf("after the new token got %+v, want seq 2", events[1])
	}
	if st := c.Status(); st != provider.StatusOpen {
		t.Fatalf("status %s", st)
	}
	if st := c.Stats(); st.Reconnects != 1 {
		t.Fatalf("stats %+v: want exactly one reconnect", st)
	}
}
