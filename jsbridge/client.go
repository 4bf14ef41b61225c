//go:build js && wasm

package jsbridge

import (
	"errors"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The client object the shim drives: how it is built from the shim's config
// and hooks, the worker that runs its calls in order, and how it closes.
// Its methods are in calls.go (subscribe, unsubscribe, publish, …),
// apply.go (batched subscribes) and stats.go; the hooks it calls back are in
// hooks.go, and the forwarding of subscription states in substates.go.

// boundClient is one engine client and the JavaScript object that drives it.
// Calls from JavaScript are queued in order and run by the client's own
// goroutine, so that no JavaScript callback ever waits for the engine.
type boundClient struct {
	engine  *provider.Client
	hooks   safejs.Value
	funcs   *funcSet
	batch   *batcher
	states  *stateBatch      // nil when the shim takes no subscription states
	log     func(string)     // nil unless config.debug: the bridge's lifecycle lines
	subs    map[int]boundSub // touched only by the worker
	subsMax int              // len(subs) high-water mark since subs was made
	gcTimer *time.Timer      // worker only: the collection after a mass unsubscribe
	removes []func()

	mu     sync.Mutex
	queue  []func()
	wakeup chan struct{}
	state  string // "running", "closing", "closed"
}

// newClient builds a client from the shim's config and hooks objects.
func newClient(config, hooks safejs.Value) (safejs.Value, error) {
	b := &boundClient{
		hooks:  hooks,
		subs:   make(map[int]boundSub),
		wakeup: make(chan struct{}, 1),
		state:  "running",
	}
	b.funcs = newFuncSet(b.report)
	cfg, opts, err := readConfig(config)
	if err != nil {
		return safejs.Value{}, codedError(codeInvalidArgument, wrapErr("failed to create client", err))
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
	b.removes = append(b.removes, engine.OnStatus(b.onStatus))
	go b.work()

	obj, err := b.funcs.object(map[string]jsFunc{
		"subscribe":   b.subscribe,
		"unsubscribe": b.unsubscribe,
		"publish":     b.publish,
		"reconnect":   b.reconnect,
		"close":       b.close,
		"status":      b.status,
		"stats":       b.stats,
		"funcCount":   func(safejs.Value, []safejs.Value) (any, error) { return float64(LiveFuncs()), nil },
		"apply":       b.apply,
	}, nil)
	if err != nil {
		b.shutdown()
		return safejs.Value{}, wrapErr("failed to create client object", err)
	}
	return obj, nil
}

// enqueue hands work to the worker; it never blocks.
func (b *boundClient) enqueue(fn func()) error {
	b.mu.Lock()
	if b.state != "running" {
		b.mu.Unlock()
		return codedError(codeClosed, provider.ErrClosed)
	}
	b.queue = append(b.queue, fn)
	b.mu.Unlock()
	select {
	case b.wakeup <- struct{}{}:
	default:
	}
	return nil
}

func (b *boundClient) work() {
	for {
		b.mu.Lock()
		q := b.queue
		b.queue = nil
		state := b.state
		b.mu.Unlock()
		for _, fn := range q {
			fn()
		}
		if len(q) == 0 {
			if state != "running" {
				return
			}
			<-b.wakeup
		}
	}
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
	select {
	case b.wakeup <- struct{}{}:
	default:
	}
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
