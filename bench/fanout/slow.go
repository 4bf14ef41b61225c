package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// dialSlow is a basic client that subscribes and then never reads: the
// server must close it as a slow consumer without the others noticing.
func dialSlow(url, channel string) (func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to dial: %w", err)
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"action":"subscribe","channel":`+strconv.Quote(channel)+`}`)); err != nil {
		return nil, fmt.Errorf("failed to subscribe: %w", err)
	}
	return func() { _ = ws.CloseNow() }, nil
}

// metricValue reads one sample of liveserver's /metrics: the line that
// starts with name (labels included), -1 when there is none.
func metricValue(addr, name string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(name+" ")); ok {
			n, _ := strconv.ParseFloat(string(v), 64)
			return n
		}
	}
	return -1
}
