package protocol

import (
	"strconv"
	"unicode/utf8"
)

// The encoders write fields in a fixed order so that the basic messages are
// byte for byte those of Refine's documented WebSocket provider, and they
// allocate nothing beyond growing dst. Raw JSON fields (payload, meta) are
// copied as they are: callers hand in valid JSON.

// AppendClient appends the JSON encoding of m to dst. A publish always
// carries a payload ("{}" when m has none), as basic servers expect.
func AppendClient(dst []byte, m *ClientMessage) []byte {
	dst = append(dst, `{"action":`...)
	dst = appendString(dst, string(m.Action))
	if m.Channel != "" {
		dst = append(dst, `,"channel":`...)
		dst = appendString(dst, m.Channel)
	}
	if m.Type != "" {
		dst = append(dst, `,"type":`...)
		dst = appendString(dst, m.Type)
	}
	if len(m.Payload) > 0 {
		dst = append(dst, `,"payload":`...)
		dst = append(dst, m.Payload...)
	} else if m.Action == ActionPublish {
		dst = append(dst, `,"payload":{}`...)
	}
	if len(m.Meta) > 0 {
		dst = append(dst, `,"meta":`...)
		dst = append(dst, m.Meta...)
	}
	if m.Ref != "" {
		dst = append(dst, `,"ref":`...)
		dst = appendString(dst, m.Ref)
	}
	dst = appendRecovery(dst, m.Since, m.Age)
	if len(m.Channels) > 0 {
		dst = appendChannelRequests(dst, m.Channels)
	}
	if m.Protocol != "" {
		dst = append(dst, `,"protocol":`...)
		dst = appendString(dst, m.Protocol)
	}
	if m.Batch {
		dst = append(dst, `,"batch":true`...)
	}
	if m.MaxMessage != 0 {
		dst = append(dst, `,"maxMessage":`...)
		dst = strconv.AppendInt(dst, m.MaxMessage, 10)
	}
	if m.Token != "" {
		dst = append(dst, `,"token":`...)
		dst = appendString(dst, m.Token)
	}
	return append(dst, '}')
}

// AppendServer appends the JSON encoding of m to dst. An event with only
// channel, type and payload set encodes exactly as a basic event.
func AppendServer(dst []byte, m *ServerMessage) []byte {
	dst = append(dst, '{')
	first := true
	sep := func() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
	}
	str := func(key, v string) {
		if v == "" {
			return
		}
		sep()
		dst = append(dst, '"')
		dst = append(dst, key...)
		dst = append(dst, `":`...)
		dst = appendString(dst, v)
	}
	num := func(key string, v int64) {
		if v == 0 {
			return
		}
		sep()
		dst = append(dst, '"')
		dst = append(dst, key...)
		dst = append(dst, `":`...)
		dst = strconv.AppendInt(dst, v, 10)
	}
	raw := func(key string, v []byte) {
		if len(v) == 0 {
			return
		}
		sep()
		dst = append(dst, '"')
		dst = append(dst, key...)
		dst = append(dst, `":`...)
		dst = append(dst, v...)
	}
	str("action", string(m.Action))
	str("channel", m.Channel)
	str("type", m.Type)
	if m.IsEvent() && len(m.Payload) == 0 {
		raw("payload", []byte("{}"))
	} else {
		raw("payload", m.Payload)
	}
	raw("meta", m.Meta)
	str("id", m.ID)
	if m.Seq != 0 {
		sep()
		dst = append(dst, `"seq":`...)
		dst = strconv.AppendUint(dst, m.Seq, 10)
	}
	str("epoch", m.Epoch)
	num("date", m.Date)
	str("protocol", m.Protocol)
	str("session", m.Session)
	num("heartbeat", m.Heartbeat)
	num("maxMessage", m.MaxMessage)
	if m.Batch {
		sep()
		dst = append(dst, `"batch":true`...)
	}
	if m.Recovered {
		sep()
		dst = append(dst, `"recovered":true`...)
	}
	str("ref", m.Ref)
	str("code", m.Code)
	str("message", m.Message)
	num("retryAfter", m.RetryAfter)
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping as encoding/json does:
// quotes, backslashes, control characters, U+2028 and U+2029; invalid UTF-8
// becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendString appends s to dst as a JSON string, escaped exactly as the
// encoders of this package escape every string they write.
func AppendString(dst []byte, s string) []byte { return appendString(dst, s) }
