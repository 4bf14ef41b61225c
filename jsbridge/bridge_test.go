//go:build js && wasm

package jsbridge

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
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
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	return eval.Invoke(code)
}

// importSocketHelper returns npm/socket.js's openSocket.
func importSocketHelper(t *testing.T) safejs.Value {
	t.Helper()
	fn, err := importModule(t, "../npm/socket.js").Get("openSocket")
	if err != nil || fn.Type() != safejs.TypeFunction {
		t.Fatal("socket.js exports no openSocket function")
	}
	return fn
}

// shimConfig is the config object the shim hands to newClient for these
// options: npm/options.js's goConfig(normalizeOptions(options)). An option
// the shim refuses fails the test.
func shimConfig(t *testing.T, options map[string]any) safejs.Value {
	t.Helper()
	build, err := jsEval(t, `(m, o) => m.goConfig(m.normalizeOptions(o, (e) => { throw e; }))`)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := safejs.ValueOf(options)
	if err != nil {
		t.Fatal(err)
	}
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
	note := func(dst *[]string, s string) {
		r.mu.Lock()
		*dst = append(*dst, s)
		r.mu.Unlock()
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}
	hooks, err := r.funcs.object(map[string]jsFunc{
		"onEvents": func(_ safejs.Value, a []safejs.Value) (any, error) {
			s, _ := a[0].String()
			note(&r.batches, s)
			return nil, nil
		},
		"onStatus": func(_ safejs.Value, a []safejs.Value) (any, error) {
			to, _ := a[1].String()
			note(&r.statuses, to)
			return nil, nil
		},
		"onError": func(_ safejs.Value, a []safejs.Value) (any, error) {
			code, _ := a[0].String()
			msg, _ := a[1].String()
			channel, _ := a[2].String()
			r.mu.Lock()
			r.messages = append(r.messages, code+": "+msg+" ["+channel+"]")
			r.mu.Unlock()
			note(&r.errors, code)
			return nil, nil
		},
		"onSubStates": func(_ safejs.Value, a []safejs.Value) (any, error) {
			s, _ := a[0].String()
			note(&r.states, s)
			return nil, nil
		},
		"onLog": func(_ safejs.Value, a []safejs.Value) (any, error) {
			s, _ := a[1].String()
			note(&r.logs, s)
			return nil, nil
		},
	}, map[string]any{"openSocket": importSocketHelper(t)})
	if err != nil {
		t.Fatal(err)
	}
	return r, hooks
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
	if err != nil {
		t.Fatal(err)
	}
	if isErr, _ := c.Get("code"); isErr.Type() == safejs.TypeString {
		msg, _ := c.Get("message")
		s, _ := msg.String()
		t.Fatalf("newClient returned an error: %s", s)
	}
	return c
}

