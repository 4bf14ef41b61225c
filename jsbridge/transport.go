//go:build js && wasm

package jsbridge

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// frameSeparator joins the frames of one inbound batch. U+001E cannot occur
// in valid JSON text, so it cannot split a valid frame.
const frameSeparator = '\x1e'

// Transport dials through the shim's openSocket, which wraps the page's own
// WebSocket and batches inbound frames.
type Transport struct {
	openSocket safejs.Value
	report     func(error)
	// log, when set (the shim's debug option), receives the sockets'
	// lifecycle and the server's control frames.
	log func(string)
}

// NewTransport returns a Transport over openSocket(url, sink).
func NewTransport(openSocket safejs.Value, report func(error)) *Transport {
	return &Transport{openSocket: openSocket, report: report}
}

// Dial opens a socket and waits until it is open, closed, or ctx is done.
func (t *Transport) Dial(ctx context.Context, url string) (provider.Conn, error) {
	c := &socketConn{
		url:    url,
		log:    t.log,
		notify: make(chan struct{}, 1),
		opened: make(chan struct{}),
		done:   make(chan struct{}),
	}
	if c.log != nil {
		c.log("dialing " + url)
	}
	c.funcs = newFuncSet(t.report)
	sink, err := c.funcs.object(map[string]jsFunc{
		"onOpen":     c.onOpen,
		"onMessages": c.onMessages,
		"onClose":    c.onClose,
	}, nil)
	if err != nil {
		c.funcs.release()
		return nil, wrapErr("failed to create socket sink", err)
	}
	sock, err := t.openSocket.Invoke(url, sink)
	if err != nil {
		c.funcs.release()
		return nil, wrapErr("failed to open socket to "+url, err)
	}
	c.sock = sock
	select {
	case <-c.opened:
		if c.log != nil {
			c.log("open " + url)
		}
		return c, nil
	case <-c.done:
		c.funcs.release()
		return nil, notOpened(c.closeErr)
	case <-ctx.Done():
		_ = c.Close(protocol.CloseNormal, "")
		return nil, wrapErr("failed to connect to "+url, ctx.Err())
	}
}

// socketConn is one open socket. The sink functions only record what
// happened and return: the engine's goroutine reads it through Read.
type socketConn struct {
	url   string
	log   func(string) // nil unless debugging
	sock  safejs.Value
	funcs *funcSet
	out   safejs.Value // the shim's send buffer (a Uint8Array), writer only
	outN  int

	mu       sync.Mutex
	frames   [][]byte
	closeErr error
	state    string // "connecting", "open", "closed"

	notify chan struct{} // a frame or the close arrived
	opened chan struct{}
	done   chan struct{}
}

func (c *socketConn) onOpen(safejs.Value, []safejs.Value) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == "" {
		c.state = "open"
		close(c.opened)
	}
	return nil, nil
}

func (c *socketConn) onMessages(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 1 {
		return nil, errors.New("failed to read frames: no argument")
	}
	joined, err := args[0].String()
	if err != nil {
		return nil, wrapErr("failed to read frames", err)
	}
	// The string is a fresh copy out of JavaScript that nothing else holds,
	// so its bytes serve as the batch without another copy. The frames are
	// sub-slices of it, never written to (the decoder only reads), so the
	// engine may keep them.
	buf := unsafe.Slice(unsafe.StringData(joined), len(joined))
	if c.log != nil {
		c.logFrames("from server", joined)
	}
	c.mu.Lock()
	if c.state != "closed" {
		for len(buf) > 0 {
			i := bytes.IndexByte(buf, frameSeparator)
			if i < 0 {
				c.frames = append(c.frames, buf)
				break
			}
			c.frames = append(c.frames, buf[:i:i])
			buf = buf[i+1:]
		}
	}
	c.mu.Unlock()
	c.wake()
	return nil, nil
}

func (c *socketConn) onClose(_ safejs.Value, args []safejs.Value) (any, error) {
	code, reason := int(protocol.CloseAbnormal), ""
	if len(args) > 0 {
		if n, err := args[0].Int(); err == nil && n > 0 {
			code = n
		}
	}
	if len(args) > 1 {
		if s, err := args[1].String(); err == nil {
			reason = s
		}
	}
	ce := &provider.CloseError{Code: protocol.CloseCode(code), Reason: reason}
	if c.markClosed(ce) && c.log != nil {
		c.log(c.url + ": " + ce.Error())
	}
	return nil, nil
}

func (c *socketConn) markClosed(err error) bool {
	c.mu.Lock()
	if c.state == "closed" {
		c.mu.Unlock()
		return false
	}
	c.state = "closed"
	c.closeErr = err
	c.mu.Unlock()
	close(c.done)
	c.wake()
	// Releasing while one of the functions runs is allowed; the shim makes
	// no sink call after the close.
	c.funcs.release()
	return true
}

