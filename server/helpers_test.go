package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait is the upper bound for anything a test waits for. It only turns a
// hang into a failure; no test relies on it for timing.
const wait = 10 * time.Second

type testServer struct {
	*Server
	URL   string // http://127.0.0.1:port
	WSURL string // ws://127.0.0.1:port/live
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	own := cfg.Broker == nil
	if own {
		cfg.Broker = testBroker(MemoryOptions{})
	}
	s := New(cfg)
	s.ownBroker = own
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
	})
	return &testServer{Server: s, URL: hs.URL, WSURL: "ws" + strings.TrimPrefix(hs.URL, "http") + "/live"}
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

func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// waitFor polls cond until it holds; for server-side state that the
// protocol does not report (basic subscriptions).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// client is a raw WebSocket client that reads every frame into a channel.
type client struct {
	t      testing.TB
	ws     *websocket.Conn
	frames chan []byte
	done   chan struct{}
	err    error // read error, valid after done
}

func dial(t testing.TB, url string, opts *websocket.DialOptions) *client {
	t.Helper()
	c, err := tryDial(url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.t = t
	t.Cleanup(func() { c.ws.CloseNow(); <-c.done })
	return c
}

func tryDial(url string, opts *websocket.DialOptions) (*client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	c := &client{ws: ws, frames: make(chan []byte, 1<<16), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				c.err = err
				return
			}
			c.frames <- b
		}
	}()
	return c, nil
}

// dialExtended connects with the in-band hello and reads the server's.
func dialExtended(t testing.TB, url string) (*client, protocol.ServerMessage) {
	t.Helper()
	c := dial(t, url, nil)
	c.sendMsg(&protocol.ClientMessage{Action: protocol.ActionHello, Protocol: protocol.Version})
	hello := c.next()
	if hello.Action != protocol.ActionHello || hello.Protocol != protocol.Version {
		t.Fatalf("want hello, got %+v", hello)
	}
	return c, hello
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) sendMsg(m *protocol.ClientMessage) {
	c.t.Helper()
	c.sendRaw(string(protocol.AppendClient(nil, m)))
}

func (c *client) nextRaw() []byte {
	c.t.Helper()
	select {
	case b := <-c.frames:
		return b
	case <-c.done:
		select {
		case b := <-c.frames:
			return b
		default:
		}
		c.t.Fatalf("connection ended while waiting for a frame: %v", c.err)
	case <-time.After(wait):
		c.t.Fatalf("timed out waiting for a frame")
	}
	return nil
}

func (c *client) next() protocol.ServerMessage {
	c.t.Helper()
	b := c.nextRaw()
	var m protocol.ServerMessage
	if err := protocol.DecodeServer(b, 1<<20, &m); err != nil {
		c.t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// nextNonPing skips heartbeat pings.
func (c *client) nextNonPing() protocol.ServerMessage {
	c.t.Helper()
	for {
		m := c.next()
		if m.Action != protocol.ActionPing {
			return m
		}
	}
}

// closed waits for the connection to end and returns the server's close
// status and reason.
func (c *client) closed() (protocol.CloseCode, protocol.CloseReason) {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(wait):
		c.t.Fatalf("timed out waiting for close")
	}
	var ce websocket.CloseError
	if !errors.As(c.err, &ce) {
		return protocol.CloseAbnormal, protocol.CloseReason{}
	}
	return protocol.CloseCode(ce.Code), protocol.ParseCloseReason(ce.Reason)
}

func counterValue(t testing.TB, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func post(t testing.TB, url, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
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
