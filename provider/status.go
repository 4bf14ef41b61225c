package provider

import (
	"sync"
	"sync/atomic"
)

// Status is the connection's state.
type Status string

// Connection states. Connecting is the first attempt, while nothing has
// failed yet; reconnecting every later attempt and backoff wait, after a
// failed attempt or a lost connection, so that a server that is down from
// the start shows as such. Closed is final: Close was called or the server
// refused the client for good.
const (
	StatusIdle         Status = "idle"
	StatusConnecting   Status = "connecting"
	StatusOpen         Status = "open"
	StatusReconnecting Status = "reconnecting"
	StatusClosed       Status = "closed"
)

// StatusChange is one change of the connection's status: where it came
// from, where it went, a Code from the set below saying why, and a Reason
// for people (an error's text, a close reason, the URL that opened).
type StatusChange struct {
	From, To Status
	Code     string
	Reason   string
}

// Status change codes. They are stable: an application may switch on them.
const (
	// CodeConnectCalled: the first Subscribe or Publish asked for a
	// connection (idle to connecting).
	CodeConnectCalled = "connect_called"
	// CodeOpened: a handshake completed (to open).
	CodeOpened = "opened"
	// CodeDialFailed: fetching the token or dialling failed (to
	// reconnecting).
	CodeDialFailed = "dial_failed"
	// CodeConnectionLost: a read or write failed without a close frame.
	CodeConnectionLost = "connection_lost"
	// CodeServerClosed: the server closed the connection with a code that
	// allows reconnecting.
	CodeServerClosed = "server_closed"
	// CodeHeartbeatTimeout: the server went silent or did not answer a
	// probe.
	CodeHeartbeatTimeout = "heartbeat_timeout"
	// CodeHandshakeTimeout: a server that must speak extended sent no
	// hello in time.
	CodeHandshakeTimeout = "handshake_timeout"
	// CodeClockJump: the wall clock jumped (the machine slept) on a basic
	// connection, which cannot be probed, so the client reconnects.
	CodeClockJump = "clock_jump"
	// CodeTerminalClose: the server refused the client for good (to
	// closed).
	CodeTerminalClose = "terminal_close"
	// CodeClosedByApp: Close was called (to closed).
	CodeClosedByApp = "closed_by_app"
)

// StatusCodes lists every status change code, for the bridge's contract
// (jsbridge/testdata/contract/status-codes.json) and its tests.
var StatusCodes = []string{
	CodeConnectCalled, CodeOpened, CodeDialFailed, CodeConnectionLost, CodeServerClosed,
	CodeHeartbeatTimeout, CodeHandshakeTimeout, CodeClockJump, CodeTerminalClose, CodeClosedByApp,
}

// SubState is a subscription's state.
type SubState string

// Subscription states. A subscription is subscribing until the server
// confirmed it (extended) or it was sent on an open connection (basic),
// and again while it is being resubscribed after a connection was lost; it
// is refused when the server refused it (the error went to OnError; it is
// tried again on the next connection or when another subscriber of the
// channel arrives); it is unsubscribed once Unsubscribe was called, when it
// was created disabled, or after Close.
const (
	SubUnsubscribed SubState = "unsubscribed"
	SubSubscribing  SubState = "subscribing"
	SubSubscribed   SubState = "subscribed"
	SubRefused      SubState = "refused"
)

// Stats are the client's counters since New.
type Stats struct {
	EventsReceived    uint64 // events for a channel we subscribe to
	EventsDelivered   uint64 // callback invocations with an event (resyncs included)
	EventsReplayed    uint64 // events replayed by an extended server on resubscribe
	DuplicatesDropped uint64 // events dropped because their seq was already seen
	EchoesSuppressed  uint64 // own publishes not delivered back
	Resyncs           uint64 // resync incidents (one per channel and cause)
	PublishesSent     uint64
	PublishesAcked    uint64
	PublishesQueued   uint64 // publishes that waited for the connection
	PublishesDropped  uint64 // queued publishes dropped (queue full or too large)
	PublishesFailed   uint64 // publishes refused by the server
	Reconnects        uint64 // successful handshakes after the first
	DialFailures      uint64
}

// stats are updated by the loop and the delivery goroutine and read by any
// goroutine, hence atomics.
type stats struct {
	eventsReceived, eventsDelivered, eventsReplayed, duplicates, echoes, resyncs  atomic.Uint64
	pubSent, pubAcked, pubQueued, pubDropped, pubFailed, reconnects, dialFailures atomic.Uint64
}

func (s *stats) snapshot() Stats {
	return Stats{
		EventsReceived:    s.eventsReceived.Load(),
		EventsDelivered:   s.eventsDelivered.Load(),
		EventsReplayed:    s.eventsReplayed.Load(),
		DuplicatesDropped: s.duplicates.Load(),
		EchoesSuppressed:  s.echoes.Load(),
		Resyncs:           s.resyncs.Load(),
		PublishesSent:     s.pubSent.Load(),
		PublishesAcked:    s.pubAcked.Load(),
		PublishesQueued:   s.pubQueued.Load(),
		PublishesDropped:  s.pubDropped.Load(),
		PublishesFailed:   s.pubFailed.Load(),
		Reconnects:        s.reconnects.Load(),
		DialFailures:      s.dialFailures.Load(),
	}
}

// listeners is a small registry of callbacks. It is shared between the
// caller's goroutine (add/remove) and the delivery goroutine (snapshot), so
// it has its own lock; it holds no engine state. The callbacks are held as
// any, and each call site asserts its one type: a generic registry would
// be compiled once per callback type, which the browser build pays for.
type listeners struct {
	mu   sync.Mutex
	next int
	fns  []listener
}

type listener struct {
	id int
	fn any
}

func (l *listeners) add(fn any) (remove func()) {
	l.mu.Lock()
	id := l.next
	l.next++
	l.fns = append(l.fns, listener{id, fn})
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for i := range l.fns {
			if l.fns[i].id == id {
				l.fns = append(l.fns[:i:i], l.fns[i+1:]...)
				return
			}
		}
	}
}

func (l *listeners) empty() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.fns) == 0
}

// snapshot returns the current listeners in registration order, so they run
// without the lock held (a listener may remove itself).
func (l *listeners) snapshot() []any {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fns) == 0 {
		return nil
	}
	out := make([]any, len(l.fns))
	for i := range l.fns {
		out[i] = l.fns[i].fn
	}
	return out
}
