package provider

import (
	"context"
	"errors"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// dialState is a dial in progress.
type dialState struct {
	cancel context.CancelFunc
	timer  Timer
	start  time.Time
}

// connState is one connection, from dial to loss.
type connState struct {
	conn   Conn
	url    string
	cancel context.CancelFunc
	out    *outbox
	// level is empty until auto mode has decided.
	// Its state: the handshake runs while level is empty; once the level
	// is known the connection is open, until it is dropped.
	level protocol.Level
	// rtt is the dial's duration: an upper bound of one round trip, known
	// before the first frame, which a first subscribe's age includes.
	rtt time.Duration
	// batched: a subscribe listing several channels was sent before the
	// level was known; a basic server ignored it.
	batched bool
	// split: the server's hello accepted batched frames, so every later
	// frame may hold several messages separated by newlines.
	split bool
	// subPause holds subscribes back: a rate limit's wait, or the pacing
	// of per-channel subscribes (tokens, refilled from tokensAt).
	subPause    Timer
	tokens      float64
	tokensAt    time.Time
	rateLimited int // rate_limited answers in a row

	heartbeat   time.Duration
	lastInbound time.Time // zero until the first frame
	lastTick    time.Time // jump detector

	hello, live, stable, jump, probe Timer
	acks                             map[string]struct{} // refs awaiting ack
	inflight                         []queued            // extended publishes in send order, acked ones pruned lazily
}

// connect dials the next URL. The caller has set the status: connecting
// for the first attempt, reconnecting for every later one.
func (c *Client) connect() {
	url := c.cfg.URLs[c.urlIndex]
	ctx, cancel := context.WithCancel(context.Background())
	d := &dialState{cancel: cancel, start: c.cfg.Clock.Now()}
	d.timer = c.cfg.Clock.AfterFunc(c.cfg.DialTimeout, cancel)
	c.dial = d
	tokenFn, transport := c.cfg.Token, c.cfg.Transport
	c.io.Add(1)
	go func() {
		defer c.io.Done()
		var (
			tok  string
			conn Conn
			err  error
		)
		if tokenFn != nil {
			if tok, err = tokenFn(ctx); err != nil {
				err = errs.WrapKind("get token", ErrConnect, err)
			}
		}
		if err == nil {
			if conn, err = transport.Dial(ctx, url); err != nil {
				err = errs.WrapKind("dial "+url, ErrConnect, err)
			}
		}
		if !c.post(func() { c.dialed(d, url, conn, tok, err) }) && conn != nil {
			conn.Close(protocol.CloseNormal, "client closed")
		}
	}()
}

func (c *Client) dialed(d *dialState, url string, conn Conn, tok string, err error) {
	if c.dial != d {
		if conn != nil {
			c.closeAsync(conn, protocol.CloseNormal, "client closed")
		}
		return
	}
	c.dial = nil
	d.timer.Stop()
	d.cancel()
	if err != nil {
		c.st.dialFailures.Add(1)
		c.report(LogWarn, "dial failed", err)
		c.urlIndex = (c.urlIndex + 1) % len(c.cfg.URLs)
		c.scheduleRetry(0, CodeDialFailed, err.Error())
		return
	}
	c.startConn(url, conn, tok, c.cfg.Clock.Now().Sub(d.start))
}

func (c *Client) closeAsync(conn Conn, code protocol.CloseCode, reason string) {
	c.io.Add(1)
	go func() {
		defer c.io.Done()
		conn.Close(code, reason)
	}()
}

// startConn sends the opening batch: hello (unless basic), auth, and every
// subscribe, without waiting for the server's hello: a basic server ignores
// both the hello and the extra "since" keys.
func (c *Client) startConn(url string, conn Conn, tok string, rtt time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	cs := &connState{conn: conn, url: url, cancel: cancel, out: newOutbox(), acks: make(map[string]struct{}), rtt: rtt}
	c.conn = cs
	c.io.Add(1)
	go c.writeLoop(ctx, cs)
	if pc, ok := conn.(PushConn); ok {
		c.attach(ctx, cs, pc)
	} else {
		c.io.Add(1)
		go c.readLoop(ctx, cs)
	}

	level := c.cfg.Protocol
	if level == protocol.LevelAuto && c.basicURLs[url] {
		level = protocol.LevelBasic
	}
	if level == protocol.LevelBasic {
		c.subscribeAll()
		c.markOpen(cs, protocol.LevelBasic)
		return
	}
	// The timer is armed before the first frame is queued, so that whoever
	// sees the hello written knows its timeout is already running.
	cs.hello = c.after(c.cfg.HelloTimeout, func() {
		if c.conn != cs || cs.level != "" {
			return
		}
		if c.cfg.Protocol == protocol.LevelExtended {
			c.lost(cs, errs.WrapDetail("open connection", "no hello from server", ErrHandshake), protocol.CloseNormal)
			return
		}
		c.cfg.Logger.Log(LogInfo, "no hello from server: speaking basic", nil)
		c.markOpen(cs, protocol.LevelBasic)
	})
	// Offering batches costs a basic server nothing (it ignores the whole
	// hello) and lets ours send a burst as one frame.
	cs.send(&protocol.ClientMessage{Action: protocol.ActionHello, Protocol: protocol.Version,
		Batch: true, MaxMessage: maxInbound})
	if tok != "" {
		cs.send(&protocol.ClientMessage{Action: protocol.ActionAuth, Token: tok})
	}
	// Queued, not sent: they leave after the hello once the loop is idle.
	c.subscribeAll()
}

// markOpen completes the handshake once the level is known.
func (c *Client) markOpen(cs *connState, level protocol.Level) {
	stopTimer(&cs.hello)
	cs.level = level
	c.extendedURLs[cs.url] = level == protocol.LevelExtended
	if level == protocol.LevelBasic {
		c.maxMessage.Store(protocol.DefaultMaxMessage)
		for _, ch := range c.channels {
			switch {
			case ch.state != chSubscribing:
			case cs.batched:
				// Listed in a frame a basic server ignores: send it again.
				c.queueSubscribe(ch)
			default:
				c.confirmed(ch, c.resyncReason(ch, protocol.LevelBasic, false))
			}
		}
	}
	if c.everOpened {
		c.st.reconnects.Add(1)
	}
	c.everOpened = true
	c.setStatus(StatusOpen, CodeOpened, cs.url+" ("+string(level)+")")
	cs.stable = c.after(c.cfg.StableAfter, func() {
		if c.conn == cs {
			// The flap guard: only a connection that stayed up resets the
			// backoff, so accept-then-drop servers are not hammered.
			c.attempt, c.tokenRetried = 0, false
		}
	})
	if level == protocol.LevelExtended && cs.heartbeat > 0 {
		c.armLiveness(cs)
	}
	cs.lastTick = c.cfg.Clock.Now()
	cs.jump = c.after(jumpTick, func() { c.jumpCheck(cs) })
	c.flushQueue(cs)
}

// lost handles the end of the current connection, for whatever reason.
func (c *Client) lost(cs *connState, err error, code protocol.CloseCode) {
	if c.conn != cs {
		return
	}
	var ce *CloseError
	errs.As(err, &ce)
	if c.cfg.Protocol == protocol.LevelAuto && cs.level == "" && cs.lastInbound.IsZero() && chokedOnHello(ce) {
		// A server that drops us right after our hello, without a word,
		// probably does not know it: speak basic to this URL from now on.
		c.basicURLs[cs.url] = true
		c.cfg.Logger.Log(LogInfo, "server closed after hello: speaking basic to "+cs.url, err)
		c.dropConn(code, "")
		c.scheduleRetry(0, lossCode(err), err.Error())
		return
	}
	c.dropConn(code, "")
	if ce != nil && !ce.Code.Retryable() {
		if ce.Code == protocol.CloseTokenExpired && c.cfg.Token != nil && !c.tokenRetried {
			c.tokenRetried = true
			c.report(LogInfo, "token expired", errs.Wrap("stay connected", err))
			c.scheduleRetry(0, CodeServerClosed, err.Error())
			return
		}
		c.terminate(errs.WrapKind("stay connected", ErrTerminal, ce))
		return
	}
	var hint time.Duration
	if ce != nil {
		hint = protocol.ParseCloseReason(ce.Reason).RetryAfter
	}
	why, reason := lossCode(err), err.Error()
	if why != CodeHeartbeatTimeout && why != CodeHandshakeTimeout {
		err = errs.WrapKind("stay connected", ErrConnect, err)
	}
	c.report(LogWarn, "connection lost", err)
	c.scheduleRetry(hint, why, reason)
}

// open says the handshake completed: the level is known.
func (cs *connState) open() bool { return cs.level != "" }

// lossCode is the status change code of a lost connection.
func lossCode(err error) string {
	var ce *CloseError
	switch {
	case errors.Is(err, ErrHeartbeatTimeout):
		return CodeHeartbeatTimeout
	case errors.Is(err, ErrHandshake):
		return CodeHandshakeTimeout
	case errs.As(err, &ce):
		return CodeServerClosed
	}
	return CodeConnectionLost
}

// chokedOnHello tells a server that rejects the unknown hello from one that
// closes for its own reasons (restart, drain, auth), which we must respect.
func chokedOnHello(ce *CloseError) bool {
	if ce == nil {
		return true
	}
	switch {
	case ce.Code >= 4000, ce.Code == protocol.CloseGoingAway,
		ce.Code == protocol.CloseRestart, ce.Code == protocol.CloseTryLater:
		return false
	}
	return true
}

// dropConn tears the current connection down and marks every channel as
// needing a subscribe on the next one.
func (c *Client) dropConn(code protocol.CloseCode, reason string) {
	cs := c.conn
	c.conn = nil
	cs.cancel()
	c.requeueUnacked(cs)
	for _, t := range []*Timer{&cs.hello, &cs.live, &cs.stable, &cs.jump, &cs.probe, &cs.subPause} {
		stopTimer(t)
	}
	clear(c.toSubscribe)
	c.toSubscribe = c.toSubscribe[:0]
	c.closeAsync(cs.conn, code, reason)
	for name, ch := range c.channels {
		if len(ch.subs) == 0 {
			// Lingering: with the connection gone there is nothing left to
			// keep subscribed.
			ch.forget()
			delete(c.channels, name)
			continue
		}
		ch.state, ch.asked = chIdle, askNothing
		for _, s := range ch.subs {
			c.setSubState(s, SubSubscribing)
		}
	}
}

func (c *Client) terminate(err error) {
	stopTimer(&c.retry)
	c.report(LogError, "server refused the client", err)
	for _, ch := range c.channels {
		for _, s := range ch.subs {
			c.setSubState(s, SubUnsubscribed)
		}
	}
	c.dropQueue(errs.Wrap("publish", err))
	c.setStatus(StatusClosed, CodeTerminalClose, err.Error())
}

// scheduleRetry waits before the next attempt; code and reason say why the
// client is reconnecting.
func (c *Client) scheduleRetry(hint time.Duration, code, reason string) {
	if c.loopStatus == StatusClosed {
		return
	}
	delay := hint
	if delay <= 0 {
		delay = backoff(c.cfg.MinDelay, c.cfg.MaxDelay, c.attempt, c.cfg.Rand())
	}
	c.attempt++
	// Every wait follows a failed attempt or a lost connection.
	c.setStatus(StatusReconnecting, code, reason)
	c.retryGen++
	g := c.retryGen
	c.retry = c.after(delay, func() {
		if c.retryGen == g && c.retry != nil && c.loopStatus != StatusClosed {
			c.retry = nil
			c.connect()
		}
	})
}
