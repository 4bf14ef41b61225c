package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
)

// fanoutRig is a server with n subscribed connections, each read by a
// goroutine that only counts frames.
type fanoutRig struct {
	srv      *Server
	hs       *httptest.Server
	conns    []*websocket.Conn
	received atomic.Int64
	readers  sync.WaitGroup
}

func newFanoutRig(b *testing.B, n int, extended bool) *fanoutRig {
	r := &fanoutRig{srv: New(Config{Logger: livetest.Quiet(), SendQueue: 4096})}
	r.hs = httptest.NewServer(r.srv)
	url := "ws" + strings.TrimPrefix(r.hs.URL, "http")
	var opts *websocket.DialOptions
	if extended {
		opts = &websocket.DialOptions{Subprotocols: []string{"refine-live.v1"}}
	}
	for i := 0; i < n; i++ {
		ws, _, err := websocket.Dial(context.Background(), url, opts)
		require.NoError(b, err, "dial %d", i)
		require.NoError(b, ws.Write(context.Background(), websocket.MessageText, []byte(`{"action":"subscribe","channel":"bench"}`)))
		r.conns = append(r.conns, ws)
		r.readers.Add(1)
		go func() {
			defer r.readers.Done()
			livetest.Drain(ws, func() { r.received.Add(1) })
		}()
	}
	require.Eventually(b, func() bool { return r.srv.subscribers("bench") == n }, wait, tick, "subscriptions")
	if extended {
		// Skip the hellos and subscribed replies: wait until they are in.
		require.Eventually(b, func() bool { return r.received.Load() == int64(2*n) }, wait, tick, "replies")
		r.received.Store(0)
	}
	return r
}

func (r *fanoutRig) close() {
	_ = r.srv.Shutdown(context.Background())
	r.readers.Wait()
	for _, ws := range r.conns {
		ws.CloseNow()
	}
	r.hs.Close()
}

// BenchmarkFanout publishes events to n subscribers over loopback. One op
// is one event delivered to every subscriber: events go out in batches of
// up to 32 and the benchmark waits for each batch to arrive everywhere.
func BenchmarkFanout(b *testing.B) {
	payload := []byte(`{"ids":[1,2,3]}`)
	for _, level := range []string{"basic", "extended"} {
		for _, n := range []int{1, 100, 2000} {
			b.Run(fmt.Sprintf("%s/conns=%d", level, n), func(b *testing.B) {
				r := newFanoutRig(b, n, level == "extended")
				defer r.close()
				ctx := context.Background()
				ev := Event{Channel: "bench", Type: "updated", Payload: payload}
				b.ReportAllocs()
				b.ResetTimer()
				sent := 0
				for sent < b.N {
					batch := min(32, b.N-sent)
					for i := 0; i < batch; i++ {
						if _, err := r.srv.Publish(ctx, ev); err != nil {
							b.Fatal(err)
						}
					}
					sent += batch
					want := int64(sent) * int64(n)
					for r.received.Load() < want {
						runtimeGosched()
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(int64(b.N)*int64(n))/b.Elapsed().Seconds(), "deliveries/s")
			})
		}
	}
}

// runtimeGosched yields while the benchmark waits for deliveries, so the
// waiting does not steal a core from the server on a small machine.
func runtimeGosched() { runtime.Gosched() }
