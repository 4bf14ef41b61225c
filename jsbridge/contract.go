//go:build js && wasm

package jsbridge

import (
	"errors"
	"strconv"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The contract between live.wasm and the shim. npm/contract.js is its
// JavaScript half; the fixtures under testdata/contract/ are read by the
// tests of both halves, so that neither can drift from the other.
//
// Set-up, through the object Go registers (api.go):
//
//   - api.version, the build's version string.
//   - api.newClient(config, hooks) → client, or an Error with a code.
//     config holds every field of npm/options.js's DEFAULTS (readConfig
//     refuses a missing one). client is {handle, stats(), close() →
//     Promise}; handle names the client in the exports below.
//   - After an export returns, no goroutine runs until JavaScript enters
//     Go again: in the task after the exports of a task, the shim resumes
//     Go with no event (wasm_exec.js's _resume, what a Go timer firing
//     does), so that the scheduler runs every goroutine an export left
//     runnable and arms its timers.
//
// The hot path, through WebAssembly exports (exports.go): no JavaScript
// function, no reference and no string conversion by wasm_exec.js.
//
//   - liveInbox(size) → address of a Go buffer of at least size bytes,
//     which keeps the bytes already in it when it grows. The shim writes
//     UTF-8 there with TextEncoder.encodeInto, asking for one byte per
//     UTF-16 unit first and for more only when the text needs it.
//   - liveCommands(client, n): the inbox holds n bytes of a command batch
//     (eachCommand). Each command reaches the engine's loop with one
//     hand-off.
//   - liveFrames(socket, n): the inbox holds n bytes of frames from socket,
//     joined by U+001E (it cannot occur in valid JSON text). Go handles
//     them and returns once every callback they led to has run.
//   - Both return the length of the outbox: the event batches delivered
//     while the export ran, each written as "<client handle>" U+001D
//     "<batch>" U+001E. liveOutbox() gives its address. 0xFFFFFFFF means
//     the call came from inside another export and did nothing: the shim
//     sends it again from a later microtask.
//
// Go calls back through hooks (hooks.go):
//
//   - onEvents(batch): the event batches delivered outside an export
//     (timers, a resync), as text in the same format.
//   - onSubStates(states), onStatus(from, to, code, reason), onError(code,
//     message, channel, serverCode, closeCode), onLog(level, text) (only
//     with config.debug), getToken() → Promise of a string.
//   - openSocket(url, sink) → {sendFrom(address, n), close(code, reason)};
//     sink is {id, onOpen(), onClose(code, reason)}, the socket's frames
//     go to liveFrames(sink.id, …), and sendFrom sends the n bytes of
//     UTF-8 at address in Go's memory as one text frame.
//
// No function called from JavaScript blocks on JavaScript, every one of
// them recovers panics and reports them through onError, and every
// function Go creates for JavaScript belongs to a funcSet released with
// its owner.

// Separators of the texts that cross the boundary: ASCII control
// characters, which valid JSON text never holds raw.
const (
	sepFrame   = '\x1e' // between frames, and after each outbox section
	sepSection = '\x1d' // between a section's client handle and its batch
)

// exportBusy is what an export returns when it was called from inside
// another one.
const exportBusy = ^uint32(0)

// command is one element of a command batch.
type command struct {
	kind    string // "s", "u", "p" or "r"
	id      int    // subscription id: "s" and "u"
	sub     provider.SubscribeOptions
	publish provider.PublishEvent
}

var errMalformedCommands = errors.New("malformed command batch")

// eachCommand reads a command batch, a JSON array of commands,
//
//	["s", id, channel, [types…], [ids…] or null, coalesceMs, ageMs, origin?]
//	["u", id]
//	["p", channel, type, {payload}, {meta} or null, origin?]
//	["r"]   (reconnect)
//
// origin, a positive integer, is optional: the tab of a shared worker
// that asked (provider.SubscribeOptions.Origin).
//
// and hands each to fn in order. A malformed batch is refused whole, so
// that no half of it runs: every command is checked before the first is
// handed over, and each is read again then rather than kept, so that a
// mass subscribe costs no list of ten thousand commands. ageMs is how
// long before the batch the app called subscribe; now is read once, and
// only when an age is positive. The payloads and metas are sub-slices of
// text, which the caller hands over.
func eachCommand(text []byte, now func() time.Time, fn func(*command)) error {
	bad := false
	valid := protocol.ArrayElements(text, func(elem []byte) {
		if _, _, ok := parseCommand(elem); !ok {
			bad = true
		}
	})
	if !valid || bad {
		return errMalformedCommands
	}
	var nowTime time.Time
	protocol.ArrayElements(text, func(elem []byte) {
		cmd, ageMs, _ := parseCommand(elem)
		if ageMs > 0 {
			if nowTime.IsZero() {
				nowTime = now()
			}
			cmd.sub.CalledAt = nowTime.Add(-msDuration(ageMs))
		}
		fn(&cmd)
	})
	return nil
}

func parseCommand(elem []byte) (cmd command, ageMs float64, ok bool) {
	var f [][]byte
	if !protocol.ArrayElements(elem, func(v []byte) { f = append(f, v) }) || len(f) == 0 {
		return cmd, 0, false
	}
	cmd.kind, ok = protocol.UnquoteString(f[0])
	if !ok {
		return cmd, 0, false
	}
	switch {
	case cmd.kind == "s" && (len(f) == 7 || len(f) == 8):
		var coalesceMs float64
		cmd.id, ok = positiveInt(f[1])
		ok = ok && parseString(f[2], &cmd.sub.Channel) && parseStrings(f[3], &cmd.sub.Types)
		ok = ok && (string(f[4]) == "null" || parseStrings(f[4], &cmd.sub.IDs))
		ok = ok && parseNumber(f[5], &coalesceMs) && parseNumber(f[6], &ageMs)
		ok = ok && parseOrigin(f[7:], &cmd.sub.Origin)
		cmd.sub.Coalesce = msDuration(coalesceMs)
		return cmd, ageMs, ok
	case cmd.kind == "u" && len(f) == 2:
		cmd.id, ok = positiveInt(f[1])
		return cmd, 0, ok
	case cmd.kind == "p" && (len(f) == 5 || len(f) == 6):
		ok = parseString(f[1], &cmd.publish.Channel) && parseString(f[2], &cmd.publish.Type)
		ok = ok && parseOrigin(f[5:], &cmd.publish.Origin)
		ok = ok && len(f[3]) > 0 && f[3][0] == '{'
		cmd.publish.Payload = f[3]
		if string(f[4]) != "null" {
			ok = ok && len(f[4]) > 0 && f[4][0] == '{'
			cmd.publish.Meta = f[4]
		}
		return cmd, 0, ok
	case cmd.kind == "r" && len(f) == 1:
		return cmd, 0, true
	}
	return cmd, 0, false
}

// parseOrigin reads a command's optional last element, its origin: a
// positive integer when present.
func parseOrigin(rest [][]byte, dst *int) bool {
	if len(rest) == 0 {
		return true
	}
	origin, ok := positiveInt(rest[0])
	*dst = origin
	return ok
}

func parseString(raw []byte, dst *string) bool {
	s, ok := protocol.UnquoteString(raw)
	*dst = s
	return ok
}

func parseStrings(raw []byte, dst *[]string) bool {
	ok := true
	list := []string{}
	if !protocol.ArrayElements(raw, func(v []byte) {
		s, sok := protocol.UnquoteString(v)
		ok = ok && sok
		list = append(list, s)
	}) {
		return false
	}
	*dst = list
	return ok
}

func parseNumber(raw []byte, dst *float64) bool {
	f, err := strconv.ParseFloat(string(raw), 64)
	*dst = f
	return err == nil && f >= 0
}

func positiveInt(raw []byte) (int, bool) {
	n, err := strconv.Atoi(string(raw))
	return n, err == nil && n > 0
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// appendBatch writes an event batch: a JSON array alternating the
// subscription ids and the event they receive,
// [[1,2],{"channel":"c","type":"updated","payload":{…},"date":1764190800000},…],
// so that JavaScript builds every object with one JSON.parse.
func appendBatch(dst []byte, items []delivery, ids []int) []byte {
	dst = append(dst, '[')
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for j, s := range ids[items[i].from:items[i].to] {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendID(dst, s)
		}
		dst = append(dst, "],"...)
		dst = appendEvent(dst, &items[i].event)
	}
	return append(dst, ']')
}

// appendID writes a subscription id: ten of them per event with ten
// subscribers, where strconv would be a call each (calls are dear in wasm).
func appendID(dst []byte, id int) []byte {
	if id < 0 || id >= 1e9 {
		return strconv.AppendInt(dst, int64(id), 10)
	}
	var digits [9]byte
	i := len(digits)
	for {
		i--
		digits[i] = byte('0' + id%10)
		id /= 10
		if id == 0 {
			break
		}
	}
	return append(dst, digits[i:]...)
}

// appendEvent writes one event as Refine's LiveEvent, the date in epoch
// milliseconds; payload and meta are copied as they came.
func appendEvent(dst []byte, ev *provider.Event) []byte {
	dst = append(dst, `{"channel":`...)
	dst = protocol.AppendString(dst, ev.Channel)
	dst = append(dst, `,"type":`...)
	dst = protocol.AppendString(dst, ev.Type)
	dst = append(dst, `,"payload":`...)
	if len(ev.Payload) > 0 {
		dst = append(dst, ev.Payload...)
	} else {
		dst = append(dst, "{}"...)
	}
	dst = append(dst, `,"date":`...)
	dst = strconv.AppendInt(dst, ev.Date, 10)
	if ev.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = protocol.AppendString(dst, ev.ID)
	}
	if len(ev.Meta) > 0 {
		dst = append(dst, `,"meta":`...)
		dst = append(dst, ev.Meta...)
	}
	return append(dst, '}')
}

// appendStates writes subscription states as [id,"state",id,"state",…],
// states being provider.SubState values (plain ASCII words), read as the
// batch is written so that a late entry never shows an older state.
func appendStates(dst []byte, items []stateChange) []byte {
	dst = append(dst, '[')
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendID(dst, items[i].id)
		dst = append(dst, ',', '"')
		dst = append(dst, items[i].sub.State()...)
		dst = append(dst, '"')
	}
	return append(dst, ']')
}
