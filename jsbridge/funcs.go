//go:build js && wasm

package jsbridge

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
)

// liveFuncs counts the functions created for JavaScript and not yet
// released, so that tests can prove that closing a client releases all of
// them.
var liveFuncs atomic.Int64

// LiveFuncs returns how many functions created for JavaScript are alive.
func LiveFuncs() int64 { return liveFuncs.Load() }

// errPanic marks a panic recovered inside a function called from JavaScript.
var errPanic = errors.New("recovered panic")

// jsFunc is the shape of every Go function JavaScript can call: it returns
// a value for JavaScript or an error that is reported instead.
type jsFunc func(this safejs.Value, args []safejs.Value) (any, error)

// funcSet owns the functions created for one purpose (a client, a socket, a
// promise) and releases them together.
type funcSet struct {
	mu       sync.Mutex
	funcs    []safejs.Func
	released bool
	// report receives errors and recovered panics; it must not block.
	report func(error)
}

func newFuncSet(report func(error)) *funcSet { return &funcSet{report: report} }

// add wraps fn so that a panic or error becomes a report and an undefined
// result, never an exception in JavaScript.
func (s *funcSet) add(fn jsFunc) (safejs.Func, error) {
	wrapped := func(this safejs.Value, args []safejs.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				s.report(panicError(r))
				result = safejs.Undefined()
			}
		}()
		v, err := fn(this, args)
		if err != nil {
			s.report(err)
			return safejs.Undefined()
		}
		if v == nil {
			return safejs.Undefined()
		}
		return v
	}
	f, err := safejs.FuncOf(wrapped)
	if err != nil {
		return safejs.Func{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		f.Release()
		return safejs.Func{}, errors.New("failed to create function: owner already released")
	}
	s.funcs = append(s.funcs, f)
	liveFuncs.Add(1)
	return f, nil
}

// release frees every function of the set; later calls do nothing. It may
// run while one of the functions is executing.
func (s *funcSet) release() {
	s.mu.Lock()
	funcs := s.funcs
	s.funcs, s.released = nil, true
	s.mu.Unlock()
	for _, f := range funcs {
		f.Release()
	}
	liveFuncs.Add(-int64(len(funcs)))
}

// object builds a JavaScript object whose properties are functions of the
// set, in one conversion.
func (s *funcSet) object(methods map[string]jsFunc, extra map[string]any) (safejs.Value, error) {
	props := make(map[string]any, len(methods)+len(extra))
	for name, fn := range methods {
		f, err := s.add(fn)
		if err != nil {
			return safejs.Value{}, err
		}
		props[name] = safejs.Unsafe(f.Value())
	}
	// safejs.ValueOf converts only plain Go values and syscall/js values.
	for k, v := range extra {
		if sv, ok := v.(safejs.Value); ok {
			props[k] = safejs.Unsafe(sv)
			continue
		}
		props[k] = v
	}
	return safejs.ValueOf(props)
}

// panicError is a recovered panic as an error: "failed to run Go
// function: recovered panic: …", matching errPanic.
func panicError(r any) error { return errs.Wrap("run Go function", errs.Panic(errPanic, r)) }
