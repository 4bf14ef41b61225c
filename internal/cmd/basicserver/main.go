package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"sync"

	"github.com/coder/websocket"
)

type message struct {
	Action  string          `json:"action"`
	Channel string          `json:"channel"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

type hub struct {
	mu   sync.Mutex
	subs map[string]map[*websocket.Conn]bool
}

func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer h.drop(c)
	ctx := r.Context()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		var m message
		if json.Unmarshal(data, &m) != nil || m.Channel == "" {
			continue
		}
		switch m.Action {
		case "subscribe":
			h.mu.Lock()
			if h.subs[m.Channel] == nil {
				h.subs[m.Channel] = make(map[*websocket.Conn]bool)
			}
			h.subs[m.Channel][c] = true
			h.mu.Unlock()
		case "unsubscribe":
			h.mu.Lock()
			delete(h.subs[m.Channel], c)
			h.mu.Unlock()
		case "publish":
			out, _ := json.Marshal(struct {
				Channel string          `json:"channel"`
				Type    string          `json:"type"`
				Payload json.RawMessage `json:"payload"`
			}{m.Channel, m.Type, m.Payload})
			h.broadcast(ctx, m.Channel, out)
		}
	}
}

func (h *hub) broadcast(ctx context.Context, channel string, out []byte) {
	h.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(h.subs[channel]))
	for c := range h.subs[channel] {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		_ = c.Write(ctx, websocket.MessageText, out)
	}
}

func (h *hub) drop(c *websocket.Conn) {
	h.mu.Lock()
	for _, set := range h.subs {
		delete(set, c)
	}
	h.mu.Unlock()
	c.CloseNow()
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	flag.Parse()
	h := &hub{subs: make(map[string]map[*websocket.Conn]bool)}
	mux := http.NewServeMux()
	mux.HandleFunc("/live", h.serve)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	log.Fatal(http.ListenAndServe(*addr, mux))
}
