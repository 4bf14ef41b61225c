package provider

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Transport opens connections. The native one lives in provider/wstransport;
// the browser one in jsbridge.
type Transport interface {
	Dial(ctx context.Context, url string) (Conn, error)
}

// Conn is one open connection carrying text frames.
type Conn interface {
	// Read returns the next frame. When the peer closed with a code it
	// returns an error wrapping *CloseError. Cancelling ctx must unblock it.
	Read(ctx context.Context) ([]byte, error)
	// Write sends one frame. The engine calls it from a single goroutine.
	Write(ctx context.Context, data []byte) error
	// Close closes the connection. It may block (the browser waits for the
	// close event), so the engine calls it from its own goroutine.
	Close(code protocol.CloseCode, reason string) error
}

// PushConn is a Conn whose frames are pushed by the transport instead of
// read: a browser socket's message handler hands them straight to the
// engine's loop, with no reader goroutine in between. The engine never calls
// Read on it.
type PushConn interface {
	Conn
	// Attach is called once, on the engine's loop, when the connection is
	// taken into use. Attach must return without calling receive; the
	// transport calls it afterwards, from any goroutine, with the frames
	// received so far in order (one loop turn per call, in a slice the
	// engine may keep), or with nil frames and the close error once the
	// connection is lost. receive may block briefly while the loop's
	// command queue is full; once the engine dropped the connection it
	// does nothing.
	Attach(receive func(frames [][]byte, err error))
}

// Clock is the engine's source of time, injected so tests run on virtual
// time.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	Stop() bool
}

// LogLevel grades log messages.
type LogLevel int

// Log levels.
const (
	LogDebug LogLevel = iota
	LogInfo
	LogWarn
	LogError
)

// String returns the level's name.
func (l LogLevel) String() string {
	switch l {
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warn"
	}
	return "error"
}

// Logger receives the engine's diagnostics. err may be nil.
type Logger interface {
	Log(level LogLevel, msg string, err error)
}

// Defaults applied by New to zero Config fields.
const (
	DefaultMinDelay       = 500 * time.Millisecond
	DefaultMaxDelay       = 20 * time.Second
	DefaultStableAfter    = 5 * time.Second
	DefaultHeartbeatGrace = 10 * time.Second
	DefaultHelloTimeout   = 2 * time.Second
	DefaultDialTimeout    = 10 * time.Second
	DefaultProbeTimeout   = 5 * time.Second
	DefaultJumpThreshold  = 10 * time.Second
	DefaultLinger         = time.Second
	DefaultLateResync     = time.Second
	DefaultQueueMaxCount  = 100
	DefaultQueueMaxBytes  = 1 << 20
)

// jumpTick is how often an open connection checks for a wall-clock jump.
const jumpTick = 5 * time.Second

// Config configures a Client. Only URLs and Transport are required; every
// zero field takes the documented default.
type Config struct {
	// URLs are tried in turn: a failed dial moves to the next one, with the
	// same backoff as any retry.
	URLs []string
	// Protocol is auto (default), basic or extended. Auto offers extended
	// in-band and falls back to basic when the server does not answer.
	Protocol protocol.Level
	// Transport opens connections. Required.
	Transport Transport
	// Clock defaults to the real clock.
	Clock Clock
	// Rand returns numbers in [0,1) for the backoff jitter and publish refs.
	// Default math/rand/v2.
	Rand func() float64
	// Logger defaults to discarding everything.
	Logger Logger
	// Token, when set, is called before each connect; a non-empty token is
	// sent in an auth message (extended only). It also lets the client
	// retry once after close code 4501 (token expired).
	Token func(ctx context.Context) (string, error)

	// MinDelay and MaxDelay bound the delay before each reconnection
	// attempt: attempt n (0 for the first retry) waits
	// MinDelay + r·min(MaxDelay − MinDelay, MinDelay·2^n), r in [0, 1):
	// never below MinDelay, never above MaxDelay (the cap of the whole
	// delay), and spread over the whole range once capped. A server's retry
	// hint replaces it. Defaults 500ms and 20s.
	MinDelay, MaxDelay time.Duration
	// StableAfter is how long a connection must stay up after its handshake
	// before the backoff attempt counter resets. Default 5s.
	StableAfter time.Duration
	// HeartbeatGrace is added to the server's heartbeat interval to get the
	// silence after which the connection is declared dead. Default 10s.
	HeartbeatGrace time.Duration
	// HelloTimeout is how long auto mode waits for the server's hello before
	// deciding the server speaks basic. Default 2s.
	HelloTimeout time.Duration
	// DialTimeout bounds the token fetch plus the dial. Default 10s.
	DialTimeout time.Duration
	// ProbeTimeout is how long a probe ping waits for any answer. Default 5s.
	ProbeTimeout time.Duration
	// JumpThreshold is how far the wall clock must run ahead of timer time
	// (laptop sleep) to trigger a probe. Default 10s.
	JumpThreshold time.Duration
	// Linger is how long a channel stays subscribed on the server after its
	// last subscriber left, so that StrictMode's subscribe, unsubscribe,
	// subscribe and route changes do not churn. Default 1s; negative means
	// none.
	Linger time.Duration
	// LateResync applies against a basic server, which cannot replay: a
	// channel's first subscribe that left more than this after the
	// application asked for it (a page waiting for live.wasm and its
	// socket) is followed by one resync event (reason "late"), because
	// what was published in between is lost. An extended server of ours
	// replays that window instead. Default 1s; negative means never.
	LateResync time.Duration
	// QueueMaxCount and QueueMaxBytes bound the publishes kept while the
	// connection is not open. When full, the oldest is dropped (counted in
	// Stats and reported to OnError as ErrQueueFull). Defaults 100 and 1 MiB.
	QueueMaxCount int
	QueueMaxBytes int
	// FilterIDs turns on the lenient id filter of subscriptions that give
	// IDs. Off by default: Refine keeps a subscription's ids when a page
	// moves to another record without remounting, and a filter on the old
	// ids would then hide the new record's events.
	FilterIDs bool
	// Coalesce is the default coalescing window of subscriptions; zero
	// (default) delivers every event on its own.
	Coalesce time.Duration
	// ResyncSpread delays each channel's resync event by a random part of
	// it, so that a reconnect that resyncs many channels does not make
	// every resource refetch at the same instant. A second incident on a
	// channel while its resync waits is covered by that resync. Zero
	// (default) delivers resyncs at once.
	ResyncSpread time.Duration
	// OnError receives every error the engine reports (on the delivery
	// goroutine).
	OnError func(error)
	// OnDelivered, when set, runs on the delivery goroutine each time it
	// has run every callback queued so far: a caller that collects events
	// from its callbacks hands them on here, once per burst.
	OnDelivered func()
}

