package pgsource

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jackc/pglogrepl"

	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// relation is a table as the stream describes it, with the positions of
// its key columns in the stream's tuples.
type relation struct {
	table   string // schema.name, the metrics label
	channel string
	// skip is set for tables the source does not stream (another schema,
	// or not in Config.Tables).
	skip bool
	// keyPos are the tuple positions of the key columns, named keyNames,
	// of types keyTypes.
	keyPos   []int
	keyNames []string
	keyTypes []uint32
}

// newRelation matches a relation message to the table read from the
// catalog. t is nil when the catalog has no entry: keyed then by the
// stream's replica identity flags.
func newRelation(cfg *Config, m *pglogrepl.RelationMessage, t *table, skip bool) *relation {
	r := &relation{table: m.Namespace + "." + m.RelationName, channel: cfg.channel(m.RelationName), skip: skip}
	if skip {
		return r
	}
	for i, col := range m.Columns {
		in := col.Flags&1 == 1
		if t != nil {
			in = false
			for _, k := range t.key {
				in = in || k == col.Name
			}
		}
		if in {
			r.keyPos = append(r.keyPos, i)
			r.keyNames = append(r.keyNames, col.Name)
			r.keyTypes = append(r.keyTypes, col.DataType)
		}
	}
	return r
}

// OIDs of the integer types, whose keys are JSON numbers.
const (
	oidInt8 = 20
	oidInt2 = 21
	oidInt4 = 23
	oidOID  = 26
)

// maxSafe is the largest integer a JavaScript number holds exactly; larger
// int8 keys are sent as strings so that no id is silently rounded.
const maxSafe = 1<<53 - 1

// keyValue renders one key column: integers as numbers, everything else
// (text, uuid, numeric, …) as the string PostgreSQL prints.
func keyValue(typ uint32, col *pglogrepl.TupleDataColumn) any {
	if col == nil || col.DataType != 't' {
		return nil
	}
	switch typ {
	case oidInt2, oidInt4, oidInt8, oidOID:
		if n, err := strconv.ParseInt(string(col.Data), 10, 64); err == nil && n <= maxSafe && n >= -maxSafe {
			return json.Number(string(col.Data))
		}
	}
	return string(col.Data)
}

// id is the key of the row in tuple: the value of a single key column, or
// an object of every key column for a composite key. ok is false when the
// tuple lacks a key column (a key-only tuple of another shape).
func (r *relation) id(tuple *pglogrepl.TupleData) (v any, ok bool) {
	if tuple == nil || len(r.keyPos) == 0 {
		return nil, false
	}
	vals := make([]any, len(r.keyPos))
	for i, p := range r.keyPos {
		if p >= len(tuple.Columns) {
			return nil, false
		}
		vals[i] = keyValue(r.keyTypes[i], tuple.Columns[p])
	}
	if len(vals) == 1 {
		return vals[0], true
	}
	obj := make(map[string]any, len(vals))
	for i, n := range r.keyNames {
		obj[n] = vals[i]
	}
	return obj, true
}

// payload is {"ids":[…]}: the new row's key, then the old one when an
// UPDATE changed the key.
func payload(ids ...any) json.RawMessage {
	b, err := json.Marshal(map[string][]any{"ids": ids})
	if err != nil {
		// Only strings, numbers and maps of them reach here.
		panic(err)
	}
	return b
}

// changeEvent is the event of one row change; ok is false for a table the
// source does not stream.
func (r *relation) changeEvent(msg pglogrepl.Message) (ev server.Event, ok bool) {
	if r.skip {
		return ev, false
	}
	ids := []any{}
	add := func(t *pglogrepl.TupleData) {
		v, ok := r.id(t)
		if !ok {
			return
		}
		for _, have := range ids {
			if sameID(have, v) {
				return
			}
		}
		ids = append(ids, v)
	}
	switch m := msg.(type) {
	case *pglogrepl.InsertMessage:
		ev.Type = "created"
		add(m.Tuple)
	case *pglogrepl.UpdateMessage:
		ev.Type = "updated"
		add(m.NewTuple)
		add(m.OldTuple)
	case *pglogrepl.DeleteMessage:
		ev.Type = "deleted"
		add(m.OldTuple)
	default:
		return ev, false
	}
	ev.Channel = r.channel
	ev.Payload = payload(ids...)
	return ev, true
}

func sameID(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// customEvent is the event a refine-live logical decoding message asks
// for: {"channel":…,"type":…,"payload":…,"meta":…}.
func customEvent(content []byte) (server.Event, error) {
	var m struct {
		Channel string          `json:"channel"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
		Meta    json.RawMessage `json:"meta"`
	}
	if err := json.Unmarshal(content, &m); err != nil {
		return server.Event{}, fmt.Errorf("failed to decode a %s message: %w", MessagePrefix, err)
	}
	if m.Channel == "" || m.Type == "" {
		return server.Event{}, fmt.Errorf("failed to decode a %s message: channel and type are required", MessagePrefix)
	}
	return server.Event{Channel: m.Channel, Type: m.Type, Payload: m.Payload, Meta: m.Meta}, nil
}

// eventID names the n-th event of the transaction committed at commit:
// the same on every replay of the transaction, unique across the WAL.
func eventID(commit pglogrepl.LSN, n int) string {
	return fmt.Sprintf("pg-%016X-%d", uint64(commit), n)
}
