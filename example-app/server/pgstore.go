package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgSchema is the example's tables in PostgreSQL. The quoted camelCase
// names are the JSON field names of the app.
const pgSchema = `
CREATE TABLE IF NOT EXISTS categories (id serial PRIMARY KEY, title text NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS posts (
  id serial PRIMARY KEY,
  title text NOT NULL DEFAULT '',
  content text NOT NULL DEFAULT '',
  status text NOT NULL DEFAULT 'draft',
  "categoryId" int,
  "createdAt" text
);`

// pgTable is one resource in PostgreSQL. Lists read the whole table and
// filter it like the in-memory store (the example's tables are small), so
// both stores answer simple-rest's queries the same way.
type pgTable struct {
	pool *pgxpool.Pool
	name string
	cols []string // every column but id
}

// openPostgres creates the tables when missing, seeds them when empty,
// and returns the API's stores on them.
func openPostgres(ctx context.Context, url string, seed seedData) (*pgxpool.Pool, map[string]store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to connect to PostgreSQL: %w", err)
	}
	if _, err := pool.Exec(ctx, pgSchema); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("failed to create the tables: %w", err)
	}
	stores := map[string]store{}
	for name, rows := range map[string][]record{"categories": seed.Categories, "posts": seed.Posts} {
		t := &pgTable{pool: pool, name: name}
		if err := t.load(ctx, rows); err != nil {
			pool.Close()
			return nil, nil, err
		}
		stores[name] = t
	}
	return pool, stores, nil
}

func (t *pgTable) ident() string { return pgx.Identifier{t.name}.Sanitize() }

// load reads the columns and seeds an empty table.
func (t *pgTable) load(ctx context.Context, seed []record) error {
	rows, err := t.pool.Query(ctx, `SELECT column_name FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = $1 AND column_name <> 'id' ORDER BY ordinal_position`, t.name)
	if err != nil {
		return fmt.Errorf("failed to read the columns of %s: %w", t.name, err)
	}
	if t.cols, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return fmt.Errorf("failed to read the columns of %s: %w", t.name, err)
	}
	var n int
	if err := t.pool.QueryRow(ctx, "SELECT count(*) FROM "+t.ident()).Scan(&n); err != nil {
		return fmt.Errorf("failed to count %s: %w", t.name, err)
	}
	if n > 0 {
		return nil
	}
	for _, r := range seed {
		b, _ := json.Marshal(r)
		cols := append([]string{"id"}, t.cols...)
		if _, err := t.pool.Exec(ctx, t.insertSQL(cols), b); err != nil {
			return fmt.Errorf("failed to seed %s: %w", t.name, err)
		}
	}
	_, err = t.pool.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), GREATEST((SELECT max(id) FROM %s), 1))`, t.name, t.ident()))
	if err != nil {
		return fmt.Errorf("failed to move the id sequence of %s: %w", t.name, err)
	}
	return nil
}

// known keeps the fields that are columns, quoted.
func (t *pgTable) known(fields record) []string {
	var cols []string
	for _, c := range t.cols {
		if _, ok := fields[c]; ok {
			cols = append(cols, c)
		}
	}
	return cols
}

func quoteAll(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// insertSQL inserts the given columns of the JSON object $1.
func (t *pgTable) insertSQL(cols []string) string {
	if len(cols) == 0 {
		return "INSERT INTO " + t.ident() + " AS t DEFAULT VALUES RETURNING row_to_json(t)"
	}
	c := quoteAll(cols)
	return "INSERT INTO " + t.ident() + " AS t (" + c + ") SELECT " + c + " FROM jsonb_populate_record(NULL::" + t.ident() + ", $1) RETURNING row_to_json(t)"
}

func (t *pgTable) list(q listQuery) ([]record, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := t.pool.Query(ctx, "SELECT row_to_json(t) FROM "+t.ident()+" t")
	if err != nil {
		return nil, 0, fmt.Errorf("failed to list %s: %w", t.name, err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (record, error) { return scanRecord(r) })
	if err != nil {
		return nil, 0, fmt.Errorf("failed to list %s: %w", t.name, err)
	}
	mem, err := newTable(all)
	if err != nil {
		return nil, 0, err
	}
	page, total := mem.list(q)
	return page, total, nil
}

func (t *pgTable) one(sql string, args ...any) (record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := scanRecord(t.pool.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("failed to write %s: %w", t.name, err)
	}
	return r, nil
}

func (t *pgTable) get(id int) (record, error) {
	return t.one("SELECT row_to_json(t) FROM "+t.ident()+" t WHERE id = $1", id)
}

func (t *pgTable) create(fields record) (record, error) {
	b, _ := json.Marshal(fields)
	return t.one(t.insertSQL(t.known(fields)), b)
}

func (t *pgTable) update(id int, fields record, replace bool) (record, error) {
	cols := t.known(fields)
	if replace {
		cols = slices.Clone(t.cols)
	}
	if len(cols) == 0 {
		return t.get(id)
	}
	b, _ := json.Marshal(fields)
	c := quoteAll(cols)
	return t.one("UPDATE "+t.ident()+" AS t SET ("+c+") = (SELECT "+c+" FROM jsonb_populate_record(NULL::"+t.ident()+", $1)) WHERE id = $2 RETURNING row_to_json(t)", b, id)
}

func (t *pgTable) remove(id int) (record, error) {
	return t.one("DELETE FROM "+t.ident()+" AS t WHERE id = $1 RETURNING row_to_json(t)", id)
}

// scanRecord decodes one row_to_json value; the id becomes an int, as in
// the in-memory store.
func scanRecord(row pgx.Row) (record, error) {
	var b []byte
	if err := row.Scan(&b); err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("failed to decode a row: %w", err)
	}
	if id, ok := idOf(r["id"]); ok {
		r["id"] = id
	}
	return r, nil
}
