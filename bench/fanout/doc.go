// Command fanout is the fan-out load generator: it starts a server as a
// child process (liveserver's server package, or an in-process
// github.com/centrifugal/centrifuge node, both built into this binary),
// connects N clients on loopback, subscribes them to C channels, publishes
// a burst of events over HTTP as fast as each request is answered, and
// reports deliveries per second, latency percentiles, the server's CPU
// time and write system calls per delivery (from /proc/<pid>/stat and
// /proc/<pid>/io of the child alone) and its memory per idle connection.
// Every client checks that it received every event of its channel exactly
// once and in order; a run with a lost event fails.
//
// Clients: "extended" is this project's Go engine (provider with
// wstransport), which offers batched frames; "basic" is a plain WebSocket
// client of Refine's documented protocol, one message per frame;
// "centrifuge" is centrifuge-go with its JSON protocol.
//
// It is a module of its own so that the main module gains no dependency.
// docs/benchmarks.md has the figures and the commands that made them.
package main
