// Package wasmpack rewrites a Go-built WebAssembly module so that it
// compresses better. The Go linker splits the data section at every run of
// eight or more zero bytes, which leaves tens of thousands of segment
// headers interrupting the data; Pack merges segments separated by short
// gaps, writing the zeros out. The memory image is unchanged (memory starts
// zeroed) and the file grows, but gzip and brotli both shrink by tens of
// kilobytes.
package wasmpack
