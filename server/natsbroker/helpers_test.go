package natsbroker

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/refine-live-wasm/refine-live-wasm/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every condition a test waits for.
const wait = 20 * time.Second

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// embedded is an in-process NATS server with JetStream on a random port
// and a temporary store; restart brings it back on the same port and store.
type embedded struct {
	t    testing.TB
	dir  string
	port int
	mu   sync.Mutex
	srv  *natsserver.Server
}

func startNATS(t testing.TB) *embedded {
	t.Helper()
	e := &embedded{t: t, dir: t.TempDir(), port: -1}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *embedded) start() {
	e.t.Helper()
	opts := &natsserver.Options{
		Host: "127.0.0.1", Port: e.port, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: e.dir,
	}
	s, err := natsserver.NewServer(opts)
	require.NoError(e.t, err, "failed to create nats-server")
	go s.Start()
	if !s.ReadyForConnections(wait) {
		e.t.Fatal("nats-server did not start")
	}
	e.mu.Lock()
	e.srv = s
	e.port = s.Addr().(*net.TCPAddr).Port
	e.mu.Unlock()
}

func (e *embedded) stop() {
	e.mu.Lock()
	s := e.srv
	e.srv = nil
	e.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

func (e *embedded) url() string { return "nats://127.0.0.1:" + itoa(e.port) }

func itoa(n int) string { return strconv.Itoa(n) }

// connect opens a NATS connection that reconnects forever and quickly.
func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond),
		nats.ReconnectJitter(0, 0), nats.Timeout(2*time.Second), nats.ReconnectBufSize(-1))
	require.NoError(t, err, "failed to connect to NATS")
	t.Cleanup(nc.Close)
	return nc
}

func newBroker(t testing.TB, e *embedded, opts Options) *Broker {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	b, err := New(ctx, connect(t, e.url()), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// node is one liveserver node on its own NATS connection.
type node struct {
	broker *Broker
	srv    *server.Server
	hs     *httptest.Server
	url    string
	once   sync.Once
}

func startNode(t testing.TB, e *embedded, opts Options) *node {
	t.Helper()
	n := &node{broker: newBroker(t, e, opts)}
	n.srv = server.New(server.Config{
		Broker: n.broker, Logger: quietLogger(), SendQueue: 4096,
		MessageRate: 10000, MessageBurst: 10000,
		RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
	})
	n.hs = httptest.NewServer(n.srv)
	n.url = "ws" + strings.TrimPrefix(n.hs.URL, "http")
	t.Cleanup(n.stop)
	return n
}

// stop shuts the node down as SIGTERM does: clients get 4000 with a retry
// hint, then the listener closes so that redials are refused.
func (n *node) stop() {
	n.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = n.srv.Shutdown(ctx)
		n.hs.Close()
		_ = n.broker.Close()
	})
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
