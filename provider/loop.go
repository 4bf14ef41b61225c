package provider

import (
	"strconv"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// loopState is every field owned by the event loop. Only code running on
// the loop goroutine (inside a closure handed to post) touches it, which is
// why it needs no locks.
type loopState struct {
	// loopStatus is the status as the loop sees it: idle until the first
	// Subscribe or Publish asked for a connection, closed (never dial
	// again) after Close or a terminal close.
	loopStatus Status
	exit       bool // the loop returns after the current closure
	everOpened bool // a handshake completed once: later ones are reconnects

	attempt      int             // backoff attempt, reset by the flap guard
	urlIndex     int             // URL of the next dial
	basicURLs    map[string]bool // auto mode: URLs whose server choked on our hello
	tokenRetried bool            // close 4501 already retried with a fresh token

	dial     *dialState
	conn     *connState
	retry    Timer
	retryGen uint64

	lastReconnect time.Time // rate limit of Reconnect; zero before the first
	// deferredSignal holds a Reconnect that came within the rate limit:
	// it runs when the second is over instead of being lost (an "online"
	// just after a "pageshow" must still cut the backoff short).
	deferredSignal Timer

	channels map[string]*channel
	// toSubscribe holds the channels waiting to be sent on the current
	// connection (state chQueued), flushed once the loop is idle.
	toSubscribe   []*channel
	subscribeWait int // commands run since toSubscribe was last flushed
	// extendedURLs are the URLs whose server spoke extended last time:
	// a reconnect to them lists its channels in one subscribe at once.
	extendedURLs map[string]bool
	channelsPeak int           // len(channels) high-water mark since the map was made
	lingering    []lingerEntry // channels without subscribers, by deadline
	lingerTimer  Timer
	queue        pubQueue
	echo         refRing
	refs         refSource

	msg protocol.ServerMessage // reused by every decode
	dec protocol.Decoder       // interns channel names and epochs across frames
	ids idCache                // reused by every dispatch
	// matched collects the subscriptions an event goes to (reused).
	matched []*Subscription
}

func (c *Client) initLoopState() {
	c.loopStatus = StatusIdle
	c.basicURLs = make(map[string]bool)
	c.extendedURLs = make(map[string]bool)
	c.channels = make(map[string]*channel)
	c.echo.init(echoWindow)
	c.refs.init(c.cfg.Rand)
}

func (c *Client) loop() {
	defer close(c.done)
	for f := range c.cmds {
		f()
		if c.exit {
			return
		}
		// Subscribes leave once every queued command ran, so that those
		// made together (a page mounting, a reconnect) share one frame; a
		// loop that never runs dry (a flood of frames) flushes them after
		// a few commands all the same.
		if len(c.toSubscribe) > 0 {
			c.subscribeWait++
			if len(c.cmds) == 0 || c.subscribeWait >= 16 || len(c.toSubscribe) >= batchMax {
				c.subscribeWait = 0
				c.flushSubscribes()
			}
		}
	}
}

// after runs f on the loop after d. f must check that what it acts on is
// still current: a timer stopped too late still fires.
func (c *Client) after(d time.Duration, f func()) Timer {
	return c.cfg.Clock.AfterFunc(d, func() { c.post(f) })
}

func stopTimer(t *Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// want starts connecting on the first Subscribe or Publish.
func (c *Client) want(reason string) {
	if c.loopStatus != StatusIdle {
		return
	}
	c.setStatus(StatusConnecting, CodeConnectCalled, reason)
	c.connect()
}

// shutdown is Close's work on the loop.
func (c *Client) shutdown() {
	c.exit = true
	stopTimer(&c.retry)
	stopTimer(&c.deferredSignal)
	stopTimer(&c.lingerTimer)
	c.lingering = nil
	if c.dial != nil {
		c.dial.cancel()
		c.dial = nil
	}
	chans := c.channels
	c.channels = nil
	for _, ch := range chans {
		ch.forget()
		for _, s := range ch.subs {
			stopTimer(&s.pendTimer)
			s.closed.Store(true)
			c.setSubState(s, SubUnsubscribed)
		}
	}
	if c.conn != nil {
		c.dropConn(protocol.CloseNormal, "client closed")
	}
	c.setStatus(StatusClosed, CodeClosedByApp, "Close called")
}

// reconnectNow is Reconnect's work on the loop.
func (c *Client) reconnectNow() {
	if c.loopStatus == StatusIdle || c.loopStatus == StatusClosed {
		return
	}
	now := c.cfg.Clock.Now()
	if since := now.Sub(c.lastReconnect); !c.lastReconnect.IsZero() && since < time.Second {
		if c.deferredSignal == nil {
			c.deferredSignal = c.after(time.Second-since, func() {
				c.deferredSignal = nil
				c.reconnectNow()
			})
		}
		return
	}
	stopTimer(&c.deferredSignal)
	c.lastReconnect = now
	switch {
	case c.conn != nil && c.conn.open():
		if c.conn.level == protocol.LevelExtended {
			c.probe(c.conn)
		}
	case c.retry != nil:
		stopTimer(&c.retry)
		c.connect()
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
