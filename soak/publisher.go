package soak

import (
	"context"
	"sync"
	"time"
)

// PublishFunc publishes event n on channel. sure reports whether the
// outcome is known: stored when err is nil, not stored otherwise. sure is
// false when the answer was lost and the event may or may not exist.
type PublishFunc func(ctx context.Context, channel string, n int) (sure bool, err error)

// Publisher publishes rounds of one event per channel at a steady rate until
// stopped, recording each publish in a Log. Failed publishes (server down)
// are counted and not retried: the next round carries on.
type Publisher struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	next   int
	failed int
}

// StartPublisher publishes rate events per second across channels.
func StartPublisher(log *Log, channels []string, rate int, publish PublishFunc) *Publisher {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Publisher{cancel: cancel, done: make(chan struct{}), next: 1}
	round := time.Second * time.Duration(len(channels)) / time.Duration(max(rate, 1))
	go func() {
		defer close(p.done)
		tick := time.NewTicker(round)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			p.round(ctx, log, channels, publish)
		}
	}()
	return p
}

func (p *Publisher) round(ctx context.Context, log *Log, channels []string, publish PublishFunc) {
	p.mu.Lock()
	n := p.next
	p.next++
	p.mu.Unlock()
	for _, ch := range channels {
		sure, err := publish(ctx, ch, n)
		if err == nil || !sure {
			log.Published(ch, n, err == nil)
		}
		if err != nil {
			p.mu.Lock()
			p.failed++
			p.mu.Unlock()
		}
	}
}

// Stop stops publishing and returns the next event number (for a final
// marker) and how many publishes failed.
func (p *Publisher) Stop() (next, failed int) {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next, p.failed
}
