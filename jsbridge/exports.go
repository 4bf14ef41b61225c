//go:build js && wasm

package jsbridge

import (
	"bytes"
	"strconv"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The hot path of the contract (contract.go): the WebAssembly exports, a
// socket's frames on their way to the engine (push), and the events on
// their way back (batcher, outbox). JavaScript calls the exports on its
// one thread; the engine's goroutines run while an export
// waits for them, which is why the shared state has a lock. After an
// export returns no goroutine runs until JavaScript enters Go again: the
// shim resumes Go with no event once per task for that (contract.go).

var exported struct {
	mu      sync.Mutex
	inbox   []byte
	outbox  []byte
	depth   int // 1 while an export runs; a nested call is refused
	handles uint32
	clients map[uint32]*boundClient
	sockets map[uint32]*socketConn
}

// inboxKept is the largest inbox kept between calls: frames and the
// commands of a task fit in it; a larger one is made for its call alone.
const inboxKept = 64 << 10

// newHandle registers v under a fresh handle.
func newHandle[T any](m *map[uint32]T, v T) uint32 {
	exported.mu.Lock()
	defer exported.mu.Unlock()
	if *m == nil {
		*m = make(map[uint32]T)
	}
	exported.handles++
	(*m)[exported.handles] = v
	return exported.handles
}

func dropHandle[T any](m map[uint32]T, h uint32) {
	exported.mu.Lock()
	delete(m, h)
	exported.mu.Unlock()
}

func lookup[T any](m map[uint32]T, h uint32) (T, bool) {
	exported.mu.Lock()
	defer exported.mu.Unlock()
	v, ok := m[h]
	return v, ok
}

//go:wasmexport liveInbox
func liveInbox(size uint32) uint32 {
	exported.mu.Lock()
	defer exported.mu.Unlock()
	if cap(exported.inbox) < int(size) {
		// The shim grows the inbox while it writes: what it wrote stays.
		grown := make([]byte, max(int(size), 2*cap(exported.inbox), 4096))
		copy(grown, exported.inbox)
		exported.inbox = grown
	}
	return addressOf(exported.inbox[:cap(exported.inbox)])
}

//go:wasmexport liveOutbox
func liveOutbox() uint32 {
	exported.mu.Lock()
	defer exported.mu.Unlock()
	return addressOf(exported.outbox)
}

//go:wasmexport liveCommands
func liveCommands(client, n uint32) uint32 {
	b, ok := lookup(exported.clients, client)
	if !ok {
		return 0
	}
	return runExport(b.report, func(text []byte) { b.runCommands(text) }, n)
}

//go:wasmexport liveFrames
func liveFrames(socket, n uint32) uint32 {
	c, ok := lookup(exported.sockets, socket)
	if !ok {
		return 0 // a socket Go closed: its last frames have no reader
	}
	return runExport(c.report, c.push, n)
}

// runExport hands fn a copy of the inbox's first n bytes (the engine may
// keep sub-slices of it) and returns the outbox's length.
func runExport(report func(error), fn func([]byte), n uint32) uint32 {
	exported.mu.Lock()
	if exported.depth > 0 || int(n) > len(exported.inbox) {
		exported.mu.Unlock()
		return exportBusy
	}
	exported.depth = 1
	exported.outbox = exported.outbox[:0]
	text := make([]byte, n)
	copy(text, exported.inbox)
	if cap(exported.inbox) > inboxKept {
		// A mass subscribe or a long burst made it large: its memory goes back to Go's
		// heap rather than staying live for the page's lifetime.
		exported.inbox = nil
	}
	exported.mu.Unlock()
	func() {
		defer func() {
			if r := recover(); r != nil {
				report(panicError(r))
			}
		}()
		fn(text)
	}()
	exported.mu.Lock()
	exported.depth = 0
	out := len(exported.outbox)
	exported.mu.Unlock()
	return uint32(out)
}

// toOutbox appends a client's event batch to the outbox when an export
// runs, and reports false otherwise: the batch then goes to onEvents.
func toOutbox(client uint32, batch []byte) bool {
	exported.mu.Lock()
	defer exported.mu.Unlock()
	if exported.depth == 0 {
		return false
	}
	out := strconv.AppendUint(exported.outbox, uint64(client), 10)
	out = append(out, sepSection)
	out = append(out, batch...)
	exported.outbox = append(out, sepFrame)
	return true
}

// push hands the frames of one liveFrames call to the engine and returns
// once every callback they led to has run, so that their events leave
// with the export's outbox. The frames are sub-slices of text, which is
// the call's own copy, never written to again.
func (c *socketConn) push(text []byte) {
	if c.log != nil {
		c.logFrames("from server", string(text))
	}
	var frames [][]byte
	for len(text) > 0 {
		i := bytes.IndexByte(text, sepFrame)
		if i < 0 {
			frames = append(frames, text)
			break
		}
		frames = append(frames, text[:i:i])
		text = text[i+1:]
	}
	c.mu.Lock()
	receive := c.receive
	switch {
	case c.state == "closed":
		receive = nil
	case receive == nil:
		c.early = append(c.early, frames...)
	}
	c.mu.Unlock()
	if receive == nil {
		return
	}
	receive(frames, nil)
	if c.afterDelivered != nil {
		done := make(chan struct{})
		c.afterDelivered(func() { close(done) })
		<-done
	}
}

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
