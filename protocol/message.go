package protocol

// Version is the name of the extended protocol, sent in both hellos and
// accepted as a WebSocket subprotocol.
const Version = "refine-live.v1"

// Level is the protocol level a connection speaks.
type Level string

// The levels. Auto is a client setting only: the client offers extended
// in-band and falls back to basic when the server does not answer.
const (
	LevelAuto     Level = "auto"
	LevelBasic    Level = "basic"
	LevelExtended Level = "extended"
)

// Action names a message. Events sent by the server carry no action.
type Action string

// Client to server actions. Subscribe, unsubscribe and publish exist at both
// levels; the others are extended only.
const (
	ActionHello       Action = "hello"
	ActionAuth        Action = "auth"
	ActionSubscribe   Action = "subscribe"
	ActionUnsubscribe Action = "unsubscribe"
	ActionPublish     Action = "publish"
	ActionPing        Action = "ping"
	ActionPong        Action = "pong"
)

// Server to client actions (extended only). Ping, pong and hello are shared
// with the client direction.
const (
	ActionSubscribed Action = "subscribed"
	ActionAck        Action = "ack"
	ActionError      Action = "error"
)

// Limits that every decoder enforces. A server may announce a smaller
// MaxMessage in its hello.
const (
	// DefaultMaxMessage is the largest frame, in bytes, decoded by default.
	DefaultMaxMessage = 64 << 10
	// MaxChannelLen is the longest channel name, in bytes.
	MaxChannelLen = 256
	// MaxTypeLen is the longest event type, in bytes.
	MaxTypeLen = 64
	// MaxRefLen is the longest publish ref (and so event id), in bytes.
	MaxRefLen = 64
	// MaxTokenLen is the longest auth token, in bytes.
	MaxTokenLen = 8 << 10
	// MaxSubscribeChannels is the most channels one subscribe frame lists.
	MaxSubscribeChannels = 1000
	// MaxAge is the longest age a subscribe may ask to replay, in
	// milliseconds (one day).
	MaxAge = 24 * 60 * 60 * 1000
)

// Position is where a subscriber is in a channel's stream: the epoch names one
// continuous history (it changes when the server loses its history, for
// example on restart) and Seq is the sequence number of the last event seen.
type Position struct {
	Epoch string `json:"epoch"`
	Seq   uint64 `json:"seq"`
}

// ClientMessage is any message a client sends. Which fields are meaningful
// depends on Action; see docs/protocol.md.
type ClientMessage struct {
	Action  Action `json:"action"`
	Channel string `json:"channel,omitempty"`
	Type    string `json:"type,omitempty"`
	Payload []byte `json:"payload,omitempty"`
	// Meta is the event's meta on publish (extended only; a basic server
	// ignores it).
	Meta []byte `json:"meta,omitempty"`
	// Ref is a client-chosen id for a publish, unique per client. The server
	// acknowledges with it and uses it as the event's id, which is how a
	// client recognises its own events.
	Ref string `json:"ref,omitempty"`
	// Since asks the server to replay what followed this position.
	Since *Position `json:"since,omitempty"`
	// Age, on a subscribe without Since (extended only), asks the server
	// to replay what it accepted within the last Age milliseconds: the
	// client's first subscribe of a channel covers the time between the
	// application reading its data and the subscription going live.
	Age int64 `json:"age,omitempty"`
	// Channels makes one subscribe frame ask for several channels
	// (extended only), each with its own position. Channel is then empty.
	Channels []ChannelRequest `json:"channels,omitempty"`
	// Protocol is the level offered in a hello.
	Protocol string `json:"protocol,omitempty"`
	// Batch, on a hello, says that the client reads frames holding several
	// messages separated by BatchSeparator.
	Batch bool `json:"batch,omitempty"`
	// MaxMessage, on a hello, is the largest frame the client reads, in
	// bytes; a batching server keeps its batched frames within it.
	MaxMessage int64 `json:"maxMessage,omitempty"`
	// Token is the credential of an auth message.
	Token string `json:"token,omitempty"`
}

// ChannelRequest is one channel of a subscribe: the channel and where to
// replay from (Since, else Age, else nothing).
type ChannelRequest struct {
	Channel string    `json:"channel"`
	Since   *Position `json:"since,omitempty"`
	Age     int64     `json:"age,omitempty"`
}

// Requests returns the channels a subscribe asks for: its Channels, or the
// one channel of a single subscribe.
func (m *ClientMessage) Requests() []ChannelRequest {
	if len(m.Channels) > 0 {
		return m.Channels
	}
	return []ChannelRequest{{Channel: m.Channel, Since: m.Since, Age: m.Age}}
}

// ServerMessage is any message a server sends. An event has an empty Action;
// everything else is a control message of the extended level.
type ServerMessage struct {
	Action Action `json:"action,omitempty"`

	// Event fields. Channel is also set on subscribed, ack and some errors.
	Channel string `json:"channel,omitempty"`
	Type    string `json:"type,omitempty"`
	Payload []byte `json:"payload,omitempty"`
	Meta    []byte `json:"meta,omitempty"`
	ID      string `json:"id,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	Epoch   string `json:"epoch,omitempty"`
	// Date is when the server accepted the event, in Unix milliseconds.
	Date int64 `json:"date,omitempty"`

	// Hello fields.
	Protocol string `json:"protocol,omitempty"`
	Session  string `json:"session,omitempty"`
	// Heartbeat is the server's ping interval in milliseconds.
	Heartbeat int64 `json:"heartbeat,omitempty"`
	// MaxMessage is the largest frame the server accepts, in bytes.
	MaxMessage int64 `json:"maxMessage,omitempty"`
	// Batch, on a hello answering a client's batch, says that the frames
	// after this one may hold several messages.
	Batch bool `json:"batch,omitempty"`

	// Recovered, on subscribed, says that every event after Since was
	// replayed.
	Recovered bool `json:"recovered,omitempty"`

	// Ref identifies the publish that an ack or error answers.
	Ref     string `json:"ref,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// RetryAfter, on an error, is how long to wait before trying again, in
	// milliseconds.
	RetryAfter int64 `json:"retryAfter,omitempty"`
}

// IsEvent reports whether m is an event rather than a control message.
func (m *ServerMessage) IsEvent() bool { return m.Action == "" }

// Position returns the event's position in its channel.
func (m *ServerMessage) Position() Position { return Position{Epoch: m.Epoch, Seq: m.Seq} }

// Error codes carried by error messages.
const (
	CodeBadRequest        = "bad_request"
	CodeUnknownAction     = "unknown_action"
	CodeTooLarge          = "too_large"
	CodeUnauthorized      = "unauthorized"
	CodeForbidden         = "forbidden"
	CodeRateLimited       = "rate_limited"
	CodeSubscriptionLimit = "subscription_limit"
	CodeInternal          = "internal"
)
