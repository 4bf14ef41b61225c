// Package soak holds the chaos soak of refine-live: real provider clients
// and a real server on loopback, with faults injected between them, checked
// against the guarantee that after any disconnection a subscriber receives
// every event it missed, in order and exactly once, or one resync event.
//
// Proxy is a fault-injecting TCP proxy (cut, stall, half-close). Run is the
// shared bookkeeping: it records what was published and what every
// subscriber received, and Check verifies the guarantee channel by channel.
//
// The scenarios are tests: `go test ./soak` runs their short forms (part of
// make test); `go test ./soak -soak.long -v` (make soak) runs the long ones
// and `go test ./soak -run TestLoad -soak.load -v` (make load) the load
// test, each printing its figures. SOAK_SEED replays a run's faults;
// SOAK_STACKS names a file for the goroutine dump of a failed proxy run.
// Everything listens on 127.0.0.1 and every wait has a deadline. The
// figures are in docs/reliability.md.
package soak
