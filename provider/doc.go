// Package provider is the client engine of refine-live: a pure-Go live
// provider that keeps one WebSocket connection to a refine-live server (or to
// any server speaking the basic protocol of Refine's documented WebSocket
// provider) and fans events out to subscribers.
//
// It knows nothing of JavaScript: the browser bridge (jsbridge) and native Go
// programs drive the same Client, each with its own Transport. Everything
// that touches time, randomness, logging or the network is injected through
// Config, so the engine is tested with a virtual clock and a scripted
// transport.
//
// # Design
//
// One event-loop goroutine owns all state; public methods and I/O goroutines
// hand it closures through a channel. Callbacks (events, status and
// subscription-state changes, errors) run on a separate delivery goroutine,
// one at a time and in order, so user code can neither block the loop nor
// deadlock it by calling back into the Client.
//
// A transport whose Conn is a PushConn hands its frames straight to the loop
// instead of having a goroutine read them, which in the browser saves a
// goroutine switch per burst; AfterDelivered then tells it when the
// callbacks of what it pushed have run.
//
// Every status change carries a code (CodeConnectCalled, CodeOpened, …) and
// a reason, reported to OnStatusChange.
//
// # Guarantee
//
// After any disconnection, and between the application's call to
// Subscribe (SubscribeOptions.CalledAt) and the subscription going live, a
// subscriber either receives every event it missed, in order and exactly
// once (extended protocol, history permitting: a first subscribe asks for
// its age), or receives one resync event: an Event with Type "*", Payload
// {"resync":true,"reason":R} and Resync set to R, where R is "reconnect",
// "gap", "unrecovered", "epoch" or "late". Against a basic server every
// reconnect produces a resync event, and so does a first subscribe sent
// more than Config.LateResync after the call.
//
// # Reconnect delay
//
// Attempt n (0 for the first retry after a loss) waits
//
//	MinDelay + U[0, min(MaxDelay-MinDelay, MinDelay·2^n))
//
// so the delay never drops below MinDelay, never exceeds MaxDelay, and keeps
// its full spread [MinDelay, MaxDelay) once the cap is reached (clients that
// reach the cap together do not reconnect together). A server retry hint
// (close reason or error retryAfter) replaces the computed delay. The attempt
// counter resets only after a connection completed its handshake and stayed
// up for StableAfter, so a server that accepts and immediately drops cannot
// make clients reconnect fast.
//
// # Publishing
//
// Publishes made while the connection is not open wait in a queue bounded by
// QueueMaxCount and QueueMaxBytes; when it is full the oldest is dropped,
// counted in Stats and reported to OnError (ErrQueueFull). On an extended
// connection every publish carries a ref that the server acknowledges; the
// publishes not yet acknowledged when a connection is lost go back to the
// front of the queue and are sent again, with the same refs, on the next
// connection, where the server stores each ref once. The client's own events
// are recognised by those refs and never delivered back to it.
package provider
