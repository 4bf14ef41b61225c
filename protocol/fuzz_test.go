package protocol

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fuzz targets check that decoding never panics, that every failure is a
// *DecodeError, and that whatever decodes re-encodes to something that decodes
// to the same message.

func FuzzDecodeClient(f *testing.F) {
	for _, s := range []string{
		`{"action":"subscribe","channel":"resources/posts"}`,
		`{"action":"publish","channel":"c","type":"t","payload":{"ids":[1,"2"]},"ref":"r1","meta":{}}`,
		`{"action":"subscribe","channel":"c","since":{"epoch":"e","seq":9}}`,
		`{"action":"hello","protocol":"refine-live.v1"}`,
		`{"action":"auth","token":"x"}`,
		`{"action":5}`, `[`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeClient(data, 0)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		again, err := DecodeClient(AppendClient(nil, &m), 0)
		require.NoError(t, err, "re-encoded %+v does not decode", m)
		if again.Action != m.Action || again.Channel != m.Channel || again.Type != m.Type || again.Ref != m.Ref || again.Token != m.Token {
			t.Fatalf("round trip changed %+v into %+v", m, again)
		}
	})
}

func FuzzDecodeServer(f *testing.F) {
	for _, s := range []string{
		`{"channel":"resources/posts","type":"updated","payload":{"ids":[1]}}`,
		`{"channel":"c","type":"t","payload":{},"id":"r1","seq":7,"epoch":"e","date":1700000000000}`,
		`{"action":"hello","protocol":"refine-live.v1","session":"s","heartbeat":25000}`,
		`{"action":"subscribed","channel":"c","seq":3,"epoch":"e","recovered":true}`,
		`{"action":"ack","ref":"r1","seq":2,"epoch":"e"}`,
		`{"action":"error","code":"forbidden","channel":"c"}`,
		`{"channel":1}`, `{"channel":"c","type":"t","seq":-1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m ServerMessage
		if err := DecodeServer(data, 0, &m); err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		var again ServerMessage
		require.NoError(t, DecodeServer(AppendServer(nil, &m), 0, &again), "re-encoded %+v does not decode", m)
		if again.Action != m.Action || again.Channel != m.Channel || again.Seq != m.Seq || again.Epoch != m.Epoch || again.ID != m.ID {
			t.Fatalf("round trip changed %+v into %+v", m, again)
		}
	})
}

func FuzzParseCloseReason(f *testing.F) {
	f.Add(`{"message":"bye","retryAfter":100}`)
	f.Add(`plain`)
	f.Fuzz(func(t *testing.T, s string) {
		r := ParseCloseReason(s)
		if r.RetryAfter < 0 {
			t.Fatalf("negative retry hint from %q", s)
		}
		if len(r.Encode()) > maxCloseReason && len(r.Message) > 0 {
			t.Fatalf("Encode() exceeds the close frame limit for %q", s)
		}
	})
}
