package livetest

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Conn is a raw WebSocket client that reads every frame into Frames.
type Conn struct {
	t      testing.TB
	WS     *websocket.Conn
	Frames chan []byte
	Done   chan struct{} // closed when the connection has ended
	err    error
}

// Dial connects to url; the connection is closed when the test ends.
func Dial(t testing.TB, url string, opts *websocket.DialOptions) *Conn {
	t.Helper()
	c, err := TryDial(t, url, opts)
	require.NoError(t, err, "dial")
	return c
}

// TryDial is Dial for a test that expects the dial to fail.
func TryDial(t testing.TB, url string, opts *websocket.DialOptions) (*Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	c := &Conn{t: t, WS: ws, Frames: make(chan []byte, 1<<16), Done: make(chan struct{})}
	t.Cleanup(func() { c.WS.CloseNow(); <-c.Done })
	go func() {
		defer close(c.Done)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				c.err = err
				return
			}
			c.Frames <- b
		}
	}()
	return c, nil
}

// DialExtended connects with the in-band hello and reads the server's.
func DialExtended(t testing.TB, url string) (*Conn, protocol.ServerMessage) {
	t.Helper()
	c := Dial(t, url, nil)
	c.SendMsg(&protocol.ClientMessage{Action: protocol.ActionHello, Protocol: protocol.Version})
	hello := c.Next()
	require.Equal(t, protocol.ActionHello, hello.Action, "want hello, got %+v", hello)
	require.Equal(t, protocol.Version, hello.Protocol, "want hello, got %+v", hello)
	return c, hello
}

// Err is the error that ended the connection, once Done is closed.
func (c *Conn) Err() error {
	select {
	case <-c.Done:
		return c.err
	default:
		return nil
	}
}

// Send writes one text frame.
func (c *Conn) Send(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	require.NoError(c.t, c.WS.Write(ctx, websocket.MessageText, []byte(s)), "write")
}

// SendMsg writes one client message.
func (c *Conn) SendMsg(m *protocol.ClientMessage) {
	c.t.Helper()
	c.Send(string(protocol.AppendClient(nil, m)))
}

// NextRaw is the next frame; it fails the test when the connection ends
// first or none comes within Wait.
func (c *Conn) NextRaw() []byte {
	c.t.Helper()
	select {
	case b := <-c.Frames:
		return b
	case <-c.Done:
		select {
		case b := <-c.Frames:
			return b
		default:
		}
		c.t.Fatalf("connection ended while waiting for a frame: %v", c.err)
	case <-time.After(Wait):
		c.t.Fatalf("timed out waiting for a frame")
	}
	return nil
}

// Next is the next frame, decoded.
func (c *Conn) Next() protocol.ServerMessage {
	c.t.Helper()
	b := c.NextRaw()
	var m protocol.ServerMessage
	require.NoError(c.t, protocol.DecodeServer(b, 1<<20, &m), "decode %s", b)
	return m
}

// NextNonPing is Next, skipping heartbeat pings.
func (c *Conn) NextNonPing() protocol.ServerMessage {
	c.t.Helper()
	for {
		m := c.Next()
		if m.Action != protocol.ActionPing {
			return m
		}
	}
}

// Closed waits for the connection to end and returns the server's close
// status and reason.
func (c *Conn) Closed() (protocol.CloseCode, protocol.CloseReason) {
	c.t.Helper()
	select {
	case <-c.Done:
	case <-time.After(Wait):
		c.t.Fatalf("timed out waiting for close")
	}
	return CloseOf(c.err)
}

// CloseOf is the close status and reason an error from a WebSocket read
// carries; CloseAbnormal when it carries none.
func CloseOf(err error) (protocol.CloseCode, protocol.CloseReason) {
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		return protocol.CloseAbnormal, protocol.CloseReason{}
	}
	return protocol.CloseCode(ce.Code), protocol.ParseCloseReason(ce.Reason)
}

// Drain reads ws until the connection ends, calling frame once for each
// message and keeping none of it: a subscriber that only counts.
func Drain(ws *websocket.Conn, frame func()) {
	buf := make([]byte, 4096)
	for {
		_, rd, err := ws.Reader(context.Background())
		if err != nil {
			return
		}
		for {
			if _, err := rd.Read(buf); err != nil {
				if err != io.EOF {
					return
				}
				break
			}
		}
		frame()
	}
}
