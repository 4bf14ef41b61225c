package soak

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// resyncMark stands for a resync event in a received stream.
const resyncMark = -1

// Payload builds the payload of the n-th event of a channel, stamped with
// its publish time for latency figures.
func Payload(n int) []byte {
	return []byte(fmt.Sprintf(`{"ids":[%d],"n":%d,"t":%d}`, n, n, time.Now().UnixNano()))
}

// ParsePayload returns n and the publish time of a Payload.
func ParsePayload(p []byte) (n int, sent time.Time, err error) {
	var v struct {
		N int   `json:"n"`
		T int64 `json:"t"`
	}
	if err := json.Unmarshal(p, &v); err != nil {
		return 0, time.Time{}, fmt.Errorf("failed to parse payload %.80q: %w", p, err)
	}
	return v.N, time.Unix(0, v.T), nil
}

// published is one channel's publish log.
type published struct {
	order []int        // n in publish order (n grows)
	index map[int]int  // n -> position in order
	sure  map[int]bool // false: the publish may or may not have been stored
}

// Log records what was published per channel and what each subscriber
// received, and checks the guarantee.
type Log struct {
	mu   sync.Mutex
	pubs map[string]*published
	subs []*Stream
}

// NewLog returns an empty log.
func NewLog() *Log { return &Log{pubs: map[string]*published{}} }

// Published records event n of channel; sure is false when the publisher
// cannot tell whether it was stored (its answer was lost).
func (l *Log) Published(channel string, n int, sure bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.pubs[channel]
	if p == nil {
		p = &published{index: map[int]int{}, sure: map[int]bool{}}
		l.pubs[channel] = p
	}
	p.index[n] = len(p.order)
	p.order = append(p.order, n)
	p.sure[n] = sure
}

// Sent is how many publishes were confirmed.
func (l *Log) Sent() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	total := 0
	for _, p := range l.pubs {
		for _, ok := range p.sure {
			if ok {
				total++
			}
		}
	}
	return total
}

// Stream is what one subscriber received on one channel: event numbers in
// arrival order, resyncMark for a resync.
type Stream struct {
	Client  int
	Channel string

	mu   sync.Mutex
	got  []int
	errs []error
}

// NewStream registers the stream of a subscriber.
func (l *Log) NewStream(client int, channel string) *Stream {
	s := &Stream{Client: client, Channel: channel}
	l.mu.Lock()
	l.subs = append(l.subs, s)
	l.mu.Unlock()
	return s
}

// Event records an ordinary event.
func (s *Stream) Event(n int) {
	s.mu.Lock()
	s.got = append(s.got, n)
	s.mu.Unlock()
}

// Resync records a resync event.
func (s *Stream) Resync() {
	s.mu.Lock()
	s.got = append(s.got, resyncMark)
	s.mu.Unlock()
}

// Fail records an error seen by the subscriber.
func (s *Stream) Fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// Last is the last ordinary event received, 0 if none.
func (s *Stream) Last() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.got) - 1; i >= 0; i-- {
		if s.got[i] != resyncMark {
			return s.got[i]
		}
	}
	return 0
}

// Counts are a Log's totals over every stream.
type Counts struct {
	Received, Resyncs int
}

// Counts sums the streams.
func (l *Log) Counts() Counts {
	l.mu.Lock()
	subs := append([]*Stream(nil), l.subs...)
	l.mu.Unlock()
	var c Counts
	for _, s := range subs {
		s.mu.Lock()
		for _, n := range s.got {
			if n == resyncMark {
				c.Resyncs++
			} else {
				c.Received++
			}
		}
		s.mu.Unlock()
	}
	return c
}

// Check verifies every stream against the channel's publish log: events in
// publish order, none twice, the last one received, and every confirmed
// event that is missing covered by a resync between the events around it.
// With exact, nothing may be missing and no resync may occur. It returns
// at most max errors.
func (l *Log) Check(exact bool, max int) []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, s := range l.subs {
		if len(errs) >= max {
			break
		}
		if err := s.check(l.pubs[s.Channel], exact); err != nil {
			errs = append(errs, fmt.Errorf("client %d, channel %s: %w", s.Client, s.Channel, err))
		}
	}
	return errs
}

func (s *Stream) check(p *published, exact bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		return s.errs[0]
	}
	if p == nil {
		return fmt.Errorf("nothing published")
	}
	next, resynced := 0, false
	for i, n := range s.got {
		if n == 0 && i == 0 {
			// The event each channel gets before its subscribers start: a
			// first subscribe replays what its channel accepted just
			// before, so a subscriber may begin with it.
			continue
		}
		if n == resyncMark {
			if exact {
				return fmt.Errorf("resync at position %d", i)
			}
			resynced = true
			continue
		}
		k, ok := p.index[n]
		if !ok {
			return fmt.Errorf("received %d, never published", n)
		}
		if k < next {
			return fmt.Errorf("received %d at position %d: duplicate or out of order", n, i)
		}
		for _, missed := range p.order[next:k] {
			if p.sure[missed] && (exact || !resynced) {
				return fmt.Errorf("missed %d before %d without a resync", missed, n)
			}
		}
		next, resynced = k+1, false
	}
	if next != len(p.order) {
		return fmt.Errorf("stale: last event received is position %d of %d", next, len(p.order))
	}
	return nil
}

// allAt reports whether every stream's last event is n.
func (l *Log) allAt(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.subs {
		if s.Last() != n {
			return false
		}
	}
	return true
}
