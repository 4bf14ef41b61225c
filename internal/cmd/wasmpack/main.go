// Command wasmpack merges the data segments of a Go-built WebAssembly
// module in place (see package wasmpack); make wasm runs it.
//
//	go run ./internal/cmd/wasmpack file.wasm
package main

import (
	"fmt"
	"os"

	"github.com/refine-live-wasm/refine-live-wasm/internal/wasmpack"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: wasmpack file.wasm")
		os.Exit(2)
	}
	if err := packFile(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "wasmpack:", err)
		os.Exit(1)
	}
}

func packFile(name string) error {
	in, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("failed to read module: %w", err)
	}
	out, err := wasmpack.Pack(in)
	if err != nil {
		return fmt.Errorf("failed to pack %s: %w", name, err)
	}
	if err := os.WriteFile(name, out, 0o644); err != nil {
		return fmt.Errorf("failed to write module: %w", err)
	}
	return nil
}
