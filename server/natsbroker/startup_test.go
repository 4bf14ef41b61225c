package natsbroker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
)

// The startup window across nodes: an event stored through one node after
// the application read its data, and before its subscription on another
// node went live, is replayed by that node from the stream.
func TestFirstSubscribeRecoversTheStartupWindow(t *testing.T) {
	e := startNATS(t)
	a, b := startNode(t, e, Options{}), startNode(t, e, Options{})
	calledAt := time.Now().Add(-2 * time.Second) // the page read its data then
	publish(t, a, "resources/posts", 1)
	publish(t, a, "resources/posts", 2)

	eng, err := provider.New(provider.Config{
		URLs: []string{b.url}, Protocol: protocol.LevelExtended, Transport: &wstransport.Transport{},
		MinDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	c := &client{eng: eng}
	c.sub, err = eng.Subscribe(provider.SubscribeOptions{Channel: "resources/posts", CalledAt: calledAt,
		Callback: func(e provider.Event) {
			c.mu.Lock()
			c.events = append(c.events, e)
			c.mu.Unlock()
		}})
	require.NoError(t, err)
	waitFor(t, "subscribed", c.subscribed)
	publish(t, a, "resources/posts", 3)
	waitFor(t, "three events", func() bool { return len(c.snapshot()) >= 3 })
	exactlyOnce(t, "client", c.snapshot(), 3)
}
