//go:build js && wasm

package jsbridge

import (
	"errors"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// codedErr carries the code the shim puts on the JavaScript Error.
type codedErr struct {
	code string
	err  error
}

func (e *codedErr) Error() string { return e.err.Error() }
func (e *codedErr) Unwrap() error { return e.err }

func codedError(code string, err error) error { return &codedErr{code: code, err: err} }

// errorCode maps an error to the stable code JavaScript sees.
func errorCode(err error) string {
	var ce *codedErr
	if errs.As(err, &ce) {
		return ce.code
	}
	var closeErr *provider.CloseError
	switch {
	case errors.Is(err, errPanic):
		return "ERR_INTERNAL"
	case errors.Is(err, provider.ErrQueueFull):
		return "ERR_QUEUE_FULL"
	case errors.Is(err, provider.ErrTooLarge):
		return "ERR_PAYLOAD_TOO_LARGE"
	case errors.Is(err, provider.ErrInvalidOptions):
		return "ERR_INVALID_ARGUMENT"
	case errors.Is(err, provider.ErrClosed):
		return "ERR_CLOSED"
	case errs.As(err, &closeErr):
		return "ERR_CONNECTION_CLOSED"
	}
	return "ERR_LIVE"
}

// wrapErr is fmt.Errorf("msg: %w", err) without fmt, which would add a
// quarter of a megabyte to live.wasm.
func wrapErr(msg string, err error) error { return &wrappedErr{msg: msg, err: err} }

type wrappedErr struct {
	msg string
	err error
}

func (e *wrappedErr) Error() string { return e.msg + ": " + e.err.Error() }
func (e *wrappedErr) Unwrap() error { return e.err }