// withDefaults validates cfg and fills its zero fields.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.URLs) == 0 {
		return cfg, errs.WrapDetail("create client", "no URLs", ErrInvalidConfig)
	}
	for _, u := range cfg.URLs {
		if u == "" {
			return cfg, errs.WrapDetail("create client", "empty URL", ErrInvalidConfig)
		}
	}
	cfg.URLs = append([]string(nil), cfg.URLs...)
	if cfg.Transport == nil {
		return cfg, errs.WrapDetail("create client", "no transport", ErrInvalidConfig)
	}
	switch cfg.Protocol {
	case "":
		cfg.Protocol = protocol.LevelAuto
	case protocol.LevelAuto, protocol.LevelBasic, protocol.LevelExtended:
	default:
		return cfg, errs.WrapDetail("create client", "unknown protocol level "+string(cfg.Protocol), ErrInvalidConfig)
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Logger == nil {
		cfg.Logger = discard{}
	}
	durs := []struct {
		p   *time.Duration
		def time.Duration
	}{
		{&cfg.MinDelay, DefaultMinDelay}, {&cfg.MaxDelay, DefaultMaxDelay},
		{&cfg.StableAfter, DefaultStableAfter}, {&cfg.HeartbeatGrace, DefaultHeartbeatGrace},
		{&cfg.HelloTimeout, DefaultHelloTimeout}, {&cfg.DialTimeout, DefaultDialTimeout},
		{&cfg.ProbeTimeout, DefaultProbeTimeout}, {&cfg.JumpThreshold, DefaultJumpThreshold},
		{&cfg.Linger, DefaultLinger}, {&cfg.LateResync, DefaultLateResync},
	}
	for _, d := range durs {
		if *d.p == 0 {
			*d.p = d.def
		}
	}
	if cfg.MinDelay < 0 || cfg.MaxDelay < cfg.MinDelay {
		return cfg, errs.WrapDetail("create client", "need 0 <= MinDelay <= MaxDelay", ErrInvalidConfig)
	}
	if cfg.StableAfter < 0 || cfg.HeartbeatGrace < 0 || cfg.HelloTimeout < 0 || cfg.DialTimeout < 0 ||
		cfg.ProbeTimeout < 0 || cfg.JumpThreshold < 0 || cfg.Coalesce < 0 || cfg.ResyncSpread < 0 {
		return cfg, errs.WrapDetail("create client", "negative duration", ErrInvalidConfig)
	}
	if cfg.Linger < 0 {
		cfg.Linger = 0
	}
	if cfg.LateResync < 0 {
		cfg.LateResync = 0
	}
	if cfg.QueueMaxCount < 0 || cfg.QueueMaxBytes < 0 {
		return cfg, errs.WrapDetail("create client", "negative queue bound", ErrInvalidConfig)
	}
	if cfg.QueueMaxCount == 0 {
		cfg.QueueMaxCount = DefaultQueueMaxCount
	}
	if cfg.QueueMaxBytes == 0 {
		cfg.QueueMaxBytes = DefaultQueueMaxBytes
	}
	return cfg, nil
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

type discard struct{}

func (discard) Log(LogLevel, string, error) {}
