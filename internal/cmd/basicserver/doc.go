// Command basicserver is the plain WebSocket server of Refine's
// documentation and nothing more: subscribe, unsubscribe and publish, events
// broadcast to every subscriber (the publisher included), unknown actions
// ignored, no subprotocol. Tests use it to prove that our client works, in
// a real browser, against a server that knows nothing of the extended
// protocol.
//
//	basicserver --addr 127.0.0.1:8090   # WebSocket at /live, GET /healthz
package main
