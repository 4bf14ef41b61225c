package provider

import (
	"sync"
	"time"
)

// vclock is a virtual clock: time moves only when a test calls Advance, and
// due timers run on the test's goroutine in order. Jump moves the wall
// clock alone, as a laptop sleep does.
type vclock struct {
	mu      sync.Mutex
	now     time.Time
	wallOff time.Duration
	seq     int
	timers  []*vtimer
	// settle, when set, runs after each fired timer: the harness uses it to
	// let the loop handle what the timer posted before time moves on, as it
	// would on a real clock.
	settle func()
}

type vtimer struct {
	c    *vclock
	at   time.Time
	seq  int
	f    func()
	dead bool
}

func newVClock() *vclock { return &vclock{now: time.Unix(1_700_000_000, 0).UTC()} }

func (c *vclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Add(c.wallOff)
}

func (c *vclock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &vtimer{c: c, at: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *vtimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.dead
	t.dead = true
	return was
}

// Advance moves time forward by d, running every timer that falls due.
func (c *vclock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *vtimer
		live := c.timers[:0]
		for _, t := range c.timers {
			if t.dead {
				continue
			}
			live = append(live, t)
			if !t.at.After(target) && (next == nil || t.at.Before(next.at) || t.at.Equal(next.at) && t.seq < next.seq) {
				next = t
			}
		}
		c.timers = live
		if next == nil {
			c.now = target
			c.mu.Unlock()
			return
		}
		next.dead = true
		if next.at.After(c.now) {
			c.now = next.at
		}
		settle := c.settle
		c.mu.Unlock()
		next.f()
		if settle != nil {
			settle()
		}
	}
}

// Jump moves the wall clock without timer time passing.
func (c *vclock) Jump(d time.Duration) {
	c.mu.Lock()
	c.wallOff += d
	c.mu.Unlock()
}
