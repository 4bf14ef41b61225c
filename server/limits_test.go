package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Every kind of bad input gets its documented answer, and a bystander
// client keeps being served throughout.
func TestBadInput(t *testing.T) {
	s := startServer(t, Config{MaxMessage: 1024, MaxSubscriptions: 2, MessageRate: 1, MessageBurst: 5, MaxRateViolations: 10, MaxBadMessages: 3})
	bystander, _ := dialExtended(t, s.WSURL)
	subscribeSince(bystander, "ok", nil)
	expectSubscribed(t, bystander, "ok", 0, false)

	wantError := func(code string) func(t *testing.T, c *client) {
		return func(t *testing.T, c *client) {
			m := c.nextNonPing()
			if m.Action != protocol.ActionError || m.Code != code {
				t.Fatalf("want error %s, got %+v", code, m)
			}
		}
	}
	wantClose := func(code protocol.CloseCode) func(t *testing.T, c *client) {
		return func(t *testing.T, c *client) {
			if got, _ := c.closed(); got != code {
				t.Fatalf("want close %d, got %d (%v)", code, got, c.err)
			}
		}
	}
	// stillServed checks a basic connection was not closed: it can still
	// subscribe and receive.
	stillServed := func(t *testing.T, c *client) {
		c.sendRaw(`{"action":"subscribe","channel":"basic-alive"}`)
		waitFor(t, "basic subscribe", func() bool { return s.subscribers("basic-alive") == 1 })
		if _, err := s.Publish(context.Background(), Event{Channel: "basic-alive", Type: "t"}); err != nil {
			t.Fatal(err)
		}
		if got := string(c.nextRaw()); got != `{"channel":"basic-alive","type":"t","payload":{}}` {
			t.Fatalf("got %s", got)
		}
		c.sendRaw(`{"action":"unsubscribe","channel":"basic-alive"}`)
		waitFor(t, "basic unsubscribe", func() bool { return s.subscribers("basic-alive") == 0 })
	}
	big := `{"action":"publish","channel":"x","type":"t","payload":{"s":"` + strings.Repeat("a", 2048) + `"}}`
	cases := []struct {
		name     string
		extended bool
		send     func(c *client)
		check    func(t *testing.T, c *client)
	}{
		{"malformed JSON", true, func(c *client) { c.sendRaw(`{"action":`) }, wantError(protocol.CodeBadRequest)},
		{"wrong field type", true, func(c *client) { c.sendRaw(`{"action":"subscribe","channel":5}`) }, wantError(protocol.CodeBadRequest)},
		{"unknown action", true, func(c *client) { c.sendRaw(`{"action":"dance"}`) }, wantError(protocol.CodeUnknownAction)},
		{"unknown action basic", false, func(c *client) { c.sendRaw(`{"action":"dance"}`); c.sendRaw(`[1,2]`) }, stillServed},
		{"binary frame", true, func(c *client) { _ = c.ws.Write(context.Background(), websocket.MessageBinary, []byte{1, 2}) }, wantClose(protocol.CloseUnsupported)},
		{"binary frame basic", false, func(c *client) { _ = c.ws.Write(context.Background(), websocket.MessageBinary, []byte{1, 2}) }, stillServed},
		{"oversize frame", true, func(c *client) { _ = c.ws.Write(context.Background(), websocket.MessageText, []byte(big)) }, wantClose(protocol.CloseTooBig)},
		{"too many invalid messages", true, func(c *client) {
			for i := 0; i < 4; i++ {
				c.sendRaw(`{}`)
			}
		}, func(t *testing.T, c *client) {
			for i := 0; i < 3; i++ {
				wantError(protocol.CodeBadRequest)(t, c)
			}
			wantClose(protocol.CloseBadRequest)(t, c)
		}},
		{"subscription limit", true, func(c *client) {
			for _, ch := range []string{"a", "b", "c"} {
				subscribeSince(c, ch, nil)
			}
		}, func(t *testing.T, c *client) {
			expectSubscribed(t, c, "a", 0, false)
			expectSubscribed(t, c, "b", 0, false)
			m := c.nextNonPing()
			if m.Code != protocol.CodeSubscriptionLimit || m.Channel != "c" {
				t.Fatalf("got %+v", m)
			}
		}},
		{"flood", true, func(c *client) {
			for i := 0; i < 40; i++ {
				if c.ws.Write(context.Background(), websocket.MessageText, []byte(`{"action":"ping"}`)) != nil {
					return // closed by the server mid-flood
				}
			}
		}, func(t *testing.T, c *client) {
			for {
				m := c.nextNonPing()
				if m.Action == protocol.ActionPong {
					continue
				}
				if m.Code != protocol.CodeRateLimited || m.RetryAfter <= 0 {
					t.Fatalf("want rate_limited with retryAfter, got %+v", m)
				}
				break
			}
			wantClose(protocol.CloseRateLimited)(t, c)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c *client
			if tc.extended {
				c, _ = dialExtended(t, s.WSURL)
			} else {
				c = dial(t, s.WSURL, nil)
			}
			c.t = t
			tc.send(c)
			tc.check(t, c)
			// The bystander is unaffected.
			ev := publishN(t, s, "ok", 1)[0]
			if m := bystander.nextNonPing(); m.Seq != ev.Seq {
				t.Fatalf("bystander got %+v", m)
			}
		})
	}
}

