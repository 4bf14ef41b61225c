package protocol

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// validByScanner reports whether the scanner accepts data as one JSON value.
func validByScanner(data []byte) (bool, error) {
	s := scanner{data: data}
	_, err := s.value()
	if err != nil {
		return false, err
	}
	s.ws()
	return s.pos == len(data), nil
}

// The scanner must agree with encoding/json on what is valid JSON and on
// what a string means: the server forwards raw payloads that browsers then
// parse with JSON.parse.
func FuzzScannerMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[1,2.5e-3,"x",true,false,null]`, `"\u00e9\ud83d\ude00\ud800x"`, `{"a":{"b":[{}]}}`,
		`01`, `1.`, `-`, `"\x01"`, `{"a" 1}`, `[1,]`, "\"bad\xff\"", ` 5 `, `1e+`, `"\/"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := validByScanner(data)
		want := json.Valid(data)
		if err != nil && strings.Contains(err.Error(), "nesting too deep") {
			return // a deliberate limit, below encoding/json's
		}
		if got != want {
			t.Fatalf("scanner says valid=%v, encoding/json says %v, for %q", got, want, data)
		}
		if !got || data[0] != '"' && strings.TrimLeft(string(data), " \t\r\n")[0] != '"' {
			return
		}
		s := scanner{data: data}
		s.ws()
		raw, _, err := s.stringToken()
		require.NoError(t, err, "valid string not scanned")
		mine, _ := unquote(raw)
		var theirs string
		require.NoError(t, json.Unmarshal(data, &theirs))
		if mine != theirs {
			t.Fatalf("unquote(%q) = %q, encoding/json gives %q", data, mine, theirs)
		}
	})
}

func TestScannerDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	if _, err := validByScanner([]byte(deep)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v, want ErrMalformed for nesting beyond the limit", err)
	}
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if v, err := validByScanner([]byte(ok)); !v || err != nil {
		t.Fatalf("nesting at the limit refused: %v", err)
	}
}

func TestDecodeKeepsRawPayloadAndInternsTypes(t *testing.T) {
	frame := []byte(`{"channel":"c","type":"updated","payload": {"ids":[1, "2"]} ,"meta":null,"x":[{"deep":true}]}`)
	var m ServerMessage
	require.NoError(t, DecodeServer(frame, 0, &m))
	if string(m.Payload) != `{"ids":[1, "2"]}` || m.Meta != nil || m.Type != "updated" {
		t.Fatalf("decoded %+v", m)
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = DecodeServer(frame, 0, &m) }); allocs > 1 {
		t.Errorf("DecodeServer allocates %.0f times per event, want at most 1 (the channel string)", allocs)
	}
}

func BenchmarkDecodeServerEvent(b *testing.B) {
	frame := []byte(`{"channel":"resources/posts","type":"updated","payload":{"ids":[42],"title":"hello world"},"id":"c7x2m:17","seq":42,"epoch":"k3f9q","date":1764190800000}`)
	var m ServerMessage
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if err := DecodeServer(frame, 0, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecoderEvent(b *testing.B) {
	basic := []byte(`{"channel":"resources/posts","type":"updated","payload":{"ids":[42],"title":"hello world","n":{"a":[1,2]}}}`)
	extended := []byte(`{"channel":"resources/posts","type":"updated","payload":{"ids":[42],"title":"hello world"},"id":"c7x2m:17","seq":42,"epoch":"k3f9q","date":1764190800000}`)
	for _, tc := range []struct {
		name  string
		frame []byte
	}{{"basic", basic}, {"extended", extended}} {
		b.Run(tc.name, func(b *testing.B) {
			var d Decoder
			var m ServerMessage
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.frame)))
			for b.Loop() {
				if err := d.Decode(tc.frame, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestDecoderAllocations(t *testing.T) {
	var d Decoder
	var m ServerMessage
	basic := []byte(`{"channel":"resources/posts","type":"updated","payload":{"ids":[42],"nested":{"a":[{}]}}}`)
	_ = d.Decode(basic, &m)
	if n := testing.AllocsPerRun(100, func() { _ = d.Decode(basic, &m) }); n != 0 {
		t.Errorf("decoding a basic event allocates %.0f times, want 0", n)
	}
	ext := []byte(`{"channel":"resources/posts","type":"updated","payload":{},"id":"x1","seq":4,"epoch":"e"}`)
	_ = d.Decode(ext, &m)
	if n := testing.AllocsPerRun(100, func() { _ = d.Decode(ext, &m) }); n > 1 {
		t.Errorf("decoding an extended event allocates %.0f times, want at most 1 (its id)", n)
	}
}
