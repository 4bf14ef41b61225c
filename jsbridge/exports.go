//go:build js && wasm

package jsbridge

import (
	"strconv"
	"sync"
)

// The WebAssembly exports of the contract (contract.go). JavaScript calls
// them on its one thread; the engine's goroutines run while an export
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
const inboxKept = 256 << 10

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
