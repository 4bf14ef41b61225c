package provider

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// harness is a Client on a virtual clock and a fake transport, with its
// events and errors collected in channels.
type harness struct {
	t      testing.TB
	c      *Client
	clk    *vclock
	tr     *fakeTransport
	events chan Event
	errs   chan error
}

func newHarness(t testing.TB, mut func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, clk: newVClock(), tr: newFakeTransport(), events: make(chan Event, 1024), errs: make(chan error, 1024)}
	cfg := Config{
		URLs:      []string{"ws://a"},
		Transport: h.tr,
		Clock:     h.clk,
		Rand:      func() float64 { return 0.5 },
		OnError: func(err error) {
			select {
			case h.errs <- err:
			default:
			}
		},
	}
	if mut != nil {
		mut(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	h.c = c
	h.clk.settle = func() {
		done := make(chan struct{})
		if c.post(func() { close(done) }) {
			<-done
		}
	}
	t.Cleanup(func() { c.Close() })
	return h
}

func (h *harness) sub(o SubscribeOptions) *Subscription {
	h.t.Helper()
	if o.Callback == nil {
		o.Callback = func(e Event) { h.events <- e }
	}
	s, err := h.c.Subscribe(o)
	require.NoError(h.t, err)
	return s
}

func (h *harness) expectEvent() Event {
	h.t.Helper()
	return recv(h.t, h.events)
}

// expectSeq expects the next events to be ordinary ones with these seqs.
func (h *harness) expectSeq(seqs ...uint64) {
	h.t.Helper()
	for _, want := range seqs {
		e := h.expectEvent()
		require.Equal(h.t, want, e.Seq, "event %+v", e)
		require.Empty(h.t, e.Resync, "event %+v", e)
	}
}

// expectResync expects the next event to be a resync for reason.
func (h *harness) expectResync(reason string) Event {
	h.t.Helper()
	e := h.expectEvent()
	require.Equal(h.t, reason, e.Resync, "event %+v", e)
	require.Equal(h.t, "*", e.Type)
	return e
}

// expectNoEvent fails if an event is waiting once the loop is idle.
func (h *harness) expectNoEvent() {
	h.t.Helper()
	h.sync()
	select {
	case e := <-h.events:
		h.t.Fatalf("unexpected event %+v", e)
	default:
	}
}

// expectNoErr fails if an error was reported.
func (h *harness) expectNoErr() {
	h.t.Helper()
	select {
	case err := <-h.errs:
		h.t.Fatalf("unexpected error %v", err)
	default:
	}
}

// publish publishes and expects it accepted.
func (h *harness) publish(e PublishEvent) {
	h.t.Helper()
	require.NoError(h.t, h.c.Publish(e))
}

func (h *harness) expectErr(target error) error {
	h.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case err := <-h.errs:
			if errors.Is(err, target) {
				return err
			}
		case <-deadline:
			require.FailNow(h.t, "no error matching "+target.Error())
			return nil
		}
	}
}

// expectServerError expects a *ServerError to be reported.
func (h *harness) expectServerError() *ServerError {
	h.t.Helper()
	var se *ServerError
	require.ErrorAs(h.t, h.expectErr(ErrServer), &se)
	return se
}

// query runs f on the loop and waits for it.
func (h *harness) query(f func()) {
	h.t.Helper()
	done := make(chan struct{})
	require.True(h.t, h.c.post(func() { f(); close(done) }), "loop exited")
	<-done
}

// sync waits until the loop has handled everything posted so far.
func (h *harness) sync() { h.query(func() {}) }

// waitLoop waits until cond, evaluated on the loop, holds.
func (h *harness) waitLoop(desc string, cond func() bool) {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		var ok bool
		h.query(func() { ok = cond() })
		return ok
	}, wait, time.Millisecond, "timed out waiting for %s", desc)
}

func (h *harness) waitStatus(s Status) {
	h.t.Helper()
	h.waitLoop("status "+string(s), func() bool { return h.c.loopStatus == s })
}

// clientHello is the engine's hello: it offers batched frames.
const clientHello = `{"action":"hello","protocol":"refine-live.v1","batch":true,"maxMessage":1048576}`

// open accepts the next dial and completes the handshake for level: basic
// (no hello expected) or extended (hello answered with heartbeat ms).
func (h *harness) open(level protocol.Level, heartbeat int) *fakeConn {
	h.t.Helper()
	fc := h.tr.expectDial(h.t).accept()
	if level == protocol.LevelExtended {
		fc.expectWriteEq(h.t, clientHello)
		fc.send(`{"action":"hello","protocol":"refine-live.v1","session":"s1","heartbeat":` + itoa(heartbeat) + `}`)
	}
	h.waitStatus(StatusOpen)
	return fc
}

// openHello accepts the next dial, expects the client's hello and answers
// with hello.
func (h *harness) openHello(hello string) *fakeConn {
	h.t.Helper()
	fc := h.tr.expectDial(h.t).accept()
	fc.expectWriteEq(h.t, clientHello)
	fc.send(hello)
	h.waitStatus(StatusOpen)
	return fc
}

// reopenBasic drops fc, waits out the backoff and opens the next basic
// connection, which resubscribes c.
func (h *harness) reopenBasic(fc *fakeConn) *fakeConn {
	h.t.Helper()
	fc.drop(0, "")
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(time.Second)
	fc2 := h.open(protocol.LevelBasic, 0)
	fc2.expectWriteEq(h.t, `{"action":"subscribe","channel":"c"}`)
	return fc2
}

// frameAllocs counts the allocations of handling frame on the current
// connection, once the buffers are warm.
func (h *harness) frameAllocs(frame []byte) float64 {
	h.t.Helper()
	var allocs float64
	h.query(func() {
		cs, now := h.c.link.conn, h.clk.Now()
		for i := 0; i < 64; i++ {
			h.c.onFrame(cs, frame, now)
		}
		allocs = testing.AllocsPerRun(200, func() { h.c.onFrame(cs, frame, now) })
	})
	return allocs
}

// flush writes a marker frame and returns everything written before it, so
// a test can assert what was (and was not) sent.
func (h *harness) flush(fc *fakeConn) []string {
	h.t.Helper()
	const marker = `{"action":"marker"}`
	// Subscribes wait for the loop to be idle: those queued so far leave
	// before the marker, as they would before any later frame.
	h.query(func() {
		h.c.chans.flush()
		h.c.link.conn.out.push([]byte(marker))
	})
	var out []string
	for {
		w := fc.expectWrite(h.t)
		if w == marker {
			return out
		}
		out = append(out, w)
	}
}

func countPrefix(frames []string, prefix string) int {
	n := 0
	for _, f := range frames {
		if strings.HasPrefix(f, prefix) {
			n++
		}
	}
	return n
}
