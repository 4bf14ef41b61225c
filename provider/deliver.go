package provider

import (
	"sync"
	"sync/atomic"
)

// delivery is one callback to run: an event for a subscription, or any other
// notification as a closure.
type delivery struct {
	sub *Subscription
	ev  Event
	fn  func()
	// quiet marks an error report: if it panics, the panic is only logged,
	// or a panicking OnError would report itself forever.
	quiet bool
}

// deliverer runs callbacks on its own goroutine, in the order they were
// queued. The loop only appends to the queue, which never blocks, so a slow
// or re-entrant callback cannot stall or deadlock the engine. The queue is a
// pair of slices swapped under a lock to avoid allocating per event.
type deliverer struct {
	mu      sync.Mutex
	queue   []delivery
	spare   []delivery
	stopped bool

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
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *deliverer) event(s *Subscription, ev *Event) { d.push(delivery{sub: s, ev: *ev}) }

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

func (d *deliverer) run() {
	defer close(d.done)
	for range d.wake {
		for {
			d.mu.Lock()
			batch := d.queue
			d.queue, d.spare = d.spare[:0], nil
			stopped := d.stopped
			d.mu.Unlock()
			if len(batch) == 0 {
				if d.drained != nil {
					d.runOne(&delivery{fn: d.drained})
				}
				if stopped {
					return
				}
				break
			}
			for i := range batch {
				d.runOne(&batch[i])
				batch[i] = delivery{} // release payloads early
			}
			d.mu.Lock()
			d.spare = batch[:0]
			d.mu.Unlock()
		}
	}
}

func (d *deliverer) runOne(x *delivery) {
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
	x.sub.cb(x.ev)
}
