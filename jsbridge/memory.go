//go:build js && wasm

package jsbridge

import "unsafe"

// Every use of unsafe in the bridge is here, each with the rule that makes
// it sound; memory_test.go checks each one.

// transientString views b as a string for one call into JavaScript, which
// copies the text into a JavaScript string before it returns. Rule: the
// string must not outlive the call, and b must not change during it.
func transientString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// sameString reports whether a and b are the same bytes in memory, not
// merely equal: the engine hands every subscription of a fanned-out event
// the same strings, and comparing content would be a call per field in
// wasm. Rule: a false answer must only cost work, never correctness.
func sameString(a, b string) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.StringData(a) == unsafe.StringData(b))
}

// sameBytes is sameString for slices.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// addressOf is the linear-memory address of b's first byte, for
// JavaScript to read or write b through the instance's memory. Rule: b
// must stay reachable from a package variable while JavaScript uses the
// address, and must not be reallocated until JavaScript is done (the
// exports reallocate only inside a call, before JavaScript looks again).
func addressOf(b []byte) uint32 {
	if cap(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}
