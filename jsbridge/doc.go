//go:build js && wasm

// Package jsbridge is the only Go code that touches JavaScript. It hands the
// provider engine to the npm shim as a small API object and gives the engine
// a Transport over the page's own WebSocket. Everything goes through
// github.com/hack-pad/safejs, so a failed JavaScript operation is an error,
// never a panic.
//
// The contract with the shim (npm/loader.js, npm/index.js):
//
//   - api.version is the build's version string; api.newClient(config, hooks)
//     returns a client object.
//   - config: {urls, protocol, minDelay, maxDelay, heartbeatGrace,
//     queueMaxCount, queueMaxBytes, filterIds, coalesceMs, resyncSpreadMs, lateResyncMs,
//     debug, hasToken}, durations in milliseconds. Every field is
//     required: the shim's DEFAULTS are the browser's one source of
//     defaults, and the engine's own never apply to it.
//   - hooks, JavaScript functions that Go calls: onEvents(batch),
//     onStatus(from, to), onSubStates(batch), onError(code, message,
//     channel, serverCode, closeCode), onLog(level, text) (only with
//     config.debug), getToken() → Promise of a string, openSocket(url,
//     sink) → {send(text), buffer(size) → Uint8Array, sendBuffered(n),
//     close(code, reason)}. Go copies an outbound frame into the buffer and
//     sends its first n bytes: a number argument leaves wasm_exec.js no
//     reference to release, a string does. A frame on a quiet socket goes
//     to sink.onMessages at once; frames of a burst are joined with
//     U+001E, which cannot occur in valid JSON text: one boundary crossing
//     per batch, not per frame.
//   - onError's code is one of errorCodes (errors.go); channel and
//     serverCode are those of a refused request ("" otherwise), closeCode
//     the close code of a connection the server ended (0 otherwise).
//   - onSubStates receives the subscriptions whose state changed as one
//     JSON text, [id,"state",…], states being provider.SubState values;
//     it is called once per burst of changes, not per subscription.
//   - client methods: subscribe(subId, channel, types, ids, disabled,
//     coalesceMs, ageMs), unsubscribe(subId), apply(batch) (subscribes and
//     unsubscribes of one task in one call; the format is parseApply's),
//     publish(channel, type, payloadJSON, metaJSON), reconnect(), close()
//     → Promise, status(), stats() → JSON text of the engine's counters
//     plus "goroutines" (the Go runtime's goroutine count, for leak checks)
//     and "goLiveHeapBytes" (the Go heap live at the last collection),
//     funcCount(). ageMs is how long before the call the application asked
//     for the subscription (the shim queues subscriptions while live.wasm
//     loads); it becomes provider.SubscribeOptions.CalledAt.
//   - onEvents receives one JSON string per batch: a flat array alternating
//     the subscriber ids and the event they get, for example
//     [[1,2],{"channel":"c","type":"updated","payload":{"ids":[1]},"date":1764190800000}].
//     JavaScript's JSON.parse builds every object in one call.
//
// No function called from JavaScript blocks: each one copies its arguments
// and queues the work for the client's own goroutine, so JavaScript may call
// back into the client from inside any hook. Every exported function
// recovers panics and reports them through hooks.onError. Every function Go
// creates for JavaScript belongs to a funcSet and is released with it.
package jsbridge
