package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// errConnClosed is returned by sendWait once the connection is closing.
var errConnClosed = errors.New("connection closing")

// conn is one WebSocket connection. The reader goroutine (ServeHTTP's)
// handles frames one at a time, so everything it alone touches needs no
// lock; the writer goroutine is the only one that writes to the socket.
type conn struct {
	srv     *Server
	ws      *websocket.Conn
	log     *slog.Logger
	session string

	// extended is decided before the first subscription and never changes
	// afterwards; the hub reads it under its channel lock.
	extended   atomic.Bool
	levelKnown bool
	helloSent  bool

	out      chan []byte   // bounded send queue
	closing  chan struct{} // closed by the first close request
	once     sync.Once
	code     websocket.StatusCode
	reason   string
	flush    bool // send what is queued before the close frame
	writerWG sync.WaitGroup
	lastRead atomic.Int64 // unix nanoseconds of the last inbound frame or pong

	// Reader-owned state.
	subs        map[string]*subscription
	limiter     *rate.Limiter
	violations  int
	badMessages int
	identity    *Identity
	authed      atomic.Bool
	expiry      *time.Timer
}

// requestClose asks the writer to close the connection with code; only
// the first request counts.
func (c *conn) requestClose(code protocol.CloseCode, reason string, flush bool, metricReason string) {
	c.once.Do(func() {
		c.code, c.reason, c.flush = websocket.StatusCode(code), reason, flush
		if metricReason != "" {
			c.srv.metrics.disconnects.WithLabelValues(metricReason).Inc()
		}
		c.log.Debug("closing connection", "code", int(code), "reason", reason)
		close(c.closing)
	})
}

// closeWith closes after what is already queued, so that the errors that
// led to the close reach the client first.
func (c *conn) closeWith(code protocol.CloseCode, msg, metricReason string) {
	c.requestClose(code, protocol.CloseReason{Message: msg}.Encode(), true, metricReason)
}

// closeSlow closes without flushing: the queue is what the client could not
// keep up with.
func (c *conn) closeSlow() {
	reason := protocol.CloseReason{Message: "send queue overflowed"}.Encode()
	c.requestClose(protocol.CloseSlowConsumer, reason, false, "slow_consumer")
}

// trySend queues b without blocking; a full queue makes c a slow consumer.
func (c *conn) trySend(b []byte) bool {
	select {
	case <-c.closing:
		return false
	default:
	}
	select {
	case c.out <- b:
		return true
	default:
		c.closeSlow()
		return false
	}
}

// sendWait queues b, waiting for room. Only the reader uses it, for its own
// replies and replays, so a slow client only slows its own reads.
func (c *conn) sendWait(ctx context.Context, b []byte) error {
	select {
	case c.out <- b:
		return nil
	case <-c.closing:
		return errConnClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send encodes a control message and queues it.
func (c *conn) send(ctx context.Context, m *protocol.ServerMessage) error {
	return c.sendWait(ctx, protocol.AppendServer(make([]byte, 0, 128), m))
}

func (c *conn) touch() { c.lastRead.Store(time.Now().UnixNano()) }

// writeLoop drains the queue, pings, watches liveness and finally performs
// the close handshake. It is the only goroutine writing to ws.
func (c *conn) writeLoop(ctx context.Context) {
	defer c.writerWG.Done()
	hb := c.srv.cfg.Heartbeat
	ticker := time.NewTicker(hb)
	defer ticker.Stop()
	var pings sync.WaitGroup
	defer pings.Wait()
	for {
		select {
		case b := <-c.out:
			if err := c.write(ctx, b); err != nil {
				c.log.Debug("write failed", "err", err)
				c.requestClose(protocol.CloseAbnormal, "", false, "")
				_ = c.ws.CloseNow()
				return
			}
		case <-ticker.C:
			idle := time.Since(time.Unix(0, c.lastRead.Load()))
			if idle > 2*hb {
				c.closeWith(protocol.CloseHeartbeatTimeout, "no frame within twice the heartbeat", "heartbeat")
				continue
			}
			if c.extended.Load() {
				if err := c.write(ctx, []byte(`{"action":"ping"}`)); err != nil {
					c.requestClose(protocol.CloseAbnormal, "", false, "")
					_ = c.ws.CloseNow()
					return
				}
				continue
			}
			// A basic client has no ping message; browsers answer WebSocket
			// pings themselves, and the pong updates lastRead.
			pings.Add(1)
			go func() {
				defer pings.Done()
				pctx, cancel := context.WithTimeout(ctx, hb)
				defer cancel()
				_ = c.ws.Ping(pctx)
			}()
		case <-c.closing:
			c.finish(ctx)
			return
		}
	}
}

func (c *conn) write(ctx context.Context, b []byte) error {
	wctx, cancel := context.WithTimeout(ctx, c.srv.cfg.WriteTimeout)
	defer cancel()
	return c.ws.Write(wctx, websocket.MessageText, b)
}

// finish writes what the close request wants flushed, then the close frame.
func (c *conn) finish(ctx context.Context) {
	if c.code == websocket.StatusCode(protocol.CloseAbnormal) {
		_ = c.ws.CloseNow()
		return
	}
	if c.flush {
	drain:
		for {
			select {
			case b := <-c.out:
				if err := c.write(ctx, b); err != nil {
					_ = c.ws.CloseNow()
					return
				}
			default:
				break drain
			}
		}
	}
	_ = c.ws.Close(c.code, c.reason)
}
