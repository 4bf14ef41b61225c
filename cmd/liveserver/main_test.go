package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// The binary serves health, publish and WebSocket, and on cancellation
// (what SIGTERM does) closes clients with 4000 and a retry hint.
func TestRunServesAndShutsDown(t *testing.T) {
	r := startRun(t, "--publish-token", "tok", "--log-format", "json")
	addr := r.addr

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Post("http://"+addr+"/publish", "application/json", strings.NewReader(`{"channel":"c","type":"t"}`))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("publish without token: %v %v", resp, err)
	}
	resp.Body.Close()

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	ws, _, err := websocket.Dial(dctx, "ws://"+addr+"/live", &websocket.DialOptions{Subprotocols: []string{protocol.Version}})
	require.NoError(t, err)
	defer ws.CloseNow()
	if _, b, err := ws.Read(dctx); err != nil || !strings.Contains(string(b), `"action":"hello"`) {
		t.Fatalf("hello: %s %v", b, err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	_, _, err = ws.Read(dctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || protocol.CloseCode(ce.Code) != protocol.CloseShutdown {
		t.Fatalf("want close 4000, got %v", err)
	}
	if r := protocol.ParseCloseReason(ce.Reason); r.RetryAfter < 500*time.Millisecond || r.RetryAfter > 5*time.Second {
		t.Fatalf("retry hint %v outside [0.5s, 5s]", r.RetryAfter)
	}
	require.NoError(t, <-stopped, "run")
	if !strings.Contains(r.logs.String(), `"msg":"stopped"`) {
		t.Fatalf("logs: %s", r.logs.String())
	}
}

func TestFlags(t *testing.T) {
	o, err := parseFlags([]string{"--origin", "a.example,b.example", "--origin", "localhost:5173", "--history", "0"}, &bytes.Buffer{})
	require.NoError(t, err)
	if strings.Join(o.origins, " ") != "a.example b.example localhost:5173" || o.addr != "127.0.0.1:8080" {
		t.Fatalf("%+v", o)
	}
	o, err = parseFlags([]string{"--history-grace", "1h"}, &bytes.Buffer{})
	require.NoError(t, err)
	b := o.memoryBroker()
	defer b.Close()
	// The history counts as whole an hour back: a replay by age is complete.
	if h, err := b.HistoryAfter(context.Background(), "c", time.Now().Add(-30*time.Minute)); err != nil || !h.Complete {
		t.Fatalf("with --history-grace 1h: %+v %v", h, err)
	}
	o, _ = parseFlags(nil, &bytes.Buffer{})
	b = o.memoryBroker()
	defer b.Close()
	if h, _ := b.HistoryAfter(context.Background(), "c", time.Now().Add(-time.Second)); h.Complete {
		t.Fatal("without --history-grace, a replay reaching before the start is complete")
	}
	for _, bad := range [][]string{{"--rate", "0"}, {"--bogus"}, {"extra"}, {"--log-level", "loud"}} {
		o, err := parseFlags(bad, &bytes.Buffer{})
		if err == nil {
			_, err = o.logger(&bytes.Buffer{})
		}
		if err == nil {
			t.Errorf("%v: want error", bad)
		}
	}
}
