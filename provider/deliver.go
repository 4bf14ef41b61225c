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
					d.runOne(&delivery{fn: d.drained}, nil)
				}
				if stopped {
					return
				}
				break
			}
			for i := range batch {
				d.runOne(&batch[i], events)
				batch[i] = delivery{}
			}
			clear(events) // release payloads
			d.mu.Lock()
			d.spare, d.spareEvents = batch[:0], events[:0]
			d.mu.Unlock()
		}
	}
}

func (d *deliverer) runOne(x *delivery, events []Event) {
	d.busy.Store(true)
	defer d.busy.Store(false)
	defer func() {
		if v := recover(); v != nil && d.onPanic != nil {
			d.onPanic(v, x.quiet)
		}
	}()
	if x.fn != nil {
		x.fn()
		return
	}
	if x.sub.closed.Load() {
		return
	}
	d.stats.eventsDelivered.Add(1)
	x.sub.cb(events[x.ev])
}
