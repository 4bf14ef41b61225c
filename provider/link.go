package provider

import (
	"context"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// link is the client's connection part: it dials, runs the handshake and
// the liveness checks of the current connection, and schedules retries. It
// belongs to the loop; c is the client it reports to.
type link struct {
	c *Client

	attempt      int             // backoff attempt, reset by the flap guard
	urlIndex     int             // URL of the next dial
	basicURLs    map[string]bool // auto mode: URLs whose server choked on our hello
	tokenRetried bool            // close 4501 already retried with a fresh token
	everOpened   bool            // a handshake completed once: later ones are reconnects
	// extendedURLs are the URLs whose server spoke extended last time:
	// a reconnect to them lists its channels in one subscribe at once.
	extendedURLs map[string]bool

	dial     *dialState
	conn     *connState
	retry    Timer
	retryGen uint64

	lastSignal time.Time // rate limit of Reconnect; zero before the first
	// deferredSignal holds a Reconnect that came within the rate limit:
	// it runs when the second is over instead of being lost (an "online"
	// just after a "pageshow" must still cut the backoff short).
	deferredSignal Timer
}

// dialState is a dial in progress.
type dialState struct {
	cancel context.CancelFunc
	timer  Timer
	start  time.Time
}

func (l *link) init(c *Client) {
	l.c = c
	l.basicURLs = make(map[string]bool)
	l.extendedURLs = make(map[string]bool)
}

// connect dials the next URL. The caller has set the status: connecting
// for the first attempt, reconnecting for every later one.
func (l *link) connect() {
	c := l.c
	url := c.cfg.URLs[l.urlIndex]
	ctx, cancel := context.WithCancel(context.Background())
	d := &dialState{cancel: cancel, start: c.cfg.Clock.Now()}
	d.timer = c.cfg.Clock.AfterFunc(c.cfg.DialTimeout, cancel)
	l.dial = d
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
		if !c.post(func() { l.dialed(d, url, conn, tok, err) }) && conn != nil {
			conn.Close(protocol.CloseNormal, "client closed")
		}
	}()
}

func (l *link) dialed(d *dialState, url string, conn Conn, tok string, err error) {
	if l.dial != d {
		if conn != nil {
			l.closeAsync(conn, protocol.CloseNormal, "client closed")
		}
		return
	}
	l.dial = nil
	d.timer.Stop()
	d.cancel()
	if err != nil {
		l.c.st.dialFailures.Add(1)
		l.c.report(LogWarn, "dial failed", err)
		l.urlIndex = (l.urlIndex + 1) % len(l.c.cfg.URLs)
		l.scheduleRetry(0, CodeDialFailed, err.Error())
		return
	}
	l.start(url, conn, tok, l.c.cfg.Clock.Now().Sub(d.start))
}

func (l *link) closeAsync(conn Conn, code protocol.CloseCode, reason string) {
	l.c.io.Add(1)
	go func() {
		defer l.c.io.Done()
		conn.Close(code, reason)
	}()
}

// scheduleRetry waits before the next attempt; code and reason say why the
// client is reconnecting.
func (l *link) scheduleRetry(hint time.Duration, code, reason string) {
	c := l.c
	if c.loopStatus == StatusClosed {
		return
	}
	delay := hint
	if delay <= 0 {
		delay = backoff(c.cfg.MinDelay, c.cfg.MaxDelay, l.attempt, c.cfg.Rand())
	}
	l.attempt++
	// Every wait follows a failed attempt or a lost connection.
	c.setStatus(StatusReconnecting, code, reason)
	l.retryGen++
	g := l.retryGen
	l.retry = c.after(delay, func() {
		if l.retryGen == g && l.retry != nil && c.loopStatus != StatusClosed {
			l.retry = nil
			l.connect()
		}
	})
}

// signal is Reconnect's work on the loop.
func (l *link) signal() {
	c := l.c
	if c.loopStatus == StatusIdle || c.loopStatus == StatusClosed {
		return
	}
	now := c.cfg.Clock.Now()
	if since := now.Sub(l.lastSignal); !l.lastSignal.IsZero() && since < time.Second {
		if l.deferredSignal == nil {
			l.deferredSignal = c.after(time.Second-since, func() {
				l.deferredSignal = nil
				l.signal()
			})
		}
		return
	}
	stopTimer(&l.deferredSignal)
	l.lastSignal = now
	switch {
	case l.conn != nil && l.conn.open():
		if l.conn.level == protocol.LevelExtended {
			l.probe(l.conn)
		}
	case l.retry != nil:
		stopTimer(&l.retry)
		l.connect()
	}
}

// stop cancels what the link has scheduled, for Close; the connection
// itself is dropped by the caller.
func (l *link) stop() {
	stopTimer(&l.retry)
	stopTimer(&l.deferredSignal)
	if l.dial != nil {
		l.dial.cancel()
		l.dial = nil
	}
}
