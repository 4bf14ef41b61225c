package server

import (
	"context"
	"net/http"
	"testing"

	"github.com/coder/websocket"
)

// The basic protocol is byte for byte the plain WebSocket provider of
// Refine's documentation: these frames are the ones its client sends and
// expects.
func TestBasicClient(t *testing.T) {
	s := startServer(t, Config{PublishToken: "secret"})
	a := dial(t, s.WSURL, nil)
	b := dial(t, s.WSURL, nil)
	a.sendRaw(`{"action":"subscribe","channel":"resources/posts"}`)
	b.sendRaw(`{"action":"subscribe","channel":"resources/posts"}`)
	waitFor(t, "two subscribers", func() bool { return s.subscribers("resources/posts") == 2 })

	// Through the Go API.
	if _, err := s.Publish(context.Background(), Event{Channel: "resources/posts", Type: "created", Payload: []byte(`{"ids":[1]}`)}); err != nil {
		t.Fatal(err)
	}
	want := `{"channel":"resources/posts","type":"created","payload":{"ids":[1]}}`
	for _, c := range []*client{a, b} {
		if got := string(c.nextRaw()); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}

	// Through POST /publish.
	resp, body := post(t, s.URL+"/publish", "secret", `{"channel":"resources/posts","type":"updated","payload":{"ids":["2"]},"meta":{"by":"backend"}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /publish: %d %s", resp.StatusCode, body)
	}
	want = `{"channel":"resources/posts","type":"updated","payload":{"ids":["2"]}}`
	for _, c := range []*client{a, b} {
		if got := string(c.nextRaw()); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}

	// From one basic client to the other; the publisher gets its own
	// event too, as with the documented server.
	b.sendRaw(`{"action":"publish","channel":"resources/posts","type":"deleted","payload":{"ids":[3]}}`)
	want = `{"channel":"resources/posts","type":"deleted","payload":{"ids":[3]}}`
	for _, c := range []*client{a, b} {
		if got := string(c.nextRaw()); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}

	// Unsubscribe stops delivery; a client on another channel sees
	// nothing of this one.
	a.sendRaw(`{"action":"unsubscribe","channel":"resources/posts"}`)
	waitFor(t, "unsubscribe", func() bool { return s.subscribers("resources/posts") == 1 })
	b.sendRaw(`{"action":"publish","channel":"resources/posts","type":"created","payload":{"ids":[4]}}`)
	b.sendRaw(`{"action":"subscribe","channel":"resources/users"}`)
	a.sendRaw(`{"action":"subscribe","channel":"resources/users"}`)
	waitFor(t, "users subscribers", func() bool { return s.subscribers("resources/users") == 2 })
	if _, err := s.Publish(context.Background(), Event{Channel: "resources/users", Type: "created"}); err != nil {
		t.Fatal(err)
	}
	if got := string(a.nextRaw()); got != `{"channel":"resources/users","type":"created","payload":{}}` {
		t.Fatalf("a got %s", got)
	}
	if got := string(b.nextRaw()); got != `{"channel":"resources/posts","type":"created","payload":{"ids":[4]}}` {
		t.Fatalf("b got %s", got)
	}
}

// A client that offers the subprotocol is extended at once; one whose
// first frame is not a hello stays basic even if it sends one later.
func TestLevelNegotiation(t *testing.T) {
	s := startServer(t, Config{})
	ext := dial(t, s.WSURL, &websocket.DialOptions{Subprotocols: []string{"refine-live.v1"}})
	if ext.ws.Subprotocol() != "refine-live.v1" {
		t.Fatalf("subprotocol %q", ext.ws.Subprotocol())
	}
	hello := ext.next()
	if hello.Action != "hello" || hello.Session == "" || hello.Heartbeat != 25000 || hello.MaxMessage != 64<<10 {
		t.Fatalf("hello %+v", hello)
	}

	basic := dial(t, s.WSURL, nil)
	basic.sendRaw(`{"action":"subscribe","channel":"c"}`)
	basic.sendRaw(`{"action":"hello","protocol":"refine-live.v1"}`)
	basic.sendRaw(`{"action":"bogus"}`)
	basic.sendRaw(`not json`)
	waitFor(t, "subscribe", func() bool { return s.subscribers("c") == 1 })
	if _, err := s.Publish(context.Background(), Event{Channel: "c", Type: "t"}); err != nil {
		t.Fatal(err)
	}
	if got := string(basic.nextRaw()); got != `{"channel":"c","type":"t","payload":{}}` {
		t.Fatalf("basic got %s", got)
	}
}
