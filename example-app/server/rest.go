package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// maxBody bounds a REST request body.
const maxBody = 1 << 20

// publisher is the part of *server.Server the REST API uses.
type publisher interface {
	Publish(ctx context.Context, ev server.Event) (server.Event, error)
}

// store is one resource's rows: in memory (table) or in PostgreSQL
// (pgTable).
type store interface {
	list(q listQuery) ([]record, int, error)
	get(id int) (record, error)
	create(fields record) (record, error)
	update(id int, fields record, replace bool) (record, error)
	remove(id int) (record, error)
}

// api serves the REST resources and publishes a LiveEvent for every
// change. With live nil it publishes nothing: the PostgreSQL change
// source announces every committed change, whoever made it.
type api struct {
	tables map[string]store
	live   publisher
	log    *slog.Logger
}

// routes registers the REST routes on mux under /api/.
func (a *api) routes(mux *http.ServeMux) {
	mux.HandleFunc("OPTIONS /api/", a.preflight)
	mux.HandleFunc("GET /api/{resource}", a.list)
	mux.HandleFunc("POST /api/{resource}", a.create)
	mux.HandleFunc("GET /api/{resource}/{id}", a.getOne)
	mux.HandleFunc("PATCH /api/{resource}/{id}", a.update)
	mux.HandleFunc("PUT /api/{resource}/{id}", a.update)
	mux.HandleFunc("DELETE /api/{resource}/{id}", a.remove)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		cors(w)
		writeError(w, http.StatusNotFound, "no such route")
	})
}

// cors lets the API be used from another origin (a dev server, a script)
// and lets simple-rest read the total from X-Total-Count.
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "X-Total-Count")
}

func (a *api) preflight(w http.ResponseWriter, r *http.Request) {
	cors(w)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// lookup resolves the {resource} and {id} path values, answering 404
// itself when they name nothing.
func (a *api) lookup(w http.ResponseWriter, r *http.Request, withID bool) (string, store, int, bool) {
	cors(w)
	name := r.PathValue("resource")
	t, ok := a.tables[name]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no resource %q", name))
		return "", nil, 0, false
	}
	if !withID {
		return name, t, 0, true
	}
	id, ok := idOf(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no %s with id %q", name, r.PathValue("id")))
		return "", nil, 0, false
	}
	return name, t, id, true
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	_, t, _, ok := a.lookup(w, r, false)
	if !ok {
		return
	}
	q, err := parseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rows, total, err := t.list(q)
	if err != nil {
		a.failed(w, err)
		return
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	writeJSON(w, http.StatusOK, rows)
}

// parseListQuery reads simple-rest's list parameters: _start and _end
// (a half-open range), _sort and _order (comma-separated, matched by
// position), id (repeated: getMany), q, field=value and field_like=text.
func parseListQuery(v url.Values) (listQuery, error) {
	q := listQuery{end: -1, equal: map[string]string{}, like: map[string]string{}, q: v.Get("q")}
	var err error
	if s := v.Get("_start"); s != "" {
		if q.start, err = strconv.Atoi(s); err != nil || q.start < 0 {
			return q, fmt.Errorf("failed to read _start %q: not a count", s)
		}
	}
	if s := v.Get("_end"); s != "" {
		if q.end, err = strconv.Atoi(s); err != nil || q.end < 0 {
			return q, fmt.Errorf("failed to read _end %q: not a count", s)
		}
	}
	if s := v.Get("_sort"); s != "" {
		fields := strings.Split(s, ",")
		orders := strings.Split(v.Get("_order"), ",")
		for i, f := range fields {
			desc := i < len(orders) && strings.EqualFold(strings.TrimSpace(orders[i]), "desc")
			q.sort = append(q.sort, sortKey{field: strings.TrimSpace(f), desc: desc})
		}
	}
	for key, values := range v {
		switch {
		case key == "id":
			q.ids = map[int]bool{}
			for _, s := range values {
				if id, ok := idOf(s); ok {
					q.ids[id] = true
				}
			}
		case strings.HasPrefix(key, "_") || key == "q":
		case strings.HasSuffix(key, "_like"):
			q.like[strings.TrimSuffix(key, "_like")] = values[0]
		case strings.HasSuffix(key, "_ne"), strings.HasSuffix(key, "_gte"), strings.HasSuffix(key, "_lte"):
			// Other json-server operators are not needed by the app.
		default:
			q.equal[key] = values[0]
		}
	}
	return q, nil
}

func (a *api) getOne(w http.ResponseWriter, r *http.Request) { a.oneRecord(w, r, "", store.get) }

func (a *api) remove(w http.ResponseWriter, r *http.Request) {
	a.oneRecord(w, r, "deleted", store.remove)
}

// oneRecord answers with the record op returns for the id in the path,
// having announced the change typ first unless typ is "".
func (a *api) oneRecord(w http.ResponseWriter, r *http.Request, typ string, op func(t store, id int) (record, error)) {
	name, t, id, ok := a.lookup(w, r, true)
	if !ok {
		return
	}
	rec, err := op(t, id)
	if !a.found(w, name, id, err) {
		return
	}
	if typ != "" {
		a.publish(r.Context(), name, typ, id)
	}
	writeJSON(w, http.StatusOK, rec)
}

// lookupFields is lookup, then readFields for the body.
func (a *api) lookupFields(w http.ResponseWriter, r *http.Request, withID bool) (string, store, int, record, bool) {
	name, t, id, ok := a.lookup(w, r, withID)
	if !ok {
		return "", nil, 0, nil, false
	}
	fields, ok := readFields(w, r)
	return name, t, id, fields, ok
}

// readFields decodes a JSON object body; on failure it has answered 400.
func readFields(w http.ResponseWriter, r *http.Request) (record, bool) {
	var fields record
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(&fields); err != nil {
		writeError(w, http.StatusBadRequest, "failed to read body: "+err.Error())
		return nil, false
	}
	if fields == nil {
		writeError(w, http.StatusBadRequest, "failed to read body: not a JSON object")
		return nil, false
	}
	delete(fields, "id")
	return fields, true
}

// found reports whether a record operation succeeded; otherwise it has
// answered 404 for a missing record and 500 for any other failure.
func (a *api) found(w http.ResponseWriter, name string, id int, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no %s with id %d", name, id))
	default:
		a.failed(w, err)
	}
	return false
}

