package pgsource

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// Defaults of Config.
const (
	DefaultSlot        = "refine_live"
	DefaultPublication = "refine_live"
	DefaultSchema      = "public"
	// MessagePrefix is the prefix of pg_logical_emit_message that the
	// source turns into events; messages with other prefixes are ignored.
	MessagePrefix = "refine-live"
	// DefaultLagWarn is the WAL a slot may hold back before it is warned
	// about in the log: PostgreSQL keeps all of it on disk.
	DefaultLagWarn = 1 << 30
)

// Publisher stores events; *server.Server is one.
type Publisher interface {
	Publish(ctx context.Context, ev server.Event) (server.Event, error)
}

// Config configures a Source. The zero value of every field but URL
// works.
type Config struct {
	// URL is the PostgreSQL connection string (postgres://user@host/db).
	// The user needs the REPLICATION attribute, and CREATE on the database
	// to create the publication when it is missing.
	URL string
	// Slot is the permanent logical replication slot; DefaultSlot when
	// empty. Created with the pgoutput plugin when missing.
	Slot string
	// Publication is the publication the slot streams; DefaultPublication
	// when empty. Created when missing: FOR TABLE Tables, or FOR TABLES IN
	// SCHEMA Schema when Tables is empty.
	Publication string
	// Schema is the schema whose tables become resources; DefaultSchema
	// when empty. Tables of other schemas in the publication are ignored.
	Schema string
	// Tables restricts the source to these tables of Schema; empty means
	// every table of the publication in Schema.
	Tables []string
	// Rename maps a table to its Refine resource (the channel is
	// resources/<resource>); a table not listed keeps its name.
	Rename map[string]string
	// LagWarn is how many bytes of WAL the slot may hold back before a
	// warning is logged; DefaultLagWarn when zero.
	LagWarn int64
	// Logger receives the source's log; slog.Default() when nil.
	Logger *slog.Logger
	// Registerer receives the source's metrics; none when nil.
	Registerer prometheus.Registerer

	// StatusInterval is how often the stored position is confirmed to
	// PostgreSQL while events flow (100 ms when zero); KeepaliveInterval
	// bounds the time between two status messages when idle (10 s).
	StatusInterval, KeepaliveInterval time.Duration
	// RetryMin and RetryMax bound the backoff after a failure (250 ms and
	// 10 s when zero); LockRetry is how often a standby node tries the
	// lock (1 s when zero).
	RetryMin, RetryMax, LockRetry time.Duration
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,62}$`)

// withDefaults fills the zero fields and checks the names, which are
// written into SQL and replication commands.
func (c Config) withDefaults() (Config, error) {
	if c.URL == "" {
		return c, fmt.Errorf("failed to configure the PostgreSQL source: no URL")
	}
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&c.Slot, DefaultSlot)
	def(&c.Publication, DefaultPublication)
	def(&c.Schema, DefaultSchema)
	names := append([]string{c.Slot, c.Publication, c.Schema}, c.Tables...)
	for t := range c.Rename {
		names = append(names, t)
	}
	for _, n := range names {
		if !identRE.MatchString(n) {
			return c, fmt.Errorf("failed to configure the PostgreSQL source: %q is not a plain SQL identifier (letters, digits, _ and $)", n)
		}
	}
	if c.LagWarn == 0 {
		c.LagWarn = DefaultLagWarn
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	dur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	dur(&c.StatusInterval, 100*time.Millisecond)
	dur(&c.KeepaliveInterval, 10*time.Second)
	dur(&c.RetryMin, 250*time.Millisecond)
	dur(&c.RetryMax, 10*time.Second)
	dur(&c.LockRetry, time.Second)
	return c, nil
}

// channel is the channel of table's events.
func (c *Config) channel(table string) string {
	if r, ok := c.Rename[table]; ok {
		return "resources/" + r
	}
	return "resources/" + table
}

// ParseRename reads a rename map written as table=resource pairs separated
// by commas, as the command line gives it.
func ParseRename(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		t, r, ok := strings.Cut(p, "=")
		t, r = strings.TrimSpace(t), strings.TrimSpace(r)
		if !ok || t == "" || r == "" {
			return nil, fmt.Errorf("failed to parse rename %q: want table=resource", p)
		}
		if _, dup := m[t]; dup {
			return nil, fmt.Errorf("failed to parse rename: table %q renamed twice", t)
		}
		m[t] = r
	}
	return m, nil
}
