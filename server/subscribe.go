package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// subscription is a connection's handle on one channel.
type subscription struct {
	ch *hubChannel
	st *subState
}

// subscribe answers a subscribe of one channel or of a list: each channel
// is handled as if it had its own frame, with its own replay, subscribed
// reply or error, in the order listed.
func (c *conn) subscribe(ctx context.Context, m *protocol.ClientMessage) error {
	if len(m.Channels) == 0 {
		return c.subscribeOne(ctx, m)
	}
	for _, r := range m.Channels {
		one := protocol.ClientMessage{Action: protocol.ActionSubscribe, Channel: r.Channel, Since: r.Since, Age: r.Age}
		if err := c.subscribeOne(ctx, &one); err != nil {
			return err
		}
	}
	return nil
}

// subscribeOne registers (pending), reads the history, sends the replay
// and the subscribed reply, then what arrived meanwhile, then goes live.
// Because the registration precedes the history read, every event is
// either in the history read or arrives through the hub, and the position
// filter drops the overlap: nothing is lost or sent twice.
func (c *conn) subscribeOne(ctx context.Context, m *protocol.ClientMessage) error {
	if sub, ok := c.subs[m.Channel]; ok {
		return c.resubscribe(ctx, m, sub)
	}
	if !c.mayUse(ctx, m) {
		return nil
	}
	if len(c.subs) >= c.srv.cfg.MaxSubscriptions {
		c.srv.metrics.drops.WithLabelValues("subscription_limit").Inc()
		c.sendError(ctx, protocol.CodeSubscriptionLimit,
			fmt.Sprintf("at most %d subscriptions per connection", c.srv.cfg.MaxSubscriptions), m, 0)
		return nil
	}
	ch, st, err := c.srv.hub.join(ctx, c, m.Channel)
	if err != nil {
		c.log.Error("subscribe failed", "channel", m.Channel, "err", err)
		c.sendError(ctx, protocol.CodeInternal, "subscribe failed", m, 0)
		return nil
	}
	c.subs[m.Channel] = &subscription{ch: ch, st: st}
	c.srv.metrics.subscriptions.Inc()

	hist, replay, err := c.readHistory(ctx, m)
	if err != nil {
		c.log.Error("history read failed", "channel", m.Channel, "err", err)
		c.unsubscribe(m.Channel)
		c.sendError(ctx, protocol.CodeInternal, "subscribe failed", m, 0)
		return nil
	}
	st.epoch, st.last = hist.Top.Epoch, hist.Top.Seq
	if replay {
		c.srv.metrics.replays.Inc()
		if !hist.Complete {
			c.srv.metrics.recoveryFails.Inc()
		}
		var buf []byte
		for i := range hist.Events {
			// Each replayed frame is queued as its own slice: the writer
			// may still hold the previous one.
			buf = appendExtended(make([]byte, 0, len(buf)), &hist.Events[i])
			if err := c.sendWait(ctx, buf); err != nil {
				return err
			}
		}
		c.srv.metrics.replayed.Add(float64(len(hist.Events)))
		c.srv.metrics.eventsOut.Add(float64(len(hist.Events)))
	}
	if c.extended.Load() {
		err := c.send(ctx, &protocol.ServerMessage{
			Action:    protocol.ActionSubscribed,
			Channel:   m.Channel,
			Epoch:     hist.Top.Epoch,
			Seq:       hist.Top.Seq,
			Recovered: replay && hist.Complete,
		})
		if err != nil {
			return err
		}
	}
	return c.srv.hub.goLive(ctx, c, ch, st)
}

// readHistory reads what a subscribe asks to replay: the events after its
// since, or those accepted within its age. replay is false when it asks
// for neither (or the connection is basic): only the position is read.
func (c *conn) readHistory(ctx context.Context, m *protocol.ClientMessage) (hist History, replay bool, err error) {
	switch {
	case !c.extended.Load():
		hist, err = c.srv.broker.History(ctx, m.Channel, nil)
	case m.Since != nil:
		hist, err = c.srv.broker.History(ctx, m.Channel, m.Since)
		replay = true
	case m.Age > 0:
		hist, err = c.srv.broker.HistoryAfter(ctx, m.Channel, time.Now().Add(-time.Duration(m.Age)*time.Millisecond))
		replay = true
	default:
		hist, err = c.srv.broker.History(ctx, m.Channel, nil)
	}
	return hist, replay, err
}

// resubscribe answers a subscribe to a channel the connection already
// has: the subscribed reply again with the position last sent, no second
// delivery. Every event after that position is on its way already, so a
// since in the same epoch is recovered, and so is an age: the first
// subscribe on this connection replayed it.
func (c *conn) resubscribe(ctx context.Context, m *protocol.ClientMessage, sub *subscription) error {
	if !c.extended.Load() {
		return nil
	}
	sub.ch.mu.Lock()
	pos := protocol.Position{Epoch: sub.st.epoch, Seq: sub.st.last}
	sub.ch.mu.Unlock()
	recovered := m.Since != nil && m.Since.Epoch == pos.Epoch && m.Since.Seq <= pos.Seq
	if m.Since == nil && m.Age > 0 {
		recovered = true
	}
	return c.send(ctx, &protocol.ServerMessage{
		Action:    protocol.ActionSubscribed,
		Channel:   m.Channel,
		Epoch:     pos.Epoch,
		Seq:       pos.Seq,
		Recovered: recovered,
	})
}

func (c *conn) unsubscribe(channel string) {
	sub, ok := c.subs[channel]
	if !ok {
		return
	}
	delete(c.subs, channel)
	c.srv.hub.leave(c, sub.ch)
	c.srv.metrics.subscriptions.Dec()
}

// publish stores a client's event. The ack follows the fan-out, so a
// publisher subscribed to the channel sees its event before the ack.
func (c *conn) publish(ctx context.Context, m *protocol.ClientMessage) error {
	if !c.mayUse(ctx, m) {
		return nil
	}
	ev := Event{Channel: m.Channel, Type: m.Type, Payload: m.Payload, Meta: m.Meta, ID: m.Ref}
	stored, err := c.srv.publish(ctx, ev, "ws")
	var de *protocol.DecodeError
	if errors.Is(err, ErrInvalidEvent) && errors.As(err, &de) {
		// Answered and counted as any invalid frame: the decoder's checks
		// are a subset of the event rules.
		c.badFrame(ctx, de, m)
		return nil
	}
	if err != nil {
		c.log.Error("publish failed", "channel", m.Channel, "err", err)
		c.sendError(ctx, protocol.CodeInternal, "publish failed", m, 0)
		return nil
	}
	if !c.extended.Load() || m.Ref == "" {
		return nil
	}
	return c.send(ctx, &protocol.ServerMessage{
		Action:  protocol.ActionAck,
		Ref:     m.Ref,
		Channel: stored.Channel,
		Seq:     stored.Seq,
		Epoch:   stored.Epoch,
	})
}

// normalizePayload makes an absent or null payload an empty object, the
// shape every Refine event has.
func normalizePayload(p json.RawMessage) json.RawMessage {
	if len(p) == 0 || string(p) == "null" {
		return json.RawMessage(`{}`)
	}
	return p
}
