package provider

import (
	"strings"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// echoWindow is how many of our own refs are remembered for echo
// suppression: far more than can be in flight, few enough to stay small.
const echoWindow = 1024

// checkPublish validates e and returns an upper bound of its frame size:
// its size with the longest ref.
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
	return frameSize(e), nil
}

// frameSize is the size of e's publish frame with the longest ref. It
// writes a frame with empty objects in place of the payload and the meta
// and adds their lengths: the encoder copies them as they are, so the
// payload is written once, when the frame is sent.
func frameSize(e *PublishEvent) int {
	m := protocol.ClientMessage{Action: protocol.ActionPublish, Channel: e.Channel, Type: e.Type,
		Payload: emptyObject, Ref: maxRef}
	n := len(e.Payload) - len(emptyObject)
	if len(e.Meta) > 0 {
		m.Meta = emptyObject
		n += len(e.Meta) - len(emptyObject)
	}
	var scratch [512]byte
	return n + len(protocol.AppendClient(scratch[:0], &m))
}

var maxRef = strings.Repeat("x", protocol.MaxRefLen)

// isObject accepts empty, a JSON object, and null when nullOK.
func isObject(raw []byte, nullOK bool) bool {
	if len(raw) == 0 || nullOK && string(raw) == "null" {
		return true
	}
	return protocol.ValidObject(raw)
}

// publisher is the client's publish part: the queue kept while no
// connection is open, the refs that identify our publishes, and the ring
// that recognises their echoes. The acknowledgements it waits for belong
// to each connection (connState.acks). It belongs to the loop; c is the
// client it reports to.
type publisher struct {
	c     *Client
	queue pubQueue
	echo  refRing
	refs  refSource
}

func (p *publisher) init(c *Client) {
	p.c = c
	p.echo.init(echoWindow)
	p.refs.init(c.cfg.Rand)
}

// publish is Publish's work on the loop.
func (p *publisher) publish(e PublishEvent, size int) {
	c := p.c
	if c.loopStatus == StatusClosed {
		c.report(LogWarn, "publish after close", errs.Wrap("publish", ErrClosed))
		return
	}
	if cs := c.link.conn; cs != nil && cs.open() {
		p.send(cs, &queued{ev: e, size: size})
		return
	}
	p.enqueue(e, size)
	c.want("first publish")
}

// send writes e in the connection's level: exactly the basic bytes
// on a basic server; with meta and a ref (used as the event id, hence echo
// suppression and acks) on an extended one.
//
// A publish keeps its ref for life: one resent after a lost connection
// (see requeueUnacked) carries the ref of its first attempt, so the server
// stores it once however many times it arrives.
func (p *publisher) send(cs *connState, q *queued) {
	c := p.c
	e := &q.ev
	m := protocol.ClientMessage{Action: protocol.ActionPublish, Channel: e.Channel, Type: e.Type, Payload: e.Payload}
	if cs.level == protocol.LevelExtended {
		if len(e.Meta) > 0 && e.Meta[0] == '{' {
			m.Meta = e.Meta
		}
		if q.ref == "" {
			q.ref = p.refs.next()
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
		if !p.echo.has(m.Ref) {
			p.echo.add(m.Ref, e.Origin)
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
func (p *publisher) enqueue(e PublishEvent, size int) {
	c := p.c
	q := &p.queue
	for len(q.items) > 0 && (len(q.items)+1 > c.cfg.QueueMaxCount || q.bytes+size > c.cfg.QueueMaxBytes) {
		p.dropOldest()
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

// flush sends the queued publishes in order on a newly open connection.
func (p *publisher) flush(cs *connState) {
	items := p.queue.items
	p.queue = pubQueue{}
	for i := range items {
		p.send(cs, &items[i])
	}
}

// dropOldest drops the oldest queued publish to make room, and says so.
func (p *publisher) dropOldest() {
	q := &p.queue
	old := q.items[0]
	q.items[0] = queued{}
	q.items = q.items[1:]
	q.bytes -= old.size
	p.c.st.pubDropped.Add(1)
	p.c.report(LogWarn, "publish queue full", errs.WrapDetail("publish", "dropped oldest on "+old.ev.Channel, ErrQueueFull))
}

// requeueUnacked puts the publishes that cs sent but the server never
// acknowledged back at the front of the queue, in their order, so that the
// next connection sends them again with the same refs: a publish made just
// before a drop is neither lost nor, on a server that deduplicates by ref,
// stored twice. The queue's bounds still apply, oldest first.
func (p *publisher) requeueUnacked(cs *connState) {
	c := p.c
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
	p.queue.items = append(items, p.queue.items...)
	p.queue.bytes += bytes
	for len(p.queue.items) > c.cfg.QueueMaxCount || p.queue.bytes > c.cfg.QueueMaxBytes {
		p.dropOldest()
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

// drop empties the queue for good (a terminal close), reporting err.
func (p *publisher) drop(err error) {
	if n := len(p.queue.items); n > 0 {
		p.c.st.pubDropped.Add(uint64(n))
		p.c.report(LogWarn, "dropping queued publishes", err)
	}
	p.queue = pubQueue{}
}

func (p *publisher) onAck(cs *connState, m *protocol.ServerMessage) {
	if cs.settle(m.Ref) {
		p.c.st.pubAcked.Add(1)
		cs.rateLimited = 0
	}
}

// refused reports a publish the server refused.
func (p *publisher) refused(cs *connState, se *ServerError) {
	if cs.settle(se.Ref) {
		p.c.st.pubFailed.Add(1)
	}
	p.c.report(LogWarn, "publish refused", errs.Wrap("publish", se))
}

// resendUnacked sends again, in order and with their refs, the publishes
// cs sent that the server has not acknowledged.
func (p *publisher) resendUnacked(cs *connState) {
	pending := make([]queued, 0, len(cs.acks))
	for _, q := range cs.inflight {
		if _, ok := cs.acks[q.ref]; ok {
			pending = append(pending, q)
		}
	}
	clear(cs.inflight)
	cs.inflight = cs.inflight[:0]
	for i := range pending {
		p.send(cs, &pending[i])
	}
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
