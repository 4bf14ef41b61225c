package server

import (
	"context"
	"errors"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Broker stores every channel's history and delivers new events to the
// nodes that registered interest. It owns sequence numbers and epochs so
// that a clustered implementation (for example on NATS JetStream, where the
// stream is the history) hands out the same positions on every node, and a
// client can recover on any node from a position another node gave it.
//
// The hub relies on one guarantee to make replay exact: every event stored
// after Subscribe has returned is delivered to that registration, and every
// event stored before a later History call is covered by that call (as an
// event or as part of Top). Delivering an event more than once, or one
// already covered by History, is allowed: the hub drops anything at or
// below a subscriber's position.
type Broker interface {
	// Publish stores ev in its channel's history, assigning Seq, Epoch and
	// Date (keeping a Date the publisher set, such as a change source's
	// commit time, unless it lies in the future), then delivers it. ev.ID is never empty. When an event with the
	// same ID is still in the channel's history, Publish stores nothing and
	// returns that event with duplicate set.
	Publish(ctx context.Context, ev Event) (stored Event, duplicate bool, err error)

	// Subscribe registers deliver for the channel's new events and returns
	// once the registration is in effect. deliver is called for one
	// registration sequentially, in seq order, and must not block. cancel
	// ends the registration; it is idempotent.
	Subscribe(ctx context.Context, channel string, deliver func(Event)) (cancel func(), err error)

	// History returns the channel's events after since, in order, and the
	// channel's newest position. With since nil it returns only the
	// position. Complete is false when the history cannot cover the gap:
	// another epoch, or events after since.Seq already evicted.
	History(ctx context.Context, channel string, since *protocol.Position) (History, error)

	// HistoryAfter returns the channel's events accepted at or after t,
	// oldest first, and the channel's newest position: the replay of a
	// first subscribe, which carries an age instead of a position. Complete
	// is false when the history may not hold every such event: some were
	// evicted or expired, or the history itself began after t (a restarted
	// in-memory broker).
	HistoryAfter(ctx context.Context, channel string, t time.Time) (History, error)

	// Close releases the broker's resources.
	Close() error
}

// History is a read of one channel's history.
type History struct {
	// Events are the events after the requested position, oldest first;
	// empty when Complete is false.
	Events []Event
	// Top is the channel's newest position when the history was read.
	Top protocol.Position
	// Complete reports whether Events holds every event after the
	// requested position.
	Complete bool
}

// ErrBrokerClosed is returned by a broker's methods after Close.
var ErrBrokerClosed = errors.New("broker closed")
