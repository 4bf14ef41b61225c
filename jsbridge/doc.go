//go:build js && wasm

// Package jsbridge is the only Go code that touches JavaScript. It hands the
// provider engine to the npm shim as a small API object, takes the shim's
// commands and the socket frames through WebAssembly exports, and gives the
// engine a Transport over the page's own WebSocket. Everything else goes
// through github.com/hack-pad/safejs, so a failed JavaScript operation is an
// error, never a panic.
//
// contract.go states the whole contract with the shim (npm/contract.js is
// its other half). One event's way from the socket to the app's callback
// runs through six files: npm/socket.js (onmessage) → npm/contract.js
// (liveFrames, and the outbox back) → exports.go (push) → the engine's
// provider/inbound.go (onFrames to dispatch) → provider/deliver.go (the
// callback, which exports.go's batcher writes into the outbox) →
// npm/subscriptions.js (the app's callback).
//
// No function called from JavaScript blocks on JavaScript, and every one of
// them recovers panics and reports them through hooks.onError. Every
// function Go creates for JavaScript belongs to a funcSet and is released
// with it. memory.go holds every use of unsafe, with its rules.
package jsbridge
