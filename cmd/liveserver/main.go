package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/pgsource"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "liveserver:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully. ready, when not
// nil, receives the bound address (tests listen on port 0).
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := o.logger(stderr)
	if err != nil {
		return err
	}
	broker, closeBroker, err := o.broker(ctx, log)
	if err != nil {
		return err
	}
	defer closeBroker()
	cfg := o.config(log, broker)
	var src *pgsource.Source
	cfg.Degraded = func() string {
		if src == nil {
			return ""
		}
		return src.Degraded()
	}
	live := server.New(cfg)
	if src, err = o.postgresSource(ctx, log, live); err != nil {
		return err
	}
	defer func() { _ = src.Close() }()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		if o.publishToken == "" {
			log.Warn("POST /publish is open to anyone who can reach this address; set --publish-token")
		}
		if len(o.origins) == 0 && !o.anyOrigin {
			log.Warn("browser pages on any loopback host are allowed besides this host; list the production origins with --origin")
		}
	}
	hs := &http.Server{Handler: live.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "websocket", "/live",
		"origins", o.originPolicy(), "history", o.history, "jwt", o.jwtSecret != "",
		"publish_token", o.publishToken != "", "nats", o.nats != "", "postgres", o.postgres != "")
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		return fmt.Errorf("failed to serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	// The change source stops first: what it stored is confirmed to the
	// slot, and nothing is published into a closing server.
	_ = src.Close()
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	// Stop the listener first (http.Server does not track WebSocket
	// connections once hijacked), then close the live connections.
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Shutdown(sctx) }()
	liveErr := live.Shutdown(sctx)
	if err := <-httpDone; err != nil {
		return fmt.Errorf("failed to shut down HTTP: %w", err)
	}
	<-served
	if liveErr != nil {
		return liveErr
	}
	log.Info("stopped")
	return nil
}
