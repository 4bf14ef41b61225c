//go:build js && wasm

package jsbridge

import (
	"errors"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The codes JavaScript sees on the errors Go reports. npm/errors.js,
// npm/index.d.ts and npm/README.md list every one of them; a test on each
// side compares its list with jsbridge/testdata/error-codes.json.
const (
	codeInvalidArgument  = "ERR_INVALID_ARGUMENT"
	codePayloadTooLarge  = "ERR_PAYLOAD_TOO_LARGE"
	codeQueueFull        = "ERR_QUEUE_FULL"
	codeClosed           = "ERR_CLOSED"
	codeConnection       = "ERR_CONNECTION"
	codeConnectionClosed = "ERR_CONNECTION_CLOSED"
	codeToken            = "ERR_TOKEN"
	codeSubscribeRefused = "ERR_SUBSCRIBE_REFUSED"
	codePublishRefused   = "ERR_PUBLISH_REFUSED"
	codeRateLimited      = "ERR_RATE_LIMITED"
	codeServer           = "ERR_SERVER"
	codeInternal         = "ERR_INTERNAL"
)

// errorCodes is every code errorCode and codedError can produce.
var errorCodes = [...]string{
	codeInvalidArgument, codePayloadTooLarge, codeQueueFull, codeClosed,
	codeConnection, codeConnectionClosed, codeToken, codeSubscribeRefused,
	codePublishRefused, codeRateLimited, codeServer, codeInternal,
}

// codedErr carries the code the shim puts on the JavaScript Error.
type codedErr struct {
	code string
	err  error
}

func (e *codedErr) Error() string { return e.err.Error() }
func (e *codedErr) Unwrap() error { return e.err }

func codedError(code string, err error) error { return &codedErr{code: code, err: err} }

// errorCode maps an error to the stable code JavaScript sees. The order
// matters: a refused publish also matches the queue's errors, a terminal
// close also matches its CloseError.
func errorCode(err error) string {
	var ce *codedErr
	if errs.As(err, &ce) {
		return ce.code
	}
	var se *provider.ServerError
	if errs.As(err, &se) {
		switch {
		case se.Code == protocol.CodeRateLimited:
			return codeRateLimited
		case se.Ref != "":
			return codePublishRefused
		case se.Channel != "":
			return codeSubscribeRefused
		}
		return codeServer
	}
	var closeErr *provider.CloseError
	switch {
	case errors.Is(err, errPanic), errors.Is(err, provider.ErrCallbackPanic):
		// The engine's callbacks are the bridge's own: a panic is a bug.
		return codeInternal
	case errors.Is(err, provider.ErrQueueFull):
		return codeQueueFull
	case errors.Is(err, provider.ErrTooLarge):
		return codePayloadTooLarge
	case errors.Is(err, provider.ErrInvalidOptions), errors.Is(err, provider.ErrInvalidConfig):
		return codeInvalidArgument
	case errors.Is(err, provider.ErrClosed):
		return codeClosed
	case errors.Is(err, provider.ErrTerminal):
		return codeConnectionClosed
	case errors.Is(err, provider.ErrConnect), errors.Is(err, provider.ErrHandshake),
		errors.Is(err, provider.ErrHeartbeatTimeout), errs.As(err, &closeErr):
		// A close that is not terminal (a token expired and is fetched
		// again) is retried like a lost connection.
		return codeConnection
	}
	return codeInternal
}

// errorDetails returns what the shim adds to the Error besides its code:
// the channel and the server's code of a refused request, and the close
// code of a connection the server ended.
func errorDetails(err error) (channel, serverCode string, closeCode int) {
	var se *provider.ServerError
	if errs.As(err, &se) {
		channel, serverCode = se.Channel, se.Code
	}
	var ce *provider.CloseError
	if errs.As(err, &ce) {
		closeCode = int(ce.Code)
	}
	return channel, serverCode, closeCode
}
