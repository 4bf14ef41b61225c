package provider

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Event is what a subscriber receives.
type Event struct {
	Channel string
	Type    string
	// Payload is always a JSON object ("{}" if the server sent none). It is
	// shared between subscribers: do not modify it.
	Payload []byte
	// Meta is the event's meta, nil if none.
	Meta  []byte
	ID    string
	Seq   uint64
	Epoch string
	// Date is when the server accepted the event (Unix milliseconds), or
	// when it was received if the server did not say.
	Date int64
	// Resync is empty for ordinary events. On a resync event (Type "*") it
	// is the reason: "reconnect", "gap", "unrecovered" or "epoch".
	Resync string
}

// SubscribeOptions describe one subscription.
type SubscribeOptions struct {
	Channel string
	// Types filters by event type; nil, empty or containing "*" means all.
	Types []string
	// IDs is the lenient id filter; nil or empty means none. It applies only
	// to events whose type is not "created" and whose payload has an "ids"
	// array; such an event passes if any id matches, compared as strings
	// (1 and "1" are equal).
	IDs []string
	// Disabled returns an inert handle (Refine's liveMode "off"): nothing is
	// sent and nothing is delivered.
	Disabled bool
	// Coalesce is this subscription's coalescing window: events within it
	// become one callback. Zero means Config.Coalesce; negative means off.
	Coalesce time.Duration
	// CalledAt is when the application asked for the subscription; zero
	// means now. A caller that queued the subscription before handing it
	// over (the browser shim waits for live.wasm) gives the time of the
	// application's call: the first subscribe of a channel asks the server
	// for what it accepted since then, which the application's data may
	// not show.
	CalledAt time.Time
	// Origin names who asked, when one client serves several parties (the
	// tabs sharing one worker): the echo of a publish is held back from the
	// subscriptions of the publish's origin only. Zero, the default, is the
	// client itself, and an echo of its publishes reaches no subscription.
	Origin int
	// Callback receives events on the client's delivery goroutine: never
	// concurrently for one client, never while engine locks are held. It
	// may call Subscribe, Unsubscribe and Publish.
	Callback func(Event)
}

// PublishEvent is an event to publish.
type PublishEvent struct {
	Channel string
	Type    string
	// Payload must be empty or a JSON object.
	Payload []byte
	// Meta must be empty, null or a JSON object; basic servers never see it.
	Meta []byte
	// Origin is who published (see SubscribeOptions.Origin): its echo is
	// held back from that origin's subscriptions and delivered to the rest.
	Origin int
}

// Client is a live connection shared by many subscriptions. Its methods are
// safe for concurrent use.
//
// It orchestrates three parts, all owned by its event loop: link, the
// connection (dial, handshake, liveness, retries); chans, the channel table
// (reference counts, linger, positions, resyncs); and pubs, the publish
// queue. Only code running on the loop goroutine (inside a closure handed
// to post) touches them, which is why they need no locks.
type Client struct {
	cfg  Config
	cmds chan func()
	done chan struct{} // closed when the loop exits

	closing atomic.Bool
	io      sync.WaitGroup // dial, read, write and close goroutines
	out     *deliverer
	st      stats
	status  atomic.Value // Status
	// maxMessage is the largest frame the server accepts, read by Publish
	// on the caller's goroutine.
	maxMessage atomic.Int64
	statusL    listeners // of func(StatusChange)
	waiting    waiters   // AfterDelivered functions not yet run

	// Owned by the loop.
	//
	// loopStatus is the status as the loop sees it: idle until the first
	// Subscribe or Publish asked for a connection, closed (never dial
	// again) after Close or a terminal close.
	loopStatus Status
	exit       bool // the loop returns after the current closure
	link       link
	chans      channelTable
	pubs       publisher
	msg        protocol.ServerMessage // reused by every decode
	dec        protocol.Decoder       // interns channel names and epochs across frames
}

// New validates cfg and returns a client. It does not dial until the first
// Subscribe or Publish.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, cmds: make(chan func(), 64), done: make(chan struct{})}
	c.status.Store(StatusIdle)
	c.maxMessage.Store(protocol.DefaultMaxMessage)
	c.loopStatus = StatusIdle
	c.link.init(c)
	c.chans.init(c)
	c.pubs.init(c)
	c.out = newDeliverer(&c.st, c.onPanic, cfg.OnDelivered)
	go c.loop()
	return c, nil
}

// post hands f to the loop; false means the loop has exited.
func (c *Client) post(f func()) bool {
	select {
	case c.cmds <- f:
		return true
	case <-c.done:
		return false
	}
}

