package provider

import (
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// chanState is where a channel's server subscription stands on the current
// connection.
type chanState string

const (
	chIdle        chanState = "idle"        // not sent on this connection
	chQueued      chanState = "queued"      // waiting in channelTable.toSubscribe to be sent
	chSubscribing chanState = "subscribing" // sent, not confirmed
	chSubscribed  chanState = "subscribed"  // confirmed (or sent on an open basic connection)
	chRefused     chanState = "refused"     // refused by the server; retried on the next connection or subscriber
)

// recovery is what a channel's pending subscribe asked the server to
// replay.
type recovery uint8

const (
	askNothing recovery = iota
	askSince            // the events after the last position seen
	askAge              // the events accepted since the first subscriber's call
)

// channel is one server subscription shared by every local subscriber of
// the channel (the reference count is len(subs)).
type channel struct {
	name string
	subs []*Subscription
	// lingerAt is when a channel without subscribers expires (zero: not
	// lingering); the channel waits in channelTable.lingering.
	lingerAt time.Time
	state    chanState

	pos   protocol.Position // last event seen (extended); zero: none yet
	since protocol.Position // position sent with the pending subscribe
	asked recovery          // what the pending subscribe asked to replay
	// calledAt is when the application asked for the channel (its
	// earliest subscriber), until the channel is first confirmed, when it
	// becomes zero; sentAt is when its pending subscribe was sent.
	calledAt, sentAt time.Time
	// resyncDue holds a resync delayed by Config.ResyncSpread.
	resyncDue Timer
}

// active says the channel was confirmed on an earlier connection, so a new
// confirmation is a reconnect that may have missed events.
func (ch *channel) active() bool { return ch.calledAt.IsZero() }

// hasPos says an event or a confirmation gave the channel a position.
func (ch *channel) hasPos() bool { return ch.pos != protocol.Position{} }

// forget stops what a channel still has scheduled when it goes away.
func (ch *channel) forget() {
	ch.lingerAt = time.Time{}
	stopTimer(&ch.resyncDue)
}

// channelTable is the client's channel part: every channel with its
// subscribers, what waits to be subscribed, what lingers, and the
// recovery positions. It belongs to the loop; c is the client it reports
// to.
type channelTable struct {
	c      *Client
	byName map[string]*channel
	peak   int // len(byName) high-water mark since the map was made
	// toSubscribe holds the channels waiting to be sent on the current
	// connection (state chQueued), flushed once the loop is idle.
	toSubscribe   []*channel
	subscribeWait int           // commands run since toSubscribe was last flushed
	lingering     []lingerEntry // channels without subscribers, by deadline
	lingerTimer   Timer

	ids idCache // reused by every dispatch
	// matched collects the subscriptions an event goes to (reused).
	matched []*Subscription
}

type lingerEntry struct {
	ch *channel
	at time.Time
}

func (t *channelTable) init(c *Client) {
	t.c = c
	t.byName = make(map[string]*channel)
}

func (t *channelTable) add(s *Subscription) {
	c := t.c
	if s.closed.Load() {
		return // unsubscribed before it reached the loop
	}
	if c.loopStatus == StatusClosed {
		s.setState(SubUnsubscribed)
		return
	}
	ch := t.byName[s.channel]
	if ch == nil {
		ch = &channel{name: s.channel, state: chIdle, calledAt: s.calledAt}
		t.byName[s.channel] = ch
		t.peak = max(t.peak, len(t.byName))
	}
	// A subscriber arriving during the linger keeps the server subscription:
	// StrictMode's subscribe, unsubscribe, subscribe sends one subscribe.
	ch.lingerAt = time.Time{}
	ch.subs = append(ch.subs, s)
	s.ch = ch
	if !ch.active() && s.calledAt.Before(ch.calledAt) {
		ch.calledAt = s.calledAt
	}
	switch ch.state {
	case chSubscribed:
		s.setState(SubSubscribed)
	case chRefused:
		s.setState(SubRefused)
	}
	if c.link.conn != nil && (ch.state == chIdle || ch.state == chRefused) {
		t.queue(ch)
	}
	c.want("first subscribe")
}

func (t *channelTable) remove(s *Subscription) {
	c := t.c
	s.setState(SubUnsubscribed)
	ch := s.ch
	if ch == nil {
		return
	}
	s.ch = nil
	stopTimer(&s.pendTimer)
	s.pend = nil
	for i, x := range ch.subs {
		if x == s {
			ch.subs = append(ch.subs[:i], ch.subs[i+1:]...)
			break
		}
	}
	if len(ch.subs) > 0 {
		return
	}
	if c.cfg.Linger <= 0 {
		t.expire(ch)
		return
	}
	// One timer for every lingering channel: Linger is constant, so the
	// queue is in deadline order. (A timer per channel costs a timer and, when
	// it fires, a goroutine each: 10,000 of them after a mass unsubscribe.)
	ch.lingerAt = c.cfg.Clock.Now().Add(c.cfg.Linger)
	t.lingering = append(t.lingering, lingerEntry{ch, ch.lingerAt})
	if t.lingerTimer == nil {
		t.lingerTimer = c.after(c.cfg.Linger, t.expireLingering)
	}
}

// expireLingering expires the channels whose linger is over and rearms the
// timer for the next one.
func (t *channelTable) expireLingering() {
	t.lingerTimer = nil
	now := t.c.cfg.Clock.Now()
	i := 0
	for ; i < len(t.lingering); i++ {
		e := t.lingering[i]
		ch := e.ch
		if !ch.lingerAt.Equal(e.at) || len(ch.subs) > 0 || t.byName[ch.name] != ch {
			continue // resubscribed, lingering again (a later entry) or gone
		}
		if e.at.After(now) {
			break
		}
		ch.lingerAt = time.Time{}
		t.expire(ch)
	}
	rest := t.lingering[i:]
	clear(t.lingering[:i])
	if len(rest) == 0 {
		t.lingering = nil
	} else {
		t.lingering = rest
		t.lingerTimer = t.c.after(rest[0].at.Sub(now), t.expireLingering)
	}
	t.compact()
}

// compact copies the channel map into a new one when it holds less than an
// eighth of its peak: Go maps never give their memory back. The decoder's
// interned names go with it.
func (t *channelTable) compact() {
	if t.peak < 256 || len(t.byName) > t.peak/8 {
		return
	}
	m := make(map[string]*channel, len(t.byName))
	for name, ch := range t.byName {
		m[name] = ch
	}
	t.byName, t.peak = m, len(m)
	t.c.dec.Reset()
}

// expire ends a channel whose last subscriber left a linger ago.
func (t *channelTable) expire(ch *channel) {
	ch.forget()
	delete(t.byName, ch.name)
	if cs := t.c.link.conn; cs != nil && (ch.state == chSubscribing || ch.state == chSubscribed) {
		cs.send(&protocol.ClientMessage{Action: protocol.ActionUnsubscribe, Channel: ch.name})
	}
	// A queued channel is skipped by the next flush: it is no longer in
	// the table.
}

// dropped marks every channel as needing a subscribe on the next
// connection, and ends the lingering ones: with the connection gone there
// is nothing left to keep subscribed.
func (t *channelTable) dropped() {
	clear(t.toSubscribe)
	t.toSubscribe = t.toSubscribe[:0]
	for name, ch := range t.byName {
		if len(ch.subs) == 0 {
			ch.forget()
			delete(t.byName, name)
			continue
		}
		ch.state, ch.asked = chIdle, askNothing
		for _, s := range ch.subs {
			s.setState(SubSubscribing)
		}
	}
}

// unsubscribeAll tells every subscriber it is unsubscribed, after a
// terminal close.
func (t *channelTable) unsubscribeAll() {
	for _, ch := range t.byName {
		for _, s := range ch.subs {
			s.setState(SubUnsubscribed)
		}
	}
}

// close ends every channel and subscription, for Close.
func (t *channelTable) close() {
	stopTimer(&t.lingerTimer)
	t.lingering = nil
	chans := t.byName
	t.byName = nil
	for _, ch := range chans {
		ch.forget()
		for _, s := range ch.subs {
			stopTimer(&s.pendTimer)
			s.closed.Store(true)
			s.setState(SubUnsubscribed)
		}
	}
}
