package provider

import (
	"context"
	"errors"
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
