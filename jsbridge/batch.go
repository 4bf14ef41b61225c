//go:build js && wasm

package jsbridge

import (
	"strconv"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// delivery is one event and the subscriptions that receive it.
type delivery struct {
	subs  []int
	event provider.Event
}

// batcher collects deliveries from the engine and hands them to JavaScript
// as one JSON string per batch. Because Go in the browser runs until every
// goroutine waits, everything the engine delivered while handling one
// inbound batch is flushed in one call.
type batcher struct {
	onEvents safejs.Value
	report   func(error)

	mu      sync.Mutex
	pending []delivery
	spare   []delivery
	buf     []byte
	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

func newBatcher(onEvents safejs.Value, report func(error)) *batcher {
	b := &batcher{
		onEvents: onEvents,
		report:   report,
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	go b.run()
	return b
}

// add queues an event for a subscription. Consecutive deliveries of the same
// event (the engine fans one event out to every matching subscription) share
// one entry.
func (b *batcher) add(sub int, ev provider.Event) {
	b.mu.Lock()
	n := len(b.pending)
	if n > 0 && sameEvent(&b.pending[n-1].event, &ev) {
		b.pending[n-1].subs = append(b.pending[n-1].subs, sub)
	} else {
		b.pending = append(b.pending, delivery{subs: []int{sub}, event: ev})
	}
	b.mu.Unlock()
	if n == 0 {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

func sameEvent(a, b *provider.Event) bool {
	return a.Channel == b.Channel && a.Type == b.Type && a.ID == b.ID && a.Seq == b.Seq &&
		a.Epoch == b.Epoch && a.Date == b.Date && a.Resync == b.Resync &&
		sameBytes(a.Payload, b.Payload) && sameBytes(a.Meta, b.Meta)
}

// sameBytes compares identity, not content: fan-out shares the slice.
func sameBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
}

func (b *batcher) run() {
	defer close(b.stopped)
	for {
		select {
		case <-b.stop:
			return
		case <-b.kick:
			b.flush()
		}
	}
}

func (b *batcher) flush() {
	b.mu.Lock()
	items := b.pending
	b.pending = b.spare[:0]
	b.mu.Unlock()
	if len(items) == 0 {
		return
	}
	b.buf = appendBatch(b.buf[:0], items)
	if _, err := b.onEvents.Invoke(string(b.buf)); err != nil {
		b.report(err)
	}
	for i := range items {
		items[i] = delivery{}
	}
	b.mu.Lock()
	b.spare = items[:0]
	b.mu.Unlock()
}

// close stops the batcher after delivering what is pending.
func (b *batcher) close() {
	select {
	case <-b.stop:
		return
	default:
	}
	close(b.stop)
	<-b.stopped
	b.flush()
}

// appendBatch writes [[subs…],event,[subs…],event,…].
func appendBatch(dst []byte, items []delivery) []byte {
	dst = append(dst, '[')
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for j, s := range items[i].subs {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, int64(s), 10)
		}
		dst = append(dst, "],"...)
		dst = appendEvent(dst, &items[i].event)
	}
	return append(dst, ']')
}

func appendEvent(dst []byte, ev *provider.Event) []byte {
	dst = append(dst, `{"channel":`...)
	dst = protocol.AppendString(dst, ev.Channel)
	dst = append(dst, `,"type":`...)
	dst = protocol.AppendString(dst, ev.Type)
	dst = append(dst, `,"payload":`...)
	if len(ev.Payload) > 0 {
		dst = append(dst, ev.Payload...)
	} else {
		dst = append(dst, "{}"...)
	}
	dst = append(dst, `,"date":`...)
	dst = strconv.AppendInt(dst, ev.Date, 10)
	if ev.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = protocol.AppendString(dst, ev.ID)
	}
	if len(ev.Meta) > 0 {
		dst = append(dst, `,"meta":`...)
		dst = append(dst, ev.Meta...)
	}
	return append(dst, '}')
}
