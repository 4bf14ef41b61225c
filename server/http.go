package server

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// decodeBody reads a POST /publish body, a Refine LiveEvent without its
// date (the server stamps it) and with an optional id, into an event and
// nothing more: the event rules are checked by publish, as for the other
// entry points. Keys are matched exactly and unknown ones ignored, as the
// WebSocket decoder does; encoding/json's struct decoding would match
// "Channel" too.
func decodeBody(body []byte) (Event, error) {
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&members); err != nil || dec.More() || members == nil {
		return Event{}, &protocol.DecodeError{Kind: protocol.ErrMalformed,
			Detail: "body must be one JSON object: {channel, type, payload?, meta?, id?}"}
	}
	ev := Event{Payload: members["payload"], Meta: members["meta"]}
	for _, f := range []struct {
		key string
		dst *string
	}{{"channel", &ev.Channel}, {"type", &ev.Type}, {"id", &ev.ID}} {
		if raw, ok := members[f.key]; ok {
			// A null leaves the field empty: absent, as on the WebSocket.
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return Event{}, &protocol.DecodeError{Kind: protocol.ErrWrongType, Field: f.key, Detail: "want string"}
			}
		}
	}
	return ev, nil
}

// publishResponse is the answer to a successful POST /publish.
type publishResponse struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Seq     uint64 `json:"seq"`
	Epoch   string `json:"epoch"`
	Date    int64  `json:"date"`
}

// httpError is the body of every 4xx and 5xx answer, shaped like the
// protocol's error message so that one vocabulary serves both.
type httpError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, httpError{Code: code, Message: msg})
}

// PublishHandler serves POST /publish for backends in any language. The
// body is one event or an array of events (all stored, or none when one is
// refused; see publishBatch). Answers: 200 with the stored position; 400 bad_request (body not one
// JSON object, or an event breaking the event rules); 401 unauthorized
// (missing or wrong bearer token when Config.PublishToken is set); 405 on
// other methods; 413 too_large (body over MaxPublishBody, or event over
// MaxMessage); 500.
func (s *Server) PublishHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, protocol.CodeBadRequest, "use POST")
			return
		}
		if s.cfg.PublishToken != "" && !s.publishTokenOK(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="refine-live"`)
			s.metrics.drops.WithLabelValues("http_unauthorized").Inc()
			writeError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "missing or invalid bearer token")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.cfg.MaxPublishBody)))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(w, http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, "body too large")
				return
			}
			writeError(w, http.StatusBadRequest, protocol.CodeBadRequest, "failed to read body")
			return
		}
		if isArray(body) {
			s.publishBatch(w, r, body)
			return
		}
		ev, err := decodeBody(body)
		if err != nil {
			writeError(w, http.StatusBadRequest, protocol.CodeBadRequest, err.Error())
			return
		}
		stored, err := s.publish(r.Context(), ev, "http")
		if err != nil {
			s.writePublishError(w, err, ev.Channel, "")
			return
		}
		writeJSON(w, http.StatusOK, responseFor(stored))
	})
}

func responseFor(ev Event) publishResponse {
	return publishResponse{ID: ev.ID, Channel: ev.Channel, Seq: ev.Seq, Epoch: ev.Epoch, Date: ev.Date.UnixMilli()}
}

// writePublishError answers a refused or failed publish; where names the
// event of an array.
func (s *Server) writePublishError(w http.ResponseWriter, err error, channel, where string) {
	var de *protocol.DecodeError
	switch {
	case errors.Is(err, ErrInvalidEvent) && errors.As(err, &de):
		status := http.StatusBadRequest
		if de.Kind == protocol.ErrTooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, status, de.Code(), where+de.Error())
	default:
		s.cfg.Logger.Error("publish failed", "channel", channel, "err", err)
		writeError(w, http.StatusInternalServerError, protocol.CodeInternal, "publish failed")
	}
}

// publishTokenOK compares in constant time so that the token cannot be
// guessed byte by byte from response times.
func (s *Server) publishTokenOK(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.PublishToken)) == 1
}

// HealthHandler serves GET /healthz: 200 {"status":"ok"} while serving,
// 200 {"status":"degraded","reason":…} while Config.Degraded says so, and
// 503 {"status":"shutting down"} once Shutdown has begun, so that a load
// balancer stops sending new clients.
func (s *Server) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		if closing {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
			return
		}
		if s.cfg.Degraded != nil {
			if reason := s.cfg.Degraded(); reason != "" {
				writeJSON(w, http.StatusOK, map[string]string{"status": "degraded", "reason": reason})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// MetricsHandler serves the Server's Prometheus metrics.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}