func (a *api) create(w http.ResponseWriter, r *http.Request) {
	name, t, _, fields, ok := a.lookupFields(w, r, false)
	if !ok {
		return
	}
	if _, ok := fields["createdAt"]; !ok {
		fields["createdAt"] = time.Now().UTC().Format(time.RFC3339)
	}
	rec, err := t.create(fields)
	if err != nil {
		a.failed(w, err)
		return
	}
	a.publish(r.Context(), name, "created", rec["id"])
	writeJSON(w, http.StatusCreated, rec)
}

func (a *api) update(w http.ResponseWriter, r *http.Request) {
	name, t, id, fields, ok := a.lookupFields(w, r, true)
	if !ok {
		return
	}
	rec, err := t.update(id, fields, r.Method == http.MethodPut)
	if !a.found(w, name, id, err) {
		return
	}
	a.publish(r.Context(), name, "updated", id)
	writeJSON(w, http.StatusOK, rec)
}

// publish announces a change on resources/<name>. The change is already
// stored, so a failure to publish is logged, not returned to the client.
func (a *api) publish(ctx context.Context, resource, typ string, id any) {
	if a.live == nil {
		return
	}
	payload, _ := json.Marshal(map[string][]any{"ids": {id}})
	ev := server.Event{Channel: "resources/" + resource, Type: typ, Payload: payload}
	// The request may be cancelled once the client has its answer; the
	// event must still go out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := a.live.Publish(ctx, ev); err != nil {
		a.log.Error("failed to publish change", "channel", ev.Channel, "type", typ, "id", id, "err", err)
	}
}

// failed answers a store failure (PostgreSQL away) with 500.
func (a *api) failed(w http.ResponseWriter, err error) {
	a.log.Error("store failed", "err", err)
	writeError(w, http.StatusInternalServerError, err.Error())
}
