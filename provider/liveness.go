package provider

import (
	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// armLiveness checks, once per heartbeat rather than once per frame, that
// something arrived within heartbeat + grace; every frame only records its
// time, which keeps the hot path free of timer churn.
func (l *link) armLiveness(cs *connState) {
	c := l.c
	limit := cs.heartbeat + c.cfg.HeartbeatGrace
	wait := limit - c.cfg.Clock.Now().Sub(cs.lastInbound)
	cs.live = c.after(wait, func() {
		if l.conn != cs {
			return
		}
		if c.cfg.Clock.Now().Sub(cs.lastInbound) >= limit {
			err := errs.WrapDetail("keep connection", "server silent for "+limit.String(), ErrHeartbeatTimeout)
			l.lost(cs, err, protocol.CloseHeartbeatTimeout)
			return
		}
		l.armLiveness(cs)
	})
}

// probe asks an extended server for a pong; any frame within ProbeTimeout
// proves the connection alive.
func (l *link) probe(cs *connState) {
	c := l.c
	if cs.probe != nil {
		return
	}
	// Armed before the ping is queued: once the ping is on the wire its
	// timeout is running.
	cs.probe = c.after(c.cfg.ProbeTimeout, func() {
		if l.conn == cs && cs.probe != nil {
			err := errs.WrapDetail("keep connection", "no answer to probe", ErrHeartbeatTimeout)
			l.lost(cs, err, protocol.CloseHeartbeatTimeout)
		}
	})
	cs.send(&protocol.ClientMessage{Action: protocol.ActionPing})
}

// jumpCheck detects sleep: the wall clock ran far ahead of timer time. When
// the clock's readings carry a monotonic part (the real clock), timer time
// is the monotonic elapsed time, so a throttled background tab, whose timers
// are merely late, does not count as a jump; otherwise it is the tick.
func (l *link) jumpCheck(cs *connState) {
	c := l.c
	if l.conn != cs {
		return
	}
	now := c.cfg.Clock.Now()
	wall := now.Round(0).Sub(cs.lastTick.Round(0))
	elapsed := jumpTick
	if now != now.Round(0) {
		elapsed = now.Sub(cs.lastTick)
	}
	cs.lastTick = now
	if wall-elapsed > c.cfg.JumpThreshold {
		c.cfg.Logger.Log(LogInfo, "wall clock jumped "+(wall-elapsed).String()+": probing", nil)
		if cs.level == protocol.LevelExtended {
			l.probe(cs)
		} else {
			// A basic server cannot be probed; after a sleep its connection
			// is likely dead and events were likely missed, so start over.
			l.drop(protocol.CloseNormal, "clock jump")
			c.setStatus(StatusReconnecting, CodeClockJump, "wall clock jumped "+(wall-elapsed).String())
			l.connect()
			return
		}
	}
	cs.jump = c.after(jumpTick, func() { l.jumpCheck(cs) })
}
