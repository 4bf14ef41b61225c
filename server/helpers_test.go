package server

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait is the upper bound for anything a test waits for. It only turns a
// hang into a failure; no test relies on it for timing.
const wait = 10 * time.Second

// tick is how often a test polls server-side state that the protocol
// does not report (basic subscriptions, connection counts).
const tick = time.Millisecond

type testServer struct {
	*Server
	URL   string // http://127.0.0.1:port
	WSURL string // ws://127.0.0.1:port/live
}

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = livetest.Quiet()
	}
	own := cfg.Broker == nil
	if own {
		cfg.Broker = testBroker(MemoryOptions{})
	}
	s := New(cfg)
	s.ownBroker = own
	ep := livetest.Serve(t, s.Handler(), s.Shutdown)
	return &testServer{Server: s, URL: ep.URL, WSURL: ep.WSURL}
}

// subscribers counts the connections registered on a channel in the hub.
func (s *Server) subscribers(channel string) int {
	s.hub.mu.Lock()
	ch := s.hub.chans[channel]
	s.hub.mu.Unlock()
	if ch == nil {
		return 0
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return len(ch.subs)
}

// publishReaches publishes an event without payload through Publish and
// checks that it is the next frame c receives, in the basic form.
func (s *Server) publishReaches(t testing.TB, c *livetest.Conn, channel, typ string) {
	t.Helper()
	if _, err := s.Publish(context.Background(), Event{Channel: channel, Type: typ}); err != nil {
		t.Fatal(err)
	}
	want := `{"channel":` + strconv.Quote(channel) + `,"type":` + strconv.Quote(typ) + `,"payload":{}}`
	if got := string(c.NextRaw()); got != want {
		t.Fatalf("got %.80s, want %s", got, want)
	}
}

func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func counterValue(t testing.TB, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, c.Write(&m))
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func post(t testing.TB, url, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func io_copy(dst io.Writer, resp *http.Response) (int64, error) { return io.Copy(dst, resp.Body) }

// testBroker is an in-memory broker whose history reaches back an hour, as
// a server's that has been up that long: a client subscribing right after
// the test started it is not told to refetch.
func testBroker(opts MemoryOptions) *MemoryBroker {
	opts.HistoryStart = time.Now().Add(-time.Hour)
	return NewMemoryBroker(opts)
}
