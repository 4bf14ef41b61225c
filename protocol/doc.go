// Package protocol is the wire format spoken between a refine-live client and
// server. It has two levels:
//
//   - Basic: exactly the messages of the plain WebSocket live provider shown in
//     Refine's documentation, so a client works against servers that already
//     exist and a server works with clients that already exist.
//   - Extended ("refine-live.v1"): everything basic has, plus a hello, event
//     ids, per-channel positions (epoch and seq) for recovery, acknowledged
//     publishes, authentication, heartbeats, errors with codes and a table of
//     close codes.
//
// The client chooses the level in-band: it connects without a WebSocket
// subprotocol and sends a hello as its first frame. An extended server answers
// with its own hello; a basic server ignores the unknown action. Extended
// fields on basic messages (such as "since" on subscribe) are extra keys that a
// basic server ignores. docs/protocol.md is the normative description.
//
// Decoding never panics: malformed, oversize, wrong-typed and unknown messages
// return a *DecodeError that matches one of the Err* sentinels with errors.Is.
// The package depends on nothing else of this module.
package protocol
