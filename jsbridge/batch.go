//go:build js && wasm

package jsbridge

import (
	"strconv"
	"sync"
	"unsafe"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// delivery is one event and the subscriptions that receive it: ids[from:to]
// of the batcher's id list.
type delivery struct {
	from, to int
	event    provider.Event
}

// batcher collects deliveries from the engine's callbacks and hands them to
// JavaScript as one JSON string when the engine has run every queued
// callback (provider.Config.OnDelivered), so one inbound batch leads to one
// call into JavaScript.
type batcher struct {
	onEvents safejs.Value
	report   func(error)

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

func sameString(a, b string) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.StringData(a) == unsafe.StringData(b))
}

// sameBytes compares identity, not content: fan-out shares the slice.
func sameBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
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
	// The call copies the text into a JavaScript string before it returns,
	// and buf is not touched again until the next flush (flushMu), so the
	// batch needs no Go string of its own.
	if _, err := b.onEvents.Invoke(unsafe.String(&b.buf[0], len(b.buf))); err != nil {
		b.report(err)
	}
	clear(items) // release payloads
	b.spare, b.spareID = items[:0], ids[:0]
}

// appendBatch writes [[subs…],event,[subs…],event,…].
func appendBatch(dst []byte, items []delivery, ids []int) []byte {
	dst = append(dst, '[')
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for j, s := range ids[items[i].from:items[i].to] {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendID(dst, s)
		}
		dst = append(dst, "],"...)
		dst = appendEvent(dst, &items[i].event)
	}
	return append(dst, ']')
}

// appendID writes a subscription id: ten of them per event with ten
// subscribers, where strconv would be a call each (calls are dear in wasm).
func appendID(dst []byte, id int) []byte {
	if id < 0 || id >= 1e9 {
		return strconv.AppendInt(dst, int64(id), 10)
	}
	var digits [9]byte
	i := len(digits)
	for {
		i--
		digits[i] = byte('0' + id%10)
		id /= 10
		if id == 0 {
			break
		}
	}
	return append(dst, digits[i:]...)
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
