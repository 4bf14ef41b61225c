package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/natstest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/pgtest"
)

func pgxConnect(ctx context.Context, url string) (*pgx.Conn, error) { return pgx.Connect(ctx, url) }

// startInserting inserts rows rows into items in the background and waits
// until got has received first of them. The channel tells how the inserts
// ended.
func startInserting(t *testing.T, pgURL string, rows int, got *rowEvents, first int) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	inserted := make(chan error, 1)
	go func() { inserted <- insertRows(ctx, pgURL, rows) }()
	require.Eventually(t, func() bool { return got.count() >= first }, 30*time.Second, 5*time.Millisecond, "%d events", first)
	return inserted
}

// everyRowOnce waits until the inserts have ended and got has every row,
// checks that each came once and in order, and that the NATS stream holds
// each change once.
func everyRowOnce(t *testing.T, got *rowEvents, inserted <-chan error, natsURL string, rows int) {
	t.Helper()
	require.NoError(t, <-inserted)
	require.Eventually(t, func() bool { return got.count() >= rows || got.failed() }, 60*time.Second, 5*time.Millisecond, "every event")
	got.check(t, rows)
	if msgs := streamMessages(t, natsURL, "REFINE_LIVE"); msgs != uint64(rows) {
		t.Fatalf("the stream holds %d events for %d changes", msgs, rows)
	}
}

// liveserver killed with SIGKILL in the middle of 10,000 changes and
// started again: the client receives every change once, in order, with
// contiguous positions in one epoch.
func TestPostgresKillDuringStream(t *testing.T) {
	const rows = 10000
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE items (id int PRIMARY KEY)`)
	nats := natstest.Start(t).URL()
	addr := livetest.FreeAddr(t)
	// The history holds the whole run, so that the client can recover
	// whatever it missed while no node was up.
	args := []string{"--nats", nats, "--postgres", pg.URL(), "--history", "20000"}
	n := startNode(t, addr, args...)
	require.Eventually(t, func() bool { return streaming(addr) }, 10*time.Second, 5*time.Millisecond, "the node to stream")
	got := subscribeRows(t, "resources/items", addr)
	inserted := startInserting(t, pg.URL(), rows, got, 2000)
	n.Kill()
	killed := time.Now()
	before := got.count()
	n.Start()
	require.Eventually(t, func() bool { return got.count() > before }, 30*time.Second, 5*time.Millisecond, "an event after the restart")
	t.Logf("killed after %d events; first event after the restart %v after the kill", before, time.Since(killed).Round(time.Millisecond))
	// What the killed node had stored but not confirmed came again and was
	// recognised by its id.
	everyRowOnce(t, got, inserted, nats, rows)
	m, _ := n.Get("/metrics")
	t.Logf("after the restart: %s, %s", metricLine(m, `refine_live_postgres_events_total{table="public.items"}`),
		metricLine(m, `refine_live_events_published_total{source="api"}`))
}

// Two nodes on one NATS: one consumes the slot, the other stands by
// healthy; when the owner is killed the other takes over within seconds
// and its clients receive every change once.
func TestPostgresFailoverOfTheSlotOwner(t *testing.T) {
	const rows = 3000
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE items (id int PRIMARY KEY)`)
	nats := natstest.Start(t).URL()
	args := []string{"--nats", nats, "--postgres", pg.URL(), "--history", "20000"}
	a := startNode(t, livetest.FreeAddr(t), args...)
	require.Eventually(t, func() bool { return streaming(a.Addr) }, 10*time.Second, 5*time.Millisecond, "node a to stream")
	b := startNode(t, livetest.FreeAddr(t), args...)
	// Standing by is healthy: the node serves its clients.
	require.Eventually(t, func() bool {
		h, _ := b.Get("/healthz")
		return strings.Contains(h, `"ok"`)
	}, 10*time.Second, 5*time.Millisecond, "node b to stand by, healthy")
	if streaming(b.Addr) || !streaming(a.Addr) {
		t.Fatal("node b consumes the slot beside node a")
	}
	got := subscribeRows(t, "resources/items", b.Addr)
	inserted := startInserting(t, pg.URL(), rows, got, 1000)
	a.Kill()
	killed := time.Now()
	require.Eventually(t, func() bool { return streaming(b.Addr) }, 10*time.Second, 5*time.Millisecond, "node b to take over")
	t.Logf("node b streams %v after node a was killed", time.Since(killed).Round(time.Millisecond))
	everyRowOnce(t, got, inserted, nats, rows)
}

// PostgreSQL down when liveserver starts: it serves anyway, degraded, and
// streams once PostgreSQL is up.
func TestPostgresDownAtStartup(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE items (id int PRIMARY KEY)`)
	pg.Stop()
	r := startRun(t, "--postgres", pg.URL(), "--log-level", "error")
	if h, _ := livetest.Get(r.addr, "/healthz"); !strings.Contains(h, `"degraded"`) || !strings.Contains(h, "postgres") {
		t.Fatalf("healthz with PostgreSQL down: %s", h)
	}
	got := subscribeRows(t, "resources/items", r.addr)
	pg.Start()
	require.Eventually(t, func() bool {
		h, _ := livetest.Get(r.addr, "/healthz")
		return strings.Contains(h, `"ok"`)
	}, 20*time.Second, 5*time.Millisecond, "a healthy check")
	require.NoError(t, insertRows(context.Background(), pg.URL(), 10))
	require.Eventually(t, func() bool { return got.count() >= 10 || got.failed() }, 10*time.Second, 5*time.Millisecond, "10 events")
	got.check(t, 10)
	require.NoError(t, r.stop(), "run")
}

// A table without a key stops the binary at startup, named in the error.
func TestPostgresKeylessTableStopsStartup(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE logs (line text)`)
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--postgres", pg.URL(), "--log-level", "error"}, &bytes.Buffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "public.logs has no primary key") || strings.Contains(err.Error(), "public.items") {
		t.Fatalf("want public.logs refused, got %v", err)
	}
	for _, bad := range [][]string{{"--postgres-rename", "posts"}, {"--postgres-tables", "a;b"}} {
		err := run(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--postgres", pg.URL(), "--log-level", "error"}, bad...), &bytes.Buffer{}, nil)
		if err == nil || !strings.Contains(err.Error(), "failed to") {
			t.Errorf("%v: want a clear error, got %v", bad, err)
		}
	}
}
