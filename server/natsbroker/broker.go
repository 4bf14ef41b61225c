package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultStream          = "REFINE_LIVE"
	DefaultSubjectPrefix   = "refine-live"
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultDeliveryWait    = 2 * time.Second
)

// Options configure New. The zero value works.
type Options struct {
	// Stream is the JetStream stream holding every channel's history.
	// Default "REFINE_LIVE". Every node of a cluster must use the same.
	Stream string
	// SubjectPrefix is the first subject token: channel C is stored on
	// "<prefix>.<token(C)>" and the stream covers "<prefix>.*". Default
	// "refine-live".
	SubjectPrefix string
	// History is how many events the stream keeps per channel
	// (MaxMsgsPerSubject). Default server.DefaultHistory; at least 1, since
	// the newest event carries the channel's position.
	History int
	// MaxAge drops events older than this (the stream's MaxAge); zero keeps
	// them until newer ones push them out. A channel whose events have all
	// expired starts a new epoch with its next event.
	MaxAge time.Duration
	// Replicas is the stream's replication factor. Default 1.
	Replicas int
	// MemoryStorage keeps the stream in memory instead of on disk: the
	// history, and so every epoch, is then lost when NATS restarts.
	MemoryStorage bool
	// DuplicateWindow is how long a publish with the same event id is
	// recognised as a duplicate (the stream's Duplicates). Default 2m.
	DuplicateWindow time.Duration
	// DeliveryWait bounds how long Publish waits for this node to have
	// delivered the event to its own subscribers, so that a publisher's ack
	// follows its echo as with the in-memory broker. Default 2s.
	DeliveryWait time.Duration
	// Logger receives the broker's warnings. Default slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = DefaultSubjectPrefix
	}
	if o.History == 0 {
		o.History = server.DefaultHistory
	}
	if o.History < 1 {
		return o, errors.New("failed to configure: History must be at least 1")
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.DeliveryWait <= 0 {
		o.DeliveryWait = DefaultDeliveryWait
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Broker is a server.Broker on NATS JetStream. Every node of a cluster
// creates one on the same stream; the stream is the history, so positions
// are the same on every node. See the package documentation for the design.
type Broker struct {
	opts Options
	nc   *nats.Conn
	js   jetstream.JetStream

	mu      sync.Mutex
	stream  jetstream.Stream
	regs    map[string]map[*registration]struct{}
	closed  bool
	cc      jetstream.ConsumeContext
	applied uint64 // newest stream sequence dispatched locally
	// lostAt is when this node found the stream gone and made it again:
	// a replay by age reaching before it is not whole.
	lostAt  time.Time
	advance chan struct{} // closed and replaced when applied grows

	pub pubLocks

	status chan nats.Status
	done   chan struct{}
}

type registration struct{ deliver func(server.Event) }

var _ server.Broker = (*Broker)(nil)

// New creates or updates the stream and starts this node's consumer. The
// connection stays the caller's: close it after Close. Give it unlimited
// reconnects (nats.MaxReconnects(-1)) so that the node outlives a NATS
// restart, and no reconnect buffer (nats.ReconnectBufSize(-1)) so that a
// publish attempted while NATS is away fails at once instead of reaching a
// server that may have come back with another stream.
func New(ctx context.Context, nc *nats.Conn, opts Options) (*Broker, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("failed to open JetStream: %w", err)
	}
	b := &Broker{
		opts: opts, nc: nc, js: js,
		regs:    make(map[string]map[*registration]struct{}),
		advance: make(chan struct{}),
		done:    make(chan struct{}),
	}
	b.pub.init()
	if _, err := b.ensureStream(ctx); err != nil {
		return nil, err
	}
	if err := b.startConsumer(ctx, jetstream.DeliverNewPolicy); err != nil {
		return nil, err
	}
	b.status = nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	go b.watch()
	return b, nil
}

// streamConfig is the stream every node creates or updates to.
func (b *Broker) streamConfig() jetstream.StreamConfig {
	storage := jetstream.FileStorage
	if b.opts.MemoryStorage {
		storage = jetstream.MemoryStorage
	}
	return jetstream.StreamConfig{
		Name:              b.opts.Stream,
		Description:       "refine-live channel history",
		Subjects:          []string{b.opts.SubjectPrefix + ".*"},
		Retention:         jetstream.LimitsPolicy,
		Discard:           jetstream.DiscardOld,
		MaxMsgsPerSubject: int64(b.opts.History),
		MaxAge:            b.opts.MaxAge,
		Storage:           storage,
		Replicas:          b.opts.Replicas,
		Duplicates:        min(b.opts.DuplicateWindow, maxDuplicates(b.opts.MaxAge)),
		// Reads go to the stream leader, never to a lagging replica: a
		// History must cover every event stored before it.
		AllowDirect: false,
	}
}

// maxDuplicates keeps the duplicate window within MaxAge, as JetStream
// requires.
func maxDuplicates(maxAge time.Duration) time.Duration {
	if maxAge <= 0 {
		return DefaultDuplicateWindow * 1000
	}
	return maxAge
}

// ensureStream creates or updates the stream and remembers its handle.
func (b *Broker) ensureStream(ctx context.Context) (jetstream.Stream, error) {
	s, err := b.js.CreateOrUpdateStream(ctx, b.streamConfig())
	if err != nil {
		return nil, fmt.Errorf("failed to create stream %s: %w", b.opts.Stream, err)
	}
	b.mu.Lock()
	b.stream = s
	b.mu.Unlock()
	return s, nil
}

func (b *Broker) getStream() jetstream.Stream {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stream
}

// startConsumer starts the node's ordered consumer: every event stored
// from now on (or, on a recreated stream, every event), on every channel,
// in stream order.
func (b *Broker) startConsumer(ctx context.Context, from jetstream.DeliverPolicy) error {
	cons, err := b.getStream().OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{b.opts.SubjectPrefix + ".*"},
		DeliverPolicy:  from,
	})
	if err != nil {
		return fmt.Errorf("failed to create consumer: %w", err)
	}
	cc, err := cons.Consume(b.onMsg,
		jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			b.opts.Logger.Debug("nats consumer", "err", err)
		}))
	if err != nil {
		return fmt.Errorf("failed to consume: %w", err)
	}
	b.mu.Lock()
	b.cc = cc
	b.mu.Unlock()
	return nil
}

