package server

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// dialBatch connects with a hello that asks for batched frames of at most
// limit bytes and checks the server's answer.
func dialBatch(t *testing.T, s *testServer, limit int64) *livetest.Conn {
	t.Helper()
	c := livetest.Dial(t, s.WSURL, nil)
	c.SendMsg(&protocol.ClientMessage{Action: protocol.ActionHello, Protocol: protocol.Version, Batch: true, MaxMessage: limit})
	hello := c.NextRaw()
	var m protocol.ServerMessage
	if err := protocol.DecodeServer(hello, 0, &m); err != nil || m.Action != protocol.ActionHello || !m.Batch {
		t.Fatalf("want a hello with batch:true alone in its frame, got %s (%v)", hello, err)
	}
	return c
}

// onlyConn returns the server's one connection.
func (s *testServer) onlyConn(t *testing.T) *conn {
	t.Helper()
	var c *conn
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for k := range s.conns {
			c = k
		}
		return len(s.conns) == 1
	}, wait, tick, "one connection")
	return c
}

// stall holds the connection's writer inside the write of one event,
// publishes n-1 more, and lets it go once they are all queued: the next
// drain then finds n-1 messages waiting.
func stall(t *testing.T, s *testServer, c *conn, channel string, n int) {
	t.Helper()
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	c.wire.mu.Lock()
	c.wire.stall = func() { close(entered); <-release }
	c.wire.mu.Unlock()
	publish := func(i int) {
		if _, err := s.Publish(context.Background(), Event{Channel: channel, Type: "updated",
			Payload: livetest.IDs(i)}); err != nil {
			t.Fatal(err)
		}
	}
	publish(0)
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("the writer did not write the first event")
	}
	for i := 1; i < n; i++ {
		publish(i)
	}
	require.Eventually(t, func() bool { return c.queue.len() == n-1 }, wait, tick, "a full queue")
}

func TestBatchedFramesHoldTheQueuedMessages(t *testing.T) {
	s := startServer(t, Config{})
	const ch = "resources/posts"
	c := dialBatch(t, s, 1<<20)
	subscribeSince(c, ch, nil)
	expectSubscribed(t, c, ch, 0, false)
	sc := s.onlyConn(t)

	// A lone event leaves at once, alone in its frame.
	publishN(t, s, ch, 1)
	if f := c.NextRaw(); bytes.IndexByte(f, '\n') >= 0 {
		t.Fatalf("a lone event shared its frame: %s", f)
	}
	stall(t, s, sc, ch, 50)
	first, batch := c.NextRaw(), c.NextRaw()
	if bytes.IndexByte(first, '\n') >= 0 {
		t.Fatalf("the event in flight shared its frame: %s", first)
	}
	seq := uint64(2)
	checkEvent := func(msg []byte) {
		var m protocol.ServerMessage
		if err := protocol.DecodeServer(msg, 0, &m); err != nil || m.Seq != seq {
			t.Fatalf("want event seq %d, got %s (%v)", seq, msg, err)
		}
		seq++
	}
	checkEvent(first)
	n := 0
	for rest := batch; len(rest) > 0; n++ {
		var msg []byte
		msg, rest = protocol.NextMessage(rest)
		checkEvent(msg)
	}
	if n != 49 {
		t.Fatalf("the drain after the stall sent %d messages in its frame, want 49", n)
	}
}

func TestBatchedFramesStayWithinTheClientLimit(t *testing.T) {
	s := startServer(t, Config{})
	const ch = "resources/posts"
	const limit = 300
	c := dialBatch(t, s, limit)
	subscribeSince(c, ch, nil)
	expectSubscribed(t, c, ch, 0, false)
	stall(t, s, s.onlyConn(t), ch, 40)
	got, frames := 0, 0
	for got < 40 {
		f := c.NextRaw()
		frames++
		if len(f) > limit {
			t.Fatalf("frame of %d bytes, client limit %d", len(f), limit)
		}
		for rest := f; len(rest) > 0; got++ {
			_, rest = protocol.NextMessage(rest)
		}
	}
	if got != 40 || frames >= 40 {
		t.Fatalf("%d messages in %d frames: want 40 in fewer frames", got, frames)
	}
}

func TestNoBatchesWithoutTheOffer(t *testing.T) {
	s := startServer(t, Config{})
	const ch = "resources/posts"
	c, hello := livetest.DialExtended(t, s.WSURL)
	if hello.Batch {
		t.Fatal("hello says batch to a client that did not ask")
	}
	subscribeSince(c, ch, nil)
	expectSubscribed(t, c, ch, 0, false)
	stall(t, s, s.onlyConn(t), ch, 30)
	expectEvents(t, c, ch, 1, 30) // each frame decodes as one message
}

// Basic clients keep one message per frame, but a drain writes all its
// frames with one write.
func TestBasicFramesOfADrainShareOneWrite(t *testing.T) {
	s := startServer(t, Config{})
	const ch = "resources/posts"
	c := livetest.Dial(t, s.WSURL, nil)
	c.Send(`{"action":"subscribe","channel":"` + ch + `"}`)
	require.Eventually(t, func() bool { return s.subscribers(ch) == 1 }, wait, tick, "subscriber")
	sc := s.onlyConn(t)
	before := sc.wire.writes.Load()
	stall(t, s, sc, ch, 40)
	for i := 0; i < 40; i++ {
		want := `{"channel":"` + ch + `","type":"updated","payload":{"ids":[` + strconv.Itoa(i) + `]}}`
		if got := string(c.NextRaw()); got != want {
			t.Fatalf("frame %d: got %s, want %s", i, got, want)
		}
	}
	if w := sc.wire.writes.Load() - before; w != 2 {
		t.Fatalf("40 frames took %d writes, want 2 (the one in flight, then the drain)", w)
	}
}

// A payload with raw newlines (JSON whitespace) must not split a message
// of a batched frame.
func TestBatchedPayloadWithNewlines(t *testing.T) {
	s := startServer(t, Config{})
	const ch = "resources/posts"
	c := dialBatch(t, s, 0)
	subscribeSince(c, ch, nil)
	expectSubscribed(t, c, ch, 0, false)
	if _, err := s.Publish(context.Background(), Event{Channel: ch, Type: "updated", Payload: []byte("{\n\"ids\": [1]\n}")}); err != nil {
		t.Fatal(err)
	}
	m := c.Next()
	if string(m.Payload) != `{ "ids": [1] }` {
		t.Fatalf("payload %q", m.Payload)
	}
}

// A replay longer than the send queue waits for room instead of failing:
// the reader's sends block until the writer has emptied the queue.
func TestReplayLongerThanTheSendQueue(t *testing.T) {
	s := startServer(t, Config{SendQueue: 4})
	const ch = "resources/posts"
	evs := publishN(t, s, ch, 50)
	c, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(c, ch, &protocol.Position{Epoch: evs[0].Epoch, Seq: 0})
	expectEvents(t, c, ch, 1, 50)
	expectSubscribed(t, c, ch, 50, true)
}