// Subscribe adds a subscription. It fails only on bad options or a closed
// client, and never panics.
func (c *Client) Subscribe(o SubscribeOptions) (*Subscription, error) {
	if c == nil {
		return nil, errs.Wrap("subscribe", ErrClosed)
	}
	if o.Channel == "" || len(o.Channel) > protocol.MaxChannelLen {
		return nil, errs.WrapDetail("subscribe", "channel must be 1 to 256 bytes", ErrInvalidOptions)
	}
	if o.Callback == nil {
		return nil, errs.WrapDetail("subscribe", "no callback", ErrInvalidOptions)
	}
	if c.closing.Load() {
		return nil, errs.Wrap("subscribe", ErrClosed)
	}
	s := newSubscription(c, &o)
	if o.Disabled {
		return s, nil
	}
	if !c.post(func() { c.chans.add(s) }) {
		s.closed.Store(true)
		s.state.Store(SubUnsubscribed)
		return nil, errs.Wrap("subscribe", ErrClosed)
	}
	return s, nil
}

// Unsubscribe removes a subscription. No callback for it starts after it
// returns. It is idempotent and accepts nil.
func (c *Client) Unsubscribe(s *Subscription) {
	if c == nil || s == nil || s.c != c || !s.closed.CompareAndSwap(false, true) {
		return
	}
	if s.disabled || !c.post(func() { c.chans.remove(s) }) {
		s.state.Store(SubUnsubscribed)
	}
}

// Publish sends an event, or queues it while the connection is not open.
// It returns an error only for invalid or oversize events and a closed
// client; queue overflow is reported to OnError.
func (c *Client) Publish(e PublishEvent) error {
	if c == nil {
		return errs.Wrap("publish", ErrClosed)
	}
	size, err := checkPublish(&e)
	if err != nil {
		return err
	}
	if limit := c.maxMessage.Load(); int64(size) > limit {
		return errs.WrapDetail("publish", "event of "+itoa(size)+" bytes, server limit "+itoa(int(limit)), ErrTooLarge)
	}
	if c.closing.Load() || !c.post(func() { c.pubs.publish(e, size) }) {
		return errs.Wrap("publish", ErrClosed)
	}
	return nil
}

// Status returns the connection's state.
func (c *Client) Status() Status { return c.status.Load().(Status) }

// OnStatus registers a listener for status changes; it runs on the delivery
// goroutine. The returned function removes it. OnStatusChange also says why.
func (c *Client) OnStatus(fn func(from, to Status)) (remove func()) {
	if fn == nil {
		return func() {}
	}
	return c.statusL.add(func(sc StatusChange) { fn(sc.From, sc.To) })
}

// OnStatusChange registers a listener for status changes, with their code
// and reason; it runs on the delivery goroutine. The returned function
// removes it.
func (c *Client) OnStatusChange(fn func(StatusChange)) (remove func()) {
	if fn == nil {
		return func() {}
	}
	return c.statusL.add(fn)
}

// Reconnect reacts to a browser signal (online, visible, pageshow): it
// probes an open extended connection with a ping, or dials at once when the
// client is waiting to reconnect. An open basic connection is left alone: it
// cannot be probed, and reconnecting would make every subscriber refetch. At
// most one call per second has an effect.
func (c *Client) Reconnect() {
	if c != nil && !c.closing.Load() {
		c.post(c.link.signal)
	}
}

// Close stops the client: it closes the connection, stops every timer and
// goroutine, and sets the status to closed. Later calls do nothing. It may
// be called from a callback; then, and when it races with a callback running
// on another goroutine, the callbacks already queued (the final status
// change among them) finish just after it returns instead of before.
func (c *Client) Close() error {
	if c == nil || !c.closing.CompareAndSwap(false, true) {
		return nil
	}
	c.post(c.shutdown)
	<-c.done
	c.io.Wait()
	// AfterDelivered functions the loop never reached (posted behind the
	// shutdown) go last, after every callback the loop queued.
	for _, fn := range c.waiting.close() {
		c.out.call(fn)
	}
	c.out.stop()
	return nil
}

// AfterDelivered runs fn on the delivery goroutine once every callback
// that results from what was handed to the engine before the call (frames
// a PushConn received, Subscribe, Publish…) has run. On a closed client fn
// still runs, at once or when Close finishes, so a waiter never hangs.
func (c *Client) AfterDelivered(fn func()) {
	if fn == nil {
		return
	}
	if c == nil {
		fn()
		return
	}
	id, ok := c.waiting.add(fn)
	if !ok {
		fn()
		return
	}
	// The loop queues fn behind the callbacks of everything it handled
	// before this closure; run makes sure it runs once even if Close
	// also finds it.
	if !c.post(func() { c.out.call(func() { c.waiting.run(id) }) }) {
		c.waiting.run(id)
	}
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats { return c.st.snapshot() }
