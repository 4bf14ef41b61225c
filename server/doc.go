// Package server is the refine-live reference server: an http.Handler that
// speaks both levels of the refine-live protocol over WebSocket
// (github.com/coder/websocket).
//
// A client that offers the "refine-live.v1" subprotocol, or whose first frame
// is a hello naming it, gets the extended level: event ids, per-channel
// positions (epoch and seq), replay on subscribe with "since", acknowledged
// publishes, authentication, heartbeats and coded errors. Any other client
// gets the basic level, byte for byte the plain WebSocket provider of
// Refine's documentation, so existing clients work unchanged.
//
// The pieces, one idea per file:
//
//   - Broker (broker.go, memory.go): owns each channel's history, sequence
//     numbers and epoch, and delivers new events to the nodes that asked for
//     them. The in-memory broker is the default; a clustered broker provides
//     the same positions on every node.
//   - hub (hub.go): this node's subscriptions; encodes each event once per
//     level and fans it out without ever blocking on a connection.
//   - conn (conn.go, handle.go): one WebSocket connection, a reader that
//     handles frames in order and a writer that drains a bounded queue
//     (queue.go, writer.go). The writer frames what it drains itself and
//     writes it with one call (wire.go), batching the messages of a
//     client that asked for it into newline-separated frames.
//   - auth.go: pluggable Authenticator and Authorizer, JWT HS256 built in.
//   - http.go, publish_batch.go: POST /publish (one event or an array),
//     GET /healthz, GET /metrics.
//
// docs/server.md describes running and embedding the server, its flags,
// limits, close codes and metrics; docs/protocol.md the wire format.
package server
