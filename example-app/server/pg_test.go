package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/pgtest"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/pgsource"
)

// On PostgreSQL the backend publishes nothing itself: a row changed with
// SQL and one changed through the REST API each reach a subscriber once,
// from the change source, and the API serves the new data.
func TestPostgresChangesAreLive(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	pool, stores, err := openPostgres(ctx, pg.URL(), generatedSeed(3))
	require.NoError(t, err)
	defer pool.Close()
	broker := server.NewMemoryBroker(server.MemoryOptions{HistoryStart: time.Now().Add(-time.Hour)})
	defer broker.Close()
	live := server.New(server.Config{Broker: broker, Logger: livetest.Quiet()})
	src, err := pgsource.New(pgsource.Config{URL: pg.URL(), Publication: "refine_live_example", Slot: "refine_live_example",
		Tables: []string{"posts", "categories"}, Logger: livetest.Quiet()}, live)
	require.NoError(t, err)
	require.NoError(t, src.Start(ctx))
	defer src.Close()
	srv := livetest.Serve(t, newMux(live, &api{tables: stores, log: livetest.Quiet()}, t.TempDir()), nil)

	c := livetest.NewEngine(t, provider.Config{URLs: []string{srv.WSURL}, OnError: func(error) {}})
	events := &livetest.Events{}
	livetest.Subscribe(t, c, "resources/posts", events)
	require.Eventually(t, func() bool { st, _ := src.State(); return st == pgsource.StateStreaming }, 10*time.Second, 10*time.Millisecond, "the stream")

	pg.Exec(`UPDATE posts SET title = 'Edited with psql' WHERE id = 2`)
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/api/posts/3", strings.NewReader(`{"title":"Edited over REST"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %v %v", resp, err)
	}
	resp.Body.Close()
	events.WaitLen(t, 2)
	time.Sleep(100 * time.Millisecond) // room for a wrong extra event to show up
	got := events.All()
	if len(got) != 2 || got[0].Type != "updated" || string(got[0].Payload) != `{"ids":[2]}` || string(got[1].Payload) != `{"ids":[3]}` {
		t.Fatalf("events: %+v", got)
	}
	var rec map[string]any
	body := get(t, srv.URL+"/api/posts/2")
	if err := json.Unmarshal([]byte(body), &rec); err != nil || rec["title"] != "Edited with psql" || rec["id"] != float64(2) {
		t.Fatalf("GET /api/posts/2: %s", body)
	}
	if body := get(t, srv.URL+"/api/posts?_sort=id&_order=desc&_start=0&_end=1"); !strings.Contains(body, `"Edited over REST"`) {
		t.Fatalf("list: %s", body)
	}
}
