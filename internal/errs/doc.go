// Package errs holds the error helpers the browser build needs without
// reflection. errors.As links internal/reflectlite, about 13 KB of
// live.wasm gzipped; As here does the same walk for a concrete target.
package errs
