package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/pgtest"
	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/pgsource"
)

// startApp serves the whole backend, with a real hub, over dist.
func startApp(t *testing.T, dist string) *livetest.Endpoint {
	t.Helper()
	tables, err := generatedSeed(3).tables()
	require.NoError(t, err)
	live := server.New(server.Config{Logger: livetest.Quiet()})
	return livetest.Serve(t, newMux(live, &api{tables: memStores(tables), live: live, log: livetest.Quiet()}, dist), live.Shutdown)
}

// TestCurlChangesAreLive subscribes like Refine's basic provider and checks
// that a plain REST call reaches it.
func TestCurlChangesAreLive(t *testing.T) {
	srv := startApp(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ws, _, err := websocket.Dial(ctx, srv.WSURL, nil)
	require.NoError(t, err, "failed to dial")
	defer ws.CloseNow()
	require.NoError(t, ws.Write(ctx, websocket.MessageText, []byte(`{"action":"subscribe","channel":"resources/posts"}`)))
	require.Eventually(t, func() bool { return strings.Contains(get(t, srv.URL+"/metrics"), "refine_live_subscriptions 1") },
		10*time.Second, 10*time.Millisecond, "the subscription in the metrics")

	if resp, body := do(t, http.MethodPatch, srv.URL+"/api/posts/2", `{"title":"from curl"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("patch: status %d: %s", resp.StatusCode, body)
	}
	_, msg, err := ws.Read(ctx)
	require.NoError(t, err, "failed to read the event")
	var ev map[string]any
	require.NoError(t, json.Unmarshal(msg, &ev))
	if ev["channel"] != "resources/posts" || ev["type"] != "updated" {
		t.Fatalf("event %s", msg)
	}
	if got, _ := json.Marshal(ev["payload"]); string(got) != `{"ids":[2]}` {
		t.Fatalf("payload %s, want {\"ids\":[2]}", got)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	_, body := do(t, http.MethodGet, url, "")
	return string(body)
}

func TestServesTheApp(t *testing.T) {
	dist := t.TempDir()
	write := func(name, content string) {
		path := filepath.Join(dist, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	write("index.html", "<!doctype html>app")
	write("assets/live-abc.wasm", "\x00asm")
	srv := startApp(t, dist)

	cases := []struct {
		path, body, contentType, cache string
		status                         int
	}{
		{"/", "<!doctype html>app", "text/html", "no-cache", 200},
		{"/posts/edit/3", "<!doctype html>app", "text/html", "no-cache", 200},
		{"/assets/live-abc.wasm", "\x00asm", "application/wasm", "immutable", 200},
		{"/api/posts/3", `"id":3`, "application/json", "", 200},
		{"/healthz", "ok", "application/json", "", 200},
	}
	for _, c := range cases {
		resp, body := do(t, http.MethodGet, srv.URL+c.path, "")
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.body) {
			t.Errorf("%s: status %d body %q", c.path, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, c.contentType) {
			t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.contentType)
		}
		if got := resp.Header.Get("Cache-Control"); !strings.Contains(got, c.cache) {
			t.Errorf("%s: Cache-Control %q, want %q", c.path, got, c.cache)
		}
	}
	if resp, _ := do(t, http.MethodPost, srv.URL+"/posts", "{}"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /posts: status %d, want 405", resp.StatusCode)
	}
}

func TestUnbuiltAppExplainsItself(t *testing.T) {
	srv := startApp(t, filepath.Join(t.TempDir(), "missing"))
	resp, body := do(t, http.MethodGet, srv.URL+"/", "")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "npm run build") {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
}

func TestSeedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.json")
	seed := `{"posts":[{"id":7,"title":"seven"},{"title":"next"}],"categories":[{"id":1,"title":"one"}]}`
	require.NoError(t, os.WriteFile(path, []byte(seed), 0o644))
	s, err := loadSeed(path)
	require.NoError(t, err)
	tables, err := s.tables()
	require.NoError(t, err)
	rows, total := tables["posts"].list(listQuery{end: -1})
	if total != 2 || rows[0]["id"] != 7 || rows[1]["id"] != 8 {
		t.Fatalf("posts %v", rows)
	}
	if created := tables["posts"].create(record{"title": "x"}); created["id"] != 9 {
		t.Fatalf("next id %v, want 9", created["id"])
	}

	require.NoError(t, os.WriteFile(path, []byte(`{"posts":[{"id":1},{"id":1}]}`), 0o644))
	if s, err = loadSeed(path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.tables(); err == nil || !strings.Contains(err.Error(), "duplicate id") {
		t.Fatalf("duplicate ids: err %v", err)
	}
	if _, err := loadSeed(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Fatal("missing seed file: no error")
	}
}

// lineWriter hands each written chunk to a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(lineWriter, 4)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, options{addr: "127.0.0.1:0", dist: t.TempDir(), seedPosts: 2, quiet: true}, out)
	}()
	var line string
	select {
	case line = <-out:
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run never printed its address")
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	resp, _ := do(t, http.MethodGet, url+"/api/posts", "")
	if got := resp.Header.Get("X-Total-Count"); got != "2" {
		t.Errorf("X-Total-Count %q, want 2", got)
	}
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "run")
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

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

	c := livetest.QuietEngine(t, srv.WSURL)
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
