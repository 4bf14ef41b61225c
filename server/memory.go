package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// MemoryOptions configure NewMemoryBroker.
type MemoryOptions struct {
	// History is how many events each channel keeps for replay.
	// Default 1000; negative keeps none.
	History int
	// TTL drops events older than this from the history; zero keeps them
	// until they are pushed out by newer ones. With a TTL, a channel whose
	// history has entirely expired and that nobody subscribes to is
	// forgotten; its next event starts a new epoch.
	TTL time.Duration
	// HistoryStart is when the history began; zero means when the broker
	// is made. A first subscribe's replay by age that reaches before it
	// is not whole, so its subscriber refetches: a process cannot tell a
	// first start from a restart, and a restart lost what the previous
	// process accepted. Set it earlier only when nothing was published
	// before (a test, or a server whose publishers start after it).
	HistoryStart time.Time
}

// DefaultHistory is the default number of events kept per channel.
const DefaultHistory = 1000

// MemoryBroker is a Broker for a single node. Its epochs are random, so a
// restart tells every client that the history it knew is gone.
type MemoryBroker struct {
	opts MemoryOptions
	now  func() time.Time
	// started is when the history began: nothing older can be replayed.
	started time.Time

	mu     sync.Mutex
	chans  map[string]*memChannel
	closed bool
	// forgotUntil is the date (Unix nanoseconds) of the newest event of a
	// channel that the expiry loop forgot: a replay by age reaching before
	// it is not whole. Atomic, because it is read under a channel's lock,
	// which must not wait for b.mu.
	forgotUntil atomic.Int64
	stop        chan struct{}
	done        chan struct{}
}

type memChannel struct {
	mu    sync.Mutex
	epoch string
	seq   uint64
	ring  []Event // ring[head] is the oldest of n events
	head  int
	n     int
	ids   map[string]uint64 // event ID → seq, for idempotent publishes
	subs  map[*memSub]struct{}
	// droppedUntil is the date of the newest event pushed out of the ring
	// or expired: the history holds every event accepted after it.
	droppedUntil time.Time
	// dead is set when the expiry loop forgot the channel; a caller that
	// locked it afterwards looks it up again.
	dead bool
}

type memSub struct{ deliver func(Event) }

// NewMemoryBroker returns an in-memory broker. Call Close to stop its
// expiry goroutine (there is one only with a TTL).
func NewMemoryBroker(opts MemoryOptions) *MemoryBroker {
	if opts.History == 0 {
		opts.History = DefaultHistory
	}
	if opts.History < 0 {
		opts.History = 0
	}
	b := &MemoryBroker{opts: opts, now: time.Now, started: opts.HistoryStart, chans: make(map[string]*memChannel)}
	if b.started.IsZero() {
		b.started = time.Now()
	}
	if opts.TTL > 0 {
		b.stop, b.done = make(chan struct{}), make(chan struct{})
		go b.expireLoop()
	}
	return b
}

func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lock returns the channel's state locked, creating it with a fresh epoch.
func (b *MemoryBroker) lock(name string) (*memChannel, error) {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return nil, ErrBrokerClosed
		}
		ch := b.chans[name]
		if ch == nil {
			ch = &memChannel{
				epoch: newEpoch(),
				ids:   make(map[string]uint64),
				subs:  make(map[*memSub]struct{}),
			}
			b.chans[name] = ch
		}
		b.mu.Unlock()
		ch.mu.Lock()
		if !ch.dead {
			return ch, nil
		}
		ch.mu.Unlock()
	}
}

// Publish implements Broker. Delivery happens under the channel's lock,
// which is what keeps each registration's events in seq order.
func (b *MemoryBroker) Publish(ctx context.Context, ev Event) (Event, bool, error) {
	ch, err := b.lock(ev.Channel)
	if err != nil {
		return Event{}, false, err
	}
	defer ch.mu.Unlock()
	b.expire(ch)
	if seq, ok := ch.ids[ev.ID]; ok {
		return *ch.at(seq), true, nil
	}
	var last time.Time
	if ch.n > 0 {
		last = ch.at(ch.seq).Date
	}
	ch.seq++
	ev.Seq, ev.Epoch, ev.Date = ch.seq, ch.epoch, stamp(ev.Date, b.now(), last)
	ch.push(ev, b.opts.History)
	for s := range ch.subs {
		s.deliver(ev)
	}
	return ev, false, nil
}

// Subscribe implements Broker.
func (b *MemoryBroker) Subscribe(ctx context.Context, channel string, deliver func(Event)) (func(), error) {
	ch, err := b.lock(channel)
	if err != nil {
		return nil, err
	}
	s := &memSub{deliver: deliver}
	ch.subs[s] = struct{}{}
	ch.mu.Unlock()
	return func() {
		ch.mu.Lock()
		delete(ch.subs, s)
		ch.mu.Unlock()
	}, nil
}

