package server

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func publishN(t testing.TB, s *testServer, channel string, n int) []Event {
	t.Helper()
	out := make([]Event, 0, n)
	for i := 0; i < n; i++ {
		ev, err := s.Publish(context.Background(), Event{Channel: channel, Type: "updated", Payload: livetest.IDs(i)})
		require.NoError(t, err)
		out = append(out, ev)
	}
	return out
}

func subscribeSince(c *livetest.Conn, channel string, since *protocol.Position) {
	c.SendMsg(&protocol.ClientMessage{Action: protocol.ActionSubscribe, Channel: channel, Since: since})
}

// expectEvents reads events and checks their seqs are exactly from..to.
func expectEvents(t testing.TB, c *livetest.Conn, channel string, from, to uint64) protocol.Position {
	t.Helper()
	var pos protocol.Position
	for seq := from; seq <= to; seq++ {
		m := c.NextNonPing()
		if !m.IsEvent() || m.Channel != channel || m.Seq != seq || m.ID == "" || m.Epoch == "" || m.Date == 0 {
			t.Fatalf("want event %s#%d, got %+v", channel, seq, m)
		}
		pos = m.Position()
	}
	return pos
}

func expectSubscribed(t testing.TB, c *livetest.Conn, channel string, seq uint64, recovered bool) protocol.ServerMessage {
	t.Helper()
	m := c.NextNonPing()
	if m.Action != protocol.ActionSubscribed || m.Channel != channel || m.Seq != seq || m.Recovered != recovered || m.Epoch == "" {
		t.Fatalf("want subscribed %s seq=%d recovered=%v, got %+v", channel, seq, recovered, m)
	}
	return m
}

// Disconnect, miss events, reconnect with since: every missed event once,
// in order, then subscribed with recovered:true, then live events.
func TestExtendedReplay(t *testing.T) {
	s := startServer(t, Config{})
	const ch = "resources/posts"
	c, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(c, ch, nil)
	sub := expectSubscribed(t, c, ch, 0, false)
	publishN(t, s, ch, 3)
	pos := expectEvents(t, c, ch, 1, 3)
	if pos.Epoch != sub.Epoch {
		t.Fatalf("epoch changed: %s vs %s", pos.Epoch, sub.Epoch)
	}
	c.WS.CloseNow()
	<-c.Done

	publishN(t, s, ch, 5)
	c2, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(c2, ch, &pos)
	expectEvents(t, c2, ch, 4, 8)
	expectSubscribed(t, c2, ch, 8, true)
	publishN(t, s, ch, 1)
	expectEvents(t, c2, ch, 9, 9)

	// Up to date: recovered with nothing to replay.
	c3, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(c3, ch, &protocol.Position{Epoch: pos.Epoch, Seq: 9})
	expectSubscribed(t, c3, ch, 9, true)

	// A duplicate subscribe answers again without a second delivery.
	subscribeSince(c2, ch, nil)
	expectSubscribed(t, c2, ch, 9, false)
	publishN(t, s, ch, 1)
	expectEvents(t, c2, ch, 10, 10)
	c2.SendMsg(&protocol.ClientMessage{Action: protocol.ActionPing})
	if m := c2.NextNonPing(); m.Action != protocol.ActionPong {
		t.Fatalf("want pong (no duplicate event), got %+v", m)
	}
}

// When the history no longer holds the gap, or the epoch is another, the
// server replays nothing and says recovered:false.
func TestRecoveryFailure(t *testing.T) {
	b := testBroker(MemoryOptions{History: 3})
	defer b.Close()
	s := startServer(t, Config{Broker: b})
	const ch = "c"
	evs := publishN(t, s, ch, 10)
	epoch := evs[0].Epoch

	for _, since := range []protocol.Position{
		{Epoch: epoch, Seq: 1},     // seq 2..7 evicted
		{Epoch: epoch, Seq: 6},     // 7 evicted, 8..10 kept
		{Epoch: "another", Seq: 9}, // history lost (restart)
		{Epoch: epoch, Seq: 11},    // position from the future
	} {
		c, _ := livetest.DialExtended(t, s.WSURL)
		subscribeSince(c, ch, &since)
		expectSubscribed(t, c, ch, 10, false)
	}
	c, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(c, ch, &protocol.Position{Epoch: epoch, Seq: 7})
	expectEvents(t, c, ch, 8, 10)
	expectSubscribed(t, c, ch, 10, true)
}

