package server

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// churn opens n connections, at most par at a time; each says hello,
// subscribes, reads its subscribed reply and closes normally.
func churn(t *testing.T, url string, n, par int) {
	t.Helper()
	sem := make(chan struct{}, par)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := oneConnection(url, fmt.Sprintf("leak/%d", i%10)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func oneConnection(url, channel string) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return fmt.Errorf("failed to dial: %w", err)
	}
	defer ws.CloseNow()
	for _, frame := range []string{`{"action":"hello","protocol":"refine-live.v1"}`, `{"action":"subscribe","channel":"` + channel + `"}`} {
		if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
			return fmt.Errorf("failed to write: %w", err)
		}
	}
	for i := 0; i < 2; i++ { // hello, subscribed
		if _, _, err := ws.Read(ctx); err != nil {
			return fmt.Errorf("failed to read: %w", err)
		}
	}
	if err := ws.Close(websocket.StatusNormalClosure, ""); err != nil {
		return fmt.Errorf("failed to close: %w", err)
	}
	return nil
}

// leakConns is how many connections come and go.
const leakConns = 2000

type footprint struct {
	goroutines int
	heap       uint64 // HeapAlloc after two GCs
}

func measure() footprint {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return footprint{goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc}
}

// After 2,000 connections came and went, the server holds no more
// goroutines and no more memory than before (within 10%).
func TestConnectionsLeaveNothingBehind(t *testing.T) {
	s := startServer(t, Config{})
	churn(t, s.WSURL, 200, 50) // warm-up at the same concurrency: pools, metrics, channels
	require.Eventually(t, func() bool { return s.connCount() == 0 }, wait, tick, "the warm-up connections to go")
	before := measure()
	start := time.Now()
	churn(t, s.WSURL, leakConns, 50)
	elapsed := time.Since(start)
	require.Eventually(t, func() bool { return s.connCount() == 0 }, wait, tick, "every connection to go")
	// Polled here rather than with require.Eventually, whose own
	// goroutines would count.
	for deadline := time.Now().Add(wait); runtime.NumGoroutine() > before.goroutines+before.goroutines/10; time.Sleep(tick) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left, %d before", runtime.NumGoroutine(), before.goroutines)
		}
	}
	after := measure()
	t.Logf("| connections | goroutines before | after | heap before | after | duration |")
	t.Logf("| %d (50 at a time) | %d | %d | %d KiB | %d KiB | %s |",
		leakConns, before.goroutines, after.goroutines, before.heap>>10, after.heap>>10, elapsed.Round(time.Millisecond))
	// 10% plus 32 KiB of slack for the runtime's own caches.
	if limit := before.heap + before.heap/10 + 32<<10; after.heap > limit {
		t.Fatalf("heap grew from %d to %d bytes", before.heap, after.heap)
	}
	if s.hub.chanCount() != 0 {
		t.Fatalf("%d hub channels left", s.hub.chanCount())
	}
}

func (h *hub) chanCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.chans)
}
