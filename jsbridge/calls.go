//go:build js && wasm

package jsbridge

import (
	"runtime"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The client's commands: the batches of subscribes, unsubscribes,
// publishes and reconnects that liveCommands brings (contract.go's
// parseCommands).

// boundSub is an engine subscription and the remover of its state listener.
type boundSub struct {
	sub *provider.Subscription
	off func() // nil when nothing listens
}

// runCommands runs a command batch in order. A malformed batch is refused
// whole; a refused command is reported and the others still run.
func (b *boundClient) runCommands(text []byte) {
	b.mu.Lock()
	running := b.state == "running"
	b.mu.Unlock()
	if !running {
		b.report(codedError(codeClosed, provider.ErrClosed))
		return
	}
	err := eachCommand(text, time.Now, func(cmd *command) {
		switch cmd.kind {
		case "s":
			b.subscribe(cmd.id, cmd.sub)
		case "u":
			b.unsubscribe(cmd.id)
		case "p":
			if err := b.engine.Publish(cmd.publish); err != nil {
				b.report(err)
			}
		case "r":
			b.engine.Reconnect()
		}
	})
	if err != nil {
		b.report(codedError(codeInvalidArgument, errs.Wrap("run commands", err)))
	}
}

func (b *boundClient) subscribe(id int, opts provider.SubscribeOptions) {
	opts.Callback = func(ev provider.Event) { b.batch.add(id, ev) }
	b.unsubscribe(id) // an id the shim reuses replaces its subscription
	sub, err := b.engine.Subscribe(opts)
	if err != nil {
		b.report(codedError(codeInvalidArgument, err))
		return
	}
	bs := boundSub{sub: sub, off: b.watchStates(id, opts.Channel, sub)}
	b.mu.Lock()
	b.subs[id] = bs
	b.subsMax = max(b.subsMax, len(b.subs))
	b.mu.Unlock()
}

func (b *boundClient) unsubscribe(id int) {
	b.mu.Lock()
	bs, ok := b.subs[id]
	delete(b.subs, id)
	if ok && b.subsMax >= 256 && len(b.subs) <= b.subsMax/8 {
		b.released()
	}
	b.mu.Unlock()
	if ok {
		if bs.off != nil {
			bs.off()
		}
		b.engine.Unsubscribe(bs.sub)
	}
}

// released runs, under b.mu, when most of many subscriptions went away. Go
// maps never shrink, so subs is made anew; and once the engine's linger is
// over one collection runs, so that the finalizers of the JavaScript values
// Go saw give wasm_exec.js's reference table its entries back (nothing else
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
	b.gcTimer = time.AfterFunc(provider.DefaultLinger+250*time.Millisecond, runtime.GC)
}
