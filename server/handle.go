package server

import (
	"context"
	"errors"
	"time"

	"github.com/coder/websocket"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// readLoop reads and handles frames in order until the connection fails or
// closes. Handling in order is what lets a client pipeline hello, auth and
// its subscribes without waiting for answers.
func (c *conn) readLoop(ctx context.Context) {
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			c.log.Debug("read ended", "err", err, "status", int(websocket.CloseStatus(err)))
			return
		}
		c.touch()
		select {
		case <-c.closing:
			continue // draining until the close handshake ends the read
		default:
		}
		if typ == websocket.MessageBinary {
			c.binaryFrame()
			continue
		}
		m, derr := protocol.DecodeClient(data, c.srv.cfg.MaxMessage)
		if !c.levelKnown {
			if derr == nil && m.Action == protocol.ActionHello && m.Protocol == protocol.Version {
				// Before setLevel: the writer reads the batch settings once it
				// sees the extended level.
				c.acceptBatch(&m)
				c.setLevel(true)
				if err := c.sendHello(ctx); err != nil {
					return
				}
				continue
			}
			// Any other first frame makes the connection basic, and is
			// then handled like every later frame.
			c.setLevel(false)
		}
		if !c.allow(ctx, &m) {
			continue
		}
		if derr != nil {
			c.badFrame(ctx, derr, &m)
			continue
		}
		if err := c.handle(ctx, &m); err != nil {
			c.log.Debug("handling ended", "err", err)
			return
		}
	}
}

func (c *conn) setLevel(extended bool) {
	c.levelKnown = true
	c.extended.Store(extended)
	level := "basic"
	if extended {
		level = "extended"
	}
	c.srv.metrics.connections.WithLabelValues("pending").Dec()
	c.srv.metrics.connections.WithLabelValues(level).Inc()
	c.log.Debug("level chosen", "level", level)
}

func (c *conn) sendHello(ctx context.Context) error {
	if c.helloSent {
		return nil
	}
	c.helloSent = true
	c.helloOut = protocol.AppendServer(make([]byte, 0, 128), &protocol.ServerMessage{
		Action:     protocol.ActionHello,
		Protocol:   protocol.Version,
		Session:    c.session,
		Heartbeat:  c.srv.cfg.Heartbeat.Milliseconds(),
		MaxMessage: int64(c.srv.cfg.MaxMessage),
		Batch:      c.frameLimit > 0,
	})
	return c.sendWait(ctx, c.helloOut)
}

// acceptBatch takes up a hello's offer to read batched frames, which are
// then kept within both the client's limit and the server's own.
func (c *conn) acceptBatch(m *protocol.ClientMessage) {
	if !m.Batch {
		return
	}
	limit := int64(protocol.DefaultMaxMessage)
	if m.MaxMessage > 0 {
		limit = m.MaxMessage
	}
	c.frameLimit = int(min(limit, int64(c.srv.cfg.MaxMessage)))
}

// binaryFrame: the protocol is JSON text. An extended client that sends
// binary is broken beyond an error message, so it gets 1003 (terminal); a
// basic client's frame is ignored, as basic servers ignore what they do
// not understand.
func (c *conn) binaryFrame() {
	if !c.levelKnown {
		c.setLevel(false)
	}
	if c.extended.Load() {
		c.closeWith(protocol.CloseUnsupported, "binary frames are not supported", "binary")
		return
	}
	c.srv.metrics.drops.WithLabelValues("binary").Inc()
}

// allow applies the message rate limit. The first refused frame of a run
// gets a rate_limited error (extended); a long run closes with 4003.
func (c *conn) allow(ctx context.Context, m *protocol.ClientMessage) bool {
	if c.limiter.Allow() {
		c.violations = 0
		return true
	}
	c.violations++
	c.srv.metrics.drops.WithLabelValues("rate_limited").Inc()
	if c.violations > c.srv.cfg.MaxRateViolations {
		c.closeWith(protocol.CloseRateLimited, "message rate exceeded", "rate_limited")
		return false
	}
	if c.extended.Load() && c.violations == 1 {
		r := c.limiter.Reserve()
		wait := r.Delay()
		r.Cancel()
		c.sendError(ctx, protocol.CodeRateLimited, "message rate exceeded", m, max(wait, time.Millisecond))
	}
	return false
}

