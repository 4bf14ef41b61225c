//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
)

// newPromise returns a JavaScript Promise settled by work, which runs on its
// own goroutine: JavaScript never waits inside the call that created it.
func newPromise(report func(error), work func() error) (safejs.Value, error) {
	funcs := newFuncSet(report)
	var resolve, reject safejs.Value
	executor, err := funcs.add(func(_ safejs.Value, args []safejs.Value) (any, error) {
		resolve, reject = args[0], args[1]
		return nil, nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	promiseCtor, err := safejs.Global().Get("Promise")
	if err != nil {
		funcs.release()
		return safejs.Value{}, err
	}
	p, err := promiseCtor.New(executor)
	// The executor runs synchronously inside New.
	funcs.release()
	if err != nil {
		return safejs.Value{}, errs.Wrap("create promise", err)
	}
	go func() {
		if werr := work(); werr != nil {
			errCtor, _ := safejs.Global().Get("Error")
			jsErr, _ := errCtor.New(werr.Error())
			_ = jsErr.Set("code", errorCode(werr))
			_, _ = reject.Invoke(jsErr)
			return
		}
		_, _ = resolve.Invoke()
	}()
	return p, nil
}

// await waits for a JavaScript promise (or plain value) to settle.
func await(ctx context.Context, v safejs.Value, report func(error)) (safejs.Value, error) {
	then, err := v.Get("then")
	if err != nil || then.Type() != safejs.TypeFunction {
		return v, nil
	}
	type result struct {
		v   safejs.Value
		err error
	}
	done := make(chan result, 1)
	funcs := newFuncSet(report)
	defer funcs.release()
	onValue, err := funcs.add(func(_ safejs.Value, args []safejs.Value) (any, error) {
		r := safejs.Undefined()
		if len(args) > 0 {
			r = args[0]
		}
		done <- result{v: r}
		return nil, nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	onErr, err := funcs.add(func(_ safejs.Value, args []safejs.Value) (any, error) {
		msg := "rejected"
		if len(args) > 0 {
			if s, serr := args[0].Call("toString"); serr == nil {
				msg, _ = s.String()
			}
		}
		done <- result{err: errors.New(msg)}
		return nil, nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	if _, err := v.Call("then", onValue, onErr); err != nil {
		return safejs.Value{}, err
	}
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return safejs.Value{}, ctx.Err()
	}
}
