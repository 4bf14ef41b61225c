package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/natsbroker"
	"github.com/refine-live-wasm/refine-live-wasm/server/pgsource"
)

// originsEnv lists allowed origin patterns when --origin is not given.
const originsEnv = "REFINE_LIVE_ORIGINS"

// options are the parsed command line.
type options struct {
	addr            string
	origins         []string
	anyOrigin       bool
	history         int
	historyTTL      time.Duration
	historyGrace    time.Duration
	publishToken    string
	jwtSecret       string
	heartbeat       time.Duration
	maxMessage      int
	maxSubs         int
	rate            float64
	burst           int
	sendQueue       int
	writeTimeout    time.Duration
	shutdownTimeout time.Duration
	logLevel        string
	logFormat       string
	nats            string
	natsStream      string
	natsPrefix      string
	natsReplicas    int
	natsMemory      bool
	postgres        string
	pgSlot          string
	pgPublication   string
	pgSchema        string
	pgTables        []string
	pgRename        string
	pgLagWarn       int64
}

// listFlag collects a repeatable flag that also accepts comma lists.
type listFlag struct{ dst *[]string }

func (l listFlag) String() string {
	if l.dst == nil {
		return ""
	}
	return strings.Join(*l.dst, ",")
}

func (l listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l.dst = append(*l.dst, p)
		}
	}
	return nil
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("liveserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address; WebSocket at /live")
	fs.Var(listFlag{&o.origins}, "origin", "allowed browser origin pattern (path.Match on host, e.g. app.example.com, *.example.com; or on scheme://host); "+
		"repeatable or comma list (env "+originsEnv+"). Default none: the server's own host and pages on a loopback host "+
		"(localhost, 127.0.0.0/8, [::1]) on any port; any pattern replaces the loopback allowance")
	fs.BoolVar(&o.anyOrigin, "any-origin", false, "accept every origin (development only)")
	fs.IntVar(&o.history, "history", server.DefaultHistory, "events kept per channel for replay (0 keeps none)")
	fs.DurationVar(&o.historyTTL, "history-ttl", 0, "drop history older than this (0: keep until pushed out)")
	fs.DurationVar(&o.historyGrace, "history-grace", 0, "in memory: how long before its start the history counts as whole. Default 0: a page whose "+
		"first subscribe reaches before the start refetches once, since a restart lost what the previous process accepted; "+
		"set it only when nothing is published while liveserver is down (tests, demos)")
	fs.StringVar(&o.publishToken, "publish-token", os.Getenv("REFINE_LIVE_PUBLISH_TOKEN"), "bearer token required by POST /publish (env REFINE_LIVE_PUBLISH_TOKEN)")
	fs.StringVar(&o.jwtSecret, "jwt-secret", os.Getenv("REFINE_LIVE_JWT_SECRET"), "HS256 secret; when set every connection must present a JWT (env REFINE_LIVE_JWT_SECRET)")
	fs.DurationVar(&o.heartbeat, "heartbeat", 25*time.Second, "ping interval; silent connections close after twice this")
	fs.IntVar(&o.maxMessage, "max-message", protocol.DefaultMaxMessage, "largest inbound frame in bytes (larger closes with 1009)")
	fs.IntVar(&o.maxSubs, "max-subscriptions", 256, "channels per connection")
	fs.Float64Var(&o.rate, "rate", 50, "inbound messages per second per connection")
	fs.IntVar(&o.burst, "burst", 100, "inbound message burst per connection")
	fs.IntVar(&o.sendQueue, "send-queue", 512, "frames queued per connection before it is closed as a slow consumer (4002)")
	fs.DurationVar(&o.writeTimeout, "write-timeout", 10*time.Second, "time limit for one write to a connection (the frames of one drain; a write gets between half and all of it)")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long shutdown waits for connections to close")
	fs.StringVar(&o.nats, "nats", "", "NATS server URL(s), comma separated (nats://host:4222); enables the JetStream broker shared by several nodes")
	fs.StringVar(&o.natsStream, "nats-stream", natsbroker.DefaultStream, "JetStream stream holding the history (same on every node)")
	fs.StringVar(&o.natsPrefix, "nats-prefix", natsbroker.DefaultSubjectPrefix, "subject prefix of the channels (same on every node)")
	fs.IntVar(&o.natsReplicas, "nats-replicas", 1, "stream replicas (1, or 3 on a NATS cluster)")
	fs.BoolVar(&o.natsMemory, "nats-memory", false, "keep the stream in memory instead of on disk")
	fs.StringVar(&o.postgres, "postgres", os.Getenv("REFINE_LIVE_POSTGRES"), "PostgreSQL URL (env REFINE_LIVE_POSTGRES); streams committed changes of the published tables as events on resources/<table>")
	fs.StringVar(&o.pgSlot, "postgres-slot", pgsource.DefaultSlot, "logical replication slot (created when missing)")
	fs.StringVar(&o.pgPublication, "postgres-publication", pgsource.DefaultPublication, "publication streamed (created when missing)")
	fs.StringVar(&o.pgSchema, "postgres-schema", pgsource.DefaultSchema, "schema whose tables become resources")
	fs.Var(listFlag{&o.pgTables}, "postgres-tables", "tables of the schema to stream, repeatable or comma list (default: every table of the publication in the schema)")
	fs.StringVar(&o.pgRename, "postgres-rename", "", "table=resource pairs, comma separated: the channel of table's events is resources/<resource>")
	fs.Int64Var(&o.pgLagWarn, "postgres-lag-warn", pgsource.DefaultLagWarn, "bytes of WAL the slot may hold back on the PostgreSQL server before a warning is logged")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if len(o.origins) == 0 {
		// The environment is read after parsing so that a flag replaces it
		// rather than adds to it.
		_ = listFlag{&o.origins}.Set(os.Getenv(originsEnv))
	}
	for _, p := range o.origins {
		if _, err := path.Match(p, ""); err != nil {
			return o, fmt.Errorf("failed to parse --origin %q: %w", p, err)
		}
	}
	if o.nats != "" && (o.history < 1 || o.natsReplicas < 1) {
		return o, errors.New("with --nats, --history and --nats-replicas must be at least 1")
	}
	if o.history < 0 || o.maxMessage <= 0 || o.maxSubs <= 0 || o.rate <= 0 || o.burst <= 0 || o.sendQueue <= 0 || o.heartbeat <= 0 {
		return o, errors.New("sizes, rates and intervals must be positive")
	}
	return o, nil
}

