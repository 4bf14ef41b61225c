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
	chSubscribing                  // sent, not confirmed
	chSubscribed                   // confirmed (or sent on an open basic connection)
	chFailed                       // refused by the server; retried on the next connection or subscriber
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

	pos       protocol.Position // last event seen (extended)
	hasPos    bool
	since     protocol.Position // position sent with the pending subscribe
	sinceSent bool
	// active: confirmed on an earlier connection, so a new confirmation is
	// a reconnect that may have missed events.
	active bool
	// resyncDue holds a resync delayed by Config.ResyncSpread.
	resyncDue Timer
}

// forget stops what a channel still has scheduled when it goes away.
func (ch *channel) forget() {
	ch.lingerAt = time.Time{}
	stopTimer(&ch.resyncDue)
}

func (c *Client) addSub(s *Subscription) {
	if s.closed.Load() {
		return // unsubscribed before it reached the loop
	}
	if c.stopped {
		c.setSubState(s, SubUnsubscribed)
		return
	}
	ch := c.channels[s.channel]
	if ch == nil {
		ch = &channel{name: s.channel}
		c.channels[s.channel] = ch
		c.channelsPeak = max(c.channelsPeak, len(c.channels))
	}
	// A subscriber arriving during the linger keeps the server subscription:
	// StrictMode's subscribe, unsubscribe, subscribe sends one subscribe.
	ch.lingerAt = time.Time{}
	ch.subs = append(ch.subs, s)
	s.ch = ch
	if ch.state == chSubscribed {
		c.setSubState(s, SubSubscribed)
	}
	if c.conn != nil && (ch.state == chIdle || ch.state == chFailed) {
		c.sendSubscribe(c.conn, ch)
	}
	c.want()
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
}

// subscribeAll sends every channel's subscribe in one batch on a new
// connection.
func (c *Client) subscribeAll(cs *connState) {
	for _, ch := range c.channels {
		if len(ch.subs) > 0 {
			c.sendSubscribe(cs, ch)
		}
	}
}

// sendSubscribe asks for ch, with the last position when there is one and
// the server may be extended.
func (c *Client) sendSubscribe(cs *connState, ch *channel) {
	m := protocol.ClientMessage{Action: protocol.ActionSubscribe, Channel: ch.name}
	ch.sinceSent = false
	if cs.level != protocol.LevelBasic && ch.hasPos {
		since := ch.pos
		m.Since = &since
		ch.since, ch.sinceSent = since, true
	}
	cs.send(&m)
	ch.state = chSubscribing
	for _, s := range ch.subs {
		c.setSubState(s, SubSubscribing)
	}
	if cs.open && cs.level == protocol.LevelBasic {
		c.confirmed(ch, c.resyncReason(ch, false))
	}
}

// resyncReason says whether a confirmation needs a resync event. A
// recovered replay needs none; a channel that was active before this
// connection and could not recover gets one.
func (c *Client) resyncReason(ch *channel, recovered bool) string {
	if ch.sinceSent && recovered {
		return ""
	}
	if ch.sinceSent {
		return "unrecovered"
	}
	if ch.active {
		return "reconnect"
	}
	return ""
}

// confirmed marks ch subscribed on the current connection.
func (c *Client) confirmed(ch *channel, reason string) {
	ch.state, ch.sinceSent, ch.active = chSubscribed, false, true
	for _, s := range ch.subs {
		c.setSubState(s, SubSubscribed)
	}
	if reason != "" {
		c.resync(ch, reason)
	}
}

// onSubscribed handles an extended server's confirmation, which follows
// the replay of what the client missed.
func (c *Client) onSubscribed(m *protocol.ServerMessage) {
	ch := c.channels[m.Channel]
	if ch == nil || ch.state != chSubscribing {
		return
	}
	reason := c.resyncReason(ch, m.Recovered)
	if reason == "unrecovered" && m.Epoch != "" && m.Epoch != ch.since.Epoch {
		reason = "epoch"
	}
	if m.Epoch != "" && (!ch.hasPos || m.Epoch != ch.pos.Epoch || m.Seq > ch.pos.Seq) {
		ch.pos, ch.hasPos = m.Position(), true
	}
	c.confirmed(ch, reason)
}

// onChannelError marks a channel refused; it is not retried until another
// subscriber arrives or the next connection, so a forbidden channel cannot
// make the client loop.
func (c *Client) onChannelError(ch *channel, err error) {
	ch.state, ch.sinceSent = chFailed, false
	for _, s := range ch.subs {
		c.setSubState(s, SubUnsubscribed)
	}
	c.report(LogWarn, "subscription refused", wrapDetail("subscribe", ch.name, err))
}
