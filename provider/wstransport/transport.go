package wstransport

import (
	"context"
	"errors"
	"fmt"

	"github.com/coder/websocket"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// DefaultReadLimit is the largest frame a connection reads, in bytes. It is
// well above protocol.DefaultMaxMessage because servers add fields to what
// was published; coder/websocket's own default (32 KiB) is too small.
const DefaultReadLimit = 1 << 20

// Transport dials WebSocket connections. The zero value is ready to use.
type Transport struct {
	// Options are passed to websocket.Dial; nil means defaults. Do not set
	// Subprotocols: the protocol level is negotiated in-band.
	Options *websocket.DialOptions
	// ReadLimit overrides DefaultReadLimit when positive.
	ReadLimit int64
}

var _ provider.Transport = (*Transport)(nil)

// Dial opens a connection to url.
func (t *Transport) Dial(ctx context.Context, url string) (provider.Conn, error) {
	c, _, err := websocket.Dial(ctx, url, t.Options)
	if err != nil {
		return nil, fmt.Errorf("failed to dial websocket: %w", err)
	}
	limit := t.ReadLimit
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	c.SetReadLimit(limit)
	return &conn{c: c}, nil
}

type conn struct {
	c *websocket.Conn
}

// Read returns the next message, or an error wrapping *provider.CloseError
// when the peer sent a close frame.
func (c *conn) Read(ctx context.Context) ([]byte, error) {
	_, data, err := c.c.Read(ctx)
	if err != nil {
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return nil, &readError{close: &provider.CloseError{Code: protocol.CloseCode(ce.Code), Reason: ce.Reason}, err: err}
		}
		return nil, &readError{err: err}
	}
	return data, nil
}

func (c *conn) Write(ctx context.Context, data []byte) error {
	if err := c.c.Write(ctx, websocket.MessageText, data); err != nil {
		return fmt.Errorf("failed to write websocket: %w", err)
	}
	return nil
}

func (c *conn) Close(code protocol.CloseCode, reason string) error {
	if err := c.c.Close(websocket.StatusCode(code), reason); err != nil {
		return fmt.Errorf("failed to close websocket: %w", err)
	}
	return nil
}

// readError keeps the websocket error's text while matching the
// provider.CloseError, if any, with errors.As.
type readError struct {
	close *provider.CloseError
	err   error
}

func (e *readError) Error() string { return "failed to read websocket: " + e.err.Error() }

func (e *readError) Unwrap() []error {
	if e.close != nil {
		return []error{e.close, e.err}
	}
	return []error{e.err}
}
