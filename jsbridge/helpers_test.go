//go:build js && wasm

package jsbridge

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/require"
)

// The tests below run under Node with --experimental-websocket, started by
// wasm_test.go at the repository root with a live reference server.

func serverURL(t *testing.T) string {
	u := os.Getenv("REFINE_LIVE_TEST_WS")
	if u == "" {
		t.Skip("REFINE_LIVE_TEST_WS is not set: run through wasm_test.go at the repository root")
	}
	return u
}

// importModule imports one of the shim's own files, so that the Go side is
// tested against the exact JavaScript that ships.
func importModule(t *testing.T, rel string) safejs.Value {
	t.Helper()
	abs, err := filepath.Abs(rel)
	require.NoError(t, err)
	p, err := jsEval(t, "import("+strconv.Quote("file://"+abs)+")")
	if err != nil {
		t.Fatalf("failed to import %s: %v", rel, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mod, err := await(ctx, p, func(error) {})
	if err != nil {
		t.Fatalf("failed to import %s: %v", rel, err)
	}
	return mod
}

func jsEval(t *testing.T, code string) (safejs.Value, error) {
	t.Helper()
	eval, err := safejs.Global().Get("eval")
	require.NoError(t, err)
	return eval.Invoke(code)
}

var (
	bindingOnce sync.Once
	binding     safejs.Value
)

// testBinding is npm/contract.js's bindExports over this test binary's own
// exports, which the runner (testdata/node) leaves on globalThis: the tests
// drive Go through the exact JavaScript that ships.
func testBinding(t *testing.T) safejs.Value {
	t.Helper()
	bindingOnce.Do(func() {
		bind, err := jsEval(t, `(m) => m.bindExports(globalThis.liveTestExports, () => globalThis.liveTestGo._resume())`)
		require.NoError(t, err)
		binding, err = bind.Invoke(importModule(t, "../npm/contract.js"))
		require.NoError(t, err)
	})
	if binding.IsUndefined() {
		t.Fatal("no binding of the exports: run through wasm_test.go at the repository root")
	}
	return binding
}

// socketHook is the shim's hooks.openSocket: npm/socket.js's openSocket
// over the binding.
func socketHook(t *testing.T) safejs.Value {
	t.Helper()
	wrap, err := jsEval(t, `(m, go) => (url, sink) => m.openSocket(url, sink, go)`)
	require.NoError(t, err)
	hook, err := wrap.Invoke(importModule(t, "../npm/socket.js"), testBinding(t))
	require.NoError(t, err)
	return hook
}

// send hands client a command batch of the given commands (contract.go's
// parseCommands) through the binding, as the shim does.
func send(t *testing.T, client safejs.Value, commands ...string) {
	t.Helper()
	handle, err := client.Get("handle")
	require.NoError(t, err)
	_, err = testBinding(t).Call("commands", handle, "["+strings.Join(commands, ",")+"]")
	require.NoError(t, err)
}

func subscribeCmd(id int, channel string) string {
	return `["s",` + strconv.Itoa(id) + `,` + strconv.Quote(channel) + `,["*"],null,0,0]`
}

func unsubscribeCmd(id int) string { return `["u",` + strconv.Itoa(id) + `]` }

func publishCmd(channel, payload string) string {
	return `["p",` + strconv.Quote(channel) + `,"updated",` + payload + `,null]`
}

// shimConfig is the config object the shim hands to newClient for these
// options: npm/options.js's goConfig(normalizeOptions(options)). An option
// the shim refuses fails the test.
func shimConfig(t *testing.T, options map[string]any) safejs.Value {
	t.Helper()
	build, err := jsEval(t, `(m, o) => m.goConfig(m.normalizeOptions(o, (e) => { throw e; }))`)
	require.NoError(t, err)
	opts, err := safejs.ValueOf(options)
	require.NoError(t, err)
	cfg, err := build.Invoke(importModule(t, "../npm/options.js"), opts)
	if err != nil {
		t.Fatalf("the shim refused %v: %v", options, err)
	}
	return cfg
}

// recorder collects what the client reports through its hooks.
type recorder struct {
	mu       sync.Mutex
	batches  []string
	statuses []string
	errors   []string // codes
	messages []string // "code: message [channel]"
	states   []string // onSubStates batches
	logs     []string
	changed  chan struct{}
	funcs    *funcSet
}

func newRecorder(t *testing.T) (*recorder, safejs.Value) {
	r := &recorder{changed: make(chan struct{}, 1)}
	r.funcs = newFuncSet(func(err error) { t.Errorf("hook failed: %v", err) })
	t.Cleanup(r.funcs.release)
	hooks, err := r.funcs.object(map[string]jsFunc{
		"onEvents": r.keepArg(&r.batches, 0),
		"onStatus": r.keepArg(&r.statuses, 1),
		"onError": func(_ safejs.Value, a []safejs.Value) (any, error) {
			code, _ := a[0].String()
			msg, _ := a[1].String()
			channel, _ := a[2].String()
			r.mu.Lock()
			r.messages = append(r.messages, code+": "+msg+" ["+channel+"]")
			r.mu.Unlock()
			r.note(&r.errors, code)
			return nil, nil
		},
		"onSubStates": r.keepArg(&r.states, 0),
		"onLog":       r.keepArg(&r.logs, 1),
	}, map[string]any{"openSocket": socketHook(t)})
	require.NoError(t, err)
	// As the shim does (npm/runtime.js): these hooks enter Go, which must
	// not happen while an export runs.
	hold, err := jsEval(t, `(go, h) => { for (const k of ["onStatus", "onError", "onSubStates", "onLog"]) h[k] = go.hook(h[k]); return h; }`)
	require.NoError(t, err)
	if hooks, err = hold.Invoke(testBinding(t), hooks); err != nil {
		t.Fatal(err)
	}
	return r, hooks
}

// note records s in dst and wakes waitFor.
func (r *recorder) note(dst *[]string, s string) {
	r.mu.Lock()
	*dst = append(*dst, s)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// keepArg is a hook that records its string argument i in dst.
func (r *recorder) keepArg(dst *[]string, i int) jsFunc {
	return func(_ safejs.Value, a []safejs.Value) (any, error) {
		s, _ := a[i].String()
		r.note(dst, s)
		return nil, nil
	}
}

// waitFor polls cond whenever a hook fires, until the deadline.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s (statuses %v, errors %v, batches %v)", what, r.statuses, r.errors, r.batches)
		}
	}
}

