package protocol

import (
	"bytes"
	"testing"
)

func TestNextMessageSplitsEveryMessage(t *testing.T) {
	frame := []byte("{\"a\":1}\n{\"b\":2}\n\n{\"c\":3}\n")
	var got []string
	for rest := frame; len(rest) > 0; {
		var msg []byte
		msg, rest = NextMessage(rest)
		if len(msg) > 0 {
			got = append(got, string(msg))
		}
	}
	want := []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d: got %s, want %s", i, got[i], want[i])
		}
	}
	if msg, rest := NextMessage([]byte(`{"x":1}`)); string(msg) != `{"x":1}` || rest != nil {
		t.Fatalf("a frame without separator: got %q, %q", msg, rest)
	}
}

func TestOneLineKeepsTheValue(t *testing.T) {
	in := []byte("{\n  \"ids\": [1,\n2],\r\n \"t\":\"a\\nb\"}")
	out := OneLine(in)
	if bytes.IndexByte(out, '\n') >= 0 {
		t.Fatalf("newline left in %q", out)
	}
	if !ValidObject(out) {
		t.Fatalf("%q is no longer a valid object", out)
	}
	if !bytes.Contains(in, []byte("\n")) {
		t.Fatal("the input was modified")
	}
	same := []byte(`{"ids":[1]}`)
	if got := OneLine(same); &got[0] != &same[0] {
		t.Fatal("a value without newline was copied")
	}
}

func TestHelloBatchFieldsRoundTrip(t *testing.T) {
	c := AppendClient(nil, &ClientMessage{Action: ActionHello, Protocol: Version, Batch: true, MaxMessage: 1 << 20})
	if string(c) != `{"action":"hello","protocol":"refine-live.v1","batch":true,"maxMessage":1048576}` {
		t.Fatalf("client hello: %s", c)
	}
	m, err := DecodeClient(c, 0)
	if err != nil || !m.Batch || m.MaxMessage != 1<<20 {
		t.Fatalf("decoded %+v, %v", m, err)
	}
	if _, err := DecodeClient([]byte(`{"action":"hello","protocol":"p","maxMessage":-1}`), 0); err == nil {
		t.Fatal("a negative maxMessage was accepted")
	}
	s := AppendServer(nil, &ServerMessage{Action: ActionHello, Protocol: Version, Session: "s", MaxMessage: 65536, Batch: true})
	if string(s) != `{"action":"hello","protocol":"refine-live.v1","session":"s","maxMessage":65536,"batch":true}` {
		t.Fatalf("server hello: %s", s)
	}
	var sm ServerMessage
	if err := DecodeServer(s, 0, &sm); err != nil || !sm.Batch {
		t.Fatalf("decoded %+v, %v", sm, err)
	}
}
