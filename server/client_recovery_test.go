package server

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
)

// These tests drive the server with the real client engine over loopback:
// the recovery guarantee holds only if both ends agree.

// gatedTransport lets a test cut the live connection and hold the next dial
// until it has published what the client must then recover.
type gatedTransport struct {
	inner wstransport.Transport
	mu    sync.Mutex
	conns []provider.Conn
	gate  chan struct{} // non-nil: dials wait until it is closed
}

func (g *gatedTransport) Dial(ctx context.Context, url string) (provider.Conn, error) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c, err := g.inner.Dial(ctx, url)
	if err == nil {
		g.mu.Lock()
		g.conns = append(g.conns, c)
		g.mu.Unlock()
	}
	return c, err
}

// cut closes the current connection and holds reconnection until the
// returned function is called.
func (g *gatedTransport) cut() (release func()) {
	gate := make(chan struct{})
	g.mu.Lock()
	g.gate = gate
	conns := g.conns
	g.conns = nil
	g.mu.Unlock()
	for _, c := range conns {
		_ = c.Close(protocol.CloseGoingAway, "test cut")
	}
	return func() {
		g.mu.Lock()
		g.gate = nil
		g.mu.Unlock()
		close(gate)
	}
}

type received struct {
	mu     sync.Mutex
	events []provider.Event
	more   chan struct{}
}

func (r *received) add(e provider.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

func (r *received) waitLen(t *testing.T, n int) []provider.Event {
	t.Helper()
	deadline := time.After(wait)
	for {
		r.mu.Lock()
		if len(r.events) >= n {
			out := append([]provider.Event(nil), r.events...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("got %d events, want %d: %+v", len(r.events), n, r.events)
		}
	}
}

func newEngine(t *testing.T, url string, tr provider.Transport, onStatus func(provider.Status)) *provider.Client {
	t.Helper()
	c, err := provider.New(provider.Config{
		URLs: []string{url}, Protocol: protocol.LevelExtended, Transport: tr,
		MinDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond,
		OnError: func(err error) { t.Logf("client: %v", err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if onStatus != nil {
		c.OnStatus(func(_, to provider.Status) { onStatus(to) })
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func publishRange(t *testing.T, s *testServer, channel string, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		_, err := s.Publish(context.Background(), Event{Channel: channel, Type: "updated", Payload: []byte(`{"ids":[` + strconv.Itoa(i) + `]}`)})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func subscribed(t *testing.T, sub *provider.Subscription) {
	t.Helper()
	changed := make(chan struct{}, 1)
	remove := sub.OnState(func(_, _ provider.SubState) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	defer remove()
	deadline := time.After(wait)
	for sub.State() != provider.SubSubscribed {
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("subscription state %s, want subscribed", sub.State())
		}
	}
}

func TestClientRecoversEveryMissedEventExactlyOnce(t *testing.T) {
	s := startServer(t, Config{})
	tr := &gatedTransport{}
	c := newEngine(t, s.WSURL, tr, nil)
	got := &received{more: make(chan struct{}, 1)}
	sub, err := c.Subscribe(provider.SubscribeOptions{Channel: "resources/posts", Callback: got.add})
	if err != nil {
		t.Fatal(err)
	}
	subscribed(t, sub)
	publishRange(t, s, "resources/posts", 1, 3)
	got.waitLen(t, 3)

	release := tr.cut()
	waitFor(t, "the server to drop the connection", func() bool { return s.connCount() == 0 })
	publishRange(t, s, "resources/posts", 4, 20)
	release()
	events := got.waitLen(t, 20)
	publishRange(t, s, "resources/posts", 21, 21)
	events = got.waitLen(t, 21)
	for i, e := range events {
		if e.Resync != "" {
			t.Fatalf("event %d is a resync (%s): recovery should have replayed", i, e.Resync)
		}
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: missed events must arrive exactly once and in order", i, e.Seq)
		}
		if want := `{"ids":[` + strconv.Itoa(i+1) + `]}`; string(e.Payload) != want {
			t.Fatalf("event %d payload %s, want %s", i, e.Payload, want)
		}
	}
	if st := c.Stats(); st.EventsReplayed != 17 || st.Resyncs != 0 {
		t.Fatalf("stats %+v: want 17 replayed, no resync", st)
	}
}

func TestClientGetsOneResyncBeyondHistory(t *testing.T) {
	s := startServer(t, Config{Broker: testBroker(MemoryOptions{History: 5})})
	tr := &gatedTransport{}
	c := newEngine(t, s.WSURL, tr, nil)
	got := &received{more: make(chan struct{}, 1)}
	sub, err := c.Subscribe(provider.SubscribeOptions{Channel: "c", Callback: got.add})
	if err != nil {
		t.Fatal(err)
	}
	subscribed(t, sub)
	publishRange(t, s, "c", 1, 2)
	got.waitLen(t, 2)

	release := tr.cut()
	waitFor(t, "the server to drop the connection", func() bool { return s.connCount() == 0 })
	publishRange(t, s, "c", 3, 12) // 10 events, history keeps 5
	release()
	events := got.waitLen(t, 3)
	if e := events[2]; e.Type != "*" || e.Resync != "unrecovered" {
		t.Fatalf("after the gap got %+v, want one resync event with reason unrecovered", e)
	}
	publishRange(t, s, "c", 13, 13)
	events = got.waitLen(t, 4)
	if e := events[3]; e.Seq != 13 || e.Resync != "" {
		t.Fatalf("after the resync got %+v, want the live event seq 13", e)
	}
	if len(events) != 4 {
		t.Fatalf("got %d events, want exactly 4 (2, one resync, 1)", len(events))
	}
}
