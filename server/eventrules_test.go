package server

import (
	"encoding/json"
	"strings"
)

// rulesLimit is MaxMessage for the event-rules tests: small, so that the
// size cases stay small, and large enough for the nesting case.
const rulesLimit = 2048

// eventCase is one event and what every entry point must do with it. The
// members are raw JSON values, "" for an absent member, so that null,
// absent and wrongly typed values can all be written. The same table is run
// against POST /publish, a WebSocket publish and Server.Publish.
type eventCase struct {
	name                            string
	channel, typ, payload, meta, id string
	// extra is more raw members, such as a key in the wrong case.
	extra string
	// wire marks a case only JSON can express (a field of the wrong type),
	// which Server.Publish therefore cannot receive.
	wire bool
	// want is the code of the refusal, "" when the event is accepted.
	want string
	// stored and storedMeta are the payload and meta subscribers receive
	// ("" for no meta) when the event is accepted.
	stored, storedMeta string
}

var eventCases = []eventCase{
	// Normalized, then accepted.
	{name: "payload and meta objects", channel: `"c"`, typ: `"t"`, payload: `{"ids":[1]}`, meta: `{"by":"billing"}`, stored: `{"ids":[1]}`, storedMeta: `{"by":"billing"}`},
	{name: "payload absent", channel: `"c"`, typ: `"t"`, stored: `{}`},
	{name: "payload null", channel: `"c"`, typ: `"t"`, payload: `null`, stored: `{}`},
	{name: "payload empty object", channel: `"c"`, typ: `"t"`, payload: `{}`, stored: `{}`},
	{name: "payload with space around it", channel: `"c"`, typ: `"t"`, payload: " \n{\"a\":1}\t ", stored: `{"a":1}`},
	{name: "meta absent", channel: `"c"`, typ: `"t"`, payload: `{"ids":[1]}`, stored: `{"ids":[1]}`},
	{name: "meta null", channel: `"c"`, typ: `"t"`, payload: `{"ids":[1]}`, meta: `null`, stored: `{"ids":[1]}`},
	{name: "payload and meta null", channel: `"c"`, typ: `"t"`, payload: `null`, meta: `null`, stored: `{}`},
	{name: "meta empty object", channel: `"c"`, typ: `"t"`, meta: `{}`, stored: `{}`, storedMeta: `{}`},
	{name: "id given", channel: `"c"`, typ: `"t"`, id: `"order-7"`, stored: `{}`},
	{name: "id null", channel: `"c"`, typ: `"t"`, id: `null`, stored: `{}`},
	{name: "id of 64 allowed characters", channel: `"c"`, typ: `"t"`, id: `"` + strings.Repeat("aZ09-_.:", 8) + `"`, stored: `{}`},
	{name: "channel of 256 bytes", channel: `"` + strings.Repeat("c", 256) + `"`, typ: `"t"`, stored: `{}`},
	{name: "channel with escapes", channel: `"r\u00e9sum\u00e9/\"q\""`, typ: `"t"`, stored: `{}`},
	{name: "type of 64 bytes", channel: `"c"`, typ: `"` + strings.Repeat("t", 64) + `"`, stored: `{}`},
	{name: "unknown members ignored", channel: `"c"`, typ: `"t"`, extra: `"seq":99,"date":5`, wire: true, stored: `{}`},
	{name: "event exactly at the limit", channel: `"c"`, typ: `"t"`, payload: paddedObject(0, false), stored: paddedObject(0, false)},

	// Refused.
	{name: "channel absent", typ: `"t"`, want: "bad_request"},
	{name: "channel null", channel: `null`, typ: `"t"`, want: "bad_request"},
	{name: "channel empty", channel: `""`, typ: `"t"`, want: "bad_request"},
	{name: "channel of 257 bytes", channel: `"` + strings.Repeat("c", 257) + `"`, typ: `"t"`, want: "bad_request"},
	{name: "channel not a string", channel: `5`, typ: `"t"`, wire: true, want: "bad_request"},
	{name: "channel key in another case", extra: `"Channel":"c"`, typ: `"t"`, wire: true, want: "bad_request"},
	{name: "type absent", channel: `"c"`, want: "bad_request"},
	{name: "type empty", channel: `"c"`, typ: `""`, want: "bad_request"},
	{name: "type of 65 bytes", channel: `"c"`, typ: `"` + strings.Repeat("t", 65) + `"`, want: "bad_request"},
	{name: "type not a string", channel: `"c"`, typ: `true`, wire: true, want: "bad_request"},
	{name: "payload an array", channel: `"c"`, typ: `"t"`, payload: `[1]`, want: "bad_request"},
	{name: "payload a string", channel: `"c"`, typ: `"t"`, payload: `"x"`, want: "bad_request"},
	{name: "payload a number", channel: `"c"`, typ: `"t"`, payload: `5`, want: "bad_request"},
	{name: "payload not well-formed", channel: `"c"`, typ: `"t"`, payload: `{"a":`, want: "bad_request"},
	{name: "payload with invalid UTF-8", channel: `"c"`, typ: `"t"`, payload: "{\"s\":\"\xff\"}", want: "bad_request"},
	{name: "payload nested too deep", channel: `"c"`, typ: `"t"`, payload: `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, want: "bad_request"},
	{name: "meta an array", channel: `"c"`, typ: `"t"`, meta: `[1]`, want: "bad_request"},
	{name: "meta a string", channel: `"c"`, typ: `"t"`, meta: `"m"`, want: "bad_request"},
	{name: "meta with invalid UTF-8", channel: `"c"`, typ: `"t"`, meta: "{\"s\":\"\xfe\"}", want: "bad_request"},
	{name: "id with a space", channel: `"c"`, typ: `"t"`, id: `"has space"`, want: "bad_request"},
	{name: "id not ASCII", channel: `"c"`, typ: `"t"`, id: `"\u00e9"`, want: "bad_request"},
	{name: "id of 65 characters", channel: `"c"`, typ: `"t"`, id: `"` + strings.Repeat("i", 65) + `"`, want: "bad_request"},
	{name: "id not a string", channel: `"c"`, typ: `"t"`, id: `7`, wire: true, want: "bad_request"},
	{name: "event one byte over the limit", channel: `"c"`, typ: `"t"`, payload: paddedObject(1, false), want: "too_large"},
	// The frame fits, but not once the payload it lacks is added.
	{name: "no payload, over the limit with the one it gets", channel: `"c"`, typ: `"t"`, meta: paddedObject(-4, true), want: "too_large"},
}

// paddedObject is an object that makes the compact publish frame
// {"action":"publish","channel":"c","type":"t",<payload or meta>} exactly
// rulesLimit+over bytes long.
func paddedObject(over int, asMeta bool) string {
	probe := eventCase{channel: `"c"`, typ: `"t"`}
	if asMeta {
		probe.meta = `{"s":""}`
	} else {
		probe.payload = `{"s":""}`
	}
	return `{"s":"` + strings.Repeat("a", rulesLimit+over-len(wsFrame(probe))) + `"}`
}

// members writes the case's members in the order the protocol's encoder
// uses, so that a frame built from them is the compact publish frame the
// size rule measures. idKey is "id" on HTTP and "ref" on the WebSocket.
func (tc eventCase) members(idKey string) string {
	var b strings.Builder
	for _, m := range [...]struct{ key, raw string }{
		{"channel", tc.channel}, {"type", tc.typ}, {"payload", tc.payload}, {"meta", tc.meta}, {idKey, tc.id},
	} {
		if m.raw != "" {
			b.WriteString(`,"` + m.key + `":` + m.raw)
		}
	}
	if tc.extra != "" {
		b.WriteString("," + tc.extra)
	}
	return b.String()
}

// httpBody is the case as the body of POST /publish.
func httpBody(tc eventCase) string { return "{" + strings.TrimPrefix(tc.members("id"), ",") + "}" }

// wsFrame is the case as a client's publish frame.
func wsFrame(tc eventCase) string { return `{"action":"publish"` + tc.members("ref") + "}" }

// goEvent is the case as a Go caller's Event; false when JSON typing is
// needed to express it.
func goEvent(tc eventCase) (Event, bool) {
	var ev Event
	for _, f := range [...]struct {
		raw string
		dst *string
	}{{tc.channel, &ev.Channel}, {tc.typ, &ev.Type}, {tc.id, &ev.ID}} {
		if f.raw == "" || f.raw == "null" {
			continue
		}
		if f.raw[0] != '"' || json.Unmarshal([]byte(f.raw), f.dst) != nil {
			return Event{}, false
		}
	}
	if tc.payload != "" {
		ev.Payload = json.RawMessage(tc.payload)
	}
	if tc.meta != "" {
		ev.Meta = json.RawMessage(tc.meta)
	}
	return ev, tc.extra == ""
}

// goString decodes a case's raw string member; "" for absent or null.
func goString(raw string) string {
	var s string
	_ = json.Unmarshal([]byte(raw), &s)
	return s
}
