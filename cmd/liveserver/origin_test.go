package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// dialFrom opens the WebSocket as a page of origin would, and returns the
// HTTP status of the handshake.
func dialFrom(t *testing.T, addr, origin string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "ws://"+addr+"/live", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
	if err == nil {
		ws.CloseNow()
	}
	if resp == nil {
		t.Fatalf("%s: no answer: %v", origin, err)
	}
	return resp.StatusCode
}

// The quick start as written: the binary with no flags accepts a page from
// a dev server on another loopback port, refuses any other site, and logs
// the refusal with the flag that would allow it.
func TestQuickStartAcceptsADevServerOnAnotherPort(t *testing.T) {
	r := startRun(t)
	addr, logs := r.addr, r.logs
	for _, origin := range []string{"http://localhost:5173", "http://127.0.0.1:5173", "http://[::1]:3000"} {
		if got := dialFrom(t, addr, origin); got != http.StatusSwitchingProtocols {
			t.Errorf("%s: handshake %d, want 101", origin, got)
		}
	}
	if got := dialFrom(t, addr, "https://evil.example"); got != http.StatusForbidden {
		t.Errorf("foreign site: handshake %d, want 403", got)
	}
	for _, want := range []string{"origin not allowed", "origin=https://evil.example", "--origin"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// --origin lists the production origins; they replace the loopback default.
func TestOriginFlagReplacesTheLoopbackDefault(t *testing.T) {
	addr := startRun(t, "--origin", "app.example.com", "--log-level", "error").addr
	if got := dialFrom(t, addr, "https://app.example.com"); got != http.StatusSwitchingProtocols {
		t.Errorf("listed origin: handshake %d, want 101", got)
	}
	if got := dialFrom(t, addr, "http://localhost:5173"); got != http.StatusForbidden {
		t.Errorf("loopback origin with --origin: handshake %d, want 403", got)
	}
}

// The environment gives the list when the flag does not; the flag replaces
// it. A malformed pattern is refused at start rather than at each handshake.
func TestOriginsFromTheEnvironment(t *testing.T) {
	t.Setenv(originsEnv, "a.example, b.example")
	o, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil || strings.Join(o.origins, " ") != "a.example b.example" {
		t.Fatalf("from env: %v %v", o.origins, err)
	}
	o, err = parseFlags([]string{"--origin", "c.example"}, &bytes.Buffer{})
	if err != nil || strings.Join(o.origins, " ") != "c.example" {
		t.Fatalf("flag over env: %v %v", o.origins, err)
	}
	if _, err := parseFlags([]string{"--origin", "[bad"}, &bytes.Buffer{}); err == nil {
		t.Fatal("malformed pattern accepted")
	}
}