var (
	apiOnce sync.Once
	api     safejs.Value
	apiErr  error
)

// testAPI is created once: its functions live as long as the program, as
// they do in the browser.
func testAPI(t *testing.T) safejs.Value {
	apiOnce.Do(func() { api, apiErr = newAPI("test", func(error) {}) })
	if apiErr != nil {
		t.Fatal(apiErr)
	}
	return api
}

func newTestClient(t *testing.T, hooks safejs.Value, protocolLevel string) safejs.Value {
	t.Helper()
	return newClientWith(t, hooks, map[string]any{"url": serverURL(t), "protocol": protocolLevel})
}

// newClientWith makes a client from the config the shim builds for options.
func newClientWith(t *testing.T, hooks safejs.Value, options map[string]any) safejs.Value {
	t.Helper()
	api := testAPI(t)
	cfg := shimConfig(t, options)
	c, err := api.Call("newClient", cfg, hooks)
	require.NoError(t, err)
	if isErr, _ := c.Get("code"); isErr.Type() == safejs.TypeString {
		msg, _ := c.Get("message")
		s, _ := msg.String()
		t.Fatalf("newClient returned an error: %s", s)
	}
	// Event batches delivered during an export come back in its outbox.
	handle, _ := c.Get("handle")
	onEvents, _ := hooks.Get("onEvents")
	unregister, err := testBinding(t).Call("register", handle, onEvents)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = unregister.Invoke() })
	return c
}

func closeClient(t *testing.T, c safejs.Value) {
	t.Helper()
	p, err := c.Call("close")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := await(ctx, p, func(error) {}); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// publishUntilHeard publishes {"ids":[1]} on channel from sender until the
// receiver's recorder got an event batch, and returns the first batch.
// Publishing before the receiver's subscription reached the server would
// lose the event, and a basic server confirms no subscription, so the
// sender publishes again until the receiver has one: only the condition
// decides.
func publishUntilHeard(t *testing.T, sender safejs.Value, rec *recorder, channel string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for heard := false; !heard && time.Now().Before(deadline); {
		send(t, sender, publishCmd(channel, `{"ids":[1]}`))
		select {
		case <-rec.changed:
		case <-time.After(200 * time.Millisecond):
		}
		rec.mu.Lock()
		heard = len(rec.batches) > 0
		rec.mu.Unlock()
	}
	rec.waitFor(t, "an event batch", func() bool { return len(rec.batches) > 0 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.batches[0]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
