package pgsource

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// stream is one replication session: the slot's lock is held on ctl.
type stream struct {
	src    *Source
	ctl    *pgx.Conn
	repl   *pgconn.PgConn
	tables map[string]*table
	rels   map[uint32]*relation

	// txn is the open transaction, nil between transactions.
	txn *txn
	// stored is the end of the last transaction whose events are all
	// stored: what may be confirmed. confirmed is what was confirmed.
	stored, confirmed pglogrepl.LSN
	lastStatus        time.Time
	lastLagPoll       time.Time
	lastLagWarn       time.Time
}

type txn struct {
	commit pglogrepl.LSN
	time   time.Time
	n      int // events and messages so far, for their ids
}

// lagPoll is how often the slot's lag is read from pg_replication_slots.
const lagPoll = 5 * time.Second

func (st *stream) run(ctx context.Context) (streamed bool, err error) {
	cfg := &st.src.cfg
	err = pglogrepl.StartReplication(ctx, st.repl, cfg.Slot, 0, pglogrepl.StartReplicationOptions{PluginArgs: []string{
		"proto_version '1'", "publication_names '" + cfg.Publication + "'", "messages 'true'",
	}})
	if err != nil {
		return false, fmt.Errorf("failed to start replication from slot %s: %w", cfg.Slot, err)
	}
	st.src.setState(StateStreaming, "")
	defer func() {
		// A graceful stop confirms what was stored, so that the next
		// start replays less.
		if ctx.Err() != nil {
			sctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = st.sendStatus(sctx)
			cancel()
		}
	}()
	st.lastStatus = time.Now()
	for {
		if err := st.housekeeping(ctx); err != nil {
			return true, err
		}
		deadline := st.lastStatus.Add(cfg.KeepaliveInterval)
		if st.stored > st.confirmed {
			deadline = st.lastStatus.Add(cfg.StatusInterval)
		}
		rctx, cancel := context.WithDeadline(ctx, deadline)
		raw, err := st.repl.ReceiveMessage(rctx)
		cancel()
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		if err != nil {
			if pgconn.Timeout(err) {
				continue
			}
			return true, fmt.Errorf("failed to receive from the replication stream: %w", err)
		}
		switch m := raw.(type) {
		case *pgproto3.ErrorResponse:
			return true, fmt.Errorf("failed to stream: %w", pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyData:
			if err := st.handleCopy(ctx, m.Data); err != nil {
				return true, err
			}
		}
	}
}

// housekeeping confirms the stored position when due and reads the
// slot's lag now and then.
func (st *stream) housekeeping(ctx context.Context) error {
	cfg := &st.src.cfg
	now := time.Now()
	if (st.stored > st.confirmed && now.Sub(st.lastStatus) >= cfg.StatusInterval) || now.Sub(st.lastStatus) >= cfg.KeepaliveInterval {
		if err := st.sendStatus(ctx); err != nil {
			return err
		}
	}
	if now.Sub(st.lastLagPoll) < lagPoll {
		return nil
	}
	st.lastLagPoll = now
	var lag, retained int64
	err := st.ctl.QueryRow(ctx, `SELECT COALESCE((pg_current_wal_lsn() - confirmed_flush_lsn)::bigint, 0),
  COALESCE((pg_current_wal_lsn() - restart_lsn)::bigint, 0) FROM pg_replication_slots WHERE slot_name = $1`, cfg.Slot).Scan(&lag, &retained)
	if err != nil {
		return fmt.Errorf("failed to read the slot's lag: %w", err)
	}
	st.src.m.lagBytes.Set(float64(lag))
	st.src.m.retained.Set(float64(retained))
	if retained > cfg.LagWarn && now.Sub(st.lastLagWarn) >= time.Minute {
		st.lastLagWarn = now
		cfg.Logger.Warn("the replication slot holds back much WAL on the PostgreSQL server's disk",
			"slot", cfg.Slot, "retained_bytes", retained, "lag_bytes", lag, "warn_bytes", cfg.LagWarn)
	}
	return nil
}

func (st *stream) sendStatus(ctx context.Context) error {
	pos := st.stored
	err := pglogrepl.SendStandbyStatusUpdate(ctx, st.repl, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pos, WALFlushPosition: pos, WALApplyPosition: pos})
	if err != nil {
		return fmt.Errorf("failed to confirm the stored position: %w", err)
	}
	st.confirmed, st.lastStatus = pos, time.Now()
	return nil
}

func (st *stream) handleCopy(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return fmt.Errorf("failed to parse a keepalive: %w", err)
		}
		// Between transactions everything the server sent up to its WAL
		// end has been handled: confirming it lets an idle slot (or one
		// whose tables are quiet) release WAL.
		if st.txn == nil && ka.ServerWALEnd > st.stored {
			st.stored = ka.ServerWALEnd
		}
		if ka.ReplyRequested {
			return st.sendStatus(ctx)
		}
	case pglogrepl.XLogDataByteID:
		xld, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return fmt.Errorf("failed to parse WAL data: %w", err)
		}
		msg, err := pglogrepl.Parse(xld.WALData)
		if err != nil {
			return fmt.Errorf("failed to parse a pgoutput message at %s: %w", xld.WALStart, err)
		}
		return st.handle(ctx, msg, xld.WALStart)
	}
	return nil
}

