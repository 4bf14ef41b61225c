// Command publisher streams events into a live server as fast as one basic
// WebSocket connection allows, for the browser benchmarks in bench/.
//
//	publisher -url ws://127.0.0.1:8080/live -channel resources/bench -n 100000
//
// It prints one JSON line: {"sent":N,"ms":elapsed,"frameBytes":size}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

func main() {
	url := flag.String("url", "", "WebSocket URL of the live server")
	channel := flag.String("channel", "resources/bench", "channel to publish on")
	n := flag.Int("n", 100000, "events to publish")
	pad := flag.Int("pad", 24, "length of the payload's filler string")
	flag.Parse()
	if err := run(*url, *channel, *n, *pad); err != nil {
		fmt.Fprintln(os.Stderr, "publisher:", err)
		os.Exit(1)
	}
}

func run(url, channel string, n, pad int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return fmt.Errorf("failed to dial: %w", err)
	}
	defer c.CloseNow()
	// The frame each subscriber receives is {"channel":…,"type":…,"payload":…}.
	prefix := `{"action":"publish","channel":` + strconv.Quote(channel) + `,"type":"updated","payload":{"ids":[`
	suffix := `],"title":"` + strings.Repeat("x", pad) + `"}}`
	buf := make([]byte, 0, len(prefix)+len(suffix)+12)
	start := time.Now()
	for i := 1; i <= n; i++ {
		buf = append(buf[:0], prefix...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, suffix...)
		if err := c.Write(ctx, websocket.MessageText, buf); err != nil {
			return fmt.Errorf("failed to write event %d: %w", i, err)
		}
	}
	elapsed := time.Since(start)
	// The server handles a connection's frames in order: once the close
	// handshake completes, every event has been published.
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		return fmt.Errorf("failed to close: %w", err)
	}
	basic := len(`{"channel":`+strconv.Quote(channel)+`,"type":"updated","payload":{"ids":[`) + len(strconv.Itoa(n/2)) + len(suffix) - 1
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"sent": n, "ms": float64(elapsed.Microseconds()) / 1000, "closedMs": float64(time.Since(start).Microseconds()) / 1000,
		"frameBytes": basic,
	})
}
