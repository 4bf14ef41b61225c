package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

var testSecret = []byte("test-secret")

func token(t testing.TB, secret []byte, exp time.Time, sub, pub []string) string {
	t.Helper()
	claims := jwt.MapClaims{"sub": "user-1", "sub_channels": sub, "pub_channels": pub}
	if !exp.IsZero() {
		claims["exp"] = exp.Unix()
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	require.NoError(t, err)
	return s
}

func TestMatchChannel(t *testing.T) {
	for _, tc := range []struct {
		pattern, channel string
		want             bool
	}{
		{"**", "anything/at/all", true},
		{"resources/posts", "resources/posts", true},
		{"resources/*", "resources/posts", true},
		{"resources/*", "resources/posts/1", false},
		{"resources/**", "resources/posts/1", true},
		{"resources/**", "resources", false},
		{"*/posts/**", "resources/posts/1", true},
		{"resources/[", "resources/[", false},
	} {
		if got := MatchChannel(tc.pattern, tc.channel); got != tc.want {
			t.Errorf("MatchChannel(%q, %q) = %v", tc.pattern, tc.channel, got)
		}
	}
}

func TestJWTAuth(t *testing.T) {
	s := startServer(t, Config{Authenticator: &JWTAuthenticator{Secret: testSecret}, AuthTimeout: time.Minute})
	hour := time.Now().Add(time.Hour)
	good := token(t, testSecret, hour, []string{"resources/*"}, []string{"resources/posts"})

	t.Run("query token, allowed and forbidden channels", func(t *testing.T) {
		c, _ := livetest.DialExtended(t, s.WSURL+"?token="+good)
		subscribeSince(c, "resources/posts", nil)
		expectSubscribed(t, c, "resources/posts", 0, false)
		subscribeSince(c, "admin/logs", nil)
		if m := c.NextNonPing(); m.Code != protocol.CodeForbidden || m.Channel != "admin/logs" {
			t.Fatalf("got %+v", m)
		}
		c.SendMsg(&protocol.ClientMessage{Action: protocol.ActionPublish, Channel: "resources/users", Type: "t", Ref: "r1"})
		if m := c.NextNonPing(); m.Code != protocol.CodeForbidden || m.Ref != "r1" {
			t.Fatalf("got %+v", m)
		}
		c.SendMsg(&protocol.ClientMessage{Action: protocol.ActionPublish, Channel: "resources/posts", Type: "t", Ref: "r2"})
		if m := c.NextNonPing(); m.ID != "r2" {
			t.Fatalf("want own event, got %+v", m)
		}
		if m := c.NextNonPing(); m.Action != protocol.ActionAck || m.Ref != "r2" {
			t.Fatalf("want ack, got %+v", m)
		}
	})
	t.Run("auth message", func(t *testing.T) {
		c, _ := livetest.DialExtended(t, s.WSURL)
		subscribeSince(c, "resources/posts", nil)
		if m := c.NextNonPing(); m.Code != protocol.CodeUnauthorized {
			t.Fatalf("before auth: %+v", m)
		}
		c.SendMsg(&protocol.ClientMessage{Action: protocol.ActionAuth, Token: good})
		subscribeSince(c, "resources/posts", nil)
		expectSubscribed(t, c, "resources/posts", 1, false)
	})
	closes := []struct {
		name  string
		url   string
		msg   string
		basic bool
		want  protocol.CloseCode
	}{
		{"bad query token", "?token=garbage", "", false, protocol.CloseUnauthorized},
		{"wrong secret", "?token=" + token(t, []byte("other"), hour, nil, nil), "", false, protocol.CloseUnauthorized},
		{"expired query token", "?token=" + token(t, testSecret, time.Now().Add(-time.Hour), nil, nil), "", false, protocol.CloseTokenExpired},
		{"bad auth message", "", `{"action":"auth","token":"garbage"}`, false, protocol.CloseUnauthorized},
		{"expired auth message", "", `{"action":"auth","token":"` + token(t, testSecret, time.Now().Add(-time.Hour), nil, nil) + `"}`, false, protocol.CloseTokenExpired},
		{"basic without token", "", `{"action":"subscribe","channel":"resources/posts"}`, true, protocol.CloseUnauthorized},
	}
	for _, tc := range closes {
		t.Run(tc.name, func(t *testing.T) {
			var c *livetest.Conn
			if tc.basic || tc.url != "" {
				// A bad handshake token closes before any hello.
				c = livetest.Dial(t, s.WSURL+tc.url, nil)
			} else {
				c, _ = livetest.DialExtended(t, s.WSURL+tc.url)
			}
			if tc.msg != "" {
				c.Send(tc.msg)
			}
			if code, _ := c.Closed(); code != tc.want {
				t.Fatalf("want close %d, got %d (%v)", tc.want, code, c.Err())
			}
		})
	}
}

func TestAuthTimeoutAndExpiry(t *testing.T) {
	s := startServer(t, Config{Authenticator: &JWTAuthenticator{Secret: testSecret}, AuthTimeout: 20 * time.Millisecond})
	silent, _ := livetest.DialExtended(t, s.WSURL)
	if code, _ := silent.Closed(); code != protocol.CloseUnauthorized {
		t.Fatalf("want 4500, got %v", silent.Err())
	}
	// A token that expires while connected closes with 4501. JWT expiry has
	// a resolution of one second.
	soon := token(t, testSecret, time.Now().Add(time.Second), []string{"**"}, nil)
	c, _ := livetest.DialExtended(t, s.WSURL+"?token="+soon)
	if code, _ := c.Closed(); code != protocol.CloseTokenExpired {
		t.Fatalf("want 4501, got %v", c.Err())
	}
}

// A custom Authorizer sees anonymous connections too.
func TestCustomAuthorizer(t *testing.T) {
	s := startServer(t, Config{Authorizer: AuthorizerFunc(func(_ context.Context, id *Identity, a protocol.Action, ch string) error {
		if a == protocol.ActionPublish {
			return ErrInvalidToken
		}
		return nil
	})})
	c, _ := livetest.DialExtended(t, s.WSURL)
	c.SendMsg(&protocol.ClientMessage{Action: protocol.ActionPublish, Channel: "c", Type: "t", Ref: "x"})
	if m := c.NextNonPing(); m.Code != protocol.CodeForbidden || m.Ref != "x" || m.Channel != "c" {
		t.Fatalf("got %+v", m)
	}
}

func TestPublishEndpoint(t *testing.T) {
	s := startServer(t, Config{PublishToken: "tok", MaxPublishBody: 256})
	sub, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(sub, "resources/posts", nil)
	expectSubscribed(t, sub, "resources/posts", 0, false)
	url := s.URL + "/publish"
	for _, tc := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no token", "", `{"channel":"resources/posts","type":"t"}`, http.StatusUnauthorized, "unauthorized"},
		{"wrong token", "nope", `{"channel":"resources/posts","type":"t"}`, http.StatusUnauthorized, "unauthorized"},
		{"not JSON", "tok", `channel=x`, http.StatusBadRequest, "bad_request"},
		{"two values", "tok", `{"channel":"a","type":"t"}{}`, http.StatusBadRequest, "bad_request"},
		{"not an object", "tok", `null`, http.StatusBadRequest, "bad_request"},
		// The event rules are the table of eventrules_test.go, run against
		// every entry point; this is the body limit, checked before them.
		{"body too large", "tok", `{"channel":"a","type":"t","payload":{"s":"` + strings.Repeat("a", 300) + `"}}`, http.StatusRequestEntityTooLarge, "too_large"},
	} {
		resp, body := post(t, url, tc.token, tc.body)
		if resp.StatusCode != tc.status || !strings.Contains(body, `"code":"`+tc.code+`"`) {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, body)
		}
	}
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	// None of the refused requests reached the subscriber; a good one does,
	// and repeating it with the same id stores nothing new.
	for i := 0; i < 2; i++ {
		resp, body := post(t, url, "tok", `{"channel":"resources/posts","type":"created","payload":{"ids":[7]},"id":"order-7"}`)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"seq":1`) {
			t.Fatalf("good publish: %d %s", resp.StatusCode, body)
		}
	}
	if m := sub.NextNonPing(); m.Seq != 1 || m.ID != "order-7" || string(m.Payload) != `{"ids":[7]}` {
		t.Fatalf("got %+v", m)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	s := startServer(t, Config{})
	c, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(c, "c", &protocol.Position{Epoch: "gone", Seq: 3})
	expectSubscribed(t, c, "c", 0, false)
	publishN(t, s, "c", 2)
	expectEvents(t, c, "c", 1, 2)
	resp, err := http.Get(s.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io_copy(&b, resp); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`refine_live_connections{level="extended"} 1`,
		`refine_live_subscriptions 1`,
		`refine_live_events_published_total{source="api"} 2`,
		`refine_live_events_delivered_total 2`,
		`refine_live_replays_total 1`,
		`refine_live_recovery_failures_total 1`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