func (st *stream) handle(ctx context.Context, msg pglogrepl.Message, at pglogrepl.LSN) error {
	cfg := &st.src.cfg
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		return st.relation(ctx, m)
	case *pglogrepl.BeginMessage:
		st.txn = &txn{commit: m.FinalLSN, time: m.CommitTime}
	case *pglogrepl.CommitMessage:
		if st.txn != nil {
			st.src.m.lagSeconds.Set(time.Since(st.txn.time).Seconds())
		}
		st.txn = nil
		if m.TransactionEndLSN > st.stored {
			st.stored = m.TransactionEndLSN
		}
	case *pglogrepl.InsertMessage, *pglogrepl.UpdateMessage, *pglogrepl.DeleteMessage:
		n := st.nextN()
		r := st.rels[relationID(m)]
		if r == nil {
			return fmt.Errorf("failed to decode a change at %s: relation %d was never described", at, relationID(m))
		}
		if ev, ok := r.changeEvent(m); ok {
			return st.publish(ctx, ev, n, r.table)
		}
	case *pglogrepl.TruncateMessage:
		n := st.nextN()
		for _, id := range m.RelationIDs {
			if r := st.rels[id]; r != nil && !r.skip {
				// A truncate names no rows: an empty ids list makes lists
				// refetch.
				ev := server.Event{Channel: r.channel, Type: "deleted", Payload: payload()}
				if err := st.publish(ctx, ev, n, r.table); err != nil {
					return err
				}
				n = st.nextN()
			}
		}
	case *pglogrepl.LogicalDecodingMessage:
		if m.Prefix != MessagePrefix {
			return nil
		}
		n := -1
		if m.Transactional {
			n = st.nextN()
		}
		ev, err := customEvent(m.Content)
		if err != nil {
			st.src.m.skipped.WithLabelValues("bad_message").Inc()
			cfg.Logger.Error("skipped a logical decoding message", "lsn", m.LSN.String(), "err", err, "content", truncate(m.Content))
			return nil
		}
		if n < 0 {
			// Not transactional: sent at once, whatever becomes of the
			// transaction; its own LSN names it.
			ev.ID, ev.Date = fmt.Sprintf("pg-%016X-m", uint64(m.LSN)), time.Now()
			return st.store(ctx, ev, "")
		}
		return st.publish(ctx, ev, n, "")
	}
	return nil
}

func (st *stream) nextN() int {
	if st.txn == nil {
		return 0
	}
	n := st.txn.n
	st.txn.n++
	return n
}

func relationID(m pglogrepl.Message) uint32 {
	switch m := m.(type) {
	case *pglogrepl.InsertMessage:
		return m.RelationID
	case *pglogrepl.UpdateMessage:
		return m.RelationID
	case *pglogrepl.DeleteMessage:
		return m.RelationID
	}
	return 0
}

// relation records how a table's tuples are keyed. A table of the schema
// that the catalog check did not see (created or published since) is read
// from the catalog now.
func (st *stream) relation(ctx context.Context, m *pglogrepl.RelationMessage) error {
	cfg := &st.src.cfg
	skip := m.Namespace != cfg.Schema
	t := st.tables[m.RelationName]
	if !skip && t == nil {
		if len(cfg.Tables) > 0 {
			skip = true
		} else {
			var err error
			t, err = readTable(ctx, st.ctl, m.Namespace, m.RelationName)
			var nk noKeyError
			if errors.As(err, &nk) {
				cfg.Logger.Error("a table published since startup has no key: its events carry no ids", "err", nk.msg)
				t = nil
			} else if err != nil {
				return err
			} else {
				st.tables[m.RelationName] = t
			}
		}
	}
	st.rels[m.RelationID] = newRelation(cfg, m, t, skip)
	return nil
}

// publish stores the n-th event of the open transaction, dated with its
// commit time.
func (st *stream) publish(ctx context.Context, ev server.Event, n int, table string) error {
	if st.txn != nil {
		ev.ID, ev.Date = eventID(st.txn.commit, n), st.txn.time
	} else {
		ev.Date = time.Now()
	}
	return st.store(ctx, ev, table)
}

// store publishes ev, retrying while the broker fails: the stream does
// not move on, and so confirms nothing, until the event is stored. An
// event the server refuses can never be stored and is skipped with an
// error in the log.
func (st *stream) store(ctx context.Context, ev server.Event, table string) error {
	cfg := &st.src.cfg
	for attempt := 0; ; attempt++ {
		_, err := st.src.pub.Publish(ctx, ev)
		if err == nil && attempt > 0 {
			st.src.setState(StateStreaming, "")
		}
		if err == nil {
			if table != "" {
				st.src.m.events.WithLabelValues(table).Inc()
			} else {
				st.src.m.messages.Inc()
			}
			return nil
		}
		if errors.Is(err, server.ErrInvalidEvent) {
			st.src.m.skipped.WithLabelValues("invalid_event").Inc()
			cfg.Logger.Error("skipped an event the server refuses", "id", ev.ID, "channel", ev.Channel, "err", err)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		st.src.setState(StateStalled, "failed to store events: "+err.Error())
		wait := st.src.backoff(attempt)
		cfg.Logger.Warn("failed to store an event; retrying", "id", ev.ID, "err", err, "in", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