func (c *socketConn) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// Read returns the next frame; after the close it returns the close error
// once every received frame was read.
func (c *socketConn) Read(ctx context.Context) ([]byte, error) {
	frames, err := c.take(ctx, 1)
	if err != nil {
		return nil, err
	}
	return frames[0], nil
}

// ReadBatch returns every frame received so far, waiting for one; after the
// close it returns the close error once every frame was read. The engine
// handles a batch in one turn of its loop.
func (c *socketConn) ReadBatch(ctx context.Context) ([][]byte, error) {
	return c.take(ctx, 0)
}

// take waits for frames and returns up to max of them (all when max is 0).
func (c *socketConn) take(ctx context.Context, max int) ([][]byte, error) {
	for {
		c.mu.Lock()
		if n := len(c.frames); n > 0 {
			var frames [][]byte
			if max > 0 && n > max {
				frames = c.frames[:max:max]
				c.frames = c.frames[max:]
			} else {
				frames = c.frames
				c.frames = nil
			}
			c.mu.Unlock()
			return frames, nil
		}
		if c.state == "closed" {
			err := c.closeErr
			c.mu.Unlock()
			return nil, err
		}
		c.mu.Unlock()
		select {
		case <-c.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Write sends one text frame.
func (c *socketConn) Write(_ context.Context, data []byte) error {
	c.mu.Lock()
	closed := c.state == "closed"
	c.mu.Unlock()
	if closed {
		return wrapErr("failed to write", errSocketClosed)
	}
	if c.log != nil {
		c.logFrames("to server", string(data))
	}
	// Through the shim's buffer: a string argument would be one more
	// JavaScript reference per frame, held until Go's next collection.
	if len(data) > c.outN {
		n := max(4096, c.outN*2, len(data))
		buf, err := c.sock.Call("buffer", n)
		if err != nil || buf.Type() != safejs.TypeObject {
			if _, err := c.sock.Call("send", string(data)); err != nil {
				return wrapErr("failed to write", err)
			}
			return nil
		}
		c.out, c.outN = buf, n
	}
	if _, err := safejs.CopyBytesToJS(c.out, data); err != nil {
		return wrapErr("failed to write", err)
	}
	if _, err := c.sock.Call("sendBuffered", len(data)); err != nil {
		return wrapErr("failed to write", err)
	}
	return nil
}

// Close closes the socket. The browser's close handshake completes later;
// nothing waits for it.
func (c *socketConn) Close(code protocol.CloseCode, reason string) error {
	if !c.markClosed(&provider.CloseError{Code: code, Reason: reason}) {
		return nil
	}
	// Browsers accept only 1000 and 3000-4999 from scripts.
	if code != protocol.CloseNormal && (code < 3000 || code > 4999) {
		code = protocol.CloseNormal
	}
	if _, err := c.sock.Call("close", int(code), reason); err != nil {
		return wrapErr("failed to close socket", err)
	}
	return nil
}

var errSocketClosed = errors.New("socket closed")

// notOpened is the error of a socket that closed before it opened. A
// browser tells a script nothing more than 1006 there, whether nothing
// listens, the server refused the handshake (an origin it does not allow
// gets 403) or a proxy failed, so the message names the likely causes.
func notOpened(ce error) error {
	var close *provider.CloseError
	if !errs.As(ce, &close) {
		return wrapErr("the connection closed before it opened", ce)
	}
	msg := "the connection closed before it opened (code " + strconv.Itoa(int(close.Code)) + ")"
	if close.Code == protocol.CloseAbnormal {
		msg += ": the server is unreachable or refused the handshake (check that it allows this page's origin)"
	} else if close.Reason != "" {
		msg += ": " + close.Reason
	}
	return &notOpenedErr{msg: msg, close: close}
}

type notOpenedErr struct {
	msg   string
	close *provider.CloseError
}

func (e *notOpenedErr) Error() string { return e.msg }
func (e *notOpenedErr) Unwrap() error { return e.close }

// controlPrefixes are the frames the debug log shows: the handshake, the
// subscriptions and their answers, errors. Events, publishes, pings and
// auth (it carries the token) stay out.
var controlPrefixes = [...]string{
	`{"action":"hello"`, `{"action":"subscribe"`, `{"action":"subscribed"`, `{"action":"unsubscribe"`,
	`{"action":"error"`,
}

// logFrames logs the control frames among joined (frames separated by
// U+001E, and messages of a batched frame by newlines, so that an event
// batched behind a control message stays out too); debug only.
func (c *socketConn) logFrames(dir, joined string) {
	for _, frame := range strings.FieldsFunc(joined, func(r rune) bool { return r == frameSeparator || r == '\n' }) {
		for _, p := range controlPrefixes {
			if strings.HasPrefix(frame, p) {
				if len(frame) > 300 {
					frame = frame[:300] + "…"
				}
				c.log(dir + ": " + frame)
				break
			}
		}
	}
}
