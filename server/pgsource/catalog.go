package pgsource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// table is what the source needs of one published table: the columns
// whose values name a row in its events.
type table struct {
	schema, name string
	key          []string
}

// ErrNoKey is matched (errors.Is) by the error refusing tables whose rows
// cannot be named: no primary key and no replica identity index, or
// REPLICA IDENTITY NOTHING.
var ErrNoKey = errors.New("table without a key")

// prepare makes sure the publication and the slot exist and reads the key
// of every table the source streams. Tables whose rows cannot be named are
// refused, all of them in one error that names each.
func prepare(ctx context.Context, c *pgx.Conn, cfg *Config) (map[string]*table, error) {
	if err := ensurePublication(ctx, c, cfg); err != nil {
		return nil, err
	}
	rows, err := c.Query(ctx, `SELECT tablename FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2`,
		cfg.Publication, cfg.Schema)
	if err != nil {
		return nil, fmt.Errorf("failed to list the tables of publication %s: %w", cfg.Publication, err)
	}
	published, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("failed to list the tables of publication %s: %w", cfg.Publication, err)
	}
	selected := published
	if len(cfg.Tables) > 0 {
		selected = cfg.Tables
		for _, t := range cfg.Tables {
			if !slices.Contains(published, t) {
				return nil, fmt.Errorf("failed to start the PostgreSQL source: table %s.%s is not in publication %s (ALTER PUBLICATION %s ADD TABLE %s.%s)",
					cfg.Schema, t, cfg.Publication, cfg.Publication, cfg.Schema, t)
			}
		}
	}
	tables := make(map[string]*table, len(selected))
	var refused []string
	for _, name := range selected {
		t, err := readTable(ctx, c, cfg.Schema, name)
		var nk noKeyError
		if errors.As(err, &nk) {
			refused = append(refused, nk.msg)
			continue
		}
		if err != nil {
			return nil, err
		}
		tables[name] = t
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("failed to start the PostgreSQL source: %s: %w", strings.Join(refused, "; "), ErrNoKey)
	}
	if err := ensureSlot(ctx, c, cfg.Slot); err != nil {
		return nil, err
	}
	return tables, nil
}

func ensurePublication(ctx context.Context, c *pgx.Conn, cfg *Config) error {
	var exists bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)`, cfg.Publication).Scan(&exists); err != nil {
		return fmt.Errorf("failed to look up publication %s: %w", cfg.Publication, err)
	}
	if exists {
		return nil
	}
	// The names were checked to be plain identifiers; quoting keeps their
	// case.
	q := pgx.Identifier{cfg.Publication}.Sanitize()
	sql := "CREATE PUBLICATION " + q + " FOR TABLES IN SCHEMA " + pgx.Identifier{cfg.Schema}.Sanitize()
	if len(cfg.Tables) > 0 {
		list := make([]string, len(cfg.Tables))
		for i, t := range cfg.Tables {
			list[i] = pgx.Identifier{cfg.Schema, t}.Sanitize()
		}
		sql = "CREATE PUBLICATION " + q + " FOR TABLE " + strings.Join(list, ", ")
	}
	if _, err := c.Exec(ctx, sql); err != nil && !isDuplicate(err) {
		return fmt.Errorf("failed to create publication %s (%s): %w", cfg.Publication, sql, err)
	}
	cfg.Logger.Info("created the publication", "publication", cfg.Publication, "sql", sql)
	return nil
}

func ensureSlot(ctx context.Context, c *pgx.Conn, slot string) error {
	var plugin, kind string
	err := c.QueryRow(ctx, `SELECT plugin, slot_type FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&plugin, &kind)
	if err == nil {
		if kind != "logical" || plugin != "pgoutput" {
			return fmt.Errorf("failed to use replication slot %s: it is a %s slot of plugin %q, not a logical pgoutput slot", slot, kind, plugin)
		}
		return nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("failed to look up replication slot %s: %w", slot, err)
	}
	if _, err := c.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, slot); err != nil && !isDuplicate(err) {
		return fmt.Errorf("failed to create replication slot %s: %w", slot, err)
	}
	return nil
}

// readTable reads the columns naming a row of schema.name: the primary
// key, or the replica identity index when there is none.
func readTable(ctx context.Context, c *pgx.Conn, schema, name string) (*table, error) {
	var ident string
	var pk, ri []string
	err := c.QueryRow(ctx, `
SELECT c.relreplident::text,
  COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE i.indrelid = c.oid AND i.indisprimary), '{}'),
  COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE i.indrelid = c.oid AND i.indisreplident), '{}')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2`, schema, name).Scan(&ident, &pk, &ri)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("failed to find table %s.%s", schema, name)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the key of table %s.%s: %w", schema, name, err)
	}
	t := &table{schema: schema, name: name, key: pk}
	switch {
	case ident == "n":
		return nil, noKeyError{fmt.Sprintf("table %s.%s has REPLICA IDENTITY NOTHING, so its deletes carry no key (ALTER TABLE %s.%s REPLICA IDENTITY DEFAULT)",
			schema, name, schema, name)}
	case len(pk) > 0:
	case ident == "i" && len(ri) > 0:
		t.key = ri
	default:
		return nil, noKeyError{fmt.Sprintf("table %s.%s has no primary key and no replica identity index, so its rows cannot be named in events (add a primary key, or ALTER TABLE %s.%s REPLICA IDENTITY USING INDEX <unique index>)",
			schema, name, schema, name)}
	}
	return t, nil
}

// noKeyError refuses one table; prepare gathers them.
type noKeyError struct{ msg string }

func (e noKeyError) Error() string { return e.msg }

// isDuplicate reports a duplicate_object error: another node created the
// publication or the slot first.
func isDuplicate(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42710"
}
