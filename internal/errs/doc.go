// Package errs holds the error helpers the browser build needs without
// reflection. errors.As links internal/reflectlite into live.wasm (its
// size is in docs/benchmarks.md); As here does the same walk for a
// concrete target.
package errs
