package livetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
)

// NewEngine is the client engine on cfg, closed when the test ends. A nil
// Transport is the WebSocket one.
func NewEngine(t testing.TB, cfg provider.Config) *provider.Client {
	t.Helper()
	if cfg.Transport == nil {
		cfg.Transport = &wstransport.Transport{}
	}
	c, err := provider.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// QuietEngine is NewEngine on urls, ignoring the errors it reports: the
// tests that use it restart or fail things on purpose and check what
// arrives instead.
func QuietEngine(t testing.TB, urls ...string) *provider.Client {
	t.Helper()
	return NewEngine(t, provider.Config{URLs: urls, OnError: func(error) {}})
}

// ExtendedEngine is NewEngine at the extended level on urls, reconnecting
// within 10 to 50 ms and logging the errors it reports. A nil tr is the
// WebSocket transport.
func ExtendedEngine(t testing.TB, tr provider.Transport, urls ...string) *provider.Client {
	t.Helper()
	return NewEngine(t, provider.Config{
		URLs: urls, Protocol: protocol.LevelExtended, Transport: tr,
		MinDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond,
		OnError: func(err error) { t.Logf("client: %v", err) },
	})
}

// Subscribe subscribes c to channel with events recording what arrives,
// and waits until the server has confirmed it.
func Subscribe(t testing.TB, c *provider.Client, channel string, events *Events) *provider.Subscription {
	t.Helper()
	sub, err := c.Subscribe(provider.SubscribeOptions{Channel: channel, Callback: events.Add})
	require.NoError(t, err)
	Subscribed(t, sub)
	return sub
}

// Subscribed waits until sub is subscribed.
func Subscribed(t testing.TB, sub *provider.Subscription) {
	t.Helper()
	changed := make(chan struct{}, 1)
	remove := sub.OnState(func(_, _ provider.SubState) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	defer remove()
	deadline := time.After(Wait)
	for sub.State() != provider.SubSubscribed {
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("subscription state %s, want subscribed", sub.State())
		}
	}
}

// Events records the events a subscription delivers.
type Events struct {
	mu     sync.Mutex
	events []provider.Event
	more   chan struct{}
}

// Add is the subscription's callback.
func (r *Events) Add(e provider.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	more := r.signal()
	r.mu.Unlock()
	select {
	case more <- struct{}{}:
	default:
	}
}

func (r *Events) signal() chan struct{} {
	if r.more == nil {
		r.more = make(chan struct{}, 1)
	}
	return r.more
}

// All is what has arrived so far.
func (r *Events) All() []provider.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]provider.Event(nil), r.events...)
}

// Len is how many events have arrived.
func (r *Events) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// WaitLen waits until at least n events have arrived and returns them.
func (r *Events) WaitLen(t testing.TB, n int) []provider.Event {
	t.Helper()
	deadline := time.After(Wait)
	for {
		r.mu.Lock()
		if len(r.events) >= n {
			out := append([]provider.Event(nil), r.events...)
			r.mu.Unlock()
			return out
		}
		more := r.signal()
		r.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("got %d events, want %d: %+v", len(r.events), n, r.events)
		}
	}
}

// GatedTransport is the WebSocket transport with a switch: a test cuts the
// live connections and holds the next dial until it has done what the
// client must then recover from.
type GatedTransport struct {
	inner wstransport.Transport
	mu    sync.Mutex
	conns []provider.Conn
	gate  chan struct{} // non-nil: dials wait until it is closed
}

// Dial implements provider.Transport.
func (g *GatedTransport) Dial(ctx context.Context, url string) (provider.Conn, error) {
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

// Cut closes the current connections and holds reconnection until the
// returned function is called.
func (g *GatedTransport) Cut() (release func()) {
	gate := make(chan struct{})
	g.mu.Lock()
	conns := g.conns
	g.gate, g.conns = gate, nil
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

// Recv is the next value on ch; it fails the test when none comes within
// Wait.
func Recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Wait):
		t.Fatalf("timed out waiting for a %T", *new(T))
		panic("unreachable")
	}
}
