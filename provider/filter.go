package provider

import (
	"bytes"
	"strconv"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

var idsKey = []byte(`"ids"`)

// idCache parses an event's payload.ids at most once, however many
// subscriptions filter on it, and only when one does. The client keeps one
// and reuses its buffers, so that filtering allocates nothing for the
// common ids (integers and strings without escapes).
type idCache struct {
	done bool
	ids  [][]byte
}

func (k *idCache) reset() {
	k.done = false
	k.ids = k.ids[:0]
}

func (k *idCache) get(payload []byte) [][]byte {
	if !k.done {
		k.done = true
		if bytes.Contains(payload, idsKey) {
			protocol.ArrayElements(protocol.ObjectField(payload, "ids"), func(e []byte) { k.ids = append(k.ids, normIDBytes(e)) })
		}
	}
	return k.ids
}

// normIDBytes is normID without allocating in the common cases: the
// unquoted body of a plain string, or an integer as written.
func normIDBytes(raw []byte) []byte {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1]
	}
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') && isInteger(raw) {
		return raw
	}
	return []byte(normID(raw))
}

// payloadIDs returns the raw elements of payload.ids, or nil when the
// payload has no ids array. The byte search skips the JSON parse for the
// common payloads without ids.
func payloadIDs(payload []byte) [][]byte {
	if !bytes.Contains(payload, idsKey) {
		return nil
	}
	var ids [][]byte
	protocol.ArrayElements(protocol.ObjectField(payload, "ids"), func(e []byte) { ids = append(ids, e) })
	return ids
}

// normID turns one JSON id into the string it is compared as: strings
// unquoted, integers as written (a float64 round trip would corrupt ids
// above 2^53), other numbers in shortest form (1.0 is 1), anything else as
// its JSON text.
func normID(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		if bytes.IndexByte(raw, '\\') < 0 && len(raw) >= 2 {
			return string(raw[1 : len(raw)-1])
		}
		if s, ok := protocol.UnquoteString(raw); ok {
			return s
		}
	case c == '-' || c >= '0' && c <= '9':
		if isInteger(raw) {
			return string(raw)
		}
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return string(raw)
}

func isInteger(raw []byte) bool {
	if raw[0] == '-' {
		raw = raw[1:]
	}
	if len(raw) == 0 {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// mergeEvents turns a coalescing window into one event: the last event's
// fields, the common type (or "*" when types differ), and a payload
// {"ids":[...]} holding every distinct id of the window in order of
// arrival. A resync in the window wins: the refetch it causes covers the
// other events.
func mergeEvents(pend []Event) Event {
	if len(pend) == 1 {
		return pend[0]
	}
	for i := len(pend) - 1; i >= 0; i-- {
		if pend[i].Resync != "" {
			return pend[i]
		}
	}
	out := pend[len(pend)-1]
	for _, e := range pend {
		if e.Type != out.Type {
			out.Type = "*"
			break
		}
	}
	seen := make(map[string]bool)
	buf := append(make([]byte, 0, 64), `{"ids":[`...)
	n := 0
	for _, e := range pend {
		for _, raw := range payloadIDs(e.Payload) {
			key := normID(raw)
			if seen[key] {
				continue
			}
			seen[key] = true
			if n > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, raw...)
			n++
		}
	}
	out.Payload = append(buf, "]}"...)
	return out
}
