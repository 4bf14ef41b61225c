package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The startup window: an application reads its data, and before its
// subscription is live (a page waiting for live.wasm and its socket) the
// server accepts an event. The first subscribe's age makes the server
// replay it; when the server's history does not reach back that far (it
// restarted since), the subscriber gets one resync instead.
func TestFirstSubscribeRecoversTheStartupWindow(t *testing.T) {
	for _, tc := range []struct {
		name         string
		historyStart time.Duration // before now
		resync       string        // "" when the event itself must arrive
	}{
		{"history reaches back", time.Hour, ""},
		{"server restarted since the call", 0, "unrecovered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calledAt := time.Now().Add(-2 * time.Second) // the page read its data then
			b := NewMemoryBroker(MemoryOptions{HistoryStart: time.Now().Add(-tc.historyStart)})
			s := startServer(t, Config{Broker: b})
			publishRange(t, s, "resources/posts", 1, 1)
			got := make(chan provider.Event, 4)
			c := newEngine(t, s.WSURL, nil)
			sub, err := c.Subscribe(provider.SubscribeOptions{Channel: "resources/posts", CalledAt: calledAt,
				Callback: func(e provider.Event) { got <- e }})
			require.NoError(t, err)
			livetest.Subscribed(t, sub)
			publishRange(t, s, "resources/posts", 2, 2)
			first, second := livetest.Recv(t, got), livetest.Recv(t, got)
			if tc.resync == "" {
				if first.Seq != 1 || first.Resync != "" || second.Seq != 2 {
					t.Fatalf("got %+v then %+v, want seq 1 (replayed) then 2", first, second)
				}
				return
			}
			if first.Resync != tc.resync || second.Seq != 2 {
				t.Fatalf("got %+v then %+v, want a %s resync then seq 2", first, second, tc.resync)
			}
		})
	}
}
