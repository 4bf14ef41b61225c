package provider

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// wait is how long a test waits for something that should happen at once;
// it only bounds failures, it never paces a passing test.
const wait = 5 * time.Second

// fakeTransport hands every dial to the test, which accepts or fails it.
type fakeTransport struct {
	dials chan *dialReq
}

type dialReq struct {
	url   string
	reply chan dialReply
}

type dialReply struct {
	conn Conn
	err  error
}

func newFakeTransport() *fakeTransport { return &fakeTransport{dials: make(chan *dialReq, 16)} }

func (ft *fakeTransport) Dial(ctx context.Context, url string) (Conn, error) {
	r := &dialReq{url: url, reply: make(chan dialReply, 1)}
	select {
	case ft.dials <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case rep := <-r.reply:
		return rep.conn, rep.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (ft *fakeTransport) expectDial(t testing.TB) *dialReq {
	t.Helper()
	return recv(t, ft.dials)
}

// expectNoDial fails if a dial is pending.
func (ft *fakeTransport) expectNoDial(t testing.TB, why string) {
	t.Helper()
	select {
	case <-ft.dials:
		t.Fatal("dialed " + why)
	default:
	}
}

func (r *dialReq) accept() *fakeConn {
	fc := newFakeConn()
	r.reply <- dialReply{conn: fc}
	return fc
}

func (r *dialReq) fail(err error) { r.reply <- dialReply{err: err} }

// fakeConn is a scripted connection: the test pushes server frames and
// reads what the client wrote.
type fakeConn struct {
	in     chan inFrame
	writes chan string
	closed chan struct{}
	once   sync.Once
	mu     sync.Mutex
	code   protocol.CloseCode
}

type inFrame struct {
	data []byte
	err  error
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan inFrame, 256), writes: make(chan string, 1024), closed: make(chan struct{})}
}

func (fc *fakeConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case f := <-fc.in:
		return f.data, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-fc.closed:
		return nil, errors.New("use of closed connection")
	}
}

func (fc *fakeConn) Write(ctx context.Context, b []byte) error {
	select {
	case <-fc.closed:
		return errors.New("use of closed connection")
	default:
	}
	fc.writes <- string(b)
	return nil
}

func (fc *fakeConn) Close(code protocol.CloseCode, reason string) error {
	fc.once.Do(func() {
		fc.mu.Lock()
		fc.code = code
		fc.mu.Unlock()
		close(fc.closed)
	})
	return nil
}

func (fc *fakeConn) closeCode() protocol.CloseCode {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.code
}

// send pushes a server frame.
func (fc *fakeConn) send(frame string) { fc.in <- inFrame{data: []byte(frame)} }

// drop makes the next read fail: with a close frame when code is non-zero.
func (fc *fakeConn) drop(code protocol.CloseCode, reason string) {
	if code == 0 {
		fc.in <- inFrame{err: errors.New("connection reset")}
		return
	}
	fc.in <- inFrame{err: &CloseError{Code: code, Reason: reason}}
}

func (fc *fakeConn) expectWrite(t testing.TB) string {
	t.Helper()
	return recv(t, fc.writes)
}

func (fc *fakeConn) expectWriteEq(t testing.TB, want string) {
	t.Helper()
	require.Equal(t, want, fc.expectWrite(t))
}

// expectMessage decodes the next frame written.
func (fc *fakeConn) expectMessage(t testing.TB) protocol.ClientMessage {
	t.Helper()
	m, err := protocol.DecodeClient([]byte(fc.expectWrite(t)), 0)
	require.NoError(t, err)
	return m
}

func (fc *fakeConn) expectClosed(t testing.TB) protocol.CloseCode {
	t.Helper()
	recv(t, fc.closed)
	return fc.closeCode()
}

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

// recv waits for a value on ch.
func recv[T any](t testing.TB, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		require.FailNow(t, "nothing received")
		var zero T
		return zero
	}
}
