package server

import (
	"log/slog"
	"time"

	"golang.org/x/time/rate"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Config configures a Server. The zero value is usable: every field has a
// documented default, and docs/server.md lists them with their error and
// close codes.
type Config struct {
	// Broker stores history and fans events out across nodes. Default: a
	// MemoryBroker with DefaultHistory events per channel, owned and closed
	// by the Server. A Broker given here is the caller's to close.
	Broker Broker

	// OriginPatterns lists the browser origins allowed to connect besides
	// the request's own host, as coder/websocket's
	// AcceptOptions.OriginPatterns: path.Match on the origin's host
	// ("app.example.com", "*.example.com", "localhost:5173"), or on
	// scheme://host when the pattern has a scheme. Default (empty): the
	// request's own host and pages served from a loopback host (localhost,
	// 127.0.0.0/8, [::1]) on any port over http or https, so that a dev
	// server on another port works; listing patterns replaces that
	// default. A handshake from another origin is refused with HTTP 403 and
	// a warning naming the origin.
	OriginPatterns []string
	// InsecureSkipOriginCheck accepts every origin. For development only.
	InsecureSkipOriginCheck bool

	// MaxMessage is the largest frame read, in bytes; a larger one closes
	// the connection with 1009. Announced in the hello. It also bounds every
	// event, however published, measured as its compact publish frame.
	// Default protocol.DefaultMaxMessage (64 KiB).
	MaxMessage int
	// MaxSubscriptions is how many channels one connection may subscribe
	// to; beyond it subscribe fails with "subscription_limit". Default 256.
	MaxSubscriptions int
	// MessageRate and MessageBurst limit the frames a connection may send
	// (golang.org/x/time/rate). Excess frames are dropped with a
	// "rate_limited" error carrying retryAfter. Default 50/s, burst 100.
	MessageRate  rate.Limit
	MessageBurst int
	// MaxRateViolations is how many frames in a row may be refused by the
	// rate limit before the connection is closed with 4003. Default 50.
	MaxRateViolations int
	// MaxBadMessages is how many undecodable or invalid frames an extended
	// connection may send before it is closed with 4503. Basic connections
	// are never closed for bad frames (they are ignored). Default 20.
	MaxBadMessages int
	// SendQueue is how many frames may wait to be written to one
	// connection. A connection whose queue overflows is a slow consumer:
	// it is closed with 4002 and never slows anyone else. Default 512.
	SendQueue int
	// WriteTimeout bounds a write to the socket: the frames of one drain of
	// the send queue, or a control frame. The deadline is moved forward
	// once half of it has passed, so a write gets between half and all of
	// it. Default 10s.
	WriteTimeout time.Duration

	// Heartbeat is the ping interval announced in the hello. A connection
	// that sends nothing (extended) or answers no WebSocket ping (basic) for
	// twice this long is closed with 4001. Default 25s.
	Heartbeat time.Duration

	// Authenticator checks tokens. When set, every connection must
	// authenticate (query parameter "token", an Authorization bearer header
	// or an auth message) before it may subscribe or publish, within
	// AuthTimeout. Nil: connections are anonymous and allowed everything
	// the Authorizer allows.
	Authenticator Authenticator
	// Authorizer decides each subscribe and publish. Default:
	// ChannelAuthorizer, which checks the identity's channel patterns.
	Authorizer Authorizer
	// AuthTimeout is how long a connection may stay unauthenticated when
	// an Authenticator is set before it is closed with 4500. Default 10s.
	AuthTimeout time.Duration

	// PublishToken protects POST /publish: requests must carry
	// "Authorization: Bearer <token>". Empty leaves the endpoint open,
	// which suits only a server bound to loopback.
	PublishToken string
	// MaxPublishBody is the largest POST /publish body, read before
	// decoding; the event in it is then held to MaxMessage like any other.
	// Default MaxMessage.
	MaxPublishBody int

	// RetryMin and RetryMax bound the retry hint sent with the 4000 close
	// on Shutdown; each connection gets a uniformly random hint between
	// them so that clients do not reconnect all at once. Default 0.5s, 5s.
	RetryMin, RetryMax time.Duration

	// Logger receives structured logs. Default slog.Default().
	Logger *slog.Logger

	// Degraded, when set, is asked by GET /healthz. A non-empty answer
	// (why a dependency such as a change source is away) is served as
	// 200 {"status":"degraded","reason":…}: the WebSocket service goes on,
	// so a load balancer should keep the node.
	Degraded func() string
}

func (c Config) withDefaults() Config {
	orDefault(&c.MaxMessage, protocol.DefaultMaxMessage)
	orDefault(&c.MaxSubscriptions, 256)
	orDefault(&c.MessageRate, 50)
	orDefault(&c.MessageBurst, 100)
	orDefault(&c.MaxRateViolations, 50)
	orDefault(&c.MaxBadMessages, 20)
	orDefault(&c.SendQueue, 512)
	orDefault(&c.WriteTimeout, 10*time.Second)
	orDefault(&c.Heartbeat, 25*time.Second)
	orDefault(&c.AuthTimeout, 10*time.Second)
	if c.Authorizer == nil {
		c.Authorizer = ChannelAuthorizer{}
	}
	orDefault(&c.MaxPublishBody, c.MaxMessage)
	orDefault(&c.RetryMin, 500*time.Millisecond)
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(c.RetryMin, 5*time.Second)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// orDefault sets *v to def unless it is above zero: a zero or negative
// setting means the default.
func orDefault[T ~int | ~int64 | ~float64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
