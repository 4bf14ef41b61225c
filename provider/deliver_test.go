package provider

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
	assert.Equal(t, 1, recv(t, ran))
	assert.Equal(t, 3, recv(t, ran))
	assert.Equal(t, any("boom"), recv(t, panics))
}
