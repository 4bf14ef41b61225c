//go:build !js

// The server half of this test needs net/http, which the browser build of
// coder/websocket cannot serve.

package wstransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
)

const wait = 10 * time.Second

// basicServer speaks only the basic protocol of Refine's documented
// WebSocket provider: subscribe, unsubscribe, publish (broadcast to every
// subscriber, the publisher included); anything else is ignored.
type basicServer struct {
	t      *testing.T
	addr   string
	srv    *http.Server
	done   chan struct{}
	mu     sync.Mutex
	conns  map[*websocket.Conn]map[string]bool
	frames chan string // every frame received
}

func startBasicServer(t *testing.T, addr string) *basicServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	s := &basicServer{t: t, addr: ln.Addr().String(), done: make(chan struct{}), conns: make(map[*websocket.Conn]map[string]bool), frames: make(chan string, 256)}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.handle)}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	return s
}

func (s *basicServer) handle(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.conns[c] = make(map[string]bool)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.CloseNow()
	}()
	for {
		_, data, err := c.Read(r.Context())
		if err != nil {
			return
		}
		var m struct {
			Action  string          `json:"action"`
			Channel string          `json:"channel"`
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch m.Action {
		case "subscribe":
			s.mu.Lock()
			s.conns[c][m.Channel] = true
			s.mu.Unlock()
		case "unsubscribe":
			s.mu.Lock()
			delete(s.conns[c], m.Channel)
			s.mu.Unlock()
		case "publish":
			s.broadcast(m.Channel, m.Type, string(m.Payload))
		}
		// Recorded once handled, so a test that saw a subscribe can
		// broadcast to it.
		s.frames <- string(data)
	}
}

func (s *basicServer) broadcast(channel, typ, payload string) {
	frame := `{"channel":"` + channel + `","type":"` + typ + `","payload":` + payload + `}`
	s.mu.Lock()
	var targets []*websocket.Conn
	for c, subs := range s.conns {
		if subs[channel] {
			targets = append(targets, c)
		}
	}
	s.mu.Unlock()
	for _, c := range targets {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		c.Write(ctx, websocket.MessageText, []byte(frame))
		cancel()
	}
}

// stop closes every connection with "going away" and the listener.
func (s *basicServer) stop() {
	s.mu.Lock()
	var conns []*websocket.Conn
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close(websocket.StatusGoingAway, "restart")
	}
	s.srv.Close()
	<-s.done
}

func (s *basicServer) expectFrame(t *testing.T, want string) {
	t.Helper()
	s.expectFrameMatching(t, regexp.MustCompile("^"+regexp.QuoteMeta(want)+"$"))
}

func (s *basicServer) expectFrameMatching(t *testing.T, want *regexp.Regexp) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case got := <-s.frames:
			if want.MatchString(got) {
				return
			}
		case <-deadline:
			t.Fatalf("server never received %s", want)
		}
	}
}

func TestBasicServerRoundTripAndRestart(t *testing.T) {
	s := startBasicServer(t, "127.0.0.1:0")
	addr := s.addr
	events := make(chan provider.Event, 64)
	c, err := provider.New(provider.Config{
		URLs:         []string{"ws://" + addr + "/"},
		Transport:    &wstransport.Transport{},
		HelloTimeout: 100 * time.Millisecond,
		MinDelay:     10 * time.Millisecond,
		MaxDelay:     100 * time.Millisecond,
	})
	require.NoError(t, err)
	defer c.Close()
	sub, err := c.Subscribe(provider.SubscribeOptions{Channel: "resources/posts", Callback: func(e provider.Event) { events <- e }})
	require.NoError(t, err)
	// Auto mode: the hello goes first and the basic server ignores it, as
	// it ignores the first subscribe's age.
	s.expectFrame(t, `{"action":"hello","protocol":"refine-live.v1","batch":true,"maxMessage":1048576}`)
	s.expectFrameMatching(t, regexp.MustCompile(`^\{"action":"subscribe","channel":"resources/posts","age":\d+\}$`))

	s.broadcast("resources/posts", "updated", `{"ids":[1]}`)
	if e := livetest.Recv(t, events); e.Type != "updated" || string(e.Payload) != `{"ids":[1]}` || e.Resync != "" {
		t.Fatalf("event %+v", e)
	}
	require.Eventually(t, func() bool { return c.Status() == provider.StatusOpen && sub.State() == provider.SubSubscribed }, wait, 5*time.Millisecond)

	require.NoError(t, c.Publish(provider.PublishEvent{Channel: "resources/posts", Type: "created", Payload: json.RawMessage(`{"ids":[2]}`)}))
	s.expectFrame(t, `{"action":"publish","channel":"resources/posts","type":"created","payload":{"ids":[2]}}`)
	if e := livetest.Recv(t, events); e.Type != "created" {
		t.Fatalf("event %+v", e)
	}

	// Restart the server on the same port.
	s.stop()
	require.Eventually(t, func() bool { return c.Status() == provider.StatusReconnecting }, wait, 5*time.Millisecond)
	s = startBasicServer(t, addr)
	defer s.stop()
	s.expectFrame(t, `{"action":"subscribe","channel":"resources/posts"}`)
	if e := livetest.Recv(t, events); e.Type != "*" || e.Resync != "reconnect" {
		t.Fatalf("got %+v, want the resync event", e)
	}
	s.broadcast("resources/posts", "deleted", `{"ids":[1]}`)
	if e := livetest.Recv(t, events); e.Type != "deleted" {
		t.Fatalf("event %+v", e)
	}
	c.Close()
	if c.Status() != provider.StatusClosed {
		t.Fatalf("status %s after Close", c.Status())
	}
}

func TestDialFailure(t *testing.T) {
	tr := &wstransport.Transport{}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := tr.Dial(ctx, "ws://127.0.0.1:1/"); err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
}

func TestCloseErrorSurfaces(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Close(websocket.StatusCode(protocol.CloseUnauthorized), `{"message":"no"}`)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	defer func() { srv.Close(); <-done }()

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, err := (&wstransport.Transport{ReadLimit: 1024}).Dial(ctx, "ws://"+ln.Addr().String()+"/")
	require.NoError(t, err)
	_, err = conn.Read(ctx)
	var ce *provider.CloseError
	if !errors.As(err, &ce) || ce.Code != protocol.CloseUnauthorized || ce.Reason != `{"message":"no"}` {
		t.Fatalf("read error %v, want close 4500", err)
	}
	if err := conn.Write(ctx, []byte("{}")); err == nil {
		t.Fatal("write after close succeeded")
	}
	conn.Close(protocol.CloseNormal, "")
}
