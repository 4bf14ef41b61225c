//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The client's calls into JavaScript through the shim's hooks object, other
// than the event and state batches (batch.go, substates.go): status changes,
// errors, log lines and tokens.

func (b *boundClient) onStatus(sc provider.StatusChange) {
	if fn, err := b.hooks.Get("onStatus"); err == nil && fn.Type() == safejs.TypeFunction {
		_, _ = fn.Invoke(string(sc.From), string(sc.To), sc.Code, sc.Reason)
	}
}

// report hands an error to hooks.onError with its code. It is called from
// any goroutine and never blocks on the engine.
func (b *boundClient) report(err error) {
	if err == nil {
		return
	}
	fn, gerr := b.hooks.Get("onError")
	if gerr != nil || fn.Type() != safejs.TypeFunction {
		return
	}
	channel, serverCode, closeCode := errorDetails(err)
	_, _ = fn.Invoke(errorCode(err), err.Error(), channel, serverCode, closeCode)
}

// jsLogger hands the engine's log lines to hooks.onLog(level, text).
type jsLogger struct{ fn safejs.Value }

func (l jsLogger) Log(level provider.LogLevel, msg string, err error) {
	if err != nil {
		msg += ": " + err.Error()
	}
	_, _ = l.fn.Invoke(level.String(), msg)
}

// getToken calls hooks.getToken() and waits for its promise. Its failures
// carry ERR_TOKEN through the engine's connection error.
func (b *boundClient) getToken(ctx context.Context) (string, error) {
	tok, err := b.fetchToken(ctx)
	if err != nil {
		return "", codedError(codeToken, err)
	}
	return tok, nil
}

func (b *boundClient) fetchToken(ctx context.Context) (string, error) {
	fn, err := b.hooks.Get("getToken")
	if err != nil || fn.Type() != safejs.TypeFunction {
		return "", errors.New("failed to get token: hooks.getToken is not a function")
	}
	v, err := fn.Invoke()
	if err != nil {
		return "", errs.Wrap("get token", err)
	}
	v, err = await(ctx, v, b.report)
	if err != nil {
		return "", errs.Wrap("get token", err)
	}
	if v.Type() != safejs.TypeString {
		return "", errors.New("failed to get token: getToken must resolve to a string")
	}
	return v.String()
}
