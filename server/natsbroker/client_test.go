package natsbroker

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// gatedTransport lets a test cut a client's connection and hold its next
// dial until it has published what the client must then recover.
type gatedTransport struct {
	inner wstransport.Transport
	mu    sync.Mutex
	conns []provider.Conn
	gate  chan struct{}
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

func (g *gatedTransport) cut() (release func()) {
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

// client is a real provider engine subscribed to one channel.
type client struct {
	eng    *provider.Client
	sub    *provider.Subscription
	mu     sync.Mutex
	events []provider.Event
}

func newClient(t testing.TB, urls []string, tr provider.Transport, channel string) *client {
	t.Helper()
	if tr == nil {
		tr = &wstransport.Transport{}
	}
	eng, err := provider.New(provider.Config{
		URLs: urls, Protocol: protocol.LevelExtended, Transport: tr,
		MinDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	c := &client{eng: eng}
	c.sub, err = eng.Subscribe(provider.SubscribeOptions{Channel: channel, Callback: func(e provider.Event) {
		c.mu.Lock()
		c.events = append(c.events, e)
		c.mu.Unlock()
	}})
	require.NoError(t, err)
	return c
}

func (c *client) subscribed() bool { return c.sub.State() == provider.SubSubscribed }

func (c *client) snapshot() []provider.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]provider.Event(nil), c.events...)
}

// lastSeq is the seq of the newest ordinary event received.
func (c *client) lastSeq() uint64 {
	evs := c.snapshot()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Resync == "" {
			return evs[i].Seq
		}
	}
	return 0
}

// exactlyOnce checks that a client received seqs 1..n in order, each once,
// and no resync.
func exactlyOnce(t testing.TB, name string, evs []provider.Event, n int) {
	t.Helper()
	if len(evs) != n {
		t.Fatalf("%s: %d events, want %d: %+v", name, len(evs), n, evs)
	}
	for i, e := range evs {
		if e.Resync != "" || e.Seq != uint64(i+1) {
			t.Fatalf("%s: event %d is %+v, want seq %d and no resync", name, i, e, i+1)
		}
	}
}

// noSilentLoss checks the guarantee: every skip in the received seqs (and
// every change of epoch) is preceded by a resync event, nothing is
// received twice, and the client ends at the newest position.
func noSilentLoss(t testing.TB, name string, evs []provider.Event, top server.Event) (resyncs int) {
	t.Helper()
	var epoch string
	var last uint64
	pending := false
	for i, e := range evs {
		if e.Resync != "" {
			resyncs++
			pending = true
			continue
		}
		switch {
		case e.Epoch == epoch && e.Seq <= last:
			t.Fatalf("%s: event %d (seq %d) received twice or out of order", name, i, e.Seq)
		case (e.Epoch != epoch && epoch != "" || e.Seq != last+1) && !pending:
			t.Fatalf("%s: silent loss before event %d: %s/%d after %s/%d", name, i, e.Epoch, e.Seq, epoch, last)
		}
		epoch, last, pending = e.Epoch, e.Seq, false
	}
	if epoch != top.Epoch || last != top.Seq {
		t.Fatalf("%s: ends at %s/%d, want %s/%d", name, epoch, last, top.Epoch, top.Seq)
	}
	return resyncs
}

// publish stores event i on a node, retrying (with the same id, so at most
// once) while NATS is unreachable.
func publish(t testing.TB, n *node, channel string, i int) server.Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ev, err := n.srv.Publish(ctx, server.Event{Channel: channel, Type: "updated", ID: "ev-" + strconv.Itoa(i),
			Payload: []byte(`{"ids":[` + strconv.Itoa(i) + `]}`)})
		cancel()
		if err == nil {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond) // retry pace while NATS is away
	}
}
