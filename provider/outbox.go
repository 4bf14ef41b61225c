package provider

import (
	"context"
	"runtime"
	"sync"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// outbox holds a connection's outgoing frames. The loop appends without
// blocking; one writer goroutine per connection drains it in order, so a
// slow network never stalls the loop and frames queued together (a
// resubscribe batch) go out back to back.
type outbox struct {
	mu   sync.Mutex
	q    [][]byte
	wake chan struct{}
}

func newOutbox() *outbox { return &outbox{wake: make(chan struct{}, 1)} }

func (o *outbox) push(frame []byte) {
	o.mu.Lock()
	o.q = append(o.q, frame)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) take() [][]byte {
	o.mu.Lock()
	q := o.q
	o.q = nil
	o.mu.Unlock()
	return q
}

// send encodes m onto cs's outbox.
func (cs *connState) send(m *protocol.ClientMessage) {
	cs.out.push(protocol.AppendClient(make([]byte, 0, 64+len(m.Payload)+len(m.Meta)), m))
}

// writeLoop writes cs's frames until its context ends or a write fails.
func (l *link) writeLoop(ctx context.Context, cs *connState) {
	defer l.c.io.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-cs.out.wake:
		}
		for _, f := range cs.out.take() {
			if err := cs.conn.Write(ctx, f); err != nil {
				if ctx.Err() == nil {
					l.c.post(func() { l.lost(cs, errs.Wrap("write", err), protocol.CloseNormal) })
				}
				return
			}
		}
	}
}

// readLoop hands cs's frames to the loop until a read fails.
func (l *link) readLoop(ctx context.Context, cs *connState) {
	defer l.c.io.Done()
	for {
		data, err := cs.conn.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				l.c.post(func() { l.lost(cs, err, protocol.CloseNormal) })
			}
			return
		}
		if !l.c.post(func() { l.c.onFrame(cs, data, l.c.cfg.Clock.Now()) }) {
			return
		}
	}
}

// frameChunk is how many messages of a batch the loop handles before it lets
// the delivery goroutine run. A backlog handled in one go would grow the
// delivery queue to the whole backlog: in the browser, where goroutines
// take turns on one thread, growing and scanning that queue took half of
// the engine's time during a drain.
const frameChunk = 64

// attach hands a PushConn the function its transport calls with frames.
// The context check makes calls after the connection was dropped do
// nothing; one that races with the drop is ignored by the loop, which
// checks that cs is still current.
func (l *link) attach(ctx context.Context, cs *connState, pc PushConn) {
	pc.Attach(func(frames [][]byte, err error) {
		if ctx.Err() != nil {
			return
		}
		if len(frames) > 0 && !l.c.post(func() { l.onFrames(cs, frames) }) {
			return
		}
		if err != nil {
			l.c.post(func() { l.lost(cs, err, protocol.CloseNormal) })
		}
	})
}

// onFrames handles a batch of cs's frames in one turn of the loop, letting
// the delivery goroutine run every frameChunk messages; the clock is read
// once per chunk.
func (l *link) onFrames(cs *connState, frames [][]byte) {
	now := l.c.cfg.Clock.Now()
	n := 0
	for _, data := range frames {
		if n >= frameChunk {
			runtime.Gosched()
			now = l.c.cfg.Clock.Now()
			n = 0
		}
		n += l.c.onFrame(cs, data, now)
	}
}
