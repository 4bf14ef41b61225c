//go:build js && wasm

package jsbridge

import (
	"strconv"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// watchStates forwards the state changes of subscription id: to the debug
// log, and to hooks.onSubStates when the shim takes them (through
// b.states, flushed before the events of the same burst: see delivered).
// It returns the listener's remover, nil when nothing listens.
func (b *boundClient) watchStates(id int, channel string, sub *provider.Subscription) func() {
	if b.states == nil && b.log == nil {
		return nil
	}
	off := sub.OnState(func(from, to provider.SubState) {
		if b.log != nil {
			b.log("subscription " + strconv.Itoa(id) + " to " + channel + ": " + string(from) + " → " + string(to))
		}
		if b.states != nil {
			b.states.add(id, sub)
		}
	})
	// A change the loop made before the listener was in place
	// (a channel already subscribed) would go unheard; the shim
	// assumes subscribing until told otherwise.
	if b.states != nil && sub.State() != provider.SubSubscribing {
		b.states.add(id, sub)
		b.states.flush()
	}
	return off
}

// stateBatch collects the subscriptions whose state changed and hands
// their current states to hooks.onSubStates in one call, as the JSON text
// [id,"state",id,"state",…]: a reconnect that resubscribes hundreds of
// subscriptions crosses into JavaScript once, with no function per
// subscription. The state is read when the batch is written, so a late
// entry never overwrites a newer state with an older one.
type stateBatch struct {
	onStates safejs.Value
	report   func(error)

	mu      sync.Mutex
	pending []stateChange

	flushMu sync.Mutex // one flush at a time: they share buf and spare
	spare   []stateChange
	buf     []byte
}

type stateChange struct {
	id  int
	sub *provider.Subscription
}

func newStateBatch(onStates safejs.Value, report func(error)) *stateBatch {
	return &stateBatch{onStates: onStates, report: report}
}

// add notes that subscription id changed state; any goroutine.
func (s *stateBatch) add(id int, sub *provider.Subscription) {
	s.mu.Lock()
	if n := len(s.pending); n == 0 || s.pending[n-1].id != id {
		s.pending = append(s.pending, stateChange{id: id, sub: sub})
	}
	s.mu.Unlock()
}

// flush hands what is pending to onSubStates.
func (s *stateBatch) flush() {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	items := s.pending
	s.pending = s.spare[:0]
	s.mu.Unlock()
	if len(items) == 0 {
		s.spare = items
		return
	}
	s.buf = appendStates(s.buf[:0], items)
	// As in batcher.flush: the call copies the text before it returns.
	if _, err := s.onStates.Invoke(transientString(s.buf)); err != nil {
		s.report(err)
	}
	clear(items)
	s.spare = items[:0]
}
