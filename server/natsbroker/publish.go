package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// maxAttempts bounds the optimistic retries of one publish.
const maxAttempts = 64

// tip is a channel's newest stored event: its stream sequence (0 when the
// subject holds nothing), seq and epoch, and the connection generation it
// was read in.
type tip struct {
	stream uint64
	seq    uint64
	epoch  string
	gen    uint64
}

// pubLocks serialises this node's publishes per channel and caches each
// channel's tip, so that a node publishing alone needs one round trip per
// event. Publishes from other nodes make the cache stale; the stream then
// refuses ours (wrong last subject sequence) and we read the tip again.
type pubLocks struct {
	mu    sync.Mutex
	chans map[string]*pubChannel
}

type pubChannel struct {
	mu    sync.Mutex
	tip   tip
	valid bool
}

// maxCached bounds the cached channels; past it the cache starts afresh.
const maxCached = 1 << 16

func (p *pubLocks) init() { p.chans = make(map[string]*pubChannel) }

func (p *pubLocks) get(channel string) *pubChannel {
	p.mu.Lock()
	defer p.mu.Unlock()
	pc := p.chans[channel]
	if pc == nil {
		if len(p.chans) >= maxCached {
			p.chans = make(map[string]*pubChannel)
		}
		pc = &pubChannel{}
		p.chans[channel] = pc
	}
	return pc
}

// Publish implements server.Broker. The event is stored with seq = tip+1
// and the header Nats-Expected-Last-Subject-Sequence = the tip's stream
// sequence, so JetStream stores it only if no other event was stored on
// the channel in between: seqs stay gap-free and unique whatever the
// number of nodes. Nats-Msg-Id makes a repeated event id a duplicate
// within the stream's duplicate window.
func (b *Broker) Publish(ctx context.Context, ev server.Event) (server.Event, bool, error) {
	if b.isClosed() {
		return server.Event{}, false, server.ErrBrokerClosed
	}
	subj := b.subject(ev.Channel)
	pc := b.pub.get(ev.Channel)
	pc.mu.Lock()
	stored, dup, streamSeq, err := b.publishLocked(ctx, pc, subj, ev)
	pc.mu.Unlock()
	if err != nil || dup {
		return stored, dup, err
	}
	b.waitApplied(ctx, streamSeq)
	return stored, false, nil
}

func (b *Broker) publishLocked(ctx context.Context, pc *pubChannel, subj string, ev server.Event) (server.Event, bool, uint64, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if !pc.valid || pc.tip.gen != b.gen() {
			t, err := b.readTip(ctx, subj)
			if err != nil {
				return server.Event{}, false, 0, err
			}
			pc.tip, pc.valid = t, true
		}
		t := pc.tip
		// A publisher's date (a change source's commit time) is kept
		// unless it is in the future.
		date := time.Now()
		if !ev.Date.IsZero() && ev.Date.Before(date) {
			date = ev.Date
		}
		ev.Seq, ev.Epoch, ev.Date = t.seq+1, t.epoch, date
		if t.stream == 0 {
			// The channel holds nothing: a new history, a new epoch.
			info, err := b.getStream().Info(ctx)
			if err != nil {
				return server.Event{}, false, 0, fmt.Errorf("failed to read the stream: %w", err)
			}
			ev.Seq, ev.Epoch = 1, epochFor(info.Created, info.State.LastSeq)
		}
		data, err := jsonRecord(&ev, t.stream)
		if err != nil {
			return server.Event{}, false, 0, err
		}
		if t.gen != b.gen() {
			// Reconnected since the tip was read: NATS may have come back
			// with a new stream whose sequences restarted, where the old
			// tip's stream sequence could match by chance.
			pc.valid = false
			continue
		}
		msg := &nats.Msg{Subject: subj, Data: data, Header: nats.Header{}}
		ack, err := b.js.PublishMsg(ctx, msg,
			jetstream.WithMsgID(subj+" "+ev.ID),
			jetstream.WithExpectStream(b.opts.Stream),
			jetstream.WithExpectLastSequencePerSubject(t.stream))
		if isWrongLastSeq(err) {
			pc.valid = false
			continue
		}
		if err != nil {
			pc.valid = false
			return server.Event{}, false, 0, fmt.Errorf("failed to publish to the stream: %w", err)
		}
		if ack.Duplicate {
			pc.valid = false
			orig, err := b.readAt(ctx, ack.Sequence)
			if err != nil {
				return server.Event{}, false, 0, err
			}
			return orig.event(), true, 0, nil
		}
		pc.tip = tip{stream: ack.Sequence, seq: ev.Seq, epoch: ev.Epoch, gen: t.gen}
		return ev, false, ack.Sequence, nil
	}
	return server.Event{}, false, 0, errors.New("failed to publish: too many concurrent publishes on the channel")
}

func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// gen counts the connection's reconnects: a tip read in an older generation
// is not trusted.
func (b *Broker) gen() uint64 { return b.nc.Stats().Reconnects }

func (b *Broker) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}
