package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/pgtest"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
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
	live := server.New(server.Config{Broker: broker, Logger: quietLogger()})
	src, err := pgsource.New(pgsource.Config{URL: pg.URL(), Publication: "refine_live_example", Slot: "refine_live_example",
		Tables: []string{"posts", "categories"}, Logger: quietLogger()}, live)
	require.NoError(t, err)
	require.NoError(t, src.Start(ctx))
	defer src.Close()
	srv := httptest.NewServer(newMux(live, &api{tables: stores, log: quietLogger()}, t.TempDir()))
	defer srv.Close()

	var mu sync.Mutex
	var got []provider.Event
	c, err := provider.New(provider.Config{URLs: []string{"ws" + strings.TrimPrefix(srv.URL, "http") + "/live"},
		Transport: &wstransport.Transport{}, OnError: func(error) {}})
	require.NoError(t, err)
	defer c.Close()
	sub, _ := c.Subscribe(provider.SubscribeOptions{Channel: "resources/posts", Callback: func(e provider.Event) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}})
	waitCond(t, "the subscription and the stream", func() bool {
		st, _ := src.State()
		return sub.State() == provider.SubSubscribed && st == pgsource.StateStreaming
	})

	pg.Exec(`UPDATE posts SET title = 'Edited with psql' WHERE id = 2`)
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/api/posts/3", strings.NewReader(`{"title":"Edited over REST"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %v %v", resp, err)
	}
	resp.Body.Close()
	waitCond(t, "two events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 2
	})
	time.Sleep(100 * time.Millisecond) // room for a wrong extra event to show up
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].Type != "updated" || string(got[0].Payload) != `{"ids":[2]}` || string(got[1].Payload) != `{"ids":[3]}` {
		t.Fatalf("events: %+v", got)
	}
	var rec map[string]any
	body := getBody(t, srv.URL+"/api/posts/2")
	if err := json.Unmarshal([]byte(body), &rec); err != nil || rec["title"] != "Edited with psql" || rec["id"] != float64(2) {
		t.Fatalf("GET /api/posts/2: %s", body)
	}
	if body := getBody(t, srv.URL+"/api/posts?_sort=id&_order=desc&_start=0&_end=1"); !strings.Contains(body, `"Edited over REST"`) {
		t.Fatalf("list: %s", body)
	}
}

func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
