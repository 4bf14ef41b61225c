package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/centrifugal/centrifuge"

	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// serve runs the child process: one server on addr until SIGTERM. It
// prints "ready" once it listens, which is what the parent waits for.
func serve(kind, addr string) error {
	var h http.Handler
	switch kind {
	case "liveserver":
		s := server.New(server.Config{Logger: slog.New(slog.DiscardHandler)})
		h = s.Handler()
	case "liveserver-nats":
		b, stop, err := natsBroker()
		if err != nil {
			return err
		}
		defer stop()
		s := server.New(server.Config{Broker: b, Logger: slog.New(slog.DiscardHandler)})
		h = s.Handler()
	case "centrifuge":
		ch, err := centrifugeHandler()
		if err != nil {
			return err
		}
		h = ch
	default:
		return fmt.Errorf("failed to serve: unknown server %q", kind)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	if path := os.Getenv("FANOUT_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("failed to create the profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("failed to start the profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	hs := &http.Server{Handler: h}
	go func() { _ = hs.Serve(ln) }()
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	return hs.Close()
}

// centrifugeHandler is a centrifuge node that lets anyone connect and
// subscribe, with POST /publish taking the body liveserver takes.
func centrifugeHandler() (http.Handler, error) {
	node, err := centrifuge.New(centrifuge.Config{})
	if err != nil {
		return nil, fmt.Errorf("failed to create the centrifuge node: %w", err)
	}
	node.OnConnecting(func(context.Context, centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{}}, nil
	})
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
	})
	if err := node.Run(); err != nil {
		return nil, fmt.Errorf("failed to run the centrifuge node: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/connection/websocket", centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{}))
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ev struct {
			Channel string          `json:"channel"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := node.Publish(ev.Channel, ev.Payload)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"channel":%q,"offset":%d}`, ev.Channel, res.Offset)
	})
	return mux, nil
}
