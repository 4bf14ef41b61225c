//go:build js && wasm

// Command wasm is the program built to live.wasm. The shim passes, as the
// first argument, the name of a one-shot global function to which the
// program hands its API; then the program waits for calls for the life of
// the page.
package main

import (
	"os"

	"github.com/refine-live-wasm/refine-live-wasm/jsbridge"
)

// version is stamped at build time and compared with the shim's own, so that
// a stale cached live.wasm is caught.
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		println("live.wasm: missing registration key argument")
		os.Exit(2)
	}
	report := func(err error) { println("live.wasm:", err.Error()) }
	if err := jsbridge.Register(os.Args[1], version, report); err != nil {
		report(err)
		os.Exit(1)
	}
	select {}
}
