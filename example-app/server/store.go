package main

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// record is one row of a resource, as JSON sees it. Its "id" is an int.
type record map[string]any

// errNotFound is returned for an id that is not in the table.
var errNotFound = errors.New("not found")

// table is one resource's rows, safe for concurrent use.
type table struct {
	mu     sync.RWMutex
	rows   map[int]record
	nextID int
}

func newTable(rows []record) (*table, error) {
	t := &table{rows: make(map[int]record, len(rows)), nextID: 1}
	for i, r := range rows {
		id, ok := idOf(r["id"])
		if !ok {
			id = t.nextID
		}
		if _, dup := t.rows[id]; dup {
			return nil, fmt.Errorf("failed to seed row %d: duplicate id %d", i, id)
		}
		r = maps.Clone(r)
		r["id"] = id
		t.rows[id] = r
		t.nextID = max(t.nextID, id+1)
	}
	return t, nil
}

// idOf reads an id from a JSON value or a path segment.
func idOf(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, x > 0
	case float64:
		return int(x), x > 0 && x == float64(int(x))
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil && n > 0
	}
	return 0, false
}

// listQuery is what a list request asks for.
type listQuery struct {
	start, end int // end < 0: no limit
	sort       []sortKey
	ids        map[int]bool      // nil: any id
	equal      map[string]string // field = value
	like       map[string]string // field_like = substring (case-insensitive)
	q          string            // full-text over string fields
}

type sortKey struct {
	field string
	desc  bool
}

// list returns the page the query asks for and the total that matched.
func (t *table) list(q listQuery) ([]record, int) {
	t.mu.RLock()
	rows := make([]record, 0, len(t.rows))
	for _, r := range t.rows {
		if q.matches(r) {
			rows = append(rows, maps.Clone(r))
		}
	}
	t.mu.RUnlock()

	keys := q.sort
	if len(keys) == 0 {
		keys = []sortKey{{field: "id"}}
	}
	slices.SortStableFunc(rows, func(a, b record) int {
		for _, k := range keys {
			c := compareValues(a[k.field], b[k.field])
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a["id"].(int), b["id"].(int))
	})
	total := len(rows)
	start := min(max(q.start, 0), total)
	end := total
	if q.end >= 0 {
		end = min(max(q.end, start), total)
	}
	return rows[start:end], total
}

func (q listQuery) matches(r record) bool {
	if q.ids != nil && !q.ids[r["id"].(int)] {
		return false
	}
	for f, v := range q.equal {
		if stringOf(r[f]) != v {
			return false
		}
	}
	for f, v := range q.like {
		if !strings.Contains(strings.ToLower(stringOf(r[f])), strings.ToLower(v)) {
			return false
		}
	}
	if q.q != "" {
		needle := strings.ToLower(q.q)
		for _, v := range r {
			if s, ok := v.(string); ok && strings.Contains(strings.ToLower(s), needle) {
				return true
			}
		}
		return false
	}
	return true
}

// stringOf renders a value the way it appears in a query string.
func stringOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// compareValues orders numbers numerically, everything else as text, and
// missing values first.
func compareValues(a, b any) int {
	if a == nil || b == nil {
		return cmp.Compare(boolInt(a != nil), boolInt(b != nil))
	}
	fa, aNum := number(a)
	fb, bNum := number(b)
	if aNum && bNum {
		return cmp.Compare(fa, fb)
	}
	return strings.Compare(stringOf(a), stringOf(b))
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (t *table) get(id int) (record, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.rows[id]
	if !ok {
		return nil, errNotFound
	}
	return maps.Clone(r), nil
}

// create stores fields under a new id and returns the stored record.
func (t *table) create(fields record) record {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := maps.Clone(fields)
	r["id"] = t.nextID
	t.nextID++
	t.rows[r["id"].(int)] = r
	return maps.Clone(r)
}

// update merges fields into the record (replace: swaps them in whole).
func (t *table) update(id int, fields record, replace bool) (record, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.rows[id]
	if !ok {
		return nil, errNotFound
	}
	r := maps.Clone(fields)
	if !replace {
		r = maps.Clone(old)
		maps.Copy(r, fields)
	}
	r["id"] = id
	t.rows[id] = r
	return maps.Clone(r), nil
}

func (t *table) remove(id int) (record, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.rows[id]
	if !ok {
		return nil, errNotFound
	}
	delete(t.rows, id)
	return r, nil
}

// memStore is a table as the API's store.
type memStore struct{ t *table }

func (m memStore) list(q listQuery) ([]record, int, error) {
	rows, total := m.t.list(q)
	return rows, total, nil
}
func (m memStore) get(id int) (record, error)           { return m.t.get(id) }
func (m memStore) create(fields record) (record, error) { return m.t.create(fields), nil }
func (m memStore) update(id int, fields record, replace bool) (record, error) {
	return m.t.update(id, fields, replace)
}
func (m memStore) remove(id int) (record, error) { return m.t.remove(id) }

// memStores wraps in-memory tables for the API.
func memStores(tables map[string]*table) map[string]store {
	out := make(map[string]store, len(tables))
	for name, t := range tables {
		out[name] = memStore{t}
	}
	return out
}