// Events published while subscribes with since are being answered must be
// neither lost nor duplicated: every subscriber sees a contiguous run of
// seqs from its since to the last event, with the subscribed reply at the
// position it names.
func TestReplayDuringPublish(t *testing.T) {
	const total = 3000
	b := testBroker(MemoryOptions{History: total})
	defer b.Close()
	s := startServer(t, Config{Broker: b, SendQueue: total + 10, MessageBurst: 1000})
	const ch = "stress"
	first := publishN(t, s, ch, 1)
	epoch := first[0].Epoch

	var pub sync.WaitGroup
	pub.Add(1)
	go func() {
		defer pub.Done()
		for i := 1; i < total; i++ {
			if _, err := s.Publish(context.Background(), Event{Channel: ch, Type: "updated"}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	const subscribers = 12
	clients := make([]*livetest.Conn, subscribers)
	for i := range clients {
		clients[i], _ = livetest.DialExtended(t, s.WSURL)
		subscribeSince(clients[i], ch, &protocol.Position{Epoch: epoch, Seq: uint64(i)})
	}
	pub.Wait()
	for i, c := range clients {
		next, subscribed := uint64(i)+1, false
		for next <= total {
			m := c.NextNonPing()
			switch {
			case m.Action == protocol.ActionSubscribed:
				if subscribed || !m.Recovered || m.Seq != next-1 {
					t.Fatalf("client %d: subscribed %+v after seq %d", i, m, next-1)
				}
				subscribed = true
			case m.IsEvent():
				if m.Seq != next {
					t.Fatalf("client %d: got seq %d, want %d", i, m.Seq, next)
				}
				next++
			default:
				t.Fatalf("client %d: unexpected %+v", i, m)
			}
		}
		if !subscribed {
			m := c.NextNonPing()
			if m.Action != protocol.ActionSubscribed || m.Seq != total {
				t.Fatalf("client %d: want subscribed at %d, got %+v", i, total, m)
			}
		}
	}
}

// A publish whose ref is still in the channel's history is stored once and
// acknowledged with the original position each time.
func TestIdempotentPublish(t *testing.T) {
	s := startServer(t, Config{})
	const ch = "resources/posts"
	sub, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(sub, ch, nil)
	expectSubscribed(t, sub, ch, 0, false)

	pub, _ := livetest.DialExtended(t, s.WSURL)
	msg := &protocol.ClientMessage{Action: protocol.ActionPublish, Channel: ch, Type: "created", Payload: []byte(`{"ids":[1]}`), Ref: "c1-1"}
	for i := 0; i < 3; i++ {
		pub.SendMsg(msg)
		ack := pub.NextNonPing()
		if ack.Action != protocol.ActionAck || ack.Ref != "c1-1" || ack.Seq != 1 || ack.Channel != ch || ack.Epoch == "" {
			t.Fatalf("ack %d: %+v", i, ack)
		}
	}
	ev := sub.NextNonPing()
	if ev.ID != "c1-1" || ev.Seq != 1 || ev.Type != "created" {
		t.Fatalf("event %+v", ev)
	}
	// The next event is the next seq: the repeats stored nothing.
	publishN(t, s, ch, 1)
	expectEvents(t, sub, ch, 2, 2)

	// The publisher, once subscribed, gets its own event (with its ref as
	// id) before the ack.
	subscribeSince(pub, ch, nil)
	expectSubscribed(t, pub, ch, 2, false)
	pub.SendMsg(&protocol.ClientMessage{Action: protocol.ActionPublish, Channel: ch, Type: "updated", Ref: "c1-2", Meta: []byte(`{"x":1}`)})
	if m := pub.NextNonPing(); m.ID != "c1-2" || m.Seq != 3 || string(m.Meta) != `{"x":1}` {
		t.Fatalf("own event %+v", m)
	}
	if m := pub.NextNonPing(); m.Action != protocol.ActionAck || m.Seq != 3 {
		t.Fatalf("ack %+v", m)
	}
}
