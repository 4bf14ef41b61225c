package server

import (
	"bytes"
	"context"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
)

// FuzzClientFrames sends an arbitrary stream of client frames (the input
// split on U+001E) over a real connection. The server must survive it and
// keep serving: after every input, a well-behaved extended client on
// another connection still gets its subscribe answered and an event
// delivered.
func FuzzClientFrames(f *testing.F) {
	for _, s := range []string{
		`{"action":"hello","protocol":"refine-live.v1"}` + "\x1e" + `{"action":"subscribe","channel":"c","since":{"epoch":"x","seq":99}}` + "\x1e" + `{"action":"publish","channel":"c","type":"t","payload":{},"ref":"r1"}`,
		`{"action":"subscribe","channel":"c"}` + "\x1e" + `{"action":"publish","channel":"c","type":"t","payload":[1]}`,
		`{"action":"hello","protocol":"refine-live.v1"}` + "\x1e" + `{"action":"auth","token":"x"}` + "\x1e" + `{"action":"unsubscribe","channel":"nope"}`,
		`{"action":"hello","protocol":"refine-live.v1"}` + "\x1e" + `{"action":5}` + "\x1e" + `{` + "\x1e" + `{"action":"ping"}`,
		`{"action":"publish","channel":"` + string(bytes.Repeat([]byte("c"), 300)) + `","type":"t"}`,
	} {
		f.Add([]byte(s))
	}
	s := startServer(f, Config{MessageRate: 1e6, MessageBurst: 1e6})
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, s.WSURL, nil)
		require.NoError(t, err)
		for _, frame := range bytes.Split(data, []byte{0x1e}) {
			if ws.Write(ctx, websocket.MessageText, frame) != nil {
				break // the server closed this connection, as it may
			}
		}
		_ = ws.Close(websocket.StatusNormalClosure, "")

		probe, _ := livetest.DialExtended(t, s.WSURL)
		probe.Send(`{"action":"subscribe","channel":"probe"}`)
		if m := probe.NextNonPing(); m.Action != "subscribed" || m.Channel != "probe" {
			t.Fatalf("probe subscribe answered with %+v", m)
		}
		if _, err := s.Publish(ctx, Event{Channel: "probe", Type: "updated", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if m := probe.NextNonPing(); m.Channel != "probe" || m.Type != "updated" {
			t.Fatalf("probe got %+v, want its event", m)
		}
	})
}
