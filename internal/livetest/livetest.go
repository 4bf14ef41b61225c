package livetest

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Wait bounds what a helper waits for. It only turns a hang into a
// failure; no test relies on it for timing.
const Wait = 10 * time.Second

// Quiet is a logger that drops everything.
func Quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Logger writes to the test's log, shown when it fails or with -v.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlog struct{ t testing.TB }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// FreeAddr is a loopback host:port nothing listened on a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// FreePort is the port of FreeAddr.
func FreePort(t testing.TB) int {
	t.Helper()
	addr, err := net.ResolveTCPAddr("tcp", FreeAddr(t))
	require.NoError(t, err)
	return addr.Port
}

// Endpoint is a handler served on loopback.
type Endpoint struct {
	URL   string // http://127.0.0.1:port
	WSURL string // ws://127.0.0.1:port/live
	HTTP  *httptest.Server
}

// Serve serves h on loopback until the test ends; then shutdown, when not
// nil, runs before the listener closes, as on SIGTERM.
func Serve(t testing.TB, h http.Handler, shutdown func(context.Context) error) *Endpoint {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		if shutdown != nil {
			ctx, cancel := context.WithTimeout(context.Background(), Wait)
			defer cancel()
			assert.NoError(t, shutdown(ctx), "shutdown")
		}
		hs.Close()
	})
	return &Endpoint{URL: hs.URL, WSURL: WSURL(hs.URL), HTTP: hs}
}

// WSURL is the WebSocket endpoint of the server at base (http://host:port).
func WSURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "/live" }
