//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// Transport dials through the shim's openSocket, which wraps the page's own
// WebSocket; its frames come back through the liveFrames export.
type Transport struct {
	openSocket safejs.Value
	report     func(error)
	// log, when set (the shim's debug option), receives the sockets'
	// lifecycle and the server's control frames.
	log func(string)
	// afterDelivered runs fn once the engine delivered everything it was
	// handed before (provider.Client.AfterDelivered, plus the bridge's
	// flush); nil in tests of the transport alone.
	afterDelivered func(fn func())
}

// NewTransport returns a Transport over openSocket(url, sink).
func NewTransport(openSocket safejs.Value, report func(error)) *Transport {
	return &Transport{openSocket: openSocket, report: report}
}

// Dial opens a socket and waits until it is open, closed, or ctx is done.
func (t *Transport) Dial(ctx context.Context, url string) (provider.Conn, error) {
	c := &socketConn{
		url:            url,
		log:            t.log,
		report:         t.report,
		afterDelivered: t.afterDelivered,
		opened:         make(chan struct{}),
		done:           make(chan struct{}),
		state:          "connecting",
	}
	if c.log != nil {
		c.log("dialing " + url)
	}
	c.handle = newHandle(&exported.sockets, c)
	c.funcs = newFuncSet(t.report)
	sink, err := c.funcs.object(map[string]jsFunc{
		"onOpen":  c.onOpen,
		"onClose": c.onClose,
	}, map[string]any{"id": float64(c.handle)})
	if err != nil {
		c.release()
		return nil, errs.Wrap("create socket sink", err)
	}
	sock, err := t.openSocket.Invoke(url, sink)
	if err != nil {
		c.release()
		return nil, errs.Wrap("open socket to "+url, err)
	}
	c.sock = sock
	select {
	case <-c.opened:
		if c.log != nil {
			c.log("open " + url)
		}
		return c, nil
	case <-c.done:
		return nil, notOpened(c.closeErr)
	case <-ctx.Done():
		_ = c.Close(protocol.CloseNormal, "")
		return nil, errs.Wrap("connect to "+url, ctx.Err())
	}
}

// socketConn is one socket, a provider.PushConn: liveFrames pushes its
// frames to the engine. The sink functions only record what happened.
type socketConn struct {
	url            string
	handle         uint32
	log            func(string) // nil unless debugging
	report         func(error)
	afterDelivered func(fn func())
	sock           safejs.Value
	funcs          *funcSet

	mu       sync.Mutex
	state    string // "connecting", "open", "closed"
	receive  func(frames [][]byte, err error)
	early    [][]byte // frames that came before Attach
	closeErr error

	opened chan struct{}
	done   chan struct{}
}

func (c *socketConn) onOpen(safejs.Value, []safejs.Value) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == "connecting" {
		c.state = "open"
		close(c.opened)
	}
	return nil, nil
}

// Attach is provider.PushConn's: what came before it is handed over from
// a goroutine, since Attach must not call receive.
func (c *socketConn) Attach(receive func(frames [][]byte, err error)) {
	c.mu.Lock()
	c.receive = receive
	early, closed, err := c.early, c.state == "closed", c.closeErr
	c.early = nil
	c.mu.Unlock()
	if len(early) > 0 || closed {
		go func() {
			if len(early) > 0 {
				receive(early, nil)
			}
			if closed {
				receive(nil, err)
			}
		}()
	}
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
	receive := c.receive
	c.mu.Unlock()
	close(c.done)
	if receive != nil {
		// From a goroutine: this runs inside a JavaScript callback, and
		// receive may wait for the engine's loop.
		go receive(nil, err)
	}
	c.release()
	return true
}

// release gives back the socket's handle and functions. Releasing while
// one of the functions runs is allowed; the shim makes no sink call after
// the close.
func (c *socketConn) release() {
	dropHandle(exported.sockets, c.handle)
	c.funcs.release()
}

// Read is never called on a PushConn; it reports as much.
func (c *socketConn) Read(context.Context) ([]byte, error) {
	return nil, errors.New("failed to read: frames are pushed by liveFrames")
}

// Write sends one text frame.
func (c *socketConn) Write(_ context.Context, data []byte) error {
	c.mu.Lock()
	closed := c.state == "closed"
	c.mu.Unlock()
	if closed {
		return errs.Wrap("write", errSocketClosed)
	}
	if c.log != nil {
		c.logFrames("to server", string(data))
	}
	// The shim reads the frame straight from Go's memory (addressOf's
	// rule holds: the call is synchronous and data is kept alive over it).
	_, err := c.sock.Call("sendFrom", addressOf(data), len(data))
	runtime.KeepAlive(data)
	if err != nil {
		return errs.Wrap("write", err)
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
		return errs.Wrap("close socket", err)
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
		return errs.WrapDetail("open the connection", "it closed before it opened", ce)
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
	for _, frame := range strings.FieldsFunc(joined, func(r rune) bool { return r == sepFrame || r == '\n' }) {
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
