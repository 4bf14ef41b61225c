package provider

import (
	"sync/atomic"
	"time"
)

// Subscription is the handle Subscribe returns. Its state is readable from
// any goroutine; everything else belongs to the loop.
type Subscription struct {
	c        *Client
	channel  string
	allTypes bool
	types    []string
	ids      []string // normalised; nil means no id filter
	coalesce time.Duration
	cb       func(Event)
	disabled bool
	calledAt time.Time
	origin   int

	closed atomic.Bool  // Unsubscribe was called: no callback starts after
	state  atomic.Value // SubState
	stateL listeners    // of func(from, to SubState)

	// Owned by the loop.
	ch        *channel
	loopState SubState
	pend      []Event // coalescing window
	pendTimer Timer
	pendGen   uint64
}

func newSubscription(c *Client, o *SubscribeOptions) *Subscription {
	s := &Subscription{c: c, channel: o.Channel, cb: o.Callback, disabled: o.Disabled, allTypes: true, calledAt: o.CalledAt, origin: o.Origin}
	if s.calledAt.IsZero() {
		s.calledAt = c.cfg.Clock.Now()
	}
	for _, t := range o.Types {
		if t == "*" {
			s.allTypes, s.types = true, nil
			break
		}
		s.allTypes = false
		s.types = append(s.types, t)
	}
	if len(o.IDs) > 0 && c.cfg.FilterIDs {
		s.ids = append([]string(nil), o.IDs...)
	}
	switch {
	case o.Coalesce > 0:
		s.coalesce = o.Coalesce
	case o.Coalesce == 0:
		s.coalesce = c.cfg.Coalesce
	}
	s.loopState = SubSubscribing
	if o.Disabled {
		s.loopState = SubUnsubscribed
		s.closed.Store(true)
	}
	s.state.Store(s.loopState)
	return s
}

// Channel returns the subscription's channel ("" for nil).
func (s *Subscription) Channel() string {
	if s == nil {
		return ""
	}
	return s.channel
}

// State returns the subscription's state; a nil handle is unsubscribed.
func (s *Subscription) State() SubState {
	if s == nil {
		return SubUnsubscribed
	}
	return s.state.Load().(SubState)
}

// OnState registers a listener for state changes, run on the delivery
// goroutine. The returned function removes it.
func (s *Subscription) OnState(fn func(from, to SubState)) (remove func()) {
	if s == nil || fn == nil {
		return func() {}
	}
	return s.stateL.add(fn)
}

// setState is called by the loop only.
func (s *Subscription) setState(to SubState) {
	from := s.loopState
	if from == to {
		return
	}
	s.loopState = to
	s.state.Store(to)
	if s.stateL.empty() {
		return
	}
	s.c.out.call(func() {
		for _, fn := range s.stateL.snapshot() {
			fn.(func(from, to SubState))(from, to)
		}
	})
}

// match applies the type and id filters; resync events always pass.
func (s *Subscription) match(ev *Event, ids *idCache) bool {
	if ev.Resync != "" {
		return true
	}
	if !s.allTypes {
		ok := false
		for _, t := range s.types {
			if t == ev.Type {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if s.ids == nil || ev.Type == "created" {
		return true
	}
	got := ids.get(ev.Payload)
	if len(got) == 0 {
		return true // no ids to compare: lenient
	}
	for _, g := range got {
		for _, w := range s.ids {
			if string(g) == w {
				return true
			}
		}
	}
	return false
}
