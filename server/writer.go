package server

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// drainBytes bounds the messages of one write, so that a long backlog goes
// out in writes of a sensible size.
const drainBytes = 64 << 10

// maxSpare is the largest message slice a writer keeps between drains; a
// larger one (left by a burst) goes to the garbage collector, so that an
// idle connection holds little.
const maxSpare = 32

// maxPooledOut is the largest write buffer kept for reuse; a larger one (a
// drain of big events) is left to the garbage collector.
const maxPooledOut = 1 << 20

// drainBuf is one write's buffer. Buffers are pooled rather than kept per
// connection: an idle connection then holds none.
type drainBuf struct {
	out []byte
}

var drainPool = sync.Pool{New: func() any { return &drainBuf{out: make([]byte, 0, 16<<10)} }}

func (d *drainBuf) release() {
	if cap(d.out) > maxPooledOut {
		d.out = nil
	}
	drainPool.Put(d)
}

var pingMessage = []byte(`{"action":"ping"}`)

// writeLoop drains the queue, pings, watches liveness and finally performs
// the close handshake. It is the only goroutine writing messages.
func (c *conn) writeLoop(ctx context.Context) {
	defer c.writerWG.Done()
	hb := c.srv.cfg.Heartbeat
	ticker := time.NewTicker(hb)
	defer ticker.Stop()
	var pings sync.WaitGroup
	defer pings.Wait()
	for {
		select {
		case <-c.queue.wake:
			if err := c.drain(); err != nil {
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
				if err := c.writeAlone(pingMessage); err != nil {
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
			c.finish()
			return
		}
	}
}

// drain writes everything queued, with one write per drainBytes of
// messages: a lone message leaves at once, a burst costs one system call.
func (c *conn) drain() error {
	all := c.queue.take(c.spare)
	defer func() {
		clear(all) // the shared frames must not outlive their delivery
		c.spare = nil
		if cap(all) <= maxSpare {
			c.spare = all[:0]
		}
	}()
	for msgs := all; len(msgs) > 0; {
		n, size := 1, len(msgs[0])
		for n < len(msgs) && size+len(msgs[n]) <= drainBytes {
			size += len(msgs[n])
			n++
		}
		d := drainPool.Get().(*drainBuf)
		d.out = c.appendFrames(d.out[:0], msgs[:n])
		err := c.wire.flush(d.out)
		d.release()
		if err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

// appendFrames writes msgs as text frames: one message per frame, or for a
// batching client, after its hello, as many per frame as frameLimit allows,
// separated by newlines. A message longer than the limit gets a frame of
// its own.
func (c *conn) appendFrames(out []byte, msgs [][]byte) []byte {
	for i := 0; i < len(msgs); {
		if !c.batching {
			m := msgs[i]
			out = appendFrameHeader(out, len(m))
			out = append(out, m...)
			if c.frameLimit > 0 && len(m) > 0 && len(c.helloOut) > 0 && &m[0] == &c.helloOut[0] {
				c.batching = true
			}
			i++
			continue
		}
		n, j := len(msgs[i]), i+1
		for j < len(msgs) && n+1+len(msgs[j]) <= c.frameLimit {
			n += 1 + len(msgs[j])
			j++
		}
		out = appendFrameHeader(out, n)
		out = append(out, msgs[i]...)
		for _, m := range msgs[i+1 : j] {
			out = append(out, protocol.BatchSeparator)
			out = append(out, m...)
		}
		i = j
	}
	return out
}

// writeAlone writes one message in a frame of its own, valid at either
// level and before or after the hello.
func (c *conn) writeAlone(m []byte) error {
	d := drainPool.Get().(*drainBuf)
	defer d.release()
	d.out = appendFrameHeader(d.out[:0], len(m))
	d.out = append(d.out, m...)
	return c.wire.flush(d.out)
}

// finish writes what the close request wants flushed, then the close frame.
func (c *conn) finish() {
	if c.code == websocket.StatusCode(protocol.CloseAbnormal) {
		_ = c.ws.CloseNow()
		return
	}
	if c.flush {
		// The reader no longer queues once closing is set.
		if err := c.drain(); err != nil {
			_ = c.ws.CloseNow()
			return
		}
	}
	_ = c.ws.Close(c.code, c.reason)
}
