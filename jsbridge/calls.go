//go:build js && wasm

package jsbridge

import (
	"errors"
	"runtime"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The client methods JavaScript calls one at a time: subscribe,
// unsubscribe, publish, reconnect and status. Each checks and copies its
// arguments, then queues the work for the client's worker (client.go).

// boundSub is an engine subscription and the remover of its state listener.
type boundSub struct {
	sub *provider.Subscription
	off func() // nil when nothing listens
}

// subscribe takes (id, channel, types, ids, disabled, coalesceMs, ageMs);
// ageMs, how long ago the application asked for the subscription, may be
// left out.
func (b *boundClient) subscribe(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 6 {
		return nil, codedError(codeInvalidArgument, errors.New("failed to subscribe: want 6 arguments"))
	}
	id, err := args[0].Int()
	if err != nil || id <= 0 {
		return nil, codedError(codeInvalidArgument, errors.New("failed to subscribe: subscription id must be a positive integer"))
	}
	if args[1].Type() != safejs.TypeString {
		return nil, codedError(codeInvalidArgument, errors.New("failed to subscribe: channel must be a string"))
	}
	channel, _ := args[1].String()
	types, err := stringList(args[2])
	if err != nil {
		return nil, codedError(codeInvalidArgument, wrapErr("failed to subscribe: types", err))
	}
	ids, err := stringList(args[3])
	if err != nil {
		return nil, codedError(codeInvalidArgument, wrapErr("failed to subscribe: ids", err))
	}
	if args[3].IsNull() || args[3].IsUndefined() {
		ids = nil
	}
	disabled, _ := args[4].Truthy()
	coalesceMs, _ := args[5].Float()
	var ageMs float64
	if len(args) > 6 && args[6].Type() == safejs.TypeNumber {
		ageMs, _ = args[6].Float()
	}
	return nil, b.subscribeOpts(id, provider.SubscribeOptions{
		Channel:  channel,
		Types:    types,
		IDs:      ids,
		Disabled: disabled,
		Coalesce: msDuration(coalesceMs),
		CalledAt: calledAt(time.Now, ageMs),
	})
}

// calledAt turns "ageMs ago" into a time; zero (the engine reads it as
// now) when the shim handed the subscription over at once.
func calledAt(now func() time.Time, ageMs float64) time.Time {
	if !(ageMs > 0) {
		return time.Time{}
	}
	return now().Add(-msDuration(ageMs))
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func (b *boundClient) subscribeOpts(id int, opts provider.SubscribeOptions) error {
	opts.Callback = func(ev provider.Event) { b.batch.add(id, ev) }
	return b.enqueue(func() {
		if old, ok := b.subs[id]; ok {
			old.drop(b.engine)
		}
		sub, err := b.engine.Subscribe(opts)
		if err != nil {
			b.report(codedError(codeInvalidArgument, err))
			return
		}
		b.subs[id] = boundSub{sub: sub, off: b.watchStates(id, opts.Channel, sub)}
		b.subsMax = max(b.subsMax, len(b.subs))
	})
}

func (bs boundSub) drop(engine *provider.Client) {
	if bs.off != nil {
		bs.off()
	}
	engine.Unsubscribe(bs.sub)
}

func (b *boundClient) unsubscribe(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 1 {
		return nil, codedError(codeInvalidArgument, errors.New("failed to unsubscribe: want a subscription id"))
	}
	id, err := args[0].Int()
	if err != nil {
		return nil, codedError(codeInvalidArgument, errors.New("failed to unsubscribe: subscription id must be a number"))
	}
	return nil, b.unsubscribeID(id)
}

func (b *boundClient) unsubscribeID(id int) error {
	return b.enqueue(func() {
		if bs, ok := b.subs[id]; ok {
			delete(b.subs, id)
			bs.drop(b.engine)
			if b.subsMax >= 256 && len(b.subs) <= b.subsMax/8 {
				b.released()
			}
		}
	})
}

// released runs when most of many subscriptions went away. Go maps
// never shrink, so subs is made anew; and once the engine's linger is over
// one collection runs, so that the finalizers of the JavaScript values Go
// saw give wasm_exec.js's reference table its entries back (nothing else
// would trigger a collection in an idle page).
func (b *boundClient) released() {
	m := make(map[int]boundSub, len(b.subs))
	for id, sub := range b.subs {
		m[id] = sub
	}
	b.subs, b.subsMax = m, len(m)
	if b.gcTimer != nil {
		b.gcTimer.Stop()
	}
	b.gcTimer = time.AfterFunc(provider.DefaultLinger+250*time.Millisecond, func() {
		_ = b.enqueue(func() {
			runtime.GC()
		})
	})
}

func (b *boundClient) publish(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 3 || args[0].Type() != safejs.TypeString || args[1].Type() != safejs.TypeString || args[2].Type() != safejs.TypeString {
		return nil, codedError(codeInvalidArgument, errors.New("failed to publish: want channel, type and payload JSON strings"))
	}
	channel, _ := args[0].String()
	typ, _ := args[1].String()
	payload, _ := args[2].String()
	ev := provider.PublishEvent{Channel: channel, Type: typ, Payload: []byte(payload)}
	if len(args) > 3 && args[3].Type() == safejs.TypeString {
		meta, _ := args[3].String()
		ev.Meta = []byte(meta)
	}
	return nil, b.enqueue(func() {
		if err := b.engine.Publish(ev); err != nil {
			b.report(err)
		}
	})
}

func (b *boundClient) reconnect(safejs.Value, []safejs.Value) (any, error) {
	return nil, b.enqueue(b.engine.Reconnect)
}

func (b *boundClient) status(safejs.Value, []safejs.Value) (any, error) {
	return string(b.engine.Status()), nil
}
