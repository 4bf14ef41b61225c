package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// walkBack is the largest replay read by following Prev links one message
// at a time; longer ones go through a short-lived consumer.
const walkBack = 16

// readTip returns the channel's newest stored event, or a zero tip.
func (b *Broker) readTip(ctx context.Context, subj string) (tip, error) {
	gen := b.gen()
	m, err := b.getStream().GetLastMsgForSubject(ctx, subj)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return tip{gen: gen}, nil
	}
	if err != nil {
		return tip{}, fmt.Errorf("failed to read the channel's last event: %w", err)
	}
	r, err := decodeRecord(m.Data)
	if err != nil {
		return tip{}, err
	}
	return tip{stream: m.Sequence, seq: r.Seq, epoch: r.Epoch, gen: gen}, nil
}

// readAt returns the record stored at a stream sequence.
func (b *Broker) readAt(ctx context.Context, streamSeq uint64) (record, error) {
	m, err := b.getStream().GetMsg(ctx, streamSeq)
	if err != nil {
		return record{}, fmt.Errorf("failed to read event %d: %w", streamSeq, err)
	}
	return decodeRecord(m.Data)
}

// History implements server.Broker. Top is the channel's newest stored
// event; a channel that holds nothing reports an empty position (its next
// event starts a new epoch, which no node can know in advance).
func (b *Broker) History(ctx context.Context, channel string, since *protocol.Position) (server.History, error) {
	if b.isClosed() {
		return server.History{}, server.ErrBrokerClosed
	}
	subj := b.subject(channel)
	t, err := b.readTip(ctx, subj)
	if err != nil {
		return server.History{}, err
	}
	h := server.History{Top: protocol.Position{Epoch: t.epoch, Seq: t.seq}}
	if since == nil || t.stream == 0 || since.Epoch != t.epoch || since.Seq > t.seq {
		return h, nil
	}
	n := t.seq - since.Seq
	if n == 0 {
		h.Complete = true
		return h, nil
	}
	var evs []server.Event
	if n <= walkBack {
		evs, err = b.walk(ctx, t, n)
	} else {
		evs, err = b.scan(ctx, subj, since.Seq, t)
	}
	if err != nil {
		return server.History{}, err
	}
	if uint64(len(evs)) != n {
		return h, nil // evicted meanwhile
	}
	h.Events, h.Complete = evs, true
	return h, nil
}

// walk reads the n newest events of a channel back from its tip along the
// Prev links, one request each.
func (b *Broker) walk(ctx context.Context, t tip, n uint64) ([]server.Event, error) {
	evs := make([]server.Event, n)
	at, want := t.stream, t.seq
	for i := int(n) - 1; i >= 0; i-- {
		if at == 0 {
			return nil, nil
		}
		r, err := b.readAt(ctx, at)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if r.Seq != want || r.Epoch != t.epoch {
			return nil, nil
		}
		evs[i] = r.event()
		at, want = r.Prev, want-1
	}
	return evs, nil
}

// scan reads the channel's kept events through a short-lived consumer and
// returns those after seq up to the tip, or nil when the oldest kept one
// is already past seq+1.
func (b *Broker) scan(ctx context.Context, subj string, seq uint64, t tip) ([]server.Event, error) {
	s := b.getStream()
	cons, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject:     subj,
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		MemoryStorage:     true,
		Replicas:          1,
		InactiveThreshold: 30 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create a history consumer: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.DeleteConsumer(dctx, cons.CachedInfo().Name)
	}()
	evs := make([]server.Event, 0, t.seq-seq)
	want := seq + 1
	for {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, fmt.Errorf("failed to fetch history: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				return nil, fmt.Errorf("failed to read history metadata: %w", err)
			}
			r, err := decodeRecord(m.Data())
			if err != nil {
				return nil, err
			}
			switch {
			case r.Epoch != t.epoch || r.Seq > want:
				return nil, nil // the oldest kept event is past the gap
			case r.Seq == want:
				evs = append(evs, r.event())
				want++
			}
			if meta.Sequence.Stream >= t.stream {
				return evs, nil
			}
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("failed to fetch history: %w", err)
		}
		if got == 0 {
			return nil, nil
		}
	}
}

// HistoryAfter implements server.Broker. It walks back from the channel's
// tip along the Prev links until an event older than t: a first subscribe's
// replay is short. The history is whole when that walk ends on an older
// event, or on the first event of an epoch that began while the stream
// kept everything: no MaxAge reaching past t, and the stream not lost and
// made again since t.
func (b *Broker) HistoryAfter(ctx context.Context, channel string, t time.Time) (server.History, error) {
	if b.isClosed() {
		return server.History{}, server.ErrBrokerClosed
	}
	t = t.Truncate(time.Millisecond) // records keep milliseconds
	b.mu.Lock()
	lostAt := b.lostAt
	b.mu.Unlock()
	whole := !t.Before(lostAt) && (b.opts.MaxAge <= 0 || !t.Before(time.Now().Add(-b.opts.MaxAge)))
	tp, err := b.readTip(ctx, b.subject(channel))
	if err != nil {
		return server.History{}, err
	}
	h := server.History{Top: protocol.Position{Epoch: tp.epoch, Seq: tp.seq}}
	var evs []server.Event
	for at, want := tp.stream, tp.seq; ; want-- {
		if at == 0 {
			// No older event: the epoch began after t.
			h.Complete = whole
			break
		}
		if len(evs) == b.opts.History {
			return h, nil
		}
		r, err := b.readAt(ctx, at)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return h, nil // evicted: the history no longer reaches t
		}
		if err != nil {
			return server.History{}, err
		}
		if r.Seq != want || r.Epoch != tp.epoch {
			return h, nil
		}
		if time.UnixMilli(r.Date).Before(t) {
			h.Complete = true
			break
		}
		evs = append(evs, r.event())
		at = r.Prev
	}
	if !h.Complete {
		return h, nil
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	h.Events = evs
	return h, nil
}
