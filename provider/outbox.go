package provider

import (
	"context"
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
