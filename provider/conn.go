package provider

import (
	"context"
	"errors"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// connPhase is where one connection stands.
type connPhase string

const (
	// connHandshake: the hello is out (or the level is being decided);
	// the level is not known yet.
	connHandshake connPhase = "handshake"
	// connOpen: the level is known and the status is open.
	connOpen connPhase = "open"
	// connDropped: the connection is gone; its goroutines are stopping.
	connDropped connPhase = "dropped"
)

// connState is one connection, from dial to loss.
type connState struct {
	conn   Conn
	url    string
	cancel context.CancelFunc
	out    *outbox
	phase  connPhase
	level  protocol.Level // set when the phase becomes open
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

func (cs *connState) open() bool { return cs.phase == connOpen }

// start sends the opening batch: hello (unless basic), auth, and every
// subscribe, without waiting for the server's hello: a basic server ignores
// both the hello and the extra "since" keys.
func (l *link) start(url string, conn Conn, tok string, rtt time.Duration) {
	c := l.c
	ctx, cancel := context.WithCancel(context.Background())
	cs := &connState{conn: conn, url: url, cancel: cancel, out: newOutbox(), phase: connHandshake,
		acks: make(map[string]struct{}), rtt: rtt}
	l.conn = cs
	c.io.Add(1)
	go l.writeLoop(ctx, cs)
	if pc, ok := conn.(PushConn); ok {
		l.attach(ctx, cs, pc)
	} else {
		c.io.Add(1)
		go l.readLoop(ctx, cs)
	}

	level := c.cfg.Protocol
	if level == protocol.LevelAuto && l.basicURLs[url] {
		level = protocol.LevelBasic
	}
	if level == protocol.LevelBasic {
		c.chans.subscribeAll()
		l.markOpen(cs, protocol.LevelBasic)
		return
	}
	// The timer is armed before the first frame is queued, so that whoever
	// sees the hello written knows its timeout is already running.
	cs.hello = c.after(c.cfg.HelloTimeout, func() {
		if l.conn != cs || cs.phase != connHandshake {
			return
		}
		if c.cfg.Protocol == protocol.LevelExtended {
			l.lost(cs, errs.WrapDetail("open connection", "no hello from server", ErrHandshake), protocol.CloseNormal)
			return
		}
		c.cfg.Logger.Log(LogInfo, "no hello from server: speaking basic", nil)
		l.markOpen(cs, protocol.LevelBasic)
	})
	// Offering batches costs a basic server nothing (it ignores the whole
	// hello) and lets ours send a burst as one frame.
	cs.send(&protocol.ClientMessage{Action: protocol.ActionHello, Protocol: protocol.Version,
		Batch: true, MaxMessage: maxInbound})
	if tok != "" {
		cs.send(&protocol.ClientMessage{Action: protocol.ActionAuth, Token: tok})
	}
	// Queued, not sent: they leave after the hello once the loop is idle.
	c.chans.subscribeAll()
}

// markOpen completes the handshake once the level is known.
func (l *link) markOpen(cs *connState, level protocol.Level) {
	c := l.c
	stopTimer(&cs.hello)
	cs.phase, cs.level = connOpen, level
	l.extendedURLs[cs.url] = level == protocol.LevelExtended
	if level == protocol.LevelBasic {
		c.maxMessage.Store(protocol.DefaultMaxMessage)
		c.chans.openedBasic(cs)
	}
	if l.everOpened {
		c.st.reconnects.Add(1)
	}
	l.everOpened = true
	c.setStatus(StatusOpen, CodeOpened, cs.url+" ("+string(level)+")")
	cs.stable = c.after(c.cfg.StableAfter, func() {
		if l.conn == cs {
			// The flap guard: only a connection that stayed up resets the
			// backoff, so accept-then-drop servers are not hammered.
			l.attempt, l.tokenRetried = 0, false
		}
	})
	if level == protocol.LevelExtended && cs.heartbeat > 0 {
		l.armLiveness(cs)
	}
	cs.lastTick = c.cfg.Clock.Now()
	cs.jump = c.after(jumpTick, func() { l.jumpCheck(cs) })
	c.pubs.flush(cs)
}

// lost handles the end of the current connection, for whatever reason.
func (l *link) lost(cs *connState, err error, code protocol.CloseCode) {
	c := l.c
	if l.conn != cs {
		return
	}
	var ce *CloseError
	errs.As(err, &ce)
	if c.cfg.Protocol == protocol.LevelAuto && cs.phase == connHandshake && cs.lastInbound.IsZero() && chokedOnHello(ce) {
		// A server that drops us right after our hello, without a word,
		// probably does not know it: speak basic to this URL from now on.
		l.basicURLs[cs.url] = true
		c.cfg.Logger.Log(LogInfo, "server closed after hello: speaking basic to "+cs.url, err)
		l.drop(code, "")
		l.scheduleRetry(0, lossCode(err), err.Error())
		return
	}
	l.drop(code, "")
	if ce != nil && !ce.Code.Retryable() {
		if ce.Code == protocol.CloseTokenExpired && c.cfg.Token != nil && !l.tokenRetried {
			l.tokenRetried = true
			c.report(LogInfo, "token expired", errs.Wrap("stay connected", err))
			l.scheduleRetry(0, CodeServerClosed, err.Error())
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
	l.scheduleRetry(hint, why, reason)
}

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

// drop tears the current connection down; every channel will need a
// subscribe on the next one.
func (l *link) drop(code protocol.CloseCode, reason string) {
	cs := l.conn
	l.conn = nil
	cs.phase = connDropped
	cs.cancel()
	l.c.pubs.requeueUnacked(cs)
	for _, t := range []*Timer{&cs.hello, &cs.live, &cs.stable, &cs.jump, &cs.probe, &cs.subPause} {
		stopTimer(t)
	}
	l.closeAsync(cs.conn, code, reason)
	l.c.chans.dropped()
}
