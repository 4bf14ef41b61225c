package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/pgsource"
)

// options are the command-line flags.
type options struct {
	addr         string
	dist         string
	seedPosts    int
	seedFile     string
	origins      string
	heartbeat    time.Duration
	publishToken string
	quiet        bool
	postgres     string
}

func main() {
	opts := options{}
	flag.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "address to listen on")
	flag.StringVar(&opts.dist, "dist", "dist", "directory of the built app (example-app/dist)")
	flag.IntVar(&opts.seedPosts, "seed-posts", 8, "number of posts to start with")
	flag.StringVar(&opts.seedFile, "seed-file", "", `JSON file to start from: {"posts": [...], "categories": [...]} (overrides --seed-posts)`)
	flag.StringVar(&opts.origins, "origins", "localhost:5173,127.0.0.1:5173",
		"comma-separated browser origins allowed to open /live besides the server's own host (path.Match patterns)")
	flag.DurationVar(&opts.heartbeat, "heartbeat", 0, "live heartbeat interval (0: the hub's default)")
	flag.StringVar(&opts.publishToken, "publish-token", "", "bearer token required by POST /publish (empty: open, for loopback only)")
	flag.BoolVar(&opts.quiet, "quiet", false, "log warnings and errors only")
	flag.StringVar(&opts.postgres, "postgres", os.Getenv("REFINE_LIVE_POSTGRES"),
		"PostgreSQL URL (env REFINE_LIVE_POSTGRES): keep posts and categories there, seeded when empty, and make every committed change live through logical replication instead of publishing")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, opts options, out io.Writer) error {
	level := slog.LevelInfo
	if opts.quiet {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	seed := generatedSeed(opts.seedPosts)
	if opts.seedFile != "" {
		var err error
		if seed, err = loadSeed(opts.seedFile); err != nil {
			return err
		}
	}
	tables, err := seed.tables()
	if err != nil {
		return err
	}

	// This process holds the data its pages show as well as the live
	// history, and it is the only publisher: a restart loses both, so a
	// page cannot have read data newer than this history's start.
	broker := server.NewMemoryBroker(server.MemoryOptions{HistoryStart: time.Now().Add(-time.Hour)})
	defer broker.Close()
	var src *pgsource.Source
	live := server.New(server.Config{
		Broker:         broker,
		OriginPatterns: splitList(opts.origins),
		Heartbeat:      opts.heartbeat,
		PublishToken:   opts.publishToken,
		Logger:         logger,
		Degraded:       func() string { return src.Degraded() },
	})
	a := &api{tables: memStores(tables), live: live, log: logger}
	if opts.postgres != "" {
		pool, stores, err := openPostgres(ctx, opts.postgres, seed)
		if err != nil {
			return err
		}
		defer pool.Close()
		// No publish call: the change source turns every committed
		// change into its event, including those made with psql.
		a = &api{tables: stores, log: logger}
		if src, err = pgsource.New(pgsource.Config{URL: opts.postgres, Publication: "refine_live_example", Slot: "refine_live_example",
			Tables: []string{"posts", "categories"}, Logger: logger, Registerer: live.MetricsRegistry()}, live); err != nil {
			return err
		}
		if err := src.Start(ctx); err != nil {
			return err
		}
		defer func() { _ = src.Close() }()
	}
	handler := newMux(live, a, opts.dist)

	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	// The line tests and scripts wait for: the address actually bound.
	fmt.Fprintf(out, "listening on http://%s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("failed to serve: %w", err)
	case <-ctx.Done():
	}

	_ = src.Close() // nothing more is published into a closing hub
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Close the live connections first (with a retry hint), then the rest.
	liveErr := live.Shutdown(shutdownCtx)
	httpErr := srv.Shutdown(shutdownCtx)
	if err := errors.Join(liveErr, httpErr); err != nil {
		return fmt.Errorf("failed to shut down: %w", err)
	}
	return nil
}

// newMux puts the app, the REST API and the live hub on one handler.
func newMux(live *server.Server, a *api, dist string) *http.ServeMux {
	mux := http.NewServeMux()
	a.routes(mux)
	mux.Handle("/live", live)
	mux.Handle("/publish", live.PublishHandler())
	mux.Handle("/metrics", live.MetricsHandler())
	mux.Handle("/healthz", live.HealthHandler())
	mux.Handle("/", appHandler(dist))
	return mux
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
