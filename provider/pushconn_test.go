package provider

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// pushConn is a fakeConn whose frames the test pushes through the receive
// function the engine attached, as a browser socket's handler does.
type pushConn struct {
	*fakeConn
	attached chan func([][]byte, error)
	reads    atomic.Int32
}

func (pc *pushConn) Attach(receive func([][]byte, error)) { pc.attached <- receive }

func (pc *pushConn) Read(ctx context.Context) ([]byte, error) {
	pc.reads.Add(1)
	return pc.fakeConn.Read(ctx)
}

// acceptPush accepts the dial with a pushConn and returns it with the
// receive function the engine attached.
func (r *dialReq) acceptPush(t testing.TB) (*pushConn, func([][]byte, error)) {
	t.Helper()
	pc := &pushConn{fakeConn: newFakeConn(), attached: make(chan func([][]byte, error), 1)}
	r.reply <- dialReply{conn: pc}
	return pc, recv(t, pc.attached)
}

func pushFrames(from, to int) [][]byte {
	var frames [][]byte
	for i := from; i <= to; i++ {
		frames = append(frames, []byte(`{"channel":"posts","type":"updated","payload":{"n":`+strconv.Itoa(i)+`}}`))
	}
	return frames
}

func TestPushConnDeliversInOrderAndAfterDeliveredFollows(t *testing.T) {
	h := newHarness(t, basic)
	var mu sync.Mutex
	var got []string
	h.sub(SubscribeOptions{Channel: "posts", Callback: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, string(e.Payload))
	}})
	pc, receive := h.tr.expectDial(t).acceptPush(t)
	h.waitStatus(StatusOpen)

	// Batches larger than frameChunk, pushed from another goroutine.
	const n = 3*frameChunk + 10
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		receive(pushFrames(1, 100), nil)
		receive(pushFrames(101, n), nil)
	}()
	<-pushed
	seen := make(chan int, 1)
	h.c.AfterDelivered(func() {
		mu.Lock()
		defer mu.Unlock()
		seen <- len(got)
	})
	assert.Equal(t, n, recv(t, seen), "AfterDelivered ran before the callbacks of the frames pushed before it")
	mu.Lock()
	for i, p := range got {
		require.Equal(t, `{"n":`+strconv.Itoa(i+1)+`}`, p, "event %d", i)
	}
	mu.Unlock()
	assert.Zero(t, pc.reads.Load(), "the engine read a PushConn")
}

func TestPushConnLossReconnectsAndSilencesTheOldReceive(t *testing.T) {
	h := newHarness(t, basic)
	h.sub(SubscribeOptions{Channel: "posts"})
	pc, receive := h.tr.expectDial(t).acceptPush(t)
	h.waitStatus(StatusOpen)
	pc.expectWrite(t) // the subscribe

	receive(nil, &CloseError{Code: protocol.CloseGoingAway, Reason: "restart"})
	h.waitStatus(StatusReconnecting)
	h.expectErr(ErrConnect)
	pc.expectClosed(t)

	// The dropped connection's receive does nothing any more.
	receive(pushFrames(1, 3), errors.New("late"))
	h.clk.Advance(time.Second)
	_, receive2 := h.tr.expectDial(t).acceptPush(t)
	h.waitStatus(StatusOpen)
	assert.Equal(t, "reconnect", h.expectEvent().Resync)
	receive2(pushFrames(7, 7), nil)
	assert.Equal(t, `{"n":7}`, string(h.expectEvent().Payload))
	h.expectNoEvent() // nor the old connection's frames
}

func TestAfterDeliveredOnAClosedClientStillRuns(t *testing.T) {
	h := newHarness(t, basic)
	require.NoError(t, h.c.Close())
	ran := make(chan struct{})
	h.c.AfterDelivered(func() { close(ran) })
	recv(t, ran)
	h.c.AfterDelivered(nil)
	var nilClient *Client
	ran2 := make(chan struct{})
	nilClient.AfterDelivered(func() { close(ran2) })
	recv(t, ran2)
}

// Waiters racing with Close all run, whichever side of the shutdown their
// closure lands on.
func TestAfterDeliveredRacingCloseNeverHangs(t *testing.T) {
	h := newHarness(t, basic)
	h.sub(SubscribeOptions{Channel: "posts"})
	const n = 50
	var wg sync.WaitGroup
	var ran atomic.Int32
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.c.AfterDelivered(func() { ran.Add(1) })
		}()
	}
	require.NoError(t, h.c.Close())
	wg.Wait()
	assert.Eventually(t, func() bool { return ran.Load() == n }, wait, time.Millisecond)
}
