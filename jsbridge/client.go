//go:build js && wasm

package jsbridge

import (
	"errors"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The client object the shim drives: how it is built from the shim's config
// and hooks, and how it closes. Its commands are in calls.go and stats.go;
// the hooks it calls back are in hooks.go, and the forwarding of
// subscription states in substates.go.

// boundClient is one engine client and the JavaScript object that drives it.
// Its commands come through the liveCommands export (exports.go) and reach
// the engine's loop with one hand-off.
type boundClient struct {
	handle  uint32
	engine  *provider.Client
	hooks   safejs.Value
	funcs   *funcSet
	batch   *batcher
	states  *stateBatch  // nil when the shim takes no subscription states
	log     func(string) // nil unless config.debug: the bridge's lifecycle lines
	removes []func()

	mu      sync.Mutex
	subs    map[int]boundSub
	subsMax int         // len(subs) high-water mark since subs was made
	gcTimer *time.Timer // the collection after a mass unsubscribe
	state   string      // "running", "closing", "closed"
}

// newClient builds a client from the shim's config and hooks objects.
func newClient(config, hooks safejs.Value) (safejs.Value, error) {
	b := &boundClient{
		hooks: hooks,
		subs:  make(map[int]boundSub),
		state: "running",
	}
	b.funcs = newFuncSet(b.report)
	cfg, opts, err := readConfig(config)
	if err != nil {
		return safejs.Value{}, codedError(codeInvalidArgument, errs.Wrap("create client", err))
	}
	openSocket, err := hooks.Get("openSocket")
	if err != nil || openSocket.Type() != safejs.TypeFunction {
		return safejs.Value{}, codedError(codeInvalidArgument, errors.New("failed to create client: hooks.openSocket is not a function"))
	}
	onEvents, err := hooks.Get("onEvents")
	if err != nil || onEvents.Type() != safejs.TypeFunction {
		return safejs.Value{}, codedError(codeInvalidArgument, errors.New("failed to create client: hooks.onEvents is not a function"))
	}
	if opts.debug {
		// Only with debug: without it the engine keeps its discarding
		// logger and the bridge checks one nil func, so logging costs
		// nothing on the hot path.
		if onLog, err := hooks.Get("onLog"); err == nil && onLog.Type() == safejs.TypeFunction {
			cfg.Logger = jsLogger{fn: onLog}
			b.log = func(msg string) { _, _ = onLog.Invoke("debug", msg) }
		}
	}
	if onStates, err := hooks.Get("onSubStates"); err == nil && onStates.Type() == safejs.TypeFunction {
		b.states = newStateBatch(onStates, b.report)
	}
	transport := NewTransport(openSocket, b.report)
	transport.log = b.log
	transport.afterDelivered = b.afterDelivered
	cfg.Transport = transport
	cfg.OnError = b.report
	b.batch = newBatcher(onEvents, b.report)
	cfg.OnDelivered = b.delivered
	if opts.hasToken {
		cfg.Token = b.getToken
	}
	engine, err := provider.New(cfg)
	if err != nil {
		return safejs.Value{}, codedError(codeInvalidArgument, err)
	}
	b.engine = engine
	b.removes = append(b.removes, engine.OnStatusChange(b.onStatus))
	b.handle = newHandle(&exported.clients, b)
	b.batch.client = b.handle

	obj, err := b.funcs.object(map[string]jsFunc{
		"close": b.close,
		"stats": b.stats,
	}, map[string]any{"handle": float64(b.handle)})
	if err != nil {
		b.shutdown()
		return safejs.Value{}, errs.Wrap("create client object", err)
	}
	return obj, nil
}

// close returns a Promise that resolves once the engine stopped and every
// function of this client was released.
func (b *boundClient) close(safejs.Value, []safejs.Value) (any, error) {
	return newPromise(b.report, func() error {
		b.shutdown()
		return nil
	})
}

func (b *boundClient) shutdown() {
	b.mu.Lock()
	if b.state != "running" {
		b.mu.Unlock()
		return
	}
	b.state = "closing"
	b.mu.Unlock()
	dropHandle(exported.clients, b.handle)
	if b.engine != nil {
		_ = b.engine.Close()
		for _, remove := range b.removes {
			remove()
		}
	}
	if b.batch != nil {
		// Whatever the engine delivered before it stopped.
		b.delivered()
	}
	b.mu.Lock()
	b.state = "closed"
	b.mu.Unlock()
	b.funcs.release()
}

// delivered runs once the engine ran every queued callback: the states
// first, so that a subscription reads subscribed when its replayed events
// arrive.
func (b *boundClient) delivered() {
	if b.states != nil {
		b.states.flush()
	}
	b.batch.flush()
}

// afterDelivered runs fn once the engine delivered what it was handed
// before and the bridge flushed it.
func (b *boundClient) afterDelivered(fn func()) {
	b.engine.AfterDelivered(func() {
		b.delivered()
		fn()
	})
}
