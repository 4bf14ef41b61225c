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

// boundSub is an engine subscription and the remover of its state listener.
type boundSub struct {
	sub *provider.Subscription
	off func() // nil when nothing listens
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
		bs := boundSub{sub: sub}
		if b.states != nil || b.log != nil {
			channel := opts.Channel
			bs.off = sub.OnState(func(from, to provider.SubState) {
				if b.log != nil {
					b.log("subscription " + strconv.Itoa(id) + " to " + channel + ": " + string(from) + " → " + string(to))
				}
				if b.states != nil {
					b.states.add(id, sub)
				}
			})
			// A change the loop made before the listener was in place
			// (a channel already subscribed) would go unheard; the shim
			// assumes subscribing until told otherwise.
			if b.states != nil && sub.State() != provider.SubSubscribing {
				b.states.add(id, sub)
				b.states.flush()
			}
		}
		b.subs[id] = bs
		b.subsMax = max(b.subsMax, len(b.subs))
	})
}

func (bs boundSub) drop(engine *provider.Client) {
	if bs.off != nil {
		bs.off()
	}
	engine.Unsubscribe(bs.sub)
}

// apply runs a batch of subscribes and unsubscribes that the shim joined
// into one string, so that a burst of them costs one call (and three
// JavaScript references) instead of one call and up to four references
// each. The format is parseApply's. A malformed batch is refused whole.
func (b *boundClient) apply(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 1 || args[0].Type() != safejs.TypeString {
		return nil, codedError(codeInvalidArgument, errors.New("failed to apply: want a string"))
	}
	text, _ := args[0].String()
	ops, ok := parseApply(text, time.Now)
	if !ok {
		return nil, codedError(codeInvalidArgument, errors.New("failed to apply: malformed batch"))
	}
	for i := range ops {
		var err error
		if ops[i].unsubscribe {
			err = b.unsubscribeID(ops[i].id)
		} else {
			err = b.subscribeOpts(ops[i].id, ops[i].opts)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// applyOp is one record of an apply batch.
type applyOp struct {
	unsubscribe bool
	id          int
	opts        provider.SubscribeOptions // subscribes only; no Callback yet
}

// parseApply reads the shim's batch. Records are separated by U+001E,
// fields by U+001F:
//
//	s id coalesceMs disabled(0|1) ageMs channel nTypes types… nIDs(-1: null) ids…
//	u id
//
// ageMs is how long before the batch the application called subscribe
// (the shim queues subscriptions while live.wasm loads); now is read once,
// and only when some record has an age.
func parseApply(text string, now func() time.Time) ([]applyOp, bool) {
	var (
		ops     []applyOp
		nowTime time.Time
		haveNow bool
	)
	for _, rec := range strings.Split(text, "\x1e") {
		f := strings.Split(rec, "\x1f")
		if len(f) < 2 {
			return nil, false
		}
		id, err := strconv.Atoi(f[1])
		if err != nil || id <= 0 {
			return nil, false
		}
		switch f[0] {
		case "u":
			if len(f) != 2 {
				return nil, false
			}
			ops = append(ops, applyOp{unsubscribe: true, id: id})
		case "s":
			if len(f) < 8 {
				return nil, false
			}
			coalesceMs, err1 := strconv.ParseFloat(f[2], 64)
			ageMs, err2 := strconv.ParseFloat(f[4], 64)
			nt, err3 := strconv.Atoi(f[6])
			if err1 != nil || err2 != nil || err3 != nil || (f[3] != "0" && f[3] != "1") || nt < 0 || len(f) < 8+nt {
				return nil, false
			}
			types := f[7 : 7+nt : 7+nt]
			ni, err := strconv.Atoi(f[7+nt])
			if err != nil || ni < -1 || len(f) != 8+nt+max(ni, 0) {
				return nil, false
			}
			var ids []string
			if ni >= 0 {
				ids = f[8+nt:]
			}
			var at time.Time
			if ageMs > 0 {
				if !haveNow {
					nowTime, haveNow = now(), true
				}
				at = nowTime.Add(-msDuration(ageMs))
			}
			ops = append(ops, applyOp{id: id, opts: provider.SubscribeOptions{
				Channel: f[5], Types: types, IDs: ids, Disabled: f[3] == "1",
				Coalesce: msDuration(coalesceMs), CalledAt: at,
			}})
		default:
			return nil, false
		}
	}
	return ops, true
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
	channel, serverCode, closeCode := errorDetails(err)
	_, _ = fn.Invoke(errorCode(err), err.Error(), channel, serverCode, closeCode)
}

// jsLogger hands the engine's log lines to hooks.onLog(level, text).
type jsLogger struct{ fn safejs.Value }

func (l jsLogger) Log(level provider.LogLevel, msg string, err error) {
	if err != nil {
		msg += ": " + err.Error()
	}
	_, _ = l.fn.Invoke(level.String(), msg)
}

// getToken calls hooks.getToken() and waits for its promise. Its failures
// carry ERR_TOKEN through the engine's connection error.
func (b *boundClient) getToken(ctx context.Context) (string, error) {
	tok, err := b.fetchToken(ctx)
	if err != nil {
		return "", codedError(codeToken, err)
	}
	return tok, nil
}

func (b *boundClient) fetchToken(ctx context.Context) (string, error) {
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
