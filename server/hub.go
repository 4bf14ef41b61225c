package server

import (
	"context"
	"fmt"
	"sync"
)

// hub holds this node's subscriptions. It registers with the broker once
// per channel that has local subscribers and fans each event out to them.
// Fan-out never blocks: a connection whose queue is full is closed as a
// slow consumer instead.
//
// Lock order: a broker may call deliver while holding its own locks, so the
// hub never calls the broker while holding hubChannel.mu.
type hub struct {
	broker  Broker
	metrics *metrics

	mu    sync.Mutex
	chans map[string]*hubChannel
}

type hubChannel struct {
	name  string
	ready chan struct{} // closed once the broker registration is done
	err   error         // registration error, set before ready closes
	stop  func()
	refs  int // guarded by hub.mu

	mu   sync.Mutex
	subs map[*conn]*subState
}

// subState is one connection's subscription to one channel.
type subState struct {
	// live is false while the subscribe is being answered: events then
	// wait in pending so that they follow the replay.
	live    bool
	pending []*frames
	// epoch and last are the newest position sent; an event at or below
	// it is a duplicate. They are written only by the connection's reader
	// while live is false, and only under hubChannel.mu after.
	epoch string
	last  uint64
}

func newHub(b Broker, m *metrics) *hub {
	return &hub{broker: b, metrics: m, chans: make(map[string]*hubChannel)}
}

// fresh reports whether ev is past the subscriber's position. A new epoch
// means the history restarted: its events are all new.
func (st *subState) fresh(ev *Event) bool {
	return ev.Epoch != st.epoch || ev.Seq > st.last
}

func (st *subState) advance(ev *Event) {
	st.epoch, st.last = ev.Epoch, ev.Seq
}

// join registers c on the channel in the pending state and returns once the
// broker delivers the channel's events to the hub.
func (h *hub) join(ctx context.Context, c *conn, name string) (*hubChannel, *subState, error) {
	h.mu.Lock()
	ch := h.chans[name]
	creator := ch == nil
	if creator {
		ch = &hubChannel{name: name, ready: make(chan struct{}), subs: make(map[*conn]*subState)}
		h.chans[name] = ch
	}
	ch.refs++
	h.mu.Unlock()

	if creator {
		ch.stop, ch.err = h.broker.Subscribe(ctx, name, ch.deliverer(h))
		if ch.err != nil {
			ch.err = fmt.Errorf("failed to subscribe to the broker: %w", ch.err)
		}
		close(ch.ready)
	} else {
		select {
		case <-ch.ready:
		case <-ctx.Done():
			h.release(ch)
			return nil, nil, ctx.Err()
		}
	}
	if ch.err != nil {
		h.release(ch)
		return nil, nil, ch.err
	}
	st := &subState{}
	ch.mu.Lock()
	ch.subs[c] = st
	ch.mu.Unlock()
	return ch, st, nil
}

// leave removes c from the channel.
func (h *hub) leave(c *conn, ch *hubChannel) {
	ch.mu.Lock()
	delete(ch.subs, c)
	ch.mu.Unlock()
	h.release(ch)
}

func (h *hub) release(ch *hubChannel) {
	h.mu.Lock()
	ch.refs--
	last := ch.refs == 0
	if last && h.chans[ch.name] == ch {
		delete(h.chans, ch.name)
	}
	h.mu.Unlock()
	if last && ch.stop != nil {
		ch.stop()
	}
}

// deliverer returns the broker callback: encode once, then queue the shared
// bytes on every live subscriber without blocking.
func (ch *hubChannel) deliverer(h *hub) func(Event) {
	return func(ev Event) {
		f := encodeEvent(ev)
		sent := 0
		ch.mu.Lock()
		for c, st := range ch.subs {
			if !st.live {
				if len(st.pending) >= c.srv.cfg.SendQueue {
					c.closeSlow()
					continue
				}
				st.pending = append(st.pending, f)
				continue
			}
			if !st.fresh(&f.ev) {
				continue
			}
			st.advance(&f.ev)
			if c.trySend(f.forLevel(c.extended.Load())) {
				sent++
			}
		}
		ch.mu.Unlock()
		h.metrics.eventsOut.Add(float64(sent))
	}
}

// goLive sends what arrived while the subscribe was answered, skipping
// events the replay already covered, and then switches the subscription to
// live delivery. Sending happens outside the lock because it may wait for
// room in the connection's queue; the loop ends when pending is empty under
// the lock, so nothing can slip between the last batch and going live.
func (h *hub) goLive(ctx context.Context, c *conn, ch *hubChannel, st *subState) error {
	for {
		ch.mu.Lock()
		batch := st.pending
		st.pending = nil
		if len(batch) == 0 {
			st.live = true
			ch.mu.Unlock()
			return nil
		}
		ch.mu.Unlock()
		for _, f := range batch {
			if !st.fresh(&f.ev) {
				continue
			}
			st.advance(&f.ev)
			if err := c.sendWait(ctx, f.forLevel(c.extended.Load())); err != nil {
				return err
			}
			h.metrics.eventsOut.Inc()
		}
	}
}
