//go:build js && wasm

package jsbridge

import (
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// delivery is one event and the subscriptions that receive it: ids[from:to]
// of the batcher's id list.
type delivery struct {
	from, to int
	event    provider.Event
}

// batcher collects deliveries from the engine's callbacks and hands them to
// JavaScript as one batch (contract.go's appendBatch) when the engine has
// run every queued callback (provider.Config.OnDelivered): in the outbox
// while an export runs, else through hooks.onEvents.
type batcher struct {
	onEvents safejs.Value
	report   func(error)
	client   uint32 // the handle its batches carry in the outbox

	mu      sync.Mutex
	pending []delivery
	ids     []int

	flushMu sync.Mutex // one flush at a time: they share buf and the spares
	spare   []delivery
	spareID []int
	buf     []byte
}

func newBatcher(onEvents safejs.Value, report func(error)) *batcher {
	return &batcher{onEvents: onEvents, report: report}
}

// add queues an event for a subscription. Consecutive deliveries of the same
// event (the engine fans one event out to every matching subscription) share
// one entry.
func (b *batcher) add(sub int, ev provider.Event) {
	b.mu.Lock()
	n := len(b.pending)
	b.ids = append(b.ids, sub)
	if n > 0 && sameEvent(&b.pending[n-1].event, &ev) {
		b.pending[n-1].to = len(b.ids)
	} else {
		b.pending = append(b.pending, delivery{from: len(b.ids) - 1, to: len(b.ids), event: ev})
	}
	b.mu.Unlock()
}

// sameEvent reports whether a and b are one event fanned out: the engine
// hands every subscription the same strings and slices, so identity is
// enough and costs no call per field (string comparison is a call in wasm).
// Identity implies equal content, so a miss only costs a second entry.
func sameEvent(a, b *provider.Event) bool {
	return a.Seq == b.Seq && a.Date == b.Date && sameBytes(a.Payload, b.Payload) &&
		sameString(a.Channel, b.Channel) && sameString(a.Type, b.Type) && sameString(a.ID, b.ID) &&
		sameString(a.Epoch, b.Epoch) && sameString(a.Resync, b.Resync) && sameBytes(a.Meta, b.Meta)
}

// flush hands what is pending to onEvents.
func (b *batcher) flush() {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	items, ids := b.pending, b.ids
	b.pending, b.ids = b.spare[:0], b.spareID[:0]
	b.mu.Unlock()
	if len(items) == 0 {
		b.spare, b.spareID = items, ids
		return
	}
	b.buf = appendBatch(b.buf[:0], items, ids)
	if toOutbox(b.client, b.buf) {
		b.recycle(items, ids)
		return
	}
	// The call copies the text into a JavaScript string before it returns,
	// and buf is not touched again until the next flush (flushMu), so the
	// batch needs no Go string of its own.
	if _, err := b.onEvents.Invoke(transientString(b.buf)); err != nil {
		b.report(err)
	}
	b.recycle(items, ids)
}

func (b *batcher) recycle(items []delivery, ids []int) {
	clear(items) // release payloads
	b.spare, b.spareID = items[:0], ids[:0]
}
