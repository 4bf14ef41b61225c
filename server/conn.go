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
	wire    *wireConn // what ws writes to; the writer's frames go straight to it
	log     *slog.Logger
	session string

	// extended is decided before the first subscription and never changes
	// afterwards; the hub reads it under its channel lock.
	extended   atomic.Bool
	levelKnown bool
	helloSent  bool

	queue    *sendQueue
	closing  chan struct{} // closed by the first close request
	once     sync.Once
	code     websocket.StatusCode
	reason   string
	flush    bool // send what is queued before the close frame
	writerWG sync.WaitGroup
	lastRead atomic.Int64 // unix nanoseconds of the last inbound frame or pong

	// frameLimit is the largest batched frame for a client whose hello
	// asked for batches, 0 for any other; helloOut is the server's hello
	// as queued. The reader sets both before queueing that hello, so the
	// writer, which reads them once it has the hello, needs no lock.
	frameLimit int
	helloOut   []byte
	// batching is the writer's own: set once the hello has been written,
	// since the client splits only the frames that follow it.
	batching bool
	// spare is the writer's own: the slice it gives the queue in exchange
	// for the messages it takes.
	spare [][]byte

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
	if c.queue.push(b) {
		return true
	}
	c.closeSlow()
	return false
}

// sendWait queues b, waiting for room. Only the reader uses it, for its own
// replies and replays, so a slow client only slows its own reads.
func (c *conn) sendWait(ctx context.Context, b []byte) error {
	for !c.queue.push(b) {
		select {
		case <-c.queue.room:
		case <-c.closing:
			return errConnClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// send encodes a control message and queues it.
func (c *conn) send(ctx context.Context, m *protocol.ServerMessage) error {
	return c.sendWait(ctx, protocol.AppendServer(make([]byte, 0, 128), m))
}

func (c *conn) touch() { c.lastRead.Store(time.Now().UnixNano()) }
