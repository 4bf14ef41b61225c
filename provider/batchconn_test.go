package provider

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// batchConn is a fakeConn read in batches: everything queued by the time
// the first frame arrives comes back in one ReadBatch, as from a browser
// socket. An error queued behind frames comes on the next call.
type batchConn struct {
	*fakeConn
	pending error
	gate    chan struct{} // closed by the test once its frames are queued
	batches chan int      // sizes of the batches handed over
}

func (bc *batchConn) ReadBatch(ctx context.Context) ([][]byte, error) {
	select {
	case <-bc.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := bc.pending; err != nil {
		return nil, err
	}
	first, err := bc.Read(ctx)
	if err != nil {
		return nil, err
	}
	frames := [][]byte{first}
	for {
		select {
		case f := <-bc.in:
			if f.err != nil {
				bc.pending = f.err
				bc.batches <- len(frames)
				return frames, nil
			}
			frames = append(frames, f.data)
		default:
			bc.batches <- len(frames)
			return frames, nil
		}
	}
}

type batchTransport struct{ conns chan *batchConn }

func (bt *batchTransport) Dial(ctx context.Context, url string) (Conn, error) {
	bc := &batchConn{fakeConn: newFakeConn(), gate: make(chan struct{}), batches: make(chan int, 1024)}
	select {
	case bt.conns <- bc:
		return bc, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestBatchConnDeliversInOrderAndSignalsEachBurst(t *testing.T) {
	bt := &batchTransport{conns: make(chan *batchConn, 4)}
	var mu sync.Mutex
	var got []string
	drained := make(chan int, 1024)
	h := newHarness(t, func(c *Config) {
		c.Transport = bt
		c.Protocol = protocol.LevelBasic
		c.OnDelivered = func() {
			mu.Lock()
			defer mu.Unlock()
			drained <- len(got)
		}
	})
	h.sub(SubscribeOptions{Channel: "posts", Callback: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e.ID+string(e.Payload))
	}})
	bc := recv(t, bt.conns)
	h.waitStatus(StatusOpen)

	// Queued before the engine reads: they arrive as one batch.
	const n = 50
	for i := 1; i <= n; i++ {
		bc.send(`{"channel":"posts","type":"updated","payload":{"n":` + strconv.Itoa(i) + `}}`)
	}
	bc.drop(4000, "restart")
	close(bc.gate)
	deadline := time.After(wait)
	for last := 0; last < n; {
		select {
		case last = <-drained:
		case <-deadline:
			require.FailNow(t, "OnDelivered saw "+strconv.Itoa(last)+" events, want "+strconv.Itoa(n))
		}
	}
	mu.Lock()
	for i, p := range got {
		require.Equal(t, `{"n":`+strconv.Itoa(i+1)+`}`, p, "event %d", i)
	}
	mu.Unlock()
	assert.Equal(t, n, recv(t, bc.batches), "the first batch holds every frame queued")
	// The close behind the frames is still seen: the engine reconnects.
	h.waitLoop("reconnecting", func() bool { return h.c.loopStatus == StatusReconnecting || h.c.loopStatus == StatusConnecting })
}
