package server

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// These tests drive the server with the real client engine over loopback:
// the recovery guarantee holds only if both ends agree.

func publishRange(t *testing.T, s *testServer, channel string, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		_, err := s.Publish(context.Background(), Event{Channel: channel, Type: "updated", Payload: livetest.IDs(i)})
		require.NoError(t, err)
	}
}

// awayWhilePublished subscribes a client to channel, publishes events 1 to
// seen and waits for them, then cuts its connection and publishes up to
// last before letting it reconnect.
func awayWhilePublished(t *testing.T, s *testServer, channel string, seen, last int) (*provider.Client, *livetest.Events) {
	t.Helper()
	tr := &livetest.GatedTransport{}
	c := livetest.ExtendedEngine(t, tr, s.WSURL)
	got := &livetest.Events{}
	livetest.Subscribe(t, c, channel, got)
	publishRange(t, s, channel, 1, seen)
	got.WaitLen(t, seen)
	release := tr.Cut()
	require.Eventually(t, func() bool { return s.connCount() == 0 }, wait, tick, "the server to drop the connection")
	publishRange(t, s, channel, seen+1, last)
	release()
	return c, got
}

func TestClientRecoversEveryMissedEventExactlyOnce(t *testing.T) {
	s := startServer(t, Config{})
	c, got := awayWhilePublished(t, s, "resources/posts", 3, 20)
	events := got.WaitLen(t, 20)
	publishRange(t, s, "resources/posts", 21, 21)
	events = got.WaitLen(t, 21)
	for i, e := range events {
		if e.Resync != "" {
			t.Fatalf("event %d is a resync (%s): recovery should have replayed", i, e.Resync)
		}
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: missed events must arrive exactly once and in order", i, e.Seq)
		}
		if want := string(livetest.IDs(i + 1)); string(e.Payload) != want {
			t.Fatalf("event %d payload %s, want %s", i, e.Payload, want)
		}
	}
	if st := c.Stats(); st.EventsReplayed != 17 || st.Resyncs != 0 {
		t.Fatalf("stats %+v: want 17 replayed, no resync", st)
	}
}

func TestClientGetsOneResyncBeyondHistory(t *testing.T) {
	s := startServer(t, Config{Broker: testBroker(MemoryOptions{History: 5})})
	_, got := awayWhilePublished(t, s, "c", 2, 12) // 10 events away, history keeps 5
	events := got.WaitLen(t, 3)
	if e := events[2]; e.Type != "*" || e.Resync != "unrecovered" {
		t.Fatalf("after the gap got %+v, want one resync event with reason unrecovered", e)
	}
	publishRange(t, s, "c", 13, 13)
	events = got.WaitLen(t, 4)
	if e := events[3]; e.Seq != 13 || e.Resync != "" {
		t.Fatalf("after the resync got %+v, want the live event seq 13", e)
	}
	if len(events) != 4 {
		t.Fatalf("got %d events, want exactly 4 (2, one resync, 1)", len(events))
	}
}

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
			c := livetest.ExtendedEngine(t, nil, s.WSURL)
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