func closeClient(t *testing.T, c safejs.Value) {
	t.Helper()
	p, err := c.Call("close")
	if err != nil {
		t.Fatal(err)
	}
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
		if _, err := sender.Call("publish", channel, "updated", `{"ids":[1]}`, safejs.Null()); err != nil {
			t.Fatal(err)
		}
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

func TestSubscribePublishAcrossClients(t *testing.T) {
	for _, level := range []string{"extended", "basic", "auto"} {
		t.Run(level, func(t *testing.T) {
			testAPI(t)
			before := LiveFuncs()
			recvRec, recvHooks := newRecorder(t)
			sendRec, sendHooks := newRecorder(t)
			receiver := newTestClient(t, recvHooks, level)
			sender := newTestClient(t, sendHooks, level)
			channel := "resources/posts-" + level

			ids, _ := safejs.ValueOf([]any{})
			types, _ := safejs.ValueOf([]any{"*"})
			if _, err := receiver.Call("subscribe", 7, channel, types, ids, false, 0); err != nil {
				t.Fatal(err)
			}
			recvRec.waitFor(t, "receiver open", func() bool { return contains(recvRec.statuses, "open") })
			first := publishUntilHeard(t, sender, recvRec, channel)
			if !strings.HasPrefix(first, "[[7],{") || !strings.Contains(first, `"type":"updated"`) || !strings.Contains(first, `"payload":{"ids":[1]}`) {
				t.Fatalf("unexpected batch %s", first)
			}
			_ = sendRec
			closeClient(t, receiver)
			closeClient(t, sender)
			recvRec.funcs.release()
			sendRec.funcs.release()
			if after := LiveFuncs(); after != before {
				t.Fatalf("live functions: %d before, %d after closing both clients", before, after)
			}
		})
	}
}

func TestBadArgumentsAreReportedNotThrown(t *testing.T) {
	rec, hooks := newRecorder(t)
	c := newTestClient(t, hooks, "basic")
	defer closeClient(t, c)
	calls := [][]any{
		{"subscribe"},
		{"subscribe", "x", "c", safejs.Null(), safejs.Null(), false, 0},
		{"subscribe", 1, 5, safejs.Null(), safejs.Null(), false, 0},
		{"unsubscribe"},
		{"publish", 1, 2},
		{"apply", 5},
		{"apply", "x\x1f1"},
		{"apply", "s\x1f1\x1f0\x1f0\x1f0\x1fc\x1f2\x1f*\x1f-1"}, // two types announced, one given
	}
	for _, call := range calls {
		if _, err := c.Call(call[0].(string), call[1:]...); err != nil {
			t.Fatalf("%v threw: %v", call, err)
		}
	}
	rec.waitFor(t, "a reported error per call", func() bool { return len(rec.errors) >= len(calls) })
	for _, code := range rec.errors {
		if code != "ERR_INVALID_ARGUMENT" {
			t.Errorf("error code %q, want ERR_INVALID_ARGUMENT", code)
		}
	}
}

// apply runs the shim's batch of subscribes and unsubscribes in order.
func TestApplyBatchesSubscribes(t *testing.T) {
	rec, hooks := newRecorder(t)
	_, sendHooks := newRecorder(t)
	receiver := newClientWith(t, hooks, map[string]any{"url": serverURL(t), "protocol": "extended", "filterIds": true})
	defer closeClient(t, receiver)
	sender := newTestClient(t, sendHooks, "extended")
	defer closeClient(t, sender)
	const channel = "resources/apply"
	// 3 is subscribed and removed within the batch; 4 filters on ids.
	batch := "s\x1f3\x1f0\x1f0\x1f0\x1f" + channel + "\x1f1\x1f*\x1f-1" +
		"\x1es\x1f9\x1f0\x1f0\x1f0\x1f" + channel + "\x1f1\x1fupdated\x1f-1" +
		"\x1es\x1f4\x1f0\x1f0\x1f0\x1f" + channel + "\x1f1\x1f*\x1f1\x1f2" +
		"\x1eu\x1f3"
	if _, err := receiver.Call("apply", batch); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "receiver open", func() bool { return contains(rec.statuses, "open") })
	first := publishUntilHeard(t, sender, rec, channel)
	rec.mu.Lock()
	errs := append([]string(nil), rec.errors...)
	rec.mu.Unlock()
	// Only 9: 3 was removed, and 4 wants id 2.
	if !strings.HasPrefix(first, "[[9],{") {
		t.Fatalf("batch %s, want the event for subscription 9 alone", first)
	}
	if len(errs) > 0 {
		t.Fatalf("errors reported: %v", errs)
	}
}

func TestPanicBecomesReport(t *testing.T) {
	var reported error
	s := newFuncSet(func(err error) { reported = err })
	defer s.release()
	f, err := s.add(func(safejs.Value, []safejs.Value) (any, error) { panic("boom") })
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Value().Invoke()
	if err != nil {
		t.Fatalf("panic crossed into JavaScript: %v", err)
	}
	if !v.IsUndefined() || reported == nil || !strings.Contains(reported.Error(), "boom") {
		t.Fatalf("got %v, reported %v", v, reported)
	}
}

