package natsbroker

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/natstest"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// benchConns is the number of WebSocket connections, spread over the nodes.
const benchConns = 1000

// benchRig is n nodes on one NATS with benchConns extended connections
// subscribed to one channel. Each reader records, per event, the time from
// Publish to the frame's arrival (the publish time rides in the payload).
type benchRig struct {
	nodes    []*node
	conns    []*websocket.Conn
	received atomic.Int64
	mu       sync.Mutex
	lat      []time.Duration
	readers  sync.WaitGroup
}

func newBenchRig(b *testing.B, nodes int) *benchRig {
	e := natstest.Start(b)
	r := &benchRig{}
	for i := 0; i < nodes; i++ {
		r.nodes = append(r.nodes, startNode(b, e, Options{}))
	}
	ctx := context.Background()
	for i := 0; i < benchConns; i++ {
		ws, _, err := websocket.Dial(ctx, r.nodes[i%nodes].url, &websocket.DialOptions{Subprotocols: []string{"refine-live.v1"}})
		require.NoError(b, err, "dial %d", i)
		require.NoError(b, ws.Write(ctx, websocket.MessageText, []byte(`{"action":"subscribe","channel":"bench"}`)))
		r.conns = append(r.conns, ws)
		r.readers.Add(1)
		go r.read(ws)
	}
	// The hello and the subscribed reply of every connection.
	require.Eventually(b, func() bool { return r.received.Load() == 2*benchConns }, wait, tick, "subscriptions")
	r.received.Store(0)
	b.Cleanup(r.close)
	return r
}

func (r *benchRig) read(ws *websocket.Conn) {
	defer r.readers.Done()
	var lat []time.Duration
	defer func() {
		r.mu.Lock()
		r.lat = append(r.lat, lat...)
		r.mu.Unlock()
	}()
	for {
		_, data, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		if i := bytes.Index(data, []byte(`"t":`)); i >= 0 {
			end := i + 4
			for end < len(data) && data[end] >= '0' && data[end] <= '9' {
				end++
			}
			if ns, err := strconv.ParseInt(string(data[i+4:end]), 10, 64); err == nil {
				lat = append(lat, time.Duration(time.Now().UnixNano()-ns))
			}
		}
		r.received.Add(1)
	}
}

func (r *benchRig) close() {
	for _, n := range r.nodes {
		n.stop()
	}
	r.readers.Wait()
	for _, ws := range r.conns {
		ws.CloseNow()
	}
}

// BenchmarkCluster publishes events round-robin on 1 or 3 nodes sharing one
// NATS, each delivered to 1,000 connections spread over the nodes. One op
// is one event delivered everywhere; events go out in batches of 16 and
// the benchmark waits for each batch to reach every connection. Reported:
// events/s, deliveries/s and the p50/p99 latency from Publish to a
// client's read.
func BenchmarkCluster(b *testing.B) {
	for _, nodes := range []int{1, 3} {
		b.Run(fmt.Sprintf("nodes=%d/conns=%d", nodes, benchConns), func(b *testing.B) {
			r := newBenchRig(b, nodes)
			ctx := context.Background()
			b.ResetTimer()
			sent := 0
			for sent < b.N {
				batch := min(16, b.N-sent)
				for i := 0; i < batch; i++ {
					payload := []byte(`{"ids":[1],"t":` + strconv.FormatInt(time.Now().UnixNano(), 10) + `}`)
					if _, err := r.nodes[(sent+i)%nodes].srv.Publish(ctx, server.Event{Channel: "bench", Type: "updated", Payload: payload}); err != nil {
						b.Fatal(err)
					}
				}
				sent += batch
				want := int64(sent) * benchConns
				require.Eventually(b, func() bool { return r.received.Load() >= want }, wait, tick, "deliveries")
			}
			b.StopTimer()
			r.close()
			slices.Sort(r.lat)
			if len(r.lat) > 0 {
				b.ReportMetric(float64(r.lat[len(r.lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(r.lat[len(r.lat)*99/100].Microseconds()), "p99-µs")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(int64(b.N)*benchConns)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkPublish is one node publishing alone on one channel: the
// JetStream round trip plus the node's own delivery.
func BenchmarkPublish(b *testing.B) {
	br := newBroker(b, natstest.Start(b), Options{})
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, _, err := br.Publish(ctx, server.Event{Channel: "c", Type: "t", ID: "e" + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
