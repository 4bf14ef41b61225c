package natsbroker

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/natstest"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every condition a test waits for; tick is how often it is
// checked.
const (
	wait = 20 * time.Second
	tick = 5 * time.Millisecond
)

// connect opens a NATS connection that reconnects forever and quickly.
func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond),
		nats.ReconnectJitter(0, 0), nats.Timeout(2*time.Second), nats.ReconnectBufSize(-1))
	require.NoError(t, err, "failed to connect to NATS")
	t.Cleanup(nc.Close)
	return nc
}

func newBroker(t testing.TB, e *natstest.Server, opts Options) *Broker {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = livetest.Quiet()
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	b, err := New(ctx, connect(t, e.URL()), opts)
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

func startNode(t testing.TB, e *natstest.Server, opts Options) *node {
	t.Helper()
	n := &node{broker: newBroker(t, e, opts)}
	n.srv = server.New(server.Config{
		Broker: n.broker, Logger: livetest.Quiet(), SendQueue: 4096,
		MessageRate: 10000, MessageBurst: 10000,
		RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
	})
	n.hs = httptest.NewServer(n.srv)
	n.url = livetest.WSURL(n.hs.URL)
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
