package provider

import (
	"strconv"
	"strings"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// echoWindow is how many of our own refs are remembered for echo
// suppression: far more than can be in flight, few enough to stay small.
const echoWindow = 1024

// checkPublish validates e and returns an upper bound of its frame size.
func checkPublish(e *PublishEvent) (int, error) {
	switch {
	case e.Channel == "" || len(e.Channel) > protocol.MaxChannelLen:
		return 0, errs.WrapDetail("publish", "channel must be 1 to 256 bytes", ErrInvalidOptions)
	case e.Type == "" || len(e.Type) > protocol.MaxTypeLen:
		return 0, errs.WrapDetail("publish", "type must be 1 to 64 bytes", ErrInvalidOptions)
	case !isObject(e.Payload, false):
		return 0, errs.WrapDetail("publish", "payload must be a JSON object", ErrInvalidOptions)
	case !isObject(e.Meta, true):
		return 0, errs.WrapDetail("publish", "meta must be a JSON object", ErrInvalidOptions)
	}
	m := protocol.ClientMessage{Action: protocol.ActionPublish, Channel: e.Channel, Type: e.Type,
		Payload: e.Payload, Meta: e.Meta, Ref: maxRef}
	return len(protocol.AppendClient(nil, &m)), nil
}

var maxRef = strings.Repeat("x", protocol.MaxRefLen)

// isObject accepts empty, a JSON object, and null when nullOK.
func isObject(raw []byte, nullOK bool) bool {
	if len(raw) == 0 || nullOK && string(raw) == "null" {
		return true
	}
	return protocol.ValidObject(raw)
}

// publish is Publish's work on the loop.
func (c *Client) publish(e PublishEvent, size int) {
	if c.loopStatus == StatusClosed {
		c.report(LogWarn, "publish after close", errs.Wrap("publish", ErrClosed))
		return
	}
	if c.conn != nil && c.conn.open() {
		c.sendPublish(c.conn, &queued{ev: e, size: size})
		return
	}
	c.enqueue(e, size)
	c.want("first publish")
}

// sendPublish writes e in the connection's level: exactly the basic bytes
// on a basic server; with meta and a ref (used as the event id, hence echo
// suppression and acks) on an extended one.
//
// A publish keeps its ref for life: one resent after a lost connection
// (see requeueUnacked) carries the ref of its first attempt, so the server
// stores it once however many times it arrives.
func (c *Client) sendPublish(cs *connState, q *queued) {
	e := &q.ev
	m := protocol.ClientMessage{Action: protocol.ActionPublish, Channel: e.Channel, Type: e.Type, Payload: e.Payload}
	if cs.level == protocol.LevelExtended {
		if len(e.Meta) > 0 && e.Meta[0] == '{' {
			m.Meta = e.Meta
		}
		if q.ref == "" {
			q.ref = c.refs.next()
		}
		m.Ref = q.ref
	}
	frame := protocol.AppendClient(make([]byte, 0, 96+len(m.Payload)+len(m.Meta)), &m)
	if limit := c.maxMessage.Load(); int64(len(frame)) > limit {
		c.st.pubDropped.Add(1)
		c.report(LogWarn, "publish too large", errs.WrapDetail("publish", "event of "+itoa(len(frame))+" bytes, server limit "+itoa(int(limit)), ErrTooLarge))
		return
	}
	if m.Ref != "" {
		if !c.echo.has(m.Ref) {
			c.echo.add(m.Ref)
		}
		cs.acks[m.Ref] = struct{}{}
		cs.inflight = append(cs.inflight, *q)
	}
	c.st.pubSent.Add(1)
	cs.out.push(frame)
}

// enqueue keeps e until the connection opens. The queue is bounded by
// count and bytes; the oldest publish is dropped first, because the newest
// reflects the latest state and the oldest is the most likely stale.
func (c *Client) enqueue(e PublishEvent, size int) {
	q := &c.queue
	for len(q.items) > 0 && (len(q.items)+1 > c.cfg.QueueMaxCount || q.bytes+size > c.cfg.QueueMaxBytes) {
		old := q.items[0]
		q.items[0] = queued{}
		q.items = q.items[1:]
		q.bytes -= old.size
		c.st.pubDropped.Add(1)
		c.report(LogWarn, "publish queue full", errs.WrapDetail("publish", "dropped oldest on "+old.ev.Channel, ErrQueueFull))
	}
	if size > c.cfg.QueueMaxBytes {
		c.st.pubDropped.Add(1)
		c.report(LogWarn, "publish queue full", errs.WrapDetail("publish", "event larger than the queue", ErrQueueFull))
		return
	}
	q.items = append(q.items, queued{ev: e, size: size})
	q.bytes += size
	c.st.pubQueued.Add(1)
}

// flushQueue sends the queued publishes in order on a newly open connection.
func (c *Client) flushQueue(cs *connState) {
	items := c.queue.items
	c.queue = pubQueue{}
	for i := range items {
		c.sendPublish(cs, &items[i])
	}
}

// requeueUnacked puts the publishes that cs sent but the server never
// acknowledged back at the front of the queue, in their order, so that the
// next connection sends them again with the same refs: a publish made just
// before a drop is neither lost nor, on a server that deduplicates by ref,
// stored twice. The queue's bounds still apply, oldest first.
func (c *Client) requeueUnacked(cs *connState) {
	var items []queued
	bytes := 0
	for _, q := range cs.inflight {
		if _, pending := cs.acks[q.ref]; pending {
			items = append(items, q)
			bytes += q.size
		}
	}
	cs.inflight, cs.acks = nil, nil
	if len(items) == 0 {
		return
	}
	c.st.pubQueued.Add(uint64(len(items)))
	c.queue.items = append(items, c.queue.items...)
	c.queue.bytes += bytes
	for len(c.queue.items) > c.cfg.QueueMaxCount || c.queue.bytes > c.cfg.QueueMaxBytes {
		old := c.queue.items[0]
		c.queue.items = c.queue.items[1:]
		c.queue.bytes -= old.size
		c.st.pubDropped.Add(1)
		c.report(LogWarn, "publish queue full", errs.WrapDetail("publish", "dropped oldest on "+old.ev.Channel, ErrQueueFull))
	}
}

// settle forgets an acknowledged or refused publish; the in-flight list is
// compacted once most of it is settled, so it stays as long as what waits.
func (cs *connState) settle(ref string) bool {
	if _, ok := cs.acks[ref]; !ok {
		return false
	}
	delete(cs.acks, ref)
	if len(cs.inflight) > 2*len(cs.acks)+16 {
		kept := cs.inflight[:0]
		for _, q := range cs.inflight {
			if _, pending := cs.acks[q.ref]; pending {
				kept = append(kept, q)
			}
		}
		clear(cs.inflight[len(kept):])
		cs.inflight = kept
	}
	return true
}

func (c *Client) dropQueue(err error) {
	if n := len(c.queue.items); n > 0 {
		c.st.pubDropped.Add(uint64(n))
		c.report(LogWarn, "dropping queued publishes", err)
	}
	c.queue = pubQueue{}
}

func (c *Client) onAck(cs *connState, m *protocol.ServerMessage) {
	if cs.settle(m.Ref) {
		c.st.pubAcked.Add(1)
		cs.rateLimited = 0
	}
}

// awaitingAnswers reports whether a publish or subscribe sent on cs is
// still unanswered.
func (c *Client) awaitingAnswers(cs *connState) bool {
	if len(cs.acks) > 0 {
		return true
	}
	for _, ch := range c.channels {
		if ch.state == chSubscribing {
			return true
		}
	}
	return false
}

// resendUnacked sends again, in order and with their refs, the publishes
// cs sent that the server has not acknowledged.
func (c *Client) resendUnacked(cs *connState) {
	pending := make([]queued, 0, len(cs.acks))
	for _, q := range cs.inflight {
		if _, ok := cs.acks[q.ref]; ok {
			pending = append(pending, q)
		}
	}
	clear(cs.inflight)
	cs.inflight = cs.inflight[:0]
	for i := range pending {
		c.sendPublish(cs, &pending[i])
	}
}

func (c *Client) onServerError(cs *connState, m *protocol.ServerMessage) {
	se := &ServerError{Code: m.Code, Message: m.Message, Channel: m.Channel, Ref: m.Ref}
	se.RetryAfter = msDuration(m.RetryAfter)
	if m.Code == protocol.CodeRateLimited {
		// Not a refusal: a request to come back later, for this frame and
		// the ones the server dropped after it. With nothing of ours
		// waiting for an answer, what was refused cannot be sent again:
		// the application hears of it.
		if !c.awaitingAnswers(cs) {
			c.report(LogWarn, "rate limited", se)
		}
		c.onRetryLater(cs, se.RetryAfter)
		return
	}
	if m.Ref != "" {
		if cs.settle(m.Ref) {
			c.st.pubFailed.Add(1)
		}
		c.report(LogWarn, "publish refused", errs.Wrap("publish", se))
		return
	}
	ch := c.channels[m.Channel]
	if m.Code == protocol.CodeInternal && ch != nil {
		c.onRetryLater(cs, se.RetryAfter)
		return
	}
	if m.Channel != "" && ch != nil {
		c.onChannelError(ch, se)
		return
	}
	c.report(LogWarn, "server error", se)
}

type queued struct {
	ev   PublishEvent
	size int
	ref  string // set on the first send to an extended server, kept for resends
}

type pubQueue struct {
	items []queued
	bytes int
}

// refSource makes publish refs: a random prefix per client plus a counter,
// unique without coordination and within protocol.ValidRef's alphabet.
type refSource struct {
	prefix string
	n      uint64
}

const refAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func (r *refSource) init(rnd func() float64) {
	b := make([]byte, 10, 11)
	for i := range b {
		b[i] = refAlphabet[int(rnd()*float64(len(refAlphabet)))%len(refAlphabet)]
	}
	r.prefix = string(append(b, '-'))
}

func (r *refSource) next() string {
	r.n++
	return r.prefix + strconv.FormatUint(r.n, 36)
}

// refRing remembers the last echoWindow refs.
type refRing struct {
	set  map[string]struct{}
	ring []string
	next int
}

func (r *refRing) init(n int) {
	r.set = make(map[string]struct{}, n)
	r.ring = make([]string, n)
}

func (r *refRing) add(ref string) {
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = ref
	r.set[ref] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}

func (r *refRing) has(ref string) bool {
	_, ok := r.set[ref]
	return ok
}
