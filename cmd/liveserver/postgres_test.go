package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/pgtest"
)

func pgxConnect(ctx context.Context, url string) (*pgx.Conn, error) { return pgx.Connect(ctx, url) }

// liveserver killed with SIGKILL in the middle of 10,000 changes and
// started again: the client receives every change once, in order, with
// contiguous positions in one epoch.
func TestPostgresKillDuringStream(t *testing.T) {
	const rows = 10000
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE items (id int PRIMARY KEY)`)
	nats := startNATS(t)
	addr := freeAddr(t)
	// The history holds the whole run, so that the client can recover
	// whatever it missed while no node was up.
	args := []string{"--nats", nats, "--postgres", pg.URL(), "--history", "20000"}
	n := startNode(t, addr, args...)
	waitUntil(t, 10*time.Second, "the node to stream", n.streaming)
	got := subscribeRows(t, "resources/items", addr)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inserted := make(chan error, 1)
	go func() { inserted <- insertRows(ctx, pg.URL(), rows) }()
	waitUntil(t, 30*time.Second, "2,000 events", func() bool { return got.count() >= 2000 })
	n.kill()
	killed := time.Now()
	before := got.count()
	n = startNode(t, addr, args...)
	waitUntil(t, 30*time.Second, "an event after the restart", func() bool { return got.count() > before })
	t.Logf("killed after %d events; first event after the restart %v after the kill", before, time.Since(killed).Round(time.Millisecond))
	require.NoError(t, <-inserted)
	waitUntil(t, 60*time.Second, "every event", func() bool { return got.count() >= rows || got.failed() })
	got.check(t, rows)
	// The stream holds each change once: what the killed node had stored
	// but not confirmed came again and was recognised by its id.
	if msgs := streamMessages(t, nats, "REFINE_LIVE"); msgs != rows {
		t.Fatalf("the stream holds %d events for %d changes", msgs, rows)
	}
	m, _ := n.get("/metrics")
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
	nats := startNATS(t)
	args := []string{"--nats", nats, "--postgres", pg.URL(), "--history", "20000"}
	a := startNode(t, freeAddr(t), args...)
	waitUntil(t, 10*time.Second, "node a to stream", a.streaming)
	b := startNode(t, freeAddr(t), args...)
	// Standing by is healthy: the node serves its clients.
	waitUntil(t, 10*time.Second, "node b to stand by, healthy", func() bool {
		h, _ := b.get("/healthz")
		return strings.Contains(h, `"ok"`)
	})
	if b.streaming() || !a.streaming() {
		t.Fatal("node b consumes the slot beside node a")
	}
	got := subscribeRows(t, "resources/items", b.addr)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inserted := make(chan error, 1)
	go func() { inserted <- insertRows(ctx, pg.URL(), rows) }()
	waitUntil(t, 30*time.Second, "1,000 events", func() bool { return got.count() >= 1000 })
	a.kill()
	killed := time.Now()
	waitUntil(t, 10*time.Second, "node b to take over", b.streaming)
	t.Logf("node b streams %v after node a was killed", time.Since(killed).Round(time.Millisecond))
	require.NoError(t, <-inserted)
	waitUntil(t, 60*time.Second, "every event", func() bool { return got.count() >= rows || got.failed() })
	got.check(t, rows)
	if msgs := streamMessages(t, nats, "REFINE_LIVE"); msgs != rows {
		t.Fatalf("the stream holds %d events for %d changes", msgs, rows)
	}
}

// PostgreSQL down when liveserver starts: it serves anyway, degraded, and
// streams once PostgreSQL is up.
func TestPostgresDownAtStartup(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE items (id int PRIMARY KEY)`)
	pg.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--postgres", pg.URL(), "--log-level", "error"}, &syncBuffer{},
			func(a string) { addrc <- a })
	}()
	var n *node
	select {
	case a := <-addrc:
		n = &node{t: t, addr: a}
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("liveserver did not start")
	}
	if h, _ := n.get("/healthz"); !strings.Contains(h, `"degraded"`) || !strings.Contains(h, "postgres") {
		t.Fatalf("healthz with PostgreSQL down: %s", h)
	}
	got := subscribeRows(t, "resources/items", n.addr)
	pg.Start()
	waitUntil(t, 20*time.Second, "a healthy check", func() bool {
		h, _ := n.get("/healthz")
		return strings.Contains(h, `"ok"`)
	})
	require.NoError(t, insertRows(ctx, pg.URL(), 10))
	waitUntil(t, 10*time.Second, "10 events", func() bool { return got.count() >= 10 || got.failed() })
	got.check(t, 10)
	cancel()
	require.NoError(t, <-done, "run")
}

// A table without a key stops the binary at startup, named in the error.
func TestPostgresKeylessTableStopsStartup(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE logs (line text)`)
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--postgres", pg.URL(), "--log-level", "error"}, &syncBuffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "public.logs has no primary key") || strings.Contains(err.Error(), "public.items") {
		t.Fatalf("want public.logs refused, got %v", err)
	}
	for _, bad := range [][]string{{"--postgres-rename", "posts"}, {"--postgres-tables", "a;b"}} {
		err := run(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--postgres", pg.URL(), "--log-level", "error"}, bad...), &syncBuffer{}, nil)
		if err == nil || !strings.Contains(err.Error(), "failed to") {
			t.Errorf("%v: want a clear error, got %v", bad, err)
		}
	}
}