func TestWrongOrigin(t *testing.T) {
	s := startServer(t, Config{OriginPatterns: []string{"app.example"}})
	hdr := http.Header{"Origin": {"https://evil.example"}}
	_, err := tryDial(s.WSURL, &websocket.DialOptions{HTTPHeader: hdr})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("want 403, got %v", err)
	}
	hdr.Set("Origin", "https://app.example")
	c := dial(t, s.WSURL, &websocket.DialOptions{HTTPHeader: hdr})
	c.sendMsg(&protocol.ClientMessage{Action: protocol.ActionHello, Protocol: protocol.Version})
	if m := c.next(); m.Action != protocol.ActionHello {
		t.Fatalf("got %+v", m)
	}
}

// A client that reads nothing is cut off with 4002 while a client that
// keeps up receives every event.
func TestSlowConsumer(t *testing.T) {
	s := startServer(t, Config{SendQueue: 8, WriteTimeout: time.Minute})
	ctx := context.Background()
	slow, _, err := websocket.Dial(ctx, s.WSURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	if err := slow.Write(ctx, websocket.MessageText, []byte(`{"action":"subscribe","channel":"c"}`)); err != nil {
		t.Fatal(err)
	}
	fast := dial(t, s.WSURL, nil)
	fast.sendRaw(`{"action":"subscribe","channel":"c"}`)
	waitFor(t, "subscribers", func() bool { return s.subscribers("c") == 2 })

	payload := []byte(`{"blob":"` + strings.Repeat("x", 16<<10) + `"}`)
	sent := 0
	for counterValue(t, s.metrics.disconnects.WithLabelValues("slow_consumer")) == 0 {
		if sent > 100000 {
			t.Fatal("slow consumer never cut off")
		}
		if _, err := s.Publish(ctx, Event{Channel: "c", Type: "t", Payload: payload}); err != nil {
			t.Fatal(err)
		}
		sent++
		fast.nextRaw() // the fast client keeps up, one event at a time
	}
	// Still served after the cut.
	for i := 0; i < 10; i++ {
		if _, err := s.Publish(ctx, Event{Channel: "c", Type: "after"}); err != nil {
			t.Fatal(err)
		}
		if got := string(fast.nextRaw()); got != `{"channel":"c","type":"after","payload":{}}` {
			t.Fatalf("fast got %.80s", got)
		}
	}
	// The slow client, once it reads, finds the 4002 after its backlog.
	slow.SetReadLimit(1 << 20)
	for {
		_, _, err := slow.Read(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != websocket.StatusCode(protocol.CloseSlowConsumer) {
				t.Fatalf("want 4002, got %v", err)
			}
			break
		}
	}
}

func TestHeartbeat(t *testing.T) {
	s := startServer(t, Config{Heartbeat: 20 * time.Millisecond})
	c, hello := dialExtended(t, s.WSURL)
	if hello.Heartbeat != 20 {
		t.Fatalf("hello %+v", hello)
	}
	if m := c.next(); m.Action != protocol.ActionPing {
		t.Fatalf("want ping, got %+v", m)
	}
	// This client never answers: closed for silence.
	for {
		select {
		case <-c.frames:
			continue
		case <-c.done:
		}
		break
	}
	if code := websocket.CloseStatus(c.err); code != websocket.StatusCode(protocol.CloseHeartbeatTimeout) {
		t.Fatalf("want 4001, got %v", c.err)
	}
}

func TestShutdown(t *testing.T) {
	s := startServer(t, Config{RetryMin: time.Second, RetryMax: 3 * time.Second})
	var clients []*client
	for i := 0; i < 6; i++ {
		c, _ := dialExtended(t, s.WSURL)
		clients = append(clients, c)
	}
	basic := dial(t, s.WSURL, nil)
	basic.sendRaw(`{"action":"subscribe","channel":"c"}`)
	waitFor(t, "basic subscriber", func() bool { return s.subscribers("c") == 1 })
	// An event queued before the shutdown is still delivered before the close.
	publishN(t, s, "c", 1)
	clients = append(clients, basic)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := string(basic.nextRaw()); !strings.HasPrefix(got, `{"channel":"c"`) {
		t.Fatalf("basic got %s", got)
	}
	for i, c := range clients {
		code, reason := c.closed()
		if code != protocol.CloseShutdown || reason.RetryAfter < time.Second || reason.RetryAfter > 3*time.Second {
			t.Fatalf("client %d: close %d %+v", i, code, reason)
		}
	}
	resp, err := http.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("healthz during shutdown: %d", resp.StatusCode)
	}
	if _, err := tryDial(s.WSURL, nil); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("dial after shutdown: %v", err)
	}
	if _, err := s.Publish(context.Background(), Event{Channel: "c", Type: "t"}); err == nil {
		t.Fatal("publish after shutdown succeeded")
	}
}
