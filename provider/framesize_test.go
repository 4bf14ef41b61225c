package provider

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// frameSize is the length of the frame AppendClient writes, without
// writing the payload: checked against the whole frame.
func TestFrameSizeIsTheEncodedLength(t *testing.T) {
	for _, e := range []PublishEvent{
		{Channel: "c", Type: "t", Payload: []byte(`{}`)},
		{Channel: "resources/posts", Type: "updated", Payload: []byte(`{"ids":[1,2],"title":"x"}`)},
		{Channel: `q"uote\é✓`, Type: "t\n", Payload: []byte(`{"a":"line\nbreak"}`), Meta: []byte(`{"m":1}`)},
		{Channel: "c", Type: "t", Payload: []byte("{\n\"a\": 1\n}"), Meta: []byte(`{}`)},
	} {
		m := protocol.ClientMessage{Action: protocol.ActionPublish, Channel: e.Channel, Type: e.Type,
			Payload: e.Payload, Meta: e.Meta, Ref: maxRef}
		assert.Equal(t, len(protocol.AppendClient(nil, &m)), frameSize(&e), "%+v", e)
	}
}
