package provider

import (
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// chanState is where a channel's server subscription stands on the current
// connection.
type chanState uint8

const (
	chIdle        chanState = iota // not sent on this connection
	chQueued                       // waiting in Client.toSubscribe to be sent
	chSubscribing                  // sent, not confirmed
	chSubscribed                   // confirmed (or sent on an open basic connection)
	chFailed                       // refused by the server; retried on the next connection or subscriber
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
	// lingering); the channel waits in Client.lingering.
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

func (c *Client) addSub(s *Subscription) {
	if s.closed.Load() {
		return // unsubscribed before it reached the loop
	}
	if c.loopStatus == StatusClosed {
		c.setSubState(s, SubUnsubscribed)
		return
	}
	ch := c.channels[s.channel]
	if ch == nil {
		ch = &channel{name: s.channel, calledAt: s.calledAt}
		c.channels[s.channel] = ch
		c.channelsPeak = max(c.channelsPeak, len(c.channels))
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
		c.setSubState(s, SubSubscribed)
	case chFailed:
		c.setSubState(s, SubRefused)
	}
	if c.conn != nil && (ch.state == chIdle || ch.state == chFailed) {
		c.queueSubscribe(ch)
	}
	c.want("first subscribe")
}

func (c *Client) removeSub(s *Subscription) {
	c.setSubState(s, SubUnsubscribed)
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
		c.expire(ch)
		return
	}
	// One timer for every lingering channel: Linger is constant, so the
	// queue is in deadline order. (A timer per channel costs a timer and, when
	// it fires, a goroutine each: 10,000 of them after a mass unsubscribe.)
	ch.lingerAt = c.cfg.Clock.Now().Add(c.cfg.Linger)
	c.lingering = append(c.lingering, lingerEntry{ch, ch.lingerAt})
	if c.lingerTimer == nil {
		c.lingerTimer = c.after(c.cfg.Linger, c.expireLingering)
	}
}

type lingerEntry struct {
	ch *channel
	at time.Time
}

// expireLingering expires the channels whose linger is over and rearms the
// timer for the next one.
func (c *Client) expireLingering() {
	c.lingerTimer = nil
	now := c.cfg.Clock.Now()
	i := 0
	for ; i < len(c.lingering); i++ {
		e := c.lingering[i]
		ch := e.ch
		if !ch.lingerAt.Equal(e.at) || len(ch.subs) > 0 || c.channels[ch.name] != ch {
			continue // resubscribed, lingering again (a later entry) or gone
		}
		if e.at.After(now) {
			break
		}
		ch.lingerAt = time.Time{}
		c.expire(ch)
	}
	rest := c.lingering[i:]
	clear(c.lingering[:i])
	if len(rest) == 0 {
		c.lingering = nil
	} else {
		c.lingering = rest
		c.lingerTimer = c.after(rest[0].at.Sub(now), c.expireLingering)
	}
	c.compactChannels()
}

// compactChannels copies the channel map into a new one when it holds less
// than an eighth of its peak: Go maps never give their memory back. The
// decoder's interned names go with it.
func (c *Client) compactChannels() {
	if c.channelsPeak < 256 || len(c.channels) > c.channelsPeak/8 {
		return
	}
	m := make(map[string]*channel, len(c.channels))
	for name, ch := range c.channels {
		m[name] = ch
	}
	c.channels, c.channelsPeak = m, len(m)
	c.dec.Reset()
}

// expire ends a channel whose last subscriber left a linger ago.
func (c *Client) expire(ch *channel) {
	ch.forget()
	delete(c.channels, ch.name)
	if c.conn != nil && (ch.state == chSubscribing || ch.state == chSubscribed) {
		c.conn.send(&protocol.ClientMessage{Action: protocol.ActionUnsubscribe, Channel: ch.name})
	}
	// A queued channel is skipped by the next flush: it is no longer in
	// the table.
}
