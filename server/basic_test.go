package server

import (
	"context"
	"net/http"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
)

// The basic protocol is byte for byte the plain WebSocket provider of
// Refine's documentation: these frames are the ones its client sends and
// expects.
func TestBasicClient(t *testing.T) {
	s := startServer(t, Config{PublishToken: "secret"})
	a := livetest.Dial(t, s.WSURL, nil)
	b := livetest.Dial(t, s.WSURL, nil)
	a.Send(`{"action":"subscribe","channel":"resources/posts"}`)
	b.Send(`{"action":"subscribe","channel":"resources/posts"}`)
	require.Eventually(t, func() bool { return s.subscribers("resources/posts") == 2 }, wait, tick, "two subscribers")

	// Through the Go API.
	if _, err := s.Publish(context.Background(), Event{Channel: "resources/posts", Type: "created", Payload: []byte(`{"ids":[1]}`)}); err != nil {
		t.Fatal(err)
	}
	want := `{"channel":"resources/posts","type":"created","payload":{"ids":[1]}}`
	for _, c := range []*livetest.Conn{a, b} {
		if got := string(c.NextRaw()); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}

	// Through POST /publish.
	resp, body := post(t, s.URL+"/publish", "secret", `{"channel":"resources/posts","type":"updated","payload":{"ids":["2"]},"meta":{"by":"backend"}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /publish: %d %s", resp.StatusCode, body)
	}
	want = `{"channel":"resources/posts","type":"updated","payload":{"ids":["2"]}}`
	for _, c := range []*livetest.Conn{a, b} {
		if got := string(c.NextRaw()); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}

	// From one basic client to the other; the publisher gets its own
	// event too, as with the documented server.
	b.Send(`{"action":"publish","channel":"resources/posts","type":"deleted","payload":{"ids":[3]}}`)
	want = `{"channel":"resources/posts","type":"deleted","payload":{"ids":[3]}}`
	for _, c := range []*livetest.Conn{a, b} {
		if got := string(c.NextRaw()); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}

	// Unsubscribe stops delivery; a client on another channel sees
	// nothing of this one.
	a.Send(`{"action":"unsubscribe","channel":"resources/posts"}`)
	require.Eventually(t, func() bool { return s.subscribers("resources/posts") == 1 }, wait, tick, "unsubscribe")
	b.Send(`{"action":"publish","channel":"resources/posts","type":"created","payload":{"ids":[4]}}`)
	b.Send(`{"action":"subscribe","channel":"resources/users"}`)
	a.Send(`{"action":"subscribe","channel":"resources/users"}`)
	require.Eventually(t, func() bool { return s.subscribers("resources/users") == 2 }, wait, tick, "users subscribers")
	s.publishReaches(t, a, "resources/users", "created")
	if got := string(b.NextRaw()); got != `{"channel":"resources/posts","type":"created","payload":{"ids":[4]}}` {
		t.Fatalf("b got %s", got)
	}
}

// A client that offers the subprotocol is extended at once; one whose
// first frame is not a hello stays basic even if it sends one later.
func TestLevelNegotiation(t *testing.T) {
	s := startServer(t, Config{})
	ext := livetest.Dial(t, s.WSURL, &websocket.DialOptions{Subprotocols: []string{"refine-live.v1"}})
	if ext.WS.Subprotocol() != "refine-live.v1" {
		t.Fatalf("subprotocol %q", ext.WS.Subprotocol())
	}
	hello := ext.Next()
	if hello.Action != "hello" || hello.Session == "" || hello.Heartbeat != 25000 || hello.MaxMessage != 64<<10 {
		t.Fatalf("hello %+v", hello)
	}

	basic := livetest.Dial(t, s.WSURL, nil)
	basic.Send(`{"action":"subscribe","channel":"c"}`)
	basic.Send(`{"action":"hello","protocol":"refine-live.v1"}`)
	basic.Send(`{"action":"bogus"}`)
	basic.Send(`not json`)
	require.Eventually(t, func() bool { return s.subscribers("c") == 1 }, wait, tick, "subscribe")
	s.publishReaches(t, basic, "c", "t")
}
