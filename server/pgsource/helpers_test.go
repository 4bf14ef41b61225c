package pgsource_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/pgtest"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/pgsource"
)

// harness is a real PostgreSQL, a real server with the source publishing
// into it, and the real client engine over loopback.
type harness struct {
	pg   *pgtest.Server
	live *server.Server
	ws   string
	src  *pgsource.Source
}

func newHarness(t *testing.T, pg *pgtest.Server, cfg pgsource.Config) *harness {
	t.Helper()
	// The history counts as whole from before the test: a first subscribe
	// then replays rather than resyncs.
	broker := server.NewMemoryBroker(server.MemoryOptions{HistoryStart: time.Now().Add(-time.Hour)})
	t.Cleanup(func() { _ = broker.Close() })
	return newHarnessOn(t, pg, cfg, broker)
}

// newHarnessOn is newHarness on the given broker.
func newHarnessOn(t *testing.T, pg *pgtest.Server, cfg pgsource.Config, broker server.Broker) *harness {
	t.Helper()
	h := &harness{pg: pg}
	var src *pgsource.Source
	var mu sync.Mutex
	h.live = server.New(server.Config{Broker: broker, Logger: livetest.Logger(t), Degraded: func() string {
		mu.Lock()
		defer mu.Unlock()
		return src.Degraded()
	}})
	h.ws = livetest.Serve(t, h.live.Handler(), nil).WSURL
	cfg.URL = pg.URL()
	if cfg.Logger == nil {
		cfg.Logger = livetest.Logger(t)
	}
	cfg.Registerer = h.live.MetricsRegistry()
	cfg.RetryMin, cfg.RetryMax = 50*time.Millisecond, 500*time.Millisecond
	s, err := pgsource.New(cfg, h.live)
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	mu.Lock()
	src = s
	mu.Unlock()
	h.src = s
	t.Cleanup(func() { _ = s.Close() })
	require.Eventually(t, func() bool {
		st, _ := s.State()
		return st == pgsource.StateStreaming
	}, 10*time.Second, 10*time.Millisecond, "the source to stream")
	return h
}

// subscribe opens a client on channel and waits until it is subscribed.
func (h *harness) subscribe(t *testing.T, channels ...string) *livetest.Events {
	t.Helper()
	c := livetest.QuietEngine(t, h.ws)
	e := &livetest.Events{}
	for _, ch := range channels {
		livetest.Subscribe(t, c, ch, e)
	}
	return e
}

// shape is an event reduced to what the mapping decides.
type shape struct {
	Channel, Type, Payload string
}

func shapes(evs []provider.Event) []shape {
	out := make([]shape, 0, len(evs))
	for _, e := range evs {
		var p any
		_ = json.Unmarshal(e.Payload, &p)
		b, _ := json.Marshal(p)
		out = append(out, shape{e.Channel, e.Type, string(b)})
	}
	return out
}

func eventOn(channel string) server.Event {
	return server.Event{Channel: channel, Type: "created", Payload: json.RawMessage(`{}`)}
}

// scrape is the server's metrics page.
func scrape(t *testing.T, h *harness) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.live.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// health is the server's health check: its status code and body.
func health(h *harness) string {
	rec := httptest.NewRecorder()
	h.live.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	return strconv.Itoa(rec.Code) + " " + rec.Body.String()
}

// checkOnce asserts that evs are the creations of rows 0..n-1, each once,
// in order, with no resync.
func checkOnce(t *testing.T, evs []provider.Event, n int) {
	t.Helper()
	seen := map[string]bool{}
	next := 0
	for _, e := range evs {
		if e.Resync != "" {
			t.Fatalf("resync event %+v", e)
		}
		if seen[e.ID] {
			t.Fatalf("event %s delivered twice", e.ID)
		}
		seen[e.ID] = true
		var p struct{ IDs []int }
		if err := json.Unmarshal(e.Payload, &p); err != nil || len(p.IDs) != 1 {
			t.Fatalf("payload %s", e.Payload)
		}
		if p.IDs[0] != next {
			t.Fatalf("row %d arrived where %d was due", p.IDs[0], next)
		}
		next++
	}
	if next != n {
		t.Fatalf("%d rows, want %d", next, n)
	}
}