// watch re-creates the stream after a reconnect, in case NATS came back
// without it (a server restarted with memory storage or a new store).
func (b *Broker) watch() {
	defer close(b.done)
	for st := range b.status {
		if st == nats.CLOSED {
			return
		}
		b.mu.Lock()
		closed := b.closed
		b.mu.Unlock()
		if closed {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := b.getStream().Info(ctx); errors.Is(err, jetstream.ErrStreamNotFound) {
			b.opts.Logger.Warn("stream lost: recreating it; clients will resync", "stream", b.opts.Stream)
			b.mu.Lock()
			b.lostAt = time.Now()
			b.mu.Unlock()
			if _, err := b.ensureStream(ctx); err != nil {
				b.opts.Logger.Error("failed to recreate the stream", "err", err)
			} else if err := b.restartConsumer(ctx); err != nil {
				b.opts.Logger.Error("failed to restart the consumer", "err", err)
			}
		}
		cancel()
	}
}

func (b *Broker) restartConsumer(ctx context.Context) error {
	b.mu.Lock()
	cc := b.cc
	b.applied = 0
	b.mu.Unlock()
	if cc != nil {
		cc.Stop()
		<-cc.Closed()
	}
	// The stream is new: everything in it is new to this node's
	// subscribers (redelivery is harmless, loss is not).
	return b.startConsumer(ctx, jetstream.DeliverAllPolicy)
}

// onMsg dispatches one stored event to this node's registrations for its
// channel. It runs on the consumer's single goroutine, so each
// registration sees its channel's events one at a time, in seq order.
func (b *Broker) onMsg(msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		b.opts.Logger.Warn("nats message without metadata", "err", err)
		return
	}
	rec, err := decodeRecord(msg.Data())
	if err != nil {
		b.opts.Logger.Warn("skipping an undecodable event", "subject", msg.Subject(), "err", err)
	} else {
		ev := rec.event()
		b.mu.Lock()
		regs := make([]*registration, 0, len(b.regs[ev.Channel]))
		for r := range b.regs[ev.Channel] {
			regs = append(regs, r)
		}
		b.mu.Unlock()
		for _, r := range regs {
			r.deliver(ev)
		}
	}
	b.mu.Lock()
	if seq := meta.Sequence.Stream; seq > b.applied {
		b.applied = seq
		close(b.advance)
		b.advance = make(chan struct{})
	}
	b.mu.Unlock()
}

// waitApplied waits until this node dispatched stream sequence seq, for at
// most DeliveryWait.
func (b *Broker) waitApplied(ctx context.Context, seq uint64) {
	timer := time.NewTimer(b.opts.DeliveryWait)
	defer timer.Stop()
	for {
		b.mu.Lock()
		done, adv := b.applied >= seq || b.closed, b.advance
		b.mu.Unlock()
		if done {
			return
		}
		select {
		case <-adv:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// Subscribe implements server.Broker. The node's consumer already receives
// every channel, so registering is local and in effect at once.
func (b *Broker) Subscribe(ctx context.Context, channel string, deliver func(server.Event)) (func(), error) {
	r := &registration{deliver: deliver}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, server.ErrBrokerClosed
	}
	set := b.regs[channel]
	if set == nil {
		set = make(map[*registration]struct{})
		b.regs[channel] = set
	}
	set[r] = struct{}{}
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			delete(b.regs[channel], r)
			if len(b.regs[channel]) == 0 {
				delete(b.regs, channel)
			}
		})
	}, nil
}

// Close implements server.Broker: it stops the consumer. The NATS
// connection stays open.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	cc := b.cc
	close(b.advance)
	b.advance = make(chan struct{})
	b.mu.Unlock()
	if cc != nil {
		cc.Stop()
		<-cc.Closed()
	}
	b.nc.RemoveStatusListener(b.status)
	<-b.done
	return nil
}
