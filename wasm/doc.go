//go:build js && wasm

// Command wasm builds live.wasm, the Go half of the refine-live-wasm npm
// package. See package jsbridge for the contract with the JavaScript shim.
package main