func (o options) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, fmt.Errorf("failed to parse --log-level: %w", err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch o.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	}
	return nil, fmt.Errorf("unknown --log-format %q", o.logFormat)
}

// originPolicy says in the startup log which browser pages may connect.
func (o options) originPolicy() string {
	switch {
	case o.anyOrigin:
		return "any"
	case len(o.origins) == 0:
		return "own host and loopback hosts"
	}
	return "own host and " + strings.Join(o.origins, ",")
}

// memoryBroker is the single-node broker the flags describe.
func (o options) memoryBroker() *server.MemoryBroker {
	history := o.history
	if history == 0 {
		history = -1 // MemoryOptions: negative keeps none, zero is the default
	}
	var start time.Time
	if o.historyGrace > 0 {
		start = time.Now().Add(-o.historyGrace)
	}
	return server.NewMemoryBroker(server.MemoryOptions{History: history, TTL: o.historyTTL, HistoryStart: start})
}

// natsOptions are the JetStream broker's options the flags describe.
func (o options) natsOptions(log *slog.Logger) natsbroker.Options {
	return natsbroker.Options{
		Stream: o.natsStream, SubjectPrefix: o.natsPrefix, History: o.history, MaxAge: o.historyTTL,
		Replicas: o.natsReplicas, MemoryStorage: o.natsMemory, Logger: log,
	}
}

// config turns the options into a server.Config around broker b.
func (o options) config(log *slog.Logger, b server.Broker) server.Config {
	cfg := server.Config{
		Broker:                  b,
		OriginPatterns:          o.origins,
		InsecureSkipOriginCheck: o.anyOrigin,
		MaxMessage:              o.maxMessage,
		MaxSubscriptions:        o.maxSubs,
		MessageRate:             rate.Limit(o.rate),
		MessageBurst:            o.burst,
		SendQueue:               o.sendQueue,
		WriteTimeout:            o.writeTimeout,
		Heartbeat:               o.heartbeat,
		PublishToken:            o.publishToken,
		Logger:                  log,
	}
	if o.jwtSecret != "" {
		cfg.Authenticator = &server.JWTAuthenticator{Secret: []byte(o.jwtSecret)}
	}
	return cfg
}
