package soak

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// countingTransport counts the frames the engine reads and those holding
// more than one message.
type countingTransport struct {
	inner           provider.Transport
	frames, batched atomic.Int64
}

func (t *countingTransport) Dial(ctx context.Context, url string) (provider.Conn, error) {
	c, err := t.inner.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, t: t}, nil
}

type countingConn struct {
	provider.Conn
	t *countingTransport
}

func (c *countingConn) Read(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.Read(ctx)
	if err == nil {
		c.t.frames.Add(1)
		if bytes.IndexByte(b, '\n') >= 0 {
			c.t.batched.Add(1)
		}
	}
	return b, err
}

// The real engine against the real server at the batched extended level:
// a burst arrives in fewer frames than events, every event exactly once
// and in order.
func TestBatchedBurstEndToEnd(t *testing.T) {
	srv := server.New(server.Config{SendQueue: 4096, Logger: livetest.Quiet()})
	url := livetest.Serve(t, srv, srv.Shutdown).WSURL
	tr := &countingTransport{inner: &wstransport.Transport{}}
	c := livetest.ExtendedEngine(t, tr, url)
	const n = 3000
	var mu sync.Mutex
	var seqs []uint64
	all := make(chan struct{})
	sub, err := c.Subscribe(provider.SubscribeOptions{Channel: "resources/posts", Callback: func(e provider.Event) {
		if e.Resync != "" {
			return // the first subscribe's: this server's history is younger than its age
		}
		mu.Lock()
		defer mu.Unlock()
		seqs = append(seqs, e.Seq)
		if len(seqs) == n {
			close(all)
		}
	}})
	require.NoError(t, err)
	livetest.Subscribed(t, sub)
	for i := 0; i < n; i++ {
		if _, err := srv.Publish(context.Background(), server.Event{Channel: "resources/posts", Type: "updated",
			Payload: livetest.IDs(i)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		mu.Lock()
		t.Fatalf("received %d of %d events", len(seqs), n)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, s)
		}
	}
	if tr.batched.Load() == 0 || tr.frames.Load() >= n {
		t.Fatalf("%d events came in %d frames, %d of them batched: the burst was not batched", n, tr.frames.Load(), tr.batched.Load())
	}
	t.Logf("%d events in %d frames (%d batched)", n, tr.frames.Load(), tr.batched.Load())
}
