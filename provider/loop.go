package provider

import (
	"strconv"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func (c *Client) loop() {
	defer close(c.done)
	for f := range c.cmds {
		f()
		if c.exit {
			return
		}
		c.chans.idle(len(c.cmds) == 0)
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
	c.link.connect()
}

// shutdown is Close's work on the loop.
func (c *Client) shutdown() {
	c.exit = true
	c.link.stop()
	c.chans.close()
	if c.link.conn != nil {
		c.link.drop(protocol.CloseNormal, "client closed")
	}
	c.setStatus(StatusClosed, CodeClosedByApp, "Close called")
}

// terminate stops the client after the server refused it for good.
func (c *Client) terminate(err error) {
	stopTimer(&c.link.retry)
	c.report(LogError, "server refused the client", err)
	c.chans.unsubscribeAll()
	c.pubs.drop(errs.Wrap("publish", err))
	c.setStatus(StatusClosed, CodeTerminalClose, err.Error())
}

// setStatus is called by the loop only.
func (c *Client) setStatus(to Status, code, reason string) {
	from := c.loopStatus
	if from == to {
		return
	}
	c.loopStatus = to
	c.status.Store(to)
	sc := StatusChange{From: from, To: to, Code: code, Reason: reason}
	c.out.call(func() {
		for _, fn := range c.statusL.snapshot() {
			fn.(func(StatusChange))(sc)
		}
	})
}

// report logs err and hands it to OnError.
func (c *Client) report(level LogLevel, msg string, err error) {
	c.cfg.Logger.Log(level, msg, err)
	if fn := c.cfg.OnError; fn != nil && err != nil {
		c.out.callQuiet(func() { fn(err) })
	}
}

func (c *Client) onPanic(v any, quiet bool) {
	err := errs.Wrap("run callback", errs.Panic(ErrCallbackPanic, v))
	if quiet {
		c.cfg.Logger.Log(LogError, "error callback panicked", err)
		return
	}
	c.report(LogError, "callback panicked", err)
}

func itoa(n int) string { return strconv.Itoa(n) }
