package server

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// handshake dials with the given Origin header and reports whether the
// server answered the hello; a refusal must be the 403 of the origin check.
func handshake(t *testing.T, url, origin string) bool {
	t.Helper()
	c, err := livetest.TryDial(t, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
	if err != nil {
		if !strings.Contains(err.Error(), "403") {
			t.Fatalf("%s: want 403 or success, got %v", origin, err)
		}
		return false
	}
	defer func() { c.WS.CloseNow(); <-c.Done }()
	c.SendMsg(&protocol.ClientMessage{Action: protocol.ActionHello, Protocol: protocol.Version})
	if m := c.Next(); m.Action != protocol.ActionHello {
		t.Fatalf("%s: got %+v", origin, m)
	}
	return true
}

// With no origin patterns, a page on a loopback host (a dev server on
// another port) may connect and a page anywhere else may not; the refusal
// is logged with the origin and the setting that would allow it.
func TestLoopbackOriginsAllowedByDefault(t *testing.T) {
	var logs livetest.SyncBuffer
	s := startServer(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"http://localhost:5173", true},
		{"http://LOCALHOST:3000", true},
		{"https://localhost", true},
		{"http://127.0.0.1:5173", true},
		{"http://127.10.20.30:8000", true},
		{"http://[::1]:5173", true},
		{"https://evil.example", false},
		{"http://192.168.1.20:5173", false},
		{"http://localhost.evil.example:5173", false},
		{"http://127.0.0.1.evil.example", false},
		{"chrome-extension://localhost", false},
		{"null", false},
	} {
		if got := handshake(t, s.WSURL, tc.origin); got != tc.ok {
			t.Errorf("%s: accepted %v, want %v", tc.origin, got, tc.ok)
		}
	}
	// The log line is written before the 403 is, so it is there already.
	for _, want := range []string{`origin=https://evil.example`, "--origin", "Config.OriginPatterns"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// A page from an origin the patterns do not list is refused with 403; one
// they list is served.
func TestWrongOrigin(t *testing.T) {
	s := startServer(t, Config{OriginPatterns: []string{"app.example"}})
	if handshake(t, s.WSURL, "https://evil.example") {
		t.Fatal("https://evil.example was accepted")
	}
	if !handshake(t, s.WSURL, "https://app.example") {
		t.Fatal("https://app.example was refused")
	}
}

// Listing origins replaces the loopback default: production lists exactly
// what it serves. The server's own host stays allowed.
func TestOriginPatternsReplaceTheLoopbackDefault(t *testing.T) {
	s := startServer(t, Config{OriginPatterns: []string{"app.example", "https://*.example.com"}})
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://app.example", true},
		{"https://admin.example.com", true},
		{"http://admin.example.com", false},
		{"http://localhost:5173", false},
		{"http://" + strings.TrimPrefix(s.URL, "http://"), true},
	} {
		if got := handshake(t, s.WSURL, tc.origin); got != tc.ok {
			t.Errorf("%s: accepted %v, want %v", tc.origin, got, tc.ok)
		}
	}
}
