package natsbroker

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// client is a real provider engine subscribed to one channel.
type client struct {
	eng    *provider.Client
	sub    *provider.Subscription
	events livetest.Events
}

func newClient(t testing.TB, urls []string, tr provider.Transport, channel string) *client {
	t.Helper()
	return newClientAt(t, urls, tr, channel, time.Time{})
}

// newClientAt is newClient for an application that read its data at
// calledAt.
func newClientAt(t testing.TB, urls []string, tr provider.Transport, channel string, calledAt time.Time) *client {
	t.Helper()
	c := &client{eng: livetest.ExtendedEngine(t, tr, urls...)}
	var err error
	c.sub, err = c.eng.Subscribe(provider.SubscribeOptions{Channel: channel, CalledAt: calledAt, Callback: c.events.Add})
	require.NoError(t, err)
	return c
}

func (c *client) subscribed() bool { return c.sub.State() == provider.SubSubscribed }

func (c *client) snapshot() []provider.Event { return c.events.All() }

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
			Payload: livetest.IDs(i)})
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
