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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// recorder is a publisher that keeps what it was given.
type recorder struct {
	mu     sync.Mutex
	events []server.Event
}

func (r *recorder) Publish(_ context.Context, ev server.Event) (server.Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return ev, nil
}

func (r *recorder) take() []server.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// startAPI serves the REST API over n seeded posts.
func startAPI(t *testing.T, n int) (*httptest.Server, *recorder) {
	t.Helper()
	tables, err := generatedSeed(n).tables()
	require.NoError(t, err)
	rec := &recorder{}
	mux := http.NewServeMux()
	(&api{tables: memStores(tables), live: rec, log: livetest.Quiet()}).routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, rec
}

func do(t *testing.T, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(b, &v), "failed to decode %s", b)
	return v
}

func ids(rows []map[string]any) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = int(r["id"].(float64))
	}
	return out
}

func TestListPagingSortingFilters(t *testing.T) {
	t.Parallel()
	srv, _ := startAPI(t, 25)
	cases := []struct {
		query string
		want  []int
		total string
	}{
		{"", nil, "25"}, // all, checked by length below
		{"?_start=0&_end=3", []int{1, 2, 3}, "25"},
		{"?_start=20&_end=30", []int{21, 22, 23, 24, 25}, "25"},
		{"?_start=0&_end=3&_sort=id&_order=desc", []int{25, 24, 23}, "25"},
		{"?id=3&id=1&id=99", []int{1, 3}, "2"},
		{"?status=draft&_start=0&_end=2", []int{2, 5}, "8"},
		{"?_sort=categoryId,id&_order=desc,asc&_start=0&_end=3", []int{4, 8, 12}, "25"},
		{"?title_like=OPEN", []int{2}, "1"},
		{"?q=replayed", []int{4}, "1"},
	}
	for _, c := range cases {
		resp, body := do(t, http.MethodGet, srv.URL+"/api/posts"+c.query, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", c.query, resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-Total-Count"); got != c.total {
			t.Errorf("%s: X-Total-Count = %q, want %q", c.query, got, c.total)
		}
		if got := resp.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-Total-Count") {
			t.Errorf("%s: X-Total-Count not exposed to CORS: %q", c.query, got)
		}
		rows := decode[[]map[string]any](t, body)
		if c.want == nil {
			if len(rows) != 25 {
				t.Errorf("%s: %d rows, want 25", c.query, len(rows))
			}
			continue
		}
		assert.Equal(t, c.want, ids(rows), c.query)
	}
}

func TestListRejectsBadRange(t *testing.T) {
	t.Parallel()
	srv, _ := startAPI(t, 3)
	for _, q := range []string{"?_start=x", "?_end=-1"} {
		if resp, _ := do(t, http.MethodGet, srv.URL+"/api/posts"+q, ""); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
		}
	}
}

func TestMutationsPublishLiveEvents(t *testing.T) {
	t.Parallel()
	srv, rec := startAPI(t, 3)

	resp, body := do(t, http.MethodPost, srv.URL+"/api/posts", `{"title":"New","status":"draft","id":1}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: status %d: %s", resp.StatusCode, body)
	}
	created := decode[map[string]any](t, body)
	if created["id"] != float64(4) || created["title"] != "New" || created["createdAt"] == nil {
		t.Fatalf("create: got %v", created)
	}

	resp, body = do(t, http.MethodPatch, srv.URL+"/api/posts/4", `{"title":"Edited"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("patch: status %d: %s", resp.StatusCode, body)
	}
	if got := decode[map[string]any](t, body); got["title"] != "Edited" || got["status"] != "draft" {
		t.Fatalf("patch merged wrongly: %v", got)
	}

	resp, body = do(t, http.MethodPut, srv.URL+"/api/posts/4", `{"title":"Replaced"}`)
	if got := decode[map[string]any](t, body); resp.StatusCode != http.StatusOK || got["status"] != nil || got["id"] != float64(4) {
		t.Fatalf("put: status %d, got %v", resp.StatusCode, got)
	}

	if resp, body = do(t, http.MethodDelete, srv.URL+"/api/posts/4", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("delete: status %d: %s", resp.StatusCode, body)
	}
	if resp, _ = do(t, http.MethodGet, srv.URL+"/api/posts/4", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("get after delete: status %d, want 404", resp.StatusCode)
	}

	want := []string{"created", "updated", "updated", "deleted"}
	events := rec.take()
	if len(events) != len(want) {
		t.Fatalf("published %d events, want %d: %+v", len(events), len(want), events)
	}
	for i, ev := range events {
		if ev.Channel != "resources/posts" || ev.Type != want[i] || string(ev.Payload) != `{"ids":[4]}` {
			t.Errorf("event %d = %s %s %s, want resources/posts %s {\"ids\":[4]}", i, ev.Channel, ev.Type, ev.Payload, want[i])
		}
	}
}

func TestFailedMutationsPublishNothing(t *testing.T) {
	t.Parallel()
	srv, rec := startAPI(t, 2)
	cases := []struct {
		method, path, body string
		status             int
	}{
		{http.MethodPatch, "/api/posts/99", `{"title":"x"}`, http.StatusNotFound},
		{http.MethodDelete, "/api/posts/99", "", http.StatusNotFound},
		{http.MethodPatch, "/api/posts/1", `not json`, http.StatusBadRequest},
		{http.MethodPost, "/api/posts", `[1,2]`, http.StatusBadRequest},
		{http.MethodPost, "/api/posts", `null`, http.StatusBadRequest},
		{http.MethodGet, "/api/posts/abc", "", http.StatusNotFound},
		{http.MethodGet, "/api/nothing", "", http.StatusNotFound},
		{http.MethodGet, "/api/posts/1/extra", "", http.StatusNotFound},
	}
	for _, c := range cases {
		if resp, body := do(t, c.method, srv.URL+c.path, c.body); resp.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d: %s", c.method, c.path, resp.StatusCode, c.status, body)
		}
	}
	if events := rec.take(); len(events) != 0 {
		t.Fatalf("failed requests published %v", events)
	}
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	srv, _ := startAPI(t, 1)
	resp, _ := do(t, http.MethodOptions, srv.URL+"/api/posts/1", "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d, want 204", resp.StatusCode)
	}
	if got := resp.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "PATCH") {
		t.Fatalf("Allow-Methods %q lacks PATCH", got)
	}
}

func TestConcurrentMutations(t *testing.T) {
	t.Parallel()
	srv, rec := startAPI(t, 0)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, body := do(t, http.MethodPost, srv.URL+"/api/posts", `{"title":"c"}`); resp.StatusCode != http.StatusCreated {
				t.Errorf("create %d: status %d: %s", i, resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	resp, _ := do(t, http.MethodGet, srv.URL+"/api/posts", "")
	if got := resp.Header.Get("X-Total-Count"); got != "40" {
		t.Fatalf("total %s, want 40", got)
	}
	seen := map[string]bool{}
	for _, ev := range rec.take() {
		seen[string(ev.Payload)] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct created events, want %d", len(seen), n)
	}
}
