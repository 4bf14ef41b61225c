package pgsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// State is what a Source is doing.
type State string

// The states of a Source.
const (
	StateConnecting State = "connecting" // before its first stream, or retrying after a failure
	StateStandby    State = "standby"    // another node consumes the slot
	StateStreaming  State = "streaming"
	StateStalled    State = "stalled" // streaming, but the broker fails to store events
	StateStopped    State = "stopped"
)

// Source streams a PostgreSQL database's committed changes into a
// Publisher. Make it with New, run it with Start, stop it with Close.
type Source struct {
	cfg Config
	pub Publisher
	m   *metrics

	mu     sync.Mutex
	state  State
	reason string // the last failure, while connecting

	cancel context.CancelFunc
	done   chan struct{}
}

// New checks cfg; it does not connect.
func New(cfg Config, pub Publisher) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Source{cfg: cfg, pub: pub, m: newMetrics(cfg.Registerer), state: StateConnecting,
		reason: "not connected yet", done: make(chan struct{})}, nil
}

// Start checks the publication, the slot and the tables once, so that a
// refused table stops the caller at startup, then streams in the
// background until Close. When PostgreSQL cannot be reached, Start returns
// nil and the source keeps trying, degraded.
func (s *Source) Start(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	c, err := pgx.Connect(cctx, s.cfg.URL)
	if err == nil {
		_, err = prepare(cctx, c, &s.cfg)
		_ = c.Close(context.Background())
		if err != nil && !isConnError(err) {
			cancel()
			return err
		}
	}
	cancel()
	if err != nil {
		s.cfg.Logger.Warn("PostgreSQL unreachable at startup; retrying in the background", "err", err)
		s.setState(StateConnecting, err.Error())
	}
	rctx, rcancel := context.WithCancel(context.Background())
	s.cancel = rcancel
	go s.run(rctx)
	return nil
}

// Close stops the source and waits for it; the slot keeps the position of
// the last stored transaction.
func (s *Source) Close() error {
	if s == nil || s.cancel == nil {
		return nil
	}
	s.cancel()
	<-s.done
	s.setState(StateStopped, "")
	return nil
}

// State reports what the source is doing and, while connecting, why it is
// not streaming.
func (s *Source) State() (State, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.reason
}

// Degraded is empty while the source streams or stands by, and otherwise
// says why it does not: the health check's answer.
func (s *Source) Degraded() string {
	if s == nil {
		return ""
	}
	st, reason := s.State()
	if st == StateStreaming || st == StateStandby {
		return ""
	}
	return "postgres: " + string(st) + ": " + reason
}

func (s *Source) setState(st State, reason string) {
	s.mu.Lock()
	changed := s.state != st
	s.state, s.reason = st, reason
	s.mu.Unlock()
	if st == StateStreaming {
		s.m.streaming.Set(1)
	} else {
		s.m.streaming.Set(0)
	}
	if changed && st != StateConnecting {
		s.cfg.Logger.Info("PostgreSQL source", "state", string(st), "slot", s.cfg.Slot)
	}
}

func (s *Source) run(ctx context.Context) {
	defer close(s.done)
	failures := 0
	for {
		streamed, err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if streamed {
			failures = 0
		}
		s.m.failures.Inc()
		s.setState(StateConnecting, err.Error())
		wait := s.backoff(failures)
		failures++
		s.cfg.Logger.Warn("PostgreSQL source failed; retrying", "err", err, "in", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			return
		}
	}
}

// backoff is a full-jitter exponential wait with a floor of RetryMin.
func (s *Source) backoff(n int) time.Duration {
	d := s.cfg.RetryMin << min(n, 16)
	if d > s.cfg.RetryMax || d <= 0 {
		d = s.cfg.RetryMax
	}
	return s.cfg.RetryMin + time.Duration(rand.Int64N(int64(d)))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// session takes the slot's lock, then streams until an error. streamed
// reports whether replication had started.
func (s *Source) session(ctx context.Context) (streamed bool, err error) {
	ctl, err := pgx.Connect(ctx, s.cfg.URL)
	if err != nil {
		return false, fmt.Errorf("failed to connect to PostgreSQL: %w", err)
	}
	defer ctl.Close(context.Background())
	if err := s.lock(ctx, ctl); err != nil {
		return false, err
	}
	tables, err := prepare(ctx, ctl, &s.cfg)
	if err != nil {
		return false, err
	}
	rc, err := pgconn.ParseConfig(s.cfg.URL)
	if err != nil {
		return false, fmt.Errorf("failed to parse the PostgreSQL URL: %w", err)
	}
	rc.RuntimeParams["replication"] = "database"
	repl, err := pgconn.ConnectConfig(ctx, rc)
	if err != nil {
		return false, fmt.Errorf("failed to open the replication connection: %w", err)
	}
	defer repl.Close(context.Background())
	st := &stream{src: s, ctl: ctl, repl: repl, tables: tables, rels: map[uint32]*relation{}}
	return st.run(ctx)
}

// lock takes the session advisory lock of the slot, standing by while
// another node holds it.
func (s *Source) lock(ctx context.Context, ctl *pgx.Conn) error {
	for {
		var got bool
		if err := ctl.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, "refine-live:"+s.cfg.Slot).Scan(&got); err != nil {
			return fmt.Errorf("failed to take the slot's advisory lock: %w", err)
		}
		if got {
			return nil
		}
		s.setState(StateStandby, "")
		if !sleep(ctx, s.cfg.LockRetry) {
			return ctx.Err()
		}
		// A standby still notices when PostgreSQL goes away.
		if err := ctl.Ping(ctx); err != nil {
			return fmt.Errorf("failed to reach PostgreSQL while standing by: %w", err)
		}
	}
}

// isConnError tells a failure to reach PostgreSQL, which is retried, from
// one of configuration (a refused table, a missing grant), which Start
// reports.
func isConnError(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pe):
		// 08: connection exception; 57: the server is starting or
		// shutting down.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57")
	}
	return false
}
