package provider

import (
	"testing"
	"time"
)

// A callback that panics is reported, and the callbacks queued after it in
// the same batch still run, in order.
func TestDelivererRunsTheRestAfterAPanic(t *testing.T) {
	panics := make(chan any, 4)
	d := newDeliverer(&stats{}, func(v any, _ bool) { panics <- v }, nil)
	defer d.stop()
	ran := make(chan int, 4)
	// Queued under the lock, so the delivery goroutine takes all three as
	// one batch.
	d.mu.Lock()
	d.queue = append(d.queue,
		delivery{fn: func() { ran <- 1 }},
		delivery{fn: func() { panic("boom") }},
		delivery{fn: func() { ran <- 3 }})
	d.mu.Unlock()
	d.signal()
	for _, want := range []int{1, 3} {
		select {
		case got := <-ran:
			if got != want {
				t.Fatalf("callback %d ran, want %d", got, want)
			}
		case <-time.After(wait):
			t.Fatalf("callback %d never ran", want)
		}
	}
	select {
	case v := <-panics:
		if v != "boom" {
			t.Fatalf("reported %v", v)
		}
	case <-time.After(wait):
		t.Fatal("the panic was not reported")
	}
}
