package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Server is the refine-live server. It is an http.Handler for the
// WebSocket endpoint; Handler adds POST /publish, GET /healthz and GET
// /metrics around it.
type Server struct {
	cfg       Config
	broker    Broker
	ownBroker bool
	hub       *hub
	metrics   *metrics
	node      string
	nextID    atomic.Uint64
	mu        sync.Mutex
	conns     map[*conn]struct{}
	closing   bool
	connsDone sync.WaitGroup
}

// New returns a Server with cfg's defaults filled in.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, broker: cfg.Broker, metrics: newMetrics(), conns: make(map[*conn]struct{})}
	if s.broker == nil {
		s.broker = NewMemoryBroker(MemoryOptions{})
		s.ownBroker = true
	}
	s.hub = newHub(s.broker, s.metrics)
	s.node = randomHex(4)
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Handler returns a mux serving the WebSocket endpoint at /live,
// POST /publish, GET /healthz and GET /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/live", s)
	mux.Handle("/publish", s.PublishHandler())
	mux.Handle("/healthz", s.HealthHandler())
	mux.Handle("/metrics", s.MetricsHandler())
	return mux
}

// Publish stores ev and delivers it to every subscriber. ev.ID may be
// empty (one is generated) or a client-style ref, in which case publishing
// it again while it is in the channel's history is a no-op returning the
// original. The returned event carries its position. An event that breaks
// the event rules (docs/server.md), which a client's publish and POST
// /publish obey too, is refused with an error matching ErrInvalidEvent.
func (s *Server) Publish(ctx context.Context, ev Event) (Event, error) {
	return s.publish(ctx, ev, "api")
}

// publish is the one path of every entry point: normalize and check, then
// store.
func (s *Server) publish(ctx context.Context, ev Event, source string) (Event, error) {
	if err := s.check(&ev); err != nil {
		return Event{}, err
	}
	return s.store(ctx, ev, source)
}

// check is publish's validation alone, for a request that checks all its
// events before storing any.
func (s *Server) check(ev *Event) error {
	if err := ev.prepare(s.cfg.MaxMessage); err != nil {
		return fmt.Errorf("failed to publish: %w: %w", ErrInvalidEvent, err)
	}
	return nil
}

// store publishes an event that check accepted.
func (s *Server) store(ctx context.Context, ev Event, source string) (Event, error) {
	if ev.ID == "" {
		// Node prefix plus counter: unique without coordination, and
		// inside the character set of refs.
		ev.ID = s.node + "-" + strconv.FormatUint(s.nextID.Add(1), 36)
	}
	stored, dup, err := s.broker.Publish(ctx, ev)
	if err != nil {
		return Event{}, fmt.Errorf("failed to publish: %w", err)
	}
	if !dup {
		s.metrics.eventsIn.WithLabelValues(source).Inc()
	}
	return stored, nil
}

// ServeHTTP accepts a WebSocket connection and serves it until it closes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.checkOrigin(r); err != nil {
		s.refuseOrigin(w, r, err)
		return
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	s.connsDone.Add(1)
	s.mu.Unlock()
	defer s.connsDone.Done()

	c := &conn{
		srv:     s,
		session: randomHex(8),
		queue:   newSendQueue(s.cfg.SendQueue),
		closing: make(chan struct{}),
		subs:    make(map[string]*subscription),
		limiter: rate.NewLimiter(s.cfg.MessageRate, s.cfg.MessageBurst),
	}
	c.log = s.cfg.Logger.With("session", c.session, "remote", r.RemoteAddr)
	hw := &hijackWriter{ResponseWriter: w, timeout: s.cfg.WriteTimeout}
	ws, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		Subprotocols: []string{protocol.Version},
		// The writer frames messages itself (wire.go): no extension may
		// change the framing.
		CompressionMode: websocket.CompressionDisabled,
		// checkOrigin has decided, with the loopback default that
		// OriginPatterns cannot express.
		InsecureSkipVerify: true,
		OnPongReceived:     func(context.Context, []byte) { c.touch() },
	})
	if err != nil {
		// Accept has written the HTTP error (a request that is no
		// WebSocket handshake).
		s.metrics.drops.WithLabelValues("handshake").Inc()
		c.log.Info("handshake refused", "err", err, "origin", r.Header.Get("Origin"))
		return
	}
	c.ws, c.wire = ws, hw.wire
	ws.SetReadLimit(int64(s.cfg.MaxMessage))
	c.touch()
	if !s.track(c) {
		_ = ws.Close(websocket.StatusCode(protocol.CloseShutdown),
			protocol.CloseReason{Message: "server shutting down", RetryAfter: s.retryHint()}.Encode())
		return
	}
	defer s.untrack(c)
	s.metrics.connections.WithLabelValues("pending").Inc()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.writerWG.Add(1)
	go c.writeLoop(ctx)
	c.serve(ctx, r)

	// Reader done: leave the hub before waiting for the writer so that no
	// event is queued to a dead connection for longer than needed.
	for name := range c.subs {
		c.unsubscribe(name)
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.requestClose(protocol.CloseAbnormal, "", false, "")
	c.writerWG.Wait()
	level := "pending"
	if c.levelKnown {
		level = map[bool]string{true: "extended", false: "basic"}[c.extended.Load()]
	}
	s.metrics.connections.WithLabelValues(level).Dec()
}

// serve authenticates from the handshake when it can, sends the hello to a
// subprotocol client, then reads.
func (c *conn) serve(ctx context.Context, r *http.Request) {
	if c.ws.Subprotocol() == protocol.Version {
		c.setLevel(true)
		if err := c.sendHello(ctx); err != nil {
			return
		}
	}
	if a := c.srv.cfg.Authenticator; a != nil {
		if tok := handshakeToken(r); tok != "" {
			c.authenticate(ctx, tok)
		}
		if !c.authed.Load() {
			t := time.AfterFunc(c.srv.cfg.AuthTimeout, func() {
				if !c.authed.Load() {
					c.closeWith(protocol.CloseUnauthorized, "authentication timed out", "auth")
				}
			})
			defer t.Stop()
		}
	}
	c.readLoop(ctx)
}

// handshakeToken reads the token from the "token" query parameter (the
// only place a browser WebSocket can put one) or a bearer header.
func handshakeToken(r *http.Request) string {
	if tok := r.URL.Query().Get("token"); tok != "" {
		return tok
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(tok)
	}
	return ""
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// retryHint spreads reconnects uniformly over [RetryMin, RetryMax].
func (s *Server) retryHint() time.Duration {
	span := s.cfg.RetryMax - s.cfg.RetryMin
	if span <= 0 {
		return s.cfg.RetryMin
	}
	return s.cfg.RetryMin + mrand.N(span+1)
}

// Shutdown stops accepting connections, closes every open one with 4000
// and a retry hint spread across clients (after writing what was already
// queued to it), and waits for them to finish or ctx to end, after which
// the remaining connections are dropped. A broker the Server created is
// closed; one given in Config is not.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		reason := protocol.CloseReason{Message: "server shutting down", RetryAfter: s.retryHint()}.Encode()
		c.requestClose(protocol.CloseShutdown, reason, true, "shutdown")
	}
	done := make(chan struct{})
	go func() {
		s.connsDone.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			_ = c.ws.CloseNow()
		}
		s.mu.Unlock()
		<-done
		err = fmt.Errorf("failed to close connections gracefully: %w", ctx.Err())
	}
	if s.ownBroker {
		if cerr := s.broker.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("failed to close broker: %w", cerr)
		}
	}
	return err
}
