package pgsource_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
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
	h.live = server.New(server.Config{Broker: broker, Logger: testLogger(t), Degraded: func() string {
		mu.Lock()
		defer mu.Unlock()
		return src.Degraded()
	}})
	hs := httptest.NewServer(h.live.Handler())
	t.Cleanup(hs.Close)
	h.ws = "ws" + strings.TrimPrefix(hs.URL, "http") + "/live"
	cfg.URL = pg.URL()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
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
	waitFor(t, 10*time.Second, "the source to stream", func() bool {
		st, _ := s.State()
		return st == pgsource.StateStreaming
	})
	return h
}

// events collects what one subscriber receives.
type events struct {
	mu  sync.Mutex
	got []provider.Event
}

func (e *events) add(ev provider.Event) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
}

func (e *events) all() []provider.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]provider.Event(nil), e.got...)
}

// subscribe opens a client on channel and waits until it is subscribed.
func (h *harness) subscribe(t *testing.T, channels ...string) *events {
	t.Helper()
	c, err := provider.New(provider.Config{URLs: []string{h.ws}, Transport: &wstransport.Transport{}, OnError: func(error) {}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	e := &events{}
	for _, ch := range channels {
		sub, err := c.Subscribe(provider.SubscribeOptions{Channel: ch, Callback: e.add})
		require.NoError(t, err)
		waitFor(t, 5*time.Second, "subscribed to "+ch, func() bool {
			return sub.State() == provider.SubSubscribed
		})
	}
	return e
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
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

// testLogger writes to the test's log, shown when it fails or with -v.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func eventOn(channel string) server.Event {
	return server.Event{Channel: channel, Type: "created", Payload: json.RawMessage(`{}`)}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func wsTransport() provider.Transport { return &wstransport.Transport{} }
