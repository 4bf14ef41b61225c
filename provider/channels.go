package provider

import "github.com/refine-live-wasm/refine-live-wasm/protocol"

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
	name      string
	subs      []*Subscription
	linger    Timer
	lingerGen uint64
	state     chanState

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
	stopTimer(&ch.linger)
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
	}
	// A subscriber arriving during the linger keeps the server subscription:
	// StrictMode's subscribe, unsubscribe, subscribe sends one subscribe.
	stopTimer(&ch.linger)
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
	ch.lingerGen++
	g := ch.lingerGen
	ch.linger = c.after(c.cfg.Linger, func() {
		if c.channels[ch.name] == ch && ch.lingerGen == g && len(ch.subs) == 0 {
			ch.linger = nil
			c.expire(ch)
		}
	})
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
