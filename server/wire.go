package server

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The writer does not hand each message to coder/websocket, which flushes
// every message with a write system call of its own (and takes two locks
// and a hand-off to its timeout goroutine on the way). It appends complete
// text frames to a buffer instead and writes the buffer once per drain of
// the connection's queue: a burst of messages costs one system call.
// coder/websocket keeps the handshake, the reading and the control frames
// (pongs, pings, the close handshake); those reach the socket through
// wireConn.Write, which serializes them with the writer's flushes. Both
// write only whole frames, so frames never interleave on the wire.

// wireConn is the hijacked connection as coder/websocket sees it.
type wireConn struct {
	net.Conn
	timeout time.Duration
	mu      sync.Mutex
	// writes counts the writes to the socket, each one system call (or a
	// few for a buffer larger than the socket takes at once): the figure
	// that batching and held writes exist to keep low.
	writes atomic.Uint64
	// stall, when set (by tests, under mu), runs once in the next flush:
	// it holds the writer inside a write while messages queue up.
	stall func()
	// deadline is the write deadline last set, guarded by mu.
	deadline time.Time
}

// Write is the path of coder/websocket's control frames: straight to the
// socket, never held behind the writer's buffer.
func (w *wireConn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.write(p)
}

func (w *wireConn) write(p []byte) (int, error) {
	// A deadline replaces a context per frame. It is moved only once half
	// of it has passed, so that a busy connection updates its timer once
	// in a while rather than on every write; a write may then be given
	// between half and all of the timeout.
	if now := time.Now(); w.deadline.Sub(now) < w.timeout/2 {
		w.deadline = now.Add(w.timeout)
		if err := w.Conn.SetWriteDeadline(w.deadline); err != nil {
			return 0, fmt.Errorf("failed to set the write deadline: %w", err)
		}
	}
	w.writes.Add(1)
	n, err := w.Conn.Write(p)
	if err != nil {
		return n, fmt.Errorf("failed to write frames: %w", err)
	}
	return n, nil
}

// flush writes a buffer of whole frames with one call.
func (w *wireConn) flush(frames []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f := w.stall; f != nil {
		w.stall = nil
		f()
	}
	_, err := w.write(frames)
	return err
}

// hijackWriter hands coder/websocket a wireConn instead of the raw
// connection when it hijacks the request.
type hijackWriter struct {
	http.ResponseWriter
	timeout time.Duration
	wire    *wireConn
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("failed to hijack: %T is no http.Hijacker", h.ResponseWriter)
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("failed to hijack: %w", err)
	}
	h.wire = &wireConn{Conn: nc, timeout: h.timeout}
	// The buffered writer holds nothing yet: the 101 answer has been
	// flushed before the hijack.
	brw.Writer.Reset(h.wire)
	return h.wire, brw, nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// opText is the first byte of an unfragmented text frame: FIN and opcode 1.
const opText = 0x81

// appendFrameHeader appends the header of a server's (unmasked) text
// frame of n payload bytes.
func appendFrameHeader(dst []byte, n int) []byte {
	switch {
	case n < 126:
		return append(dst, opText, byte(n))
	case n <= 0xffff:
		return append(dst, opText, 126, byte(n>>8), byte(n))
	default:
		u := uint64(n)
		return append(dst, opText, 127, byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32),
			byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
	}
}
