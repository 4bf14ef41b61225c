// The Go build stamps this same string into live.wasm; the loader refuses a
// mismatch so that a stale cached .wasm is caught instead of misbehaving.
export const VERSION = "0.1.0";
