package pgsource_test

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/natstest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/pgtest"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/natsbroker"
	"github.com/refine-live-wasm/refine-live-wasm/server/pgsource"
)

// The figures of docs/benchmarks.md, taken only when asked for:
//
//	go test ./server/pgsource -run TestFigures -figures -v
var figures = flag.Bool("figures", false, "measure the PostgreSQL source's figures (docs/benchmarks.md)")

// Commit to callback: one row inserted at a time, each awaited at the
// client engine's callback.
func TestFiguresLatency(t *testing.T) {
	if !*figures {
		t.Skip("run with -figures")
	}
	t.Run("memory", func(t *testing.T) {
		pg := pgtest.Start(t)
		latency(t, newHarness(t, pg, pgsource.Config{Logger: livetest.Quiet()}))
	})
	t.Run("nats", func(t *testing.T) {
		pg := pgtest.Start(t)
		latency(t, newHarnessOn(t, pg, pgsource.Config{Logger: livetest.Quiet()}, natsBroker(t)))
	})
}

// natsBroker is a JetStream broker on an embedded NATS with its store on
// disk.
func natsBroker(t *testing.T) server.Broker {
	nc, err := nats.Connect(natstest.Start(t).URL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	b, err := natsbroker.New(context.Background(), nc, natsbroker.Options{Logger: livetest.Quiet()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func latency(t *testing.T, h *harness) {
	h.pg.Exec(`CREATE TABLE lat (id int PRIMARY KEY)`)
	arrived := make(chan time.Time, 1)
	c := livetest.QuietEngine(t, h.ws)
	sub, _ := c.Subscribe(provider.SubscribeOptions{Channel: "resources/lat", Callback: func(e provider.Event) {
		if e.Resync == "" {
			arrived <- time.Now()
		}
	}})
	livetest.Subscribed(t, sub)
	conn := h.pg.Conn()
	const n, warm = 1000, 50
	var lat []time.Duration
	for i := 0; i < n+warm; i++ {
		start := time.Now()
		if _, err := conn.Exec(context.Background(), `INSERT INTO lat VALUES ($1)`, i); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-arrived:
			if i >= warm {
				lat = append(lat, at.Sub(start))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("row %d never arrived", i)
		}
	}
	slices.Sort(lat)
	t.Logf("FIGURE latency (%s): %d single-row autocommit INSERTs, start of Exec -> callback: p50 %v, p90 %v, p99 %v, max %v", t.Name(),
		n, lat[n/2].Round(10*time.Microsecond), lat[n*9/10].Round(10*time.Microsecond), lat[n*99/100].Round(10*time.Microsecond), lat[n-1].Round(10*time.Microsecond))
}

// Sustained changes through the source into subscribers that count
// frames, checked per subscriber: each receives exactly its table's
// changes.
func TestFiguresThroughput(t *testing.T) {
	if !*figures {
		t.Skip("run with -figures")
	}
	for _, c := range []struct{ subs, tables, changes int }{
		{1, 1, 200000},
		{1000, 100, 200000},
		{1000, 1, 3000},
	} {
		t.Run(fmt.Sprintf("%dsubs_%dtables", c.subs, c.tables), func(t *testing.T) { throughput(t, c.subs, c.tables, c.changes) })
	}
}

func throughput(t *testing.T, subs, tables, changes int) {
	pg := pgtest.Start(t)
	var ddl strings.Builder
	for i := 0; i < tables; i++ {
		fmt.Fprintf(&ddl, "CREATE TABLE t%d (id int PRIMARY KEY);", i)
	}
	pg.Exec(ddl.String())
	broker := server.NewMemoryBroker(server.MemoryOptions{})
	defer broker.Close()
	live := server.New(server.Config{Broker: broker, Logger: livetest.Quiet(), SendQueue: 1 << 16, MaxSubscriptions: 256})
	url := livetest.Serve(t, live, nil).WSURL
	src, err := pgsource.New(pgsource.Config{URL: pg.URL(), Logger: livetest.Quiet()}, live)
	require.NoError(t, err)
	require.NoError(t, src.Start(context.Background()))
	defer src.Close()
	require.Eventually(t, func() bool { st, _ := src.State(); return st == pgsource.StateStreaming }, 10*time.Second, 10*time.Millisecond, "streaming")

	counts := make([]atomic.Int64, subs)
	var wg sync.WaitGroup
	for i := 0; i < subs; i++ {
		ws, _, err := websocket.Dial(context.Background(), url, nil)
		require.NoError(t, err)
		defer ws.CloseNow()
		ch := "resources/t" + strconv.Itoa(i%tables)
		require.NoError(t, ws.Write(context.Background(), websocket.MessageText, []byte(`{"action":"subscribe","channel":"`+ch+`"}`)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			livetest.Drain(ws, func() { counts[i].Add(1) })
		}()
	}
	require.Eventually(t, func() bool {
		rec := httptest.NewRecorder()
		live.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return strings.Contains(rec.Body.String(), "refine_live_subscriptions "+strconv.Itoa(subs)+"\n")
	}, 30*time.Second, 10*time.Millisecond, "every subscription")

	conn := pg.Conn()
	start := time.Now()
	const batch = 100
	for i := 0; i < changes; i += batch {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO t%d VALUES ", (i/batch)%tables)
		for j := i; j < min(i+batch, changes); j++ {
			if j > i {
				b.WriteString(",")
			}
			b.WriteString("(" + strconv.Itoa(j) + ")")
		}
		if _, err := conn.Exec(context.Background(), b.String()); err != nil {
			t.Fatal(err)
		}
	}
	committed := time.Since(start)
	want := make([]int64, tables)
	for i := 0; i < changes; i += batch {
		want[(i/batch)%tables] += int64(min(batch, changes-i))
	}
	total := func() (n int64) {
		for i := range counts {
			n += counts[i].Load()
		}
		return n
	}
	var wantTotal int64
	for i := 0; i < subs; i++ {
		wantTotal += want[i%tables]
	}
	require.Eventually(t, func() bool { return total() >= wantTotal }, 120*time.Second, 10*time.Millisecond, "every delivery")
	elapsed := time.Since(start)
	for i := range counts {
		if got := counts[i].Load(); got != want[i%tables] {
			t.Fatalf("subscriber %d received %d events, want %d", i, got, want[i%tables])
		}
	}
	t.Logf("FIGURE throughput: %d subscribers over %d tables, %d changes in INSERTs of %d rows: committed in %v, all delivered in %v: %.0f changes/s, %.0f deliveries/s, 0 lost",
		subs, tables, changes, batch, committed.Round(time.Millisecond), elapsed.Round(time.Millisecond),
		float64(changes)/elapsed.Seconds(), float64(wantTotal)/elapsed.Seconds())
}
