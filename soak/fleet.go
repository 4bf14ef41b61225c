package soak

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
)

// FleetConfig describes a set of subscribing clients.
type FleetConfig struct {
	URL      string
	Clients  int
	Channels []string
	Level    protocol.Level
	// Tweak adjusts each client's Config (delays, heartbeat grace).
	Tweak func(*provider.Config)
}

// Fleet is a set of provider clients, each subscribed to every channel,
// recording into a Log.
type Fleet struct {
	Clients []*provider.Client
	subs    [][]*provider.Subscription
	rec     []*recovery

	mu          sync.Mutex
	longest     time.Duration
	recoveries  int
	terminalErr atomic.Int64
}

// recovery tracks one client: when it lost its connection, and how many of
// its subscriptions are subscribed.
type recovery struct {
	total   int
	current int
	downAt  time.Time
}

// StartFleet creates the clients and subscribes them.
func StartFleet(cfg FleetConfig, log *Log) (*Fleet, error) {
	f := &Fleet{}
	for i := 0; i < cfg.Clients; i++ {
		if err := f.add(i, cfg, log); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

func (f *Fleet) add(i int, cfg FleetConfig, log *Log) error {
	rec := &recovery{total: len(cfg.Channels)}
	pc := provider.Config{
		URLs: []string{cfg.URL}, Protocol: cfg.Level, Transport: &wstransport.Transport{},
		MinDelay: 50 * time.Millisecond, MaxDelay: time.Second,
		OnError: func(err error) {
			if errorsIsTerminal(err) {
				f.terminalErr.Add(1)
			}
		},
	}
	if cfg.Tweak != nil {
		cfg.Tweak(&pc)
	}
	c, err := provider.New(pc)
	if err != nil {
		return fmt.Errorf("failed to create client %d: %w", i, err)
	}
	f.Clients = append(f.Clients, c)
	f.rec = append(f.rec, rec)
	// Status and subscription-state listeners run on the client's delivery
	// goroutine, one at a time, so rec needs no lock of its own; f.mu
	// guards the fleet-wide figures.
	c.OnStatus(func(from, to provider.Status) {
		if from == provider.StatusOpen && rec.downAt.IsZero() {
			rec.downAt = time.Now()
		}
	})
	var subs []*provider.Subscription
	for _, ch := range cfg.Channels {
		st := log.NewStream(i, ch)
		sub, err := c.Subscribe(provider.SubscribeOptions{Channel: ch, Callback: func(e provider.Event) {
			if e.Resync != "" {
				st.Resync()
				return
			}
			n, _, err := ParsePayload(e.Payload)
			if err != nil {
				st.Fail(err)
				return
			}
			st.Event(n)
		}})
		if err != nil {
			return fmt.Errorf("failed to subscribe client %d: %w", i, err)
		}
		sub.OnState(func(from, to provider.SubState) {
			switch {
			case to == provider.SubSubscribed:
				rec.current++
			case from == provider.SubSubscribed:
				rec.current--
			}
			if rec.current == rec.total && !rec.downAt.IsZero() {
				d := time.Since(rec.downAt)
				rec.downAt = time.Time{}
				f.mu.Lock()
				f.recoveries++
				f.longest = max(f.longest, d)
				f.mu.Unlock()
			}
		})
		subs = append(subs, sub)
	}
	f.subs = append(f.subs, subs)
	return nil
}

func errorsIsTerminal(err error) bool {
	return err != nil && (errors.Is(err, provider.ErrTerminal))
}

// AllSubscribed reports whether every subscription is subscribed.
func (f *Fleet) AllSubscribed() bool {
	for _, subs := range f.subs {
		for _, s := range subs {
			if s.State() != provider.SubSubscribed {
				return false
			}
		}
	}
	return true
}

// Recovery returns how many recoveries completed and the longest one: from
// a client's connection leaving open until every one of its subscriptions
// was subscribed again (after any replay).
func (f *Fleet) Recovery() (count int, longest time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recoveries, f.longest
}

// Stats sums the clients' counters.
func (f *Fleet) Stats() provider.Stats {
	var t provider.Stats
	for _, c := range f.Clients {
		s := c.Stats()
		t.EventsReceived += s.EventsReceived
		t.EventsDelivered += s.EventsDelivered
		t.EventsReplayed += s.EventsReplayed
		t.DuplicatesDropped += s.DuplicatesDropped
		t.Resyncs += s.Resyncs
		t.Reconnects += s.Reconnects
		t.DialFailures += s.DialFailures
	}
	return t
}

// Terminal is how many clients reported a terminal error.
func (f *Fleet) Terminal() int64 { return f.terminalErr.Load() }

// Close closes every client.
func (f *Fleet) Close() {
	var wg sync.WaitGroup
	for _, c := range f.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Close()
		}()
	}
	wg.Wait()
}

// WaitFor polls cond every few milliseconds until it holds or ctx ends.
func WaitFor(ctx context.Context, what string, cond func() bool) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("failed to wait for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// staleClients lists the clients that lack event n on some channel, with
// their status, subscription states and counters, for a failure message.
func (f *Fleet) staleClients(log *Log, n int) []string {
	stale := map[int]bool{}
	log.mu.Lock()
	for _, s := range log.subs {
		if s.Last() != n {
			stale[s.Client] = true
		}
	}
	log.mu.Unlock()
	var out []string
	for i, c := range f.Clients {
		if !stale[i] {
			continue
		}
		states := map[provider.SubState]int{}
		for _, s := range f.subs[i] {
			states[s.State()]++
		}
		out = append(out, fmt.Sprintf("client %d: status %s, subscriptions %v, stats %+v", i, c.Status(), states, c.Stats()))
	}
	return out
}
