//go:build js && wasm

package jsbridge

import (
	"errors"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
)

// Register builds the API object and hands it to the one-shot registration
// function that the shim left on the global object under key. The shim
// deletes the key itself, so the page keeps no global of ours.
func Register(key, version string, report func(error)) error {
	api, err := newAPI(version, report)
	if err != nil {
		return err
	}
	register, err := safejs.Global().Get(key)
	if err != nil || register.Type() != safejs.TypeFunction {
		return errors.New("failed to register: no registration function " + key + " on the global object")
	}
	if _, err := register.Invoke(api); err != nil {
		return errs.Wrap("register", err)
	}
	return nil
}

// newAPI returns {version, newClient, funcCount}. Its functions live as long
// as the Go program.
func newAPI(version string, report func(error)) (safejs.Value, error) {
	funcs := newFuncSet(report)
	return funcs.object(map[string]jsFunc{
		"newClient": func(_ safejs.Value, args []safejs.Value) (any, error) {
			if len(args) < 2 {
				return nil, codedError(codeInvalidArgument, errors.New("failed to create client: want config and hooks"))
			}
			c, err := newClient(args[0], args[1])
			if err != nil {
				// Returned as a value, not thrown: the shim reports it.
				return errorValue(err), nil
			}
			return c, nil
		},
		"funcCount": func(safejs.Value, []safejs.Value) (any, error) { return float64(LiveFuncs()), nil },
	}, map[string]any{"version": version})
}

// errorValue builds a JavaScript Error with a code property.
func errorValue(err error) safejs.Value {
	ctor, cerr := safejs.Global().Get("Error")
	if cerr != nil {
		return safejs.Undefined()
	}
	v, cerr := ctor.New(err.Error())
	if cerr != nil {
		return safejs.Undefined()
	}
	_ = v.Set("code", errorCode(err))
	return v
}
