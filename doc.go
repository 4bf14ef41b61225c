// Package refinelivewasm is the repository root. It holds no code of its
// own: its test (wasm_test.go) builds live.wasm, checks its size ceilings and
// runs the js/wasm tests of jsbridge and wasm under Node against a live
// reference server. The packages are protocol, provider, jsbridge, wasm and
// server; README.md describes them.
package refinelivewasm
