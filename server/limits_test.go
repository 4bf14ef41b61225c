package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Every kind of bad input gets its documented answer, and a bystander
// client keeps being served throughout.
func TestBadInput(t *testing.T) {
	s := startServer(t, Config{MaxMessage: 1024, MaxSubscriptions: 2, MessageRate: 1, MessageBurst: 5, MaxRateViolations: 10, MaxBadMessages: 3})
	bystander, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(bystander, "ok", nil)
	expectSubscribed(t, bystander, "ok", 0, false)

	wantError := func(code string) func(t *testing.T, c *livetest.Conn) {
		return func(t *testing.T, c *livetest.Conn) {
			m := c.NextNonPing()
			if m.Action != protocol.ActionError || m.Code != code {
				t.Fatalf("want error %s, got %+v", code, m)
			}
		}
	}
	wantClose := func(code protocol.CloseCode) func(t *testing.T, c *livetest.Conn) {
		return func(t *testing.T, c *livetest.Conn) {
			if got, _ := c.Closed(); got != code {
				t.Fatalf("want close %d, got %d (%v)", code, got, c.Err())
			}
		}
	}
	// stillServed checks a basic connection was not closed: it can still
	// subscribe and receive.
	stillServed := func(t *testing.T, c *livetest.Conn) {
		c.Send(`{"action":"subscribe","channel":"basic-alive"}`)
		require.Eventually(t, func() bool { return s.subscribers("basic-alive") == 1 }, wait, tick, "basic subscribe")
		s.publishReaches(t, c, "basic-alive", "t")
		c.Send(`{"action":"unsubscribe","channel":"basic-alive"}`)
		require.Eventually(t, func() bool { return s.subscribers("basic-alive") == 0 }, wait, tick, "basic unsubscribe")
	}
	big := `{"action":"publish","channel":"x","type":"t","payload":{"s":"` + strings.Repeat("a", 2048) + `"}}`
	cases := []struct {
		name     string
		extended bool
		send     func(c *livetest.Conn)
		check    func(t *testing.T, c *livetest.Conn)
	}{
		{"malformed JSON", true, func(c *livetest.Conn) { c.Send(`{"action":`) }, wantError(protocol.CodeBadRequest)},
		{"wrong field type", true, func(c *livetest.Conn) { c.Send(`{"action":"subscribe","channel":5}`) }, wantError(protocol.CodeBadRequest)},
		{"unknown action", true, func(c *livetest.Conn) { c.Send(`{"action":"dance"}`) }, wantError(protocol.CodeUnknownAction)},
		{"unknown action basic", false, func(c *livetest.Conn) { c.Send(`{"action":"dance"}`); c.Send(`[1,2]`) }, stillServed},
		{"binary frame", true, func(c *livetest.Conn) { _ = c.WS.Write(context.Background(), websocket.MessageBinary, []byte{1, 2}) }, wantClose(protocol.CloseUnsupported)},
		{"binary frame basic", false, func(c *livetest.Conn) { _ = c.WS.Write(context.Background(), websocket.MessageBinary, []byte{1, 2}) }, stillServed},
		{"oversize frame", true, func(c *livetest.Conn) { _ = c.WS.Write(context.Background(), websocket.MessageText, []byte(big)) }, wantClose(protocol.CloseTooBig)},
		{"too many invalid messages", true, func(c *livetest.Conn) {
			for i := 0; i < 4; i++ {
				c.Send(`{}`)
			}
		}, func(t *testing.T, c *livetest.Conn) {
			for i := 0; i < 3; i++ {
				wantError(protocol.CodeBadRequest)(t, c)
			}
			wantClose(protocol.CloseBadRequest)(t, c)
		}},
		{"subscription limit", true, func(c *livetest.Conn) {
			for _, ch := range []string{"a", "b", "c"} {
				subscribeSince(c, ch, nil)
			}
		}, func(t *testing.T, c *livetest.Conn) {
			expectSubscribed(t, c, "a", 0, false)
			expectSubscribed(t, c, "b", 0, false)
			m := c.NextNonPing()
			if m.Code != protocol.CodeSubscriptionLimit || m.Channel != "c" {
				t.Fatalf("got %+v", m)
			}
		}},
		{"flood", true, func(c *livetest.Conn) {
			for i := 0; i < 40; i++ {
				if c.WS.Write(context.Background(), websocket.MessageText, []byte(`{"action":"ping"}`)) != nil {
					return // closed by the server mid-flood
				}
			}
		}, func(t *testing.T, c *livetest.Conn) {
			for {
				m := c.NextNonPing()
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
			var c *livetest.Conn
			if tc.extended {
				c, _ = livetest.DialExtended(t, s.WSURL)
			} else {
				c = livetest.Dial(t, s.WSURL, nil)
			}
			tc.send(c)
			tc.check(t, c)
			// The bystander is unaffected.
			ev := publishN(t, s, "ok", 1)[0]
			if m := bystander.NextNonPing(); m.Seq != ev.Seq {
				t.Fatalf("bystander got %+v", m)
			}
		})
	}
}

// A client that reads nothing is cut off with 4002 while a client that
// keeps up receives every event.
func TestSlowConsumer(t *testing.T) {
	s := startServer(t, Config{SendQueue: 8, WriteTimeout: time.Minute})
	ctx := context.Background()
	slow, _, err := websocket.Dial(ctx, s.WSURL, nil)
	require.NoError(t, err)
	defer slow.CloseNow()
	require.NoError(t, slow.Write(ctx, websocket.MessageText, []byte(`{"action":"subscribe","channel":"c"}`)))
	fast := livetest.Dial(t, s.WSURL, nil)
	fast.Send(`{"action":"subscribe","channel":"c"}`)
	require.Eventually(t, func() bool { return s.subscribers("c") == 2 }, wait, tick, "subscribers")

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
		fast.NextRaw() // the fast client keeps up, one event at a time
	}
	// Still served after the cut.
	for i := 0; i < 10; i++ {
		s.publishReaches(t, fast, "c", "after")
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
	c, hello := livetest.DialExtended(t, s.WSURL)
	if hello.Heartbeat != 20 {
		t.Fatalf("hello %+v", hello)
	}
	if m := c.Next(); m.Action != protocol.ActionPing {
		t.Fatalf("want ping, got %+v", m)
	}
	// This client never answers: closed for silence.
	for {
		select {
		case <-c.Frames:
			continue
		case <-c.Done:
		}
		break
	}
	if code := websocket.CloseStatus(c.Err()); code != websocket.StatusCode(protocol.CloseHeartbeatTimeout) {
		t.Fatalf("want 4001, got %v", c.Err())
	}
}

func TestShutdown(t *testing.T) {
	s := startServer(t, Config{RetryMin: time.Second, RetryMax: 3 * time.Second})
	var clients []*livetest.Conn
	for i := 0; i < 6; i++ {
		c, _ := livetest.DialExtended(t, s.WSURL)
		clients = append(clients, c)
	}
	basic := livetest.Dial(t, s.WSURL, nil)
	basic.Send(`{"action":"subscribe","channel":"c"}`)
	require.Eventually(t, func() bool { return s.subscribers("c") == 1 }, wait, tick, "basic subscriber")
	// An event queued before the shutdown is still delivered before the close.
	publishN(t, s, "c", 1)
	clients = append(clients, basic)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	if got := string(basic.NextRaw()); !strings.HasPrefix(got, `{"channel":"c"`) {
		t.Fatalf("basic got %s", got)
	}
	for i, c := range clients {
		code, reason := c.Closed()
		if code != protocol.CloseShutdown || reason.RetryAfter < time.Second || reason.RetryAfter > 3*time.Second {
			t.Fatalf("client %d: close %d %+v", i, code, reason)
		}
	}
	resp, err := http.Get(s.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("healthz during shutdown: %d", resp.StatusCode)
	}
	if _, err := livetest.TryDial(t, s.WSURL, nil); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("dial after shutdown: %v", err)
	}
	if _, err := s.Publish(context.Background(), Event{Channel: "c", Type: "t"}); err == nil {
		t.Fatal("publish after shutdown succeeded")
	}
}
