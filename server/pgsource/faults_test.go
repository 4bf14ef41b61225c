package pgsource_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/pgtest"
	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/pgsource"
)

// PostgreSQL stopped and started again: the WebSocket service goes on,
// /healthz says degraded meanwhile, and the source resumes from the slot
// with every change delivered exactly once.
func TestPostgresRestart(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE posts (id int PRIMARY KEY)`)
	h := newHarness(t, pg, pgsource.Config{})
	got := h.subscribe(t, "resources/posts")
	insert := func(from, to int) {
		for i := from; i < to; i++ {
			pg.Exec(`INSERT INTO posts VALUES ($1)`, i)
		}
	}
	insert(0, 50)
	got.WaitLen(t, 50)

	pg.Stop()
	require.Eventually(t, func() bool { return strings.Contains(health(h), `"degraded"`) }, 10*time.Second, 10*time.Millisecond, "a degraded health check")
	if s := health(h); !strings.Contains(s, "postgres") {
		t.Fatalf("the health check does not name PostgreSQL: %s", s)
	}
	// The clients stay connected to the server meanwhile: a publish over
	// HTTP still reaches them.
	other := h.subscribe(t, "notifications")
	if _, err := h.live.Publish(t.Context(), eventOn("notifications")); err != nil {
		t.Fatal(err)
	}
	require.Eventually(t, func() bool { return other.Len() == 1 }, 5*time.Second, 10*time.Millisecond, "a publish while PostgreSQL is down")

	pg.Start()
	insert(50, 100)
	require.Eventually(t, func() bool { return got.Len() >= 100 }, 20*time.Second, 10*time.Millisecond, "100 events")
	require.Eventually(t, func() bool { return strings.Contains(health(h), `"ok"`) }, 5*time.Second, 10*time.Millisecond, "a healthy check")
	checkOnce(t, got.All(), 100)
	if body := scrape(t, h); !strings.Contains(body, `refine_live_postgres_events_total{table="public.posts"}`) ||
		!strings.Contains(body, "refine_live_postgres_lag_bytes") || !strings.Contains(body, "refine_live_postgres_streaming 1") {
		t.Fatalf("metrics missing:\n%s", grepLines(body, "postgres"))
	}
}

// A slot that holds back more WAL than LagWarn is warned about, and its
// lag is in the metrics.
func TestSlotLagWarned(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE posts (id int PRIMARY KEY)`)
	logs := &livetest.SyncBuffer{}
	h := newHarness(t, pg, pgsource.Config{LagWarn: 1, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "holds back much WAL") }, 10*time.Second, 10*time.Millisecond, "the warning")
	if !strings.Contains(logs.String(), "slot=refine_live") {
		t.Fatalf("the warning does not name the slot: %s", logs.String())
	}
	if body := scrape(t, h); !strings.Contains(body, "refine_live_postgres_retained_bytes ") {
		t.Fatalf("no retained bytes:\n%s", grepLines(body, "postgres"))
	}
}

// flakyPublisher fails while down is set, as a broker that lost NATS.
type flakyPublisher struct {
	pgsource.Publisher
	down atomic.Bool
}

func (f *flakyPublisher) Publish(ctx context.Context, ev server.Event) (server.Event, error) {
	if f.down.Load() {
		return server.Event{}, errors.New("broker away")
	}
	return f.Publisher.Publish(ctx, ev)
}

// While the broker refuses events the source holds them, reports itself
// stalled, and delivers each once when the broker is back.
func TestBrokerFailureStallsWithoutLoss(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE posts (id int PRIMARY KEY)`)
	broker := server.NewMemoryBroker(server.MemoryOptions{HistoryStart: time.Now().Add(-time.Hour)})
	defer broker.Close()
	live := server.New(server.Config{Broker: broker, Logger: livetest.Logger(t)})
	h := &harness{pg: pg, live: live, ws: livetest.Serve(t, live.Handler(), nil).WSURL}
	flaky := &flakyPublisher{Publisher: live}
	src, err := pgsource.New(pgsource.Config{URL: pg.URL(), Logger: livetest.Logger(t), RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond}, flaky)
	require.NoError(t, err)
	require.NoError(t, src.Start(context.Background()))
	defer src.Close()
	got := h.subscribe(t, "resources/posts")
	for i := 0; i < 5; i++ {
		pg.Exec(`INSERT INTO posts VALUES ($1)`, i)
	}
	got.WaitLen(t, 5)
	flaky.down.Store(true)
	for i := 5; i < 10; i++ {
		pg.Exec(`INSERT INTO posts VALUES ($1)`, i)
	}
	require.Eventually(t, func() bool { return strings.Contains(src.Degraded(), "stalled") }, 10*time.Second, 10*time.Millisecond, "the stalled state")
	flaky.down.Store(false)
	got.WaitLen(t, 10)
	require.Eventually(t, func() bool { return src.Degraded() == "" }, 5*time.Second, 10*time.Millisecond, "streaming again")
	checkOnce(t, got.All(), 10)
}
