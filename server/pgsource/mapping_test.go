package pgsource_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/pgtest"
	"github.com/refine-live-wasm/refine-live-wasm/server/pgsource"
)

const schemaSQL = `
CREATE TABLE posts (id int PRIMARY KEY, title text);
CREATE TABLE order_items (order_id bigint, sku text, qty int, PRIMARY KEY (order_id, sku));
CREATE TABLE tags (name text PRIMARY KEY);
CREATE TABLE big (id bigint PRIMARY KEY);
CREATE TABLE accounts (email text NOT NULL, note text);
CREATE UNIQUE INDEX accounts_email ON accounts (email);
ALTER TABLE accounts REPLICA IDENTITY USING INDEX accounts_email;
`

// Each change type on each kind of key becomes the documented event, on
// the table's channel or its renamed one, dated with the commit time.
func TestChangesBecomeEvents(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(schemaSQL)
	h := newHarness(t, pg, pgsource.Config{Rename: map[string]string{"posts": "articles"}})
	got := h.subscribe(t, "resources/articles", "resources/order_items", "resources/tags", "resources/big", "resources/accounts")

	before := time.Now().Add(-time.Second)
	for _, q := range []string{
		`INSERT INTO posts VALUES (1, 'a')`,
		`UPDATE posts SET title = 'b' WHERE id = 1`,
		`UPDATE posts SET id = 2 WHERE id = 1`,
		`DELETE FROM posts WHERE id = 2`,
		`INSERT INTO order_items VALUES (7, 'x-1', 1)`,
		`UPDATE order_items SET qty = 2`,
		`DELETE FROM order_items`,
		`INSERT INTO tags VALUES ('go')`,
		`INSERT INTO big VALUES (9007199254740993)`,
		`INSERT INTO accounts VALUES ('a@example.com', 'n')`,
		`DELETE FROM accounts`,
	} {
		pg.Exec(q)
	}
	want := []shape{
		{"resources/articles", "created", `{"ids":[1]}`},
		{"resources/articles", "updated", `{"ids":[1]}`},
		{"resources/articles", "updated", `{"ids":[2,1]}`},
		{"resources/articles", "deleted", `{"ids":[2]}`},
		{"resources/order_items", "created", `{"ids":[{"order_id":7,"sku":"x-1"}]}`},
		{"resources/order_items", "updated", `{"ids":[{"order_id":7,"sku":"x-1"}]}`},
		{"resources/order_items", "deleted", `{"ids":[{"order_id":7,"sku":"x-1"}]}`},
		{"resources/tags", "created", `{"ids":["go"]}`},
		{"resources/big", "created", `{"ids":["9007199254740993"]}`},
		{"resources/accounts", "created", `{"ids":["a@example.com"]}`},
		{"resources/accounts", "deleted", `{"ids":["a@example.com"]}`},
	}
	got.WaitLen(t, len(want))
	evs := got.All()
	for i, s := range shapes(evs) {
		if i >= len(want) || s != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, s, want[min(i, len(want)-1)])
		}
	}
	idRE := regexp.MustCompile(`^pg-[0-9A-F]{16}-\d+$`)
	for _, e := range evs {
		d := time.UnixMilli(e.Date)
		if d.Before(before) || d.After(time.Now()) {
			t.Errorf("%s: date %v is not the commit time", e.ID, d)
		}
		if !idRE.MatchString(e.ID) {
			t.Errorf("id %q is not derived from the LSN", e.ID)
		}
	}
}

// A table whose rows cannot be named is refused at startup, by name; a
// table keyed by a replica identity index is accepted.
func TestTableWithoutKeyRefused(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE logs (msg text); CREATE TABLE audit (id int PRIMARY KEY); ALTER TABLE audit REPLICA IDENTITY NOTHING;
CREATE TABLE fine (id int PRIMARY KEY)`)
	src, err := pgsource.New(pgsource.Config{URL: pg.URL(), Logger: livetest.Logger(t)}, nil)
	require.NoError(t, err)
	err = src.Start(context.Background())
	if err == nil {
		_ = src.Close()
		t.Fatal("started with a table without a key")
	}
	if !errors.Is(err, pgsource.ErrNoKey) || !strings.Contains(err.Error(), "public.logs") || !strings.Contains(err.Error(), "public.audit") ||
		strings.Contains(err.Error(), "public.fine") {
		t.Fatalf("error does not name exactly the refused tables: %v", err)
	}
	// Restricted to the good table, the same database is accepted.
	src, err = pgsource.New(pgsource.Config{URL: pg.URL(), Publication: "only_fine", Tables: []string{"fine"}, Logger: livetest.Logger(t)}, nil)
	require.NoError(t, err)
	require.NoError(t, src.Start(context.Background()), "refused a table with a key")
	_ = src.Close()
	// A table not in an existing publication is named too.
	src, _ = pgsource.New(pgsource.Config{URL: pg.URL(), Publication: "only_fine", Tables: []string{"fine", "logs"}, Logger: livetest.Logger(t)}, nil)
	if err := src.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "public.logs is not in publication only_fine") {
		t.Fatalf("want the missing table named, got %v", err)
	}
}

// A refine-live message becomes its event when its transaction commits,
// and never when it rolls back; a malformed one is skipped without
// holding up what follows.
func TestTransactionalMessages(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(`CREATE TABLE posts (id int PRIMARY KEY)`)
	h := newHarness(t, pg, pgsource.Config{})
	got := h.subscribe(t, "notifications", "resources/posts")
	c := pg.Conn()
	ctx := context.Background()
	emit := `SELECT pg_logical_emit_message(true, 'refine-live', $1)`
	tx, _ := c.Begin(ctx)
	_, _ = tx.Exec(ctx, emit, `{"channel":"notifications","type":"created","payload":{"n":"rolled back"}}`)
	_, _ = tx.Exec(ctx, `INSERT INTO posts VALUES (1)`)
	require.NoError(t, tx.Rollback(ctx))
	for _, q := range []string{
		`SELECT pg_logical_emit_message(true, 'refine-live', 'not json')`,
		`SELECT pg_logical_emit_message(true, 'other-prefix', '{"channel":"notifications","type":"x"}')`,
	} {
		pg.Exec(q)
	}
	tx, _ = c.Begin(ctx)
	_, _ = tx.Exec(ctx, `INSERT INTO posts VALUES (2)`)
	_, _ = tx.Exec(ctx, emit, `{"channel":"notifications","type":"created","payload":{"n":"committed"},"meta":{"by":"sql"}}`)
	// Nothing is sent before the commit.
	time.Sleep(200 * time.Millisecond)
	if n := got.Len(); n != 0 {
		t.Fatalf("%d events before the commit", n)
	}
	require.NoError(t, tx.Commit(ctx))
	got.WaitLen(t, 2)
	time.Sleep(100 * time.Millisecond) // room for a wrongly emitted extra event to show up
	s := shapes(got.All())
	want := []shape{{"resources/posts", "created", `{"ids":[2]}`}, {"notifications", "created", `{"n":"committed"}`}}
	if len(s) != 2 || s[0] != want[0] || s[1] != want[1] {
		t.Fatalf("got %+v, want %+v", s, want)
	}
	if m := string(got.All()[1].Meta); m != `{"by":"sql"}` {
		t.Fatalf("meta %s", m)
	}
	body := scrape(t, h)
	if !strings.Contains(body, `refine_live_postgres_skipped_total{reason="bad_message"} 1`) {
		t.Fatalf("the malformed message is not counted:\n%s", grepLines(body, "postgres"))
	}
}