func TestFuncSetReleasesEverything(t *testing.T) {
	before := LiveFuncs()
	s := newFuncSet(func(error) {})
	for i := 0; i < 5; i++ {
		if _, err := s.add(func(safejs.Value, []safejs.Value) (any, error) { return nil, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if LiveFuncs() != before+5 {
		t.Fatalf("live functions %d, want %d", LiveFuncs(), before+5)
	}
	s.release()
	s.release()
	if LiveFuncs() != before {
		t.Fatalf("live functions %d after release, want %d", LiveFuncs(), before)
	}
}

func TestAppendBatch(t *testing.T) {
	payload := []byte(`{"ids":[1]}`)
	items := []delivery{
		{from: 0, to: 2, event: provider.Event{Channel: "c", Type: "updated", Payload: payload, Date: 5, ID: "x"}},
		{from: 2, to: 3, event: provider.Event{Channel: "c\"q", Type: "*", Payload: []byte(`{"resync":true,"reason":"reconnect"}`), Date: 6, Meta: []byte(`{"a":1}`)}},
	}
	got := string(appendBatch(nil, items, []int{1, 2, 3}))
	want := `[[1,2],{"channel":"c","type":"updated","payload":{"ids":[1]},"date":5,"id":"x"},[3],{"channel":"c\"q","type":"*","payload":{"resync":true,"reason":"reconnect"},"date":6,"meta":{"a":1}}]`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	_ = protocol.Version
}

func TestAppendID(t *testing.T) {
	for _, id := range []int{0, 7, 10, 99, 12345, 999999999, 1000000000, -3} {
		if got, want := string(appendID([]byte("x"), id)), "x"+strconv.Itoa(id); got != want {
			t.Fatalf("appendID(%d) = %q, want %q", id, got, want)
		}
	}
}

// One event fanned out to several subscriptions shares one entry; the
// next event starts its own.
func TestBatcherGroupsFanOut(t *testing.T) {
	b := newBatcher(safejs.Value{}, func(error) {})
	payload := []byte(`{}`)
	ev := provider.Event{Channel: "c", Type: "updated", Payload: payload, Seq: 1}
	b.add(1, ev)
	b.add(2, ev)
	next := ev
	next.Seq = 2
	b.add(1, next)
	b.add(2, next)
	// Equal content in other memory is another event (the engine shares the
	// memory of a fanned-out event), so it gets its own entry.
	again := next
	again.Payload = []byte(`{}`)
	b.add(3, again)
	got := string(appendBatch(nil, b.pending, b.ids))
	want := `[[1,2],{"channel":"c","type":"updated","payload":{},"date":0},[1,2],{"channel":"c","type":"updated","payload":{},"date":0},[3],{"channel":"c","type":"updated","payload":{},"date":0}]`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// stats carries the engine's counters and the runtime's goroutine count,
// which the browser leak test watches.
func TestStatsCountGoroutines(t *testing.T) {
	_, hooks := newRecorder(t)
	c := newTestClient(t, hooks, "extended")
	defer closeClient(t, c)
	raw, err := c.Call("stats")
	if err != nil {
		t.Fatal(err)
	}
	text, err := raw.String()
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]float64
	if err := json.Unmarshal([]byte(text), &st); err != nil {
		t.Fatalf("stats %q: %v", text, err)
	}
	if st["goroutines"] < 1 || st["goroutines"] > float64(runtime.NumGoroutine()+16) {
		t.Fatalf("stats %q: goroutines out of range", text)
	}
	if _, ok := st["eventsReceived"]; !ok {
		t.Fatalf("stats %q lack the engine counters", text)
	}
}

// A server that is not there: the error says the socket closed before it
// opened and what that usually means, with a connection code.
func TestDialFailureSaysWhy(t *testing.T) {
	serverURL(t) // Node's WebSocket is needed, as in the other live tests
	rec, hooks := newRecorder(t)
	c := newClientWith(t, hooks, map[string]any{"url": "ws://127.0.0.1:1/live", "reconnect": map[string]any{"minDelay": 50, "maxDelay": 100}})
	defer closeClient(t, c)
	if _, err := c.Call("apply", "s\x1f1\x1f0\x1f0\x1f0\x1fc\x1f1\x1f*\x1f-1"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "a dial error", func() bool { return len(rec.messages) > 0 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	msg := rec.messages[0]
	for _, want := range []string{"ERR_CONNECTION: ", "failed to dial ws://127.0.0.1:1/live", "the connection closed before it opened (code 1006)", "refused the handshake"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// States reach the shim in batches: subscribed once the server confirmed,
// also for a second subscription of a channel already subscribed (whose
// change may come before its listener is in place), and nothing for a
// subscription the shim removed.
func TestSubscriptionStatesReachTheShim(t *testing.T) {
	rec, hooks := newRecorder(t)
	c := newTestClient(t, hooks, "extended")
	defer closeClient(t, c)
	const channel = "resources/states"
	stateOf := func(id string) string {
		last := ""
		for _, batch := range rec.states {
			var pairs []any
			if err := json.Unmarshal([]byte(batch), &pairs); err != nil {
				t.Fatalf("states batch %q: %v", batch, err)
			}
			for i := 0; i+1 < len(pairs); i += 2 {
				if n, _ := pairs[i].(float64); strconv.Itoa(int(n)) == id {
					last, _ = pairs[i+1].(string)
				}
			}
		}
		return last
	}
	if _, err := c.Call("apply", "s\x1f5\x1f0\x1f0\x1f0\x1f"+channel+"\x1f1\x1f*\x1f-1"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "subscription 5 subscribed", func() bool { return stateOf("5") == "subscribed" })
	if _, err := c.Call("apply", "s\x1f6\x1f0\x1f0\x1f0\x1f"+channel+"\x1f1\x1f*\x1f-1"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "subscription 6 subscribed", func() bool { return stateOf("6") == "subscribed" })
	rec.mu.Lock()
	before := len(rec.states)
	rec.mu.Unlock()
	if _, err := c.Call("apply", "u\x1f5"); err != nil {
		t.Fatal(err)
	}
	// The unsubscribe is done once a later call on the same worker ran:
	// a third subscription's state comes after it.
	if _, err := c.Call("apply", "s\x1f7\x1f0\x1f0\x1f0\x1f"+channel+"\x1f1\x1f*\x1f-1"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "subscription 7 subscribed", func() bool { return stateOf("7") == "subscribed" })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, batch := range rec.states[before:] {
		if strings.Contains(batch, "[5,") || strings.Contains(batch, ",5,") {
			t.Errorf("a state for the removed subscription 5 reached the shim: %s", batch)
		}
	}
}

// With debug the engine's lifecycle reaches hooks.onLog; without it,
// nothing does.
func TestDebugLogsTheLifecycle(t *testing.T) {
	for _, debug := range []bool{true, false} {
		rec, hooks := newRecorder(t)
		c := newClientWith(t, hooks, map[string]any{"url": serverURL(t), "protocol": "auto", "debug": debug})
		if _, err := c.Call("apply", "s\x1f1\x1f0\x1f0\x1f0\x1fresources/debug\x1f1\x1f*\x1f-1"); err != nil {
			t.Fatal(err)
		}
		rec.waitFor(t, "subscribed", func() bool {
			return len(rec.states) > 0 && strings.Contains(rec.states[len(rec.states)-1], `"subscribed"`)
		})
		closeClient(t, c)
		rec.mu.Lock()
		logs := strings.Join(rec.logs, "\n")
		rec.mu.Unlock()
		if !debug {
			if logs != "" {
				t.Errorf("without debug the bridge logged:\n%s", logs)
			}
			continue
		}
		for _, want := range []string{"dialing " + serverURL(t), "open " + serverURL(t), `to server: {"action":"hello"`,
			`from server: {"action":"hello"`, `from server: {"action":"subscribed","channel":"resources/debug"`,
			"subscription 1 to resources/debug: subscribing → subscribed"} {
			if !strings.Contains(logs, want) {
				t.Errorf("debug log lacks %q:\n%s", want, logs)
			}
		}
	}
}