// badFrame answers an undecodable or invalid frame. Basic connections never
// get errors and are never closed for them.
func (c *conn) badFrame(ctx context.Context, err error, m *protocol.ClientMessage) {
	var de *protocol.DecodeError
	code := protocol.CodeBadRequest
	if errors.As(err, &de) {
		code = de.Code()
	}
	c.srv.metrics.drops.WithLabelValues(code).Inc()
	c.log.Debug("bad frame", "err", err)
	if !c.extended.Load() {
		return
	}
	c.badMessages++
	if c.badMessages > c.srv.cfg.MaxBadMessages {
		c.closeWith(protocol.CloseBadRequest, "too many invalid messages", "bad_request")
		return
	}
	c.sendError(ctx, code, err.Error(), m, 0)
}

// sendError sends an error message to an extended client, naming the
// channel and ref of the frame it answers when known.
func (c *conn) sendError(ctx context.Context, code, msg string, m *protocol.ClientMessage, retryAfter time.Duration) {
	if !c.extended.Load() {
		return
	}
	c.srv.metrics.badMessages.WithLabelValues(code).Inc()
	e := &protocol.ServerMessage{Action: protocol.ActionError, Code: code, Message: msg, RetryAfter: retryAfter.Milliseconds()}
	if m != nil {
		e.Channel, e.Ref = m.Channel, m.Ref
	}
	_ = c.send(ctx, e)
}

// handle dispatches one decoded, valid frame. A returned error ends the
// connection.
func (c *conn) handle(ctx context.Context, m *protocol.ClientMessage) error {
	switch m.Action {
	case protocol.ActionSubscribe:
		return c.subscribe(ctx, m)
	case protocol.ActionUnsubscribe:
		c.unsubscribe(m.Channel)
	case protocol.ActionPublish:
		return c.publish(ctx, m)
	case protocol.ActionAuth:
		c.authenticate(ctx, m.Token)
	case protocol.ActionPing:
		if c.extended.Load() {
			return c.sendWait(ctx, []byte(`{"action":"pong"}`))
		}
	case protocol.ActionPong:
		// lastRead is already updated.
	case protocol.ActionHello:
		// Already at the extended level (subprotocol) or basic for good.
	}
	return nil
}

// mayUse checks authentication and authorization for a subscribe or
// publish. It answers the client itself and reports whether to go on.
func (c *conn) mayUse(ctx context.Context, m *protocol.ClientMessage) bool {
	if c.srv.cfg.Authenticator != nil && !c.authed.Load() {
		if !c.extended.Load() {
			// A basic client cannot be told; refusing silently would
			// leave it stale forever.
			c.closeWith(protocol.CloseUnauthorized, "authentication required", "auth")
			return false
		}
		c.sendError(ctx, protocol.CodeUnauthorized, "authenticate first", m, 0)
		return false
	}
	if err := c.srv.cfg.Authorizer.Authorize(ctx, c.identity, m.Action, m.Channel); err != nil {
		c.srv.metrics.drops.WithLabelValues("forbidden").Inc()
		c.log.Info("refused", "action", string(m.Action), "channel", m.Channel, "err", err)
		c.sendError(ctx, protocol.CodeForbidden, err.Error(), m, 0)
		return false
	}
	return true
}

// authenticate checks a token; failure closes the connection.
func (c *conn) authenticate(ctx context.Context, token string) bool {
	a := c.srv.cfg.Authenticator
	if a == nil {
		return true
	}
	id, err := a.Authenticate(ctx, token)
	if err == nil && !id.Expires.IsZero() && !time.Now().Before(id.Expires) {
		err = ErrTokenExpired
	}
	if err != nil {
		c.log.Info("authentication failed", "err", err)
		if errors.Is(err, ErrTokenExpired) {
			c.closeWith(protocol.CloseTokenExpired, "token expired", "auth")
		} else {
			c.closeWith(protocol.CloseUnauthorized, "invalid token", "auth")
		}
		return false
	}
	c.identity = id
	c.authed.Store(true)
	if c.expiry != nil {
		c.expiry.Stop()
	}
	if !id.Expires.IsZero() {
		c.expiry = time.AfterFunc(time.Until(id.Expires), func() {
			c.closeWith(protocol.CloseTokenExpired, "token expired", "auth")
		})
	}
	return true
}
