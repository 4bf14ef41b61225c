package natsbroker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/natstest"
)

// The startup window across nodes: an event stored through one node after
// the application read its data, and before its subscription on another
// node went live, is replayed by that node from the stream.
func TestFirstSubscribeRecoversTheStartupWindow(t *testing.T) {
	e := natstest.Start(t)
	a, b := startNode(t, e, Options{}), startNode(t, e, Options{})
	calledAt := time.Now().Add(-2 * time.Second) // the page read its data then
	publish(t, a, "resources/posts", 1)
	publish(t, a, "resources/posts", 2)

	c := newClientAt(t, []string{b.url}, nil, "resources/posts", calledAt)
	livetest.Subscribed(t, c.sub)
	publish(t, a, "resources/posts", 3)
	require.Eventually(t, func() bool { return len(c.snapshot()) >= 3 }, wait, tick, "three events")
	exactlyOnce(t, "client", c.snapshot(), 3)
}
