package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { livetest.RemoveBuilt() }))
}

// running is the binary's run in this process, on a loopback port of its
// choosing.
type running struct {
	addr   string
	logs   *livetest.SyncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// startRun runs the binary with args until stop is called or the test
// ends, and waits until it listens.
func startRun(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{logs: &livetest.SyncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	addrc := make(chan string, 1)
	go func() {
		r.done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), r.logs, func(a string) { addrc <- a })
	}()
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case r.addr = <-addrc:
	case err := <-r.done:
		r.once.Do(func() { r.err = err })
		t.Fatalf("run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("liveserver did not start")
	}
	return r
}

// stop cancels the run, as SIGTERM does, and returns what it returned.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
	})
	return r.err
}
