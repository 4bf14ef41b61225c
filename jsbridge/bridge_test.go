//go:build js && wasm

package jsbridge

import (
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

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

			send(t, receiver, subscribeCmd(7, channel))
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

// A malformed batch is reported, not thrown, and runs none of its
// commands; a refused command does not stop the others.
func TestBadCommandsAreReportedNotThrown(t *testing.T) {
	rec, hooks := newRecorder(t)
	c := newTestClient(t, hooks, "basic")
	defer closeClient(t, c)
	batches := [][]string{
		{`"s"`},
		{`["s","x","c",["*"],null,0,0]`},
		{`["s",1,5,["*"],null,0,0]`},
		{`["u"]`},
		{`["p",1,2]`},
		{subscribeCmd(1, "ok"), `["s",2,"c",["*"],null,0]`}, // the whole batch goes
		{`["s",3,"",["*"],null,0,0]`},                       // the engine refuses an empty channel
	}
	for _, b := range batches {
		send(t, c, b...)
	}
	rec.waitFor(t, "a reported error per batch", func() bool { return len(rec.errors) >= len(batches) })
	for _, code := range rec.errors {
		assert.Equal(t, "ERR_INVALID_ARGUMENT", code)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Empty(t, rec.states, "no subscription of a refused batch reached the engine")
}

// A command batch runs its subscribes and unsubscribes in order.
func TestCommandsRunInOrder(t *testing.T) {
	rec, hooks := newRecorder(t)
	_, sendHooks := newRecorder(t)
	receiver := newClientWith(t, hooks, map[string]any{"url": serverURL(t), "protocol": "extended", "filterIds": true})
	defer closeClient(t, receiver)
	sender := newTestClient(t, sendHooks, "extended")
	defer closeClient(t, sender)
	const channel = "resources/apply"
	// 3 is subscribed and removed within the batch; 4 filters on ids.
	send(t, receiver,
		subscribeCmd(3, channel),
		`["s",9,"`+channel+`",["updated"],null,0,0]`,
		`["s",4,"`+channel+`",["*"],["2"],0,0]`,
		unsubscribeCmd(3))
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
	require.NoError(t, err)
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

// A server that is not there: the error says the socket closed before it
// opened and what that usually means, with a connection code.
func TestDialFailureSaysWhy(t *testing.T) {
	serverURL(t) // Node's WebSocket is needed, as in the other live tests
	rec, hooks := newRecorder(t)
	c := newClientWith(t, hooks, map[string]any{"url": "ws://127.0.0.1:1/live", "reconnect": map[string]any{"minDelay": 50, "maxDelay": 100}})
	defer closeClient(t, c)
	send(t, c, subscribeCmd(1, "c"))
	rec.waitFor(t, "a dial error", func() bool { return len(rec.messages) > 0 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	msg := rec.messages[0]
	for _, want := range []string{"ERR_CONNECTION: ", "failed to dial ws://127.0.0.1:1/live", "the connection closed before it opened (code 1006)", "refused the handshake"} {
		assert.Contains(t, msg, want)
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
	send(t, c, subscribeCmd(5, channel))
	rec.waitFor(t, "subscription 5 subscribed", func() bool { return stateOf("5") == "subscribed" })
	send(t, c, subscribeCmd(6, channel))
	rec.waitFor(t, "subscription 6 subscribed", func() bool { return stateOf("6") == "subscribed" })
	rec.mu.Lock()
	before := len(rec.states)
	rec.mu.Unlock()
	send(t, c, unsubscribeCmd(5))
	// The unsubscribe is done once a later call on the same worker ran:
	// a third subscription's state comes after it.
	send(t, c, subscribeCmd(7, channel))
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
		send(t, c, subscribeCmd(1, "resources/debug"))
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
			assert.Contains(t, logs, want, "debug log")
		}
	}
}

// stats carries the engine's counters and the runtime's goroutine count,
// which the browser leak test watches.
func TestStatsCountGoroutines(t *testing.T) {
	_, hooks := newRecorder(t)
	c := newTestClient(t, hooks, "extended")
	defer closeClient(t, c)
	raw, err := c.Call("stats")
	require.NoError(t, err)
	text, err := raw.String()
	require.NoError(t, err)
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

// Text that is not ASCII grows the inbox while the shim writes it; what
// reaches the engine, and comes back, is the same text.
func TestNonASCIICommandsAndFramesArriveWhole(t *testing.T) {
	rec, hooks := newRecorder(t)
	_, sendHooks := newRecorder(t)
	receiver := newTestClient(t, hooks, "extended")
	defer closeClient(t, receiver)
	sender := newTestClient(t, sendHooks, "extended")
	defer closeClient(t, sender)
	channel := "resources/é✓😀-" + strings.Repeat("ü", 40)
	send(t, receiver, subscribeCmd(1, channel))
	rec.waitFor(t, "receiver open", func() bool { return contains(rec.statuses, "open") })
	first := publishUntilHeard(t, sender, rec, channel)
	assert.Contains(t, first, `"channel":"`+channel+`"`)
}
