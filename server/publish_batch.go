package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// isArray tells a body holding a JSON array of events from one holding a
// single event object.
func isArray(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

// publishBatch serves a POST /publish body that is an array of events:
// each is decoded and checked exactly as a single one, and either all are
// accepted or none is stored. The answer lists the stored positions in the
// order of the array.
func (s *Server) publishBatch(w http.ResponseWriter, r *http.Request, body []byte) {
	var raws []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raws); err != nil || dec.More() {
		writeError(w, http.StatusBadRequest, protocol.CodeBadRequest,
			"body must be one JSON object or one array of objects")
		return
	}
	if len(raws) == 0 {
		writeError(w, http.StatusBadRequest, protocol.CodeBadRequest, "empty array: at least one event")
		return
	}
	evs := make([]Event, len(raws))
	for i, raw := range raws {
		where := "event " + strconv.Itoa(i) + ": "
		ev, err := decodeBody(raw)
		if err != nil {
			writeError(w, http.StatusBadRequest, protocol.CodeBadRequest, where+err.Error())
			return
		}
		if err := s.check(&ev); err != nil {
			s.writePublishError(w, err, ev.Channel, where)
			return
		}
		evs[i] = ev
	}
	out := make([]publishResponse, len(evs))
	for i, ev := range evs {
		stored, err := s.store(r.Context(), ev, "http")
		if err != nil {
			// The events before this one are stored: the answer says
			// how many, and a retry with ids stores none twice.
			s.cfg.Logger.Error("publish failed", "channel", ev.Channel, "err", err, "stored", i)
			writeError(w, http.StatusInternalServerError, protocol.CodeInternal,
				"publish failed after "+strconv.Itoa(i)+" of "+strconv.Itoa(len(evs))+" events")
			return
		}
		out[i] = responseFor(stored)
	}
	writeJSON(w, http.StatusOK, out)
}