// History implements Broker.
func (b *MemoryBroker) History(ctx context.Context, channel string, since *protocol.Position) (History, error) {
	return b.read(channel, func(ch *memChannel, h *History) {
		if since == nil {
			return
		}
		oldest := ch.seq - uint64(ch.n) + 1 // seq of the oldest kept event
		if since.Epoch != ch.epoch || since.Seq > ch.seq || since.Seq+1 < oldest {
			return
		}
		h.Complete = true
		ch.appendFrom(h, since.Seq+1)
	})
}

// HistoryAfter implements Broker.
func (b *MemoryBroker) HistoryAfter(ctx context.Context, channel string, t time.Time) (History, error) {
	return b.read(channel, func(ch *memChannel, h *History) {
		if t.Before(b.started) || !t.After(ch.droppedUntil) || t.UnixNano() <= b.forgotUntil.Load() {
			return
		}
		h.Complete = true
		first := ch.seq + 1
		for seq := ch.seq; seq > ch.seq-uint64(ch.n) && !ch.at(seq).Date.Before(t); seq-- {
			first = seq
		}
		ch.appendFrom(h, first)
	})
}

// read runs fill on the channel's expired, locked state with the channel's
// position already in the History.
func (b *MemoryBroker) read(channel string, fill func(ch *memChannel, h *History)) (History, error) {
	ch, err := b.lock(channel)
	if err != nil {
		return History{}, err
	}
	defer ch.mu.Unlock()
	b.expire(ch)
	h := History{Top: protocol.Position{Epoch: ch.epoch, Seq: ch.seq}}
	fill(ch, &h)
	return h, nil
}

// appendFrom appends the kept events from seq first to the newest.
func (ch *memChannel) appendFrom(h *History, first uint64) {
	for seq := first; seq <= ch.seq; seq++ {
		h.Events = append(h.Events, *ch.at(seq))
	}
}

// Close implements Broker.
func (b *MemoryBroker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	if b.stop != nil {
		close(b.stop)
		<-b.done
	}
	return nil
}

// at returns the kept event with the given seq; the caller checked range.
func (ch *memChannel) at(seq uint64) *Event {
	off := int(seq - (ch.seq - uint64(ch.n) + 1))
	return &ch.ring[(ch.head+off)%len(ch.ring)]
}

func (ch *memChannel) push(ev Event, size int) {
	if size == 0 {
		ch.droppedUntil = ev.Date
		return
	}
	switch {
	case ch.n < len(ch.ring):
		ch.ring[(ch.head+ch.n)%len(ch.ring)] = ev
		ch.n++
	case len(ch.ring) < size:
		// Grow lazily: most channels never fill their history.
		grown := make([]Event, 0, min(max(2*len(ch.ring), 8), size))
		grown = append(grown, ch.ring[ch.head:]...)
		grown = append(grown, ch.ring[:ch.head]...)
		ch.ring, ch.head = append(grown, ev), 0
		ch.n++
	default:
		ch.drop(&ch.ring[ch.head])
		ch.ring[ch.head] = ev
		ch.head = (ch.head + 1) % len(ch.ring)
	}
	ch.ids[ev.ID] = ev.Seq
}

// drop forgets an event leaving the history.
func (ch *memChannel) drop(ev *Event) {
	delete(ch.ids, ev.ID)
	if ev.Date.After(ch.droppedUntil) {
		ch.droppedUntil = ev.Date
	}
}

// expire drops events older than the TTL from the front of the history.
func (b *MemoryBroker) expire(ch *memChannel) {
	if b.opts.TTL <= 0 {
		return
	}
	cutoff := b.now().Add(-b.opts.TTL)
	for ch.n > 0 && ch.ring[ch.head].Date.Before(cutoff) {
		ch.drop(&ch.ring[ch.head])
		ch.ring[ch.head] = Event{}
		ch.head = (ch.head + 1) % len(ch.ring)
		ch.n--
	}
}

// expireLoop forgets channels with no history and no subscribers, so that
// a server that sees many short-lived channels does not grow forever.
func (b *MemoryBroker) expireLoop() {
	defer close(b.done)
	t := time.NewTicker(max(b.opts.TTL/2, time.Second))
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		b.mu.Lock()
		for name, ch := range b.chans {
			ch.mu.Lock()
			b.expire(ch)
			if ch.n == 0 && len(ch.subs) == 0 {
				if n := ch.droppedUntil.UnixNano(); n > b.forgotUntil.Load() {
					b.forgotUntil.Store(n)
				}
				ch.dead = true
				delete(b.chans, name)
			}
			ch.mu.Unlock()
		}
		b.mu.Unlock()
	}
}

// stamp is the date of an event stored at now after an event dated last:
// the publisher's date when it gave one (a change source gives the commit
// time) and it is not in the future, but never before last, since
// HistoryAfter and expiry walk the history in date order.
func stamp(given, now, last time.Time) time.Time {
	d := now
	if !given.IsZero() && given.Before(now) {
		d = given
	}
	if d.Before(last) {
		d = last
	}
	return d
}
