//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// boundClient is one engine client and the JavaScript object that drives it.
// Calls from JavaScript are queued in order and run by the client's own
// goroutine, so that no JavaScript callback ever waits for the engine.
type boundClient struct {
	engine  *provider.Client
	hooks   safejs.Value
	funcs   *funcSet
	batch   *batcher
	subs    map[int]*provider.Subscription // touched only by the worker
	subsMax int                            // len(subs) high-water mark since subs was made
	gcTimer *time.Timer                    // worker only: the collection after a mass unsubscribe
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
		subs:   make(map[int]*provider.Subscription),
		wakeup: make(chan struct{}, 1),
		state:  "running",
	}
	b.funcs = newFuncSet(b.report)
	cfg, hasToken, err := readConfig(config)
	if err != nil {
		return safejs.Value{}, codedError("ERR_INVALID_ARGUMENT", err)
	}
	openSocket, err := hooks.Get("openSocket")
	if err != nil || openSocket.Type() != safejs.TypeFunction {
		return safejs.Value{}, codedError("ERR_INVALID_ARGUMENT", errors.New("failed to create client: hooks.openSocket is not a function"))
	}
	onEvents, err := hooks.Get("onEvents")
	if err != nil || onEvents.Type() != safejs.TypeFunction {
		return safejs.Value{}, codedError("ERR_INVALID_ARGUMENT", errors.New("failed to create client: hooks.onEvents is not a function"))
	}
	cfg.Transport = NewTransport(openSocket, b.report)
	cfg.OnError = b.report
	b.batch = newBatcher(onEvents, b.report)
	cfg.OnDelivered = b.batch.flush
	if hasToken {
		cfg.Token = b.getToken
	}
	engine, err := provider.New(cfg)
	if err != nil {
		return safejs.Value{}, codedError("ERR_INVALID_ARGUMENT", err)
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
		return codedError("ERR_CLOSED", provider.ErrClosed)
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

func (b *boundClient) subscribe(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 6 {
		return nil, codedError("ERR_INVALID_ARGUMENT", errors.New("failed to subscribe: want 6 arguments"))
	}
	id, err := args[0].Int()
	if err != nil || id <= 0 {
		return nil, codedError("ERR_INVALID_ARGUMENT", errors.New("failed to subscribe: subscription id must be a positive integer"))
	}
	if args[1].Type() != safejs.TypeString {
		return nil, codedError("ERR_INVALID_ARGUMENT", errors.New("failed to subscribe: channel must be a string"))
	}
	channel, _ := args[1].String()
	types, err := stringList(args[2])
	if err != nil {
		return nil, codedError("ERR_INVALID_ARGUMENT", wrapErr("failed to subscribe: types", err))
	}
	ids, err := stringList(args[3])
	if err != nil {
		return nil, codedError("ERR_INVALID_ARGUMENT", wrapErr("failed to subscribe: ids", err))
	}
	if args[3].IsNull() || args[3].IsUndefined() {
		ids = nil
	}
	disabled, _ := args[4].Truthy()
	coalesceMs, _ := args[5].Float()
	return nil, b.subscribeOpts(id, provider.SubscribeOptions{
		Channel:  channel,
		Types:    types,
		IDs:      ids,
		Disabled: disabled,
		Coalesce: time.Duration(coalesceMs * float64(time.Millisecond)),
	})
}

func (b *boundClient) subscribeOpts(id int, opts provider.SubscribeOptions) error {
	opts.Callback = func(ev provider.Event) { b.batch.add(id, ev) }
	return b.enqueue(func() {
		if old := b.subs[id]; old != nil {
			b.engine.Unsubscribe(old)
		}
		sub, err := b.engine.Subscribe(opts)
		if err != nil {
			b.report(codedError("ERR_INVALID_ARGUMENT", err))
			return
		}
		b.subs[id] = sub
		b.subsMax = max(b.subsMax, len(b.subs))
	})
}

// apply runs a batch of subscribes and unsubscribes that the shim joined
// into one string, so that a burst of them costs one call (and three
// JavaScript references) instead of one call and up to four references
// each. Records are separated by U+001E, fields by U+001F:
//
//	s id coalesceMs disabled(0|1) channel nTypes types… nIDs(-1: null) ids…
//	u id
func (b *boundClient) apply(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 1 || args[0].Type() != safejs.TypeString {
		return nil, codedError("ERR_INVALID_ARGUMENT", errors.New("failed to apply: want a string"))
	}
	text, _ := args[0].String()
	bad := func() (any, error) {
		return nil, codedError("ERR_INVALID_ARGUMENT", errors.New("failed to apply: malformed batch"))
	}
	for _, rec := range strings.Split(text, "\x1e") {
		f := strings.Split(rec, "\x1f")
		if len(f) < 2 {
			return bad()
		}
		id, err := strconv.Atoi(f[1])
		if err != nil || id <= 0 {
			return bad()
		}
		switch f[0] {
		case "u":
			if err := b.unsubscribeID(id); err != nil {
				return nil, err
			}
		case "s":
			if len(f) < 6 {
				return bad()
			}
			coalesceMs, err1 := strconv.ParseFloat(f[2], 64)
			nt, err2 := strconv.Atoi(f[5])
			if err1 != nil || err2 != nil || nt < 0 || len(f) < 7+nt {
				return bad()
			}
			types := f[6 : 6+nt : 6+nt]
			ni, err := strconv.Atoi(f[6+nt])
			if err != nil || len(f) != 7+nt+max(ni, 0) {
				return bad()
			}
			var ids []string
			if ni >= 0 {
				ids = f[7+nt:]
			}
			err = b.subscribeOpts(id, provider.SubscribeOptions{
				Channel: f[4], Types: types, IDs: ids, Disabled: f[3] == "1",
				Coalesce: time.Duration(coalesceMs * float64(time.Millisecond)),
			})
			if err != nil {
				return nil, err
			}
		default:
			return bad()
		}
	}
	return nil, nil
}

func (b *boundClient) unsubscribe(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 1 {
		return nil, codedError("ERR_INVALID_ARGUMENT", errors.New("failed to unsubscribe: want a subscription id"))
	}
	id, err := args[0].Int()
	if err != nil {
		return nil, codedError("ERR_INVALID_ARGUMENT", errors.New("failed to unsubscribe: subscription id must be a number"))
	}
	return nil, b.unsubscribeID(id)
}

func (b *boundClient) unsubscribeID(id int) error {
	return b.enqueue(func() {
		if sub := b.subs[id]; sub != nil {
			delete(b.subs, id)
			b.engine.Unsubscribe(sub)
			if b.subsMax >= 256 && len(b.subs) <= b.subsMax/8 {
				b.released()
			}
		}
	})
}

func (b *boundClient) publish(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 3 || args[0].Type() != safejs.TypeString || args[1].Type() != safejs.TypeString || args[2].Type() != safejs.TypeString {
		return nil, codedError("ERR_INVALID_ARGUMENT", errors.New("failed to publish: want channel, type and payload JSON strings"))
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

// stats returns the engine's counters as a JSON object text, which the
// shim parses: cheaper in live.wasm than building the object field by field.
// It adds the Go runtime's goroutine count, for leak checks.
func (b *boundClient) stats(safejs.Value, []safejs.Value) (any, error) {
	st := b.engine.Stats()
	fields := [...]struct {
		name string
		n    uint64
	}{
		{"eventsReceived", st.EventsReceived}, {"eventsDelivered", st.EventsDelivered},
		{"eventsReplayed", st.EventsReplayed}, {"duplicatesDropped", st.DuplicatesDropped},
		{"echoesSuppressed", st.EchoesSuppressed}, {"resyncs", st.Resyncs},
		{"publishesSent", st.PublishesSent}, {"publishesAcked", st.PublishesAcked},
		{"publishesQueued", st.PublishesQueued}, {"publishesDropped", st.PublishesDropped},
		{"publishesFailed", st.PublishesFailed}, {"reconnects", st.Reconnects},
		{"dialFailures", st.DialFailures}, {"goroutines", uint64(runtime.NumGoroutine())},
		{"goLiveHeapBytes", liveHeap()},
	}
	buf := make([]byte, 0, 400)
	for i, f := range fields {
		if i == 0 {
			buf = append(buf, '{')
		} else {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		buf = append(buf, f.name...)
		buf = append(buf, '"', ':')
		buf = strconv.AppendUint(buf, f.n, 10)
	}
	return string(append(buf, '}')), nil
}

// released runs when most of many subscriptions went away. Go maps
// never shrink, so subs is made anew; and once the engine's linger is over
// one collection runs, so that the finalizers of the JavaScript values Go
// saw give wasm_exec.js's reference table its entries back (nothing else
// would trigger a collection in an idle page).
func (b *boundClient) released() {
	m := make(map[int]*provider.Subscription, len(b.subs))
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

// liveHeap is the Go heap that survived the last collection: the memory
// the client really holds, where the wasm memory only shows its peak
// (WebAssembly memory never shrinks).
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
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
		b.batch.flush()
	}
	b.mu.Lock()
	b.state = "closed"
	b.mu.Unlock()
	b.funcs.release()
}

func (b *boundClient) onStatus(from, to provider.Status) {
	if fn, err := b.hooks.Get("onStatus"); err == nil && fn.Type() == safejs.TypeFunction {
		_, _ = fn.Invoke(string(from), string(to))
	}
}

// report hands an error to hooks.onError with its code. It is called from
// any goroutine and never blocks on the engine.
func (b *boundClient) report(err error) {
	if err == nil {
		return
	}
	fn, gerr := b.hooks.Get("onError")
	if gerr != nil || fn.Type() != safejs.TypeFunction {
		return
	}
	_, _ = fn.Invoke(errorCode(err), err.Error())
}

// getToken calls hooks.getToken() and waits for its promise.
func (b *boundClient) getToken(ctx context.Context) (string, error) {
	fn, err := b.hooks.Get("getToken")
	if err != nil || fn.Type() != safejs.TypeFunction {
		return "", errors.New("failed to get token: hooks.getToken is not a function")
	}
	v, err := fn.Invoke()
	if err != nil {
		return "", wrapErr("failed to get token", err)
	}
	v, err = await(ctx, v, b.report)
	if err != nil {
		return "", wrapErr("failed to get token", err)
	}
	if v.Type() != safejs.TypeString {
		return "", errors.New("failed to get token: getToken must resolve to a string")
	}
	return v.String()
}
