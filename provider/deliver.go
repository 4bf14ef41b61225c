package provider

import (
	"sync"
	"sync/atomic"
)

// delivery is one callback to run: an event (an index into the queue's
// events) for a subscription, or any other notification as a closure.
type delivery struct {
	sub *Subscription
	ev  int
	fn  func()
	// quiet marks an error report: if it panics, the panic is only logged,
	// or a panicking OnError would report itself forever.
	quiet bool
}

// deliverer runs callbacks on its own goroutine, in the order they were
// queued. The loop only appends to the queue, which never blocks, so a slow
// or re-entrant callback cannot stall or deadlock the engine. The queue is a
// pair of slices swapped under a lock to avoid allocating per event. An
// event fanned out to several subscriptions is stored once.
type deliverer struct {
	mu          sync.Mutex
	queue       []delivery
	events      []Event
	spare       []delivery
	spareEvents []Event
	stopped     bool

	wake chan struct{}
	done chan struct{}
	// busy is set while a callback runs, so that Close called from a
	// callback does not wait for the goroutine it runs on.
	busy atomic.Bool

	stats   *stats
	onPanic func(v any, quiet bool)
	// drained runs after the queue was emptied (Config.OnDelivered).
	drained func()
}

func newDeliverer(st *stats, onPanic func(any, bool), drained func()) *deliverer {
	d := &deliverer{wake: make(chan struct{}, 1), done: make(chan struct{}), stats: st, onPanic: onPanic, drained: drained}
	go d.run()
	return d
}

func (d *deliverer) push(x delivery) {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	d.queue = append(d.queue, x)
	d.mu.Unlock()
	d.signal()
}

func (d *deliverer) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// fanout queues ev once for every subscription in subs.
func (d *deliverer) fanout(subs []*Subscription, ev *Event) {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	i := len(d.events)
	d.events = append(d.events, *ev)
	for _, s := range subs {
		d.queue = append(d.queue, delivery{sub: s, ev: i})
	}
	d.mu.Unlock()
	d.signal()
}

func (d *deliverer) event(s *Subscription, ev *Event) { d.fanout([]*Subscription{s}, ev) }

func (d *deliverer) call(fn func()) { d.push(delivery{fn: fn}) }

func (d *deliverer) callQuiet(fn func()) { d.push(delivery{fn: fn, quiet: true}) }

// stop lets the goroutine finish what is queued and exit. It waits for that
// unless a callback is running, which may be the caller itself.
func (d *deliverer) stop() {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	if !d.busy.Load() {
		<-d.done
	}
}

func (d *deliverer) take() ([]delivery, []Event, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	batch, events := d.queue, d.events
	d.queue, d.spare = d.spare[:0], nil
	d.events, d.spareEvents = d.spareEvents[:0], nil
	return batch, events, d.stopped
}

func (d *deliverer) run() {
	defer close(d.done)
	for range d.wake {
		for {
			batch, events, stopped := d.take()
			if len(batch) == 0 {
				if d.drained != nil {
					d.runAll([]delivery{{fn: d.drained}}, nil)
				}
				if stopped {
					return
				}
				break
			}
			d.runAll(batch, events)
			clear(events) // release payloads
			d.mu.Lock()
			d.spare, d.spareEvents = batch[:0], events[:0]
			d.mu.Unlock()
		}
	}
}

// runAll runs every delivery of batch in order. A panicking callback is
// reported and the rest still run.
func (d *deliverer) runAll(batch []delivery, events []Event) {
	d.busy.Store(true)
	defer d.busy.Store(false)
	for i := 0; i < len(batch); {
		i = d.runFrom(batch, events, i)
	}
}

// runFrom runs batch[i:] and returns len(batch), or the index after a
// callback that panicked. The recover is set up once per run rather than
// once per callback: with ten subscribers that is ten times per event.
func (d *deliverer) runFrom(batch []delivery, events []Event, i int) (next int) {
	defer func() {
		if v := recover(); v != nil {
			if d.onPanic != nil {
				d.onPanic(v, batch[i].quiet)
			}
			batch[i] = delivery{}
			next = i + 1
		}
	}()
	for ; i < len(batch); i++ {
		x := &batch[i]
		switch {
		case x.fn != nil:
			x.fn()
		case !x.sub.closed.Load():
			d.stats.eventsDelivered.Add(1)
			x.sub.cb(events[x.ev])
		}
		batch[i] = delivery{}
	}
	return i
}

// waiters holds the AfterDelivered functions not yet run, in the order
// they were added, so that Close can run those whose closure the loop
// never reached. It holds a few at a time: a slice, not a map and a sort,
// which would cost the browser build their generic code.
type waiters struct {
	mu     sync.Mutex
	next   uint64
	fns    []waiter
	closed bool
}

type waiter struct {
	id uint64
	fn func()
}

// add keeps fn; false means the client is closed and fn must run now.
func (w *waiters) add(fn func()) (uint64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, false
	}
	w.next++
	w.fns = append(w.fns, waiter{id: w.next, fn: fn})
	return w.next, true
}

// run runs the function kept under id, unless it already ran.
func (w *waiters) run(id uint64) {
	var fn func()
	w.mu.Lock()
	for i := range w.fns {
		if w.fns[i].id == id {
			fn = w.fns[i].fn
			w.fns = append(w.fns[:i], w.fns[i+1:]...)
			break
		}
	}
	w.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// close refuses later adds and returns the functions still waiting, in
// the order they were added.
func (w *waiters) close() []func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	fns := make([]func(), len(w.fns))
	for i := range w.fns {
		fns[i] = w.fns[i].fn
	}
	w.fns = nil
	return fns
}
