package provider

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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
	select {
	case r := <-ft.dials:
		return r
	case <-time.After(wait):
		t.Fatal("no dial")
		return nil
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
	select {
	case w := <-fc.writes:
		return w
	case <-time.After(wait):
		t.Fatal("no write")
		return ""
	}
}

func (fc *fakeConn) expectWriteEq(t testing.TB, want string) {
	t.Helper()
	if got := fc.expectWrite(t); got != want {
		t.Fatalf("wrote  %s\nwant   %s", got, want)
	}
}

func (fc *fakeConn) expectClosed(t *testing.T) protocol.CloseCode {
	t.Helper()
	select {
	case <-fc.closed:
		return fc.closeCode()
	case <-time.After(wait):
		t.Fatal("connection not closed")
		return 0
	}
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
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) expectEvent() Event {
	h.t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-time.After(wait):
		h.t.Fatal("no event")
		return Event{}
	}
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
			h.t.Fatalf("no error matching %v", target)
			return nil
		}
	}
}

// query runs f on the loop and waits for it.
func (h *harness) query(f func()) {
	h.t.Helper()
	done := make(chan struct{})
	if !h.c.post(func() { f(); close(done) }) {
		h.t.Fatal("loop exited")
	}
	<-done
}

// sync waits until the loop has handled everything posted so far.
func (h *harness) sync() { h.query(func() {}) }

// waitLoop waits until cond, evaluated on the loop, holds.
func (h *harness) waitLoop(desc string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		var ok bool
		h.query(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", desc)
		}
		time.Sleep(time.Millisecond)
	}
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

func payloadOf(t *testing.T, e Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Payload, &m); err != nil {
		t.Fatalf("payload %s: %v", e.Payload, err)
	}
	return m
}
