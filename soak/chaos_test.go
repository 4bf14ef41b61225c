package soak

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// inProcessServer runs a server on a loopback port until the test ends.
func inProcessServer(t *testing.T, cfg server.Config) (*server.Server, string) {
	t.Helper()
	cfg.Logger = livetest.Quiet()
	s := server.New(cfg)
	return s, strings.TrimPrefix(livetest.Serve(t, s.Handler(), s.Shutdown).URL, "http://")
}

// TestChaosProxy: clients reach the server through a proxy that cuts,
// stalls and half-closes their connections while a publisher sends
// continuously. The server keeps its history: extended subscribers must
// receive exactly what was published, basic ones may miss events only
// behind a resync.
func TestChaosProxy(t *testing.T) {
	for _, level := range []protocol.Level{protocol.LevelExtended, protocol.LevelBasic} {
		t.Run(string(level), func(t *testing.T) { runChaosProxy(t, level) })
	}
}

func runChaosProxy(t *testing.T, level protocol.Level) {
	p := scenario(20)
	rng := newRand(t)
	start := time.Now()
	srv, addr := inProcessServer(t, server.Config{
		Broker:    server.NewMemoryBroker(server.MemoryOptions{History: 100000, HistoryStart: start.Add(-time.Hour)}),
		Heartbeat: time.Second,
	})
	proxy, err := NewProxy(addr)
	require.NoError(t, err)
	defer proxy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeLimit())
	defer cancel()

	channels := channelNames("chaos", p.channels)
	publish := func(ctx context.Context, ch string, n int) (bool, error) {
		_, err := srv.Publish(ctx, server.Event{Channel: ch, Type: "updated", Payload: Payload(n)})
		return true, err
	}
	fleet, log := primedFleet(ctx, t, "ws://"+proxy.Addr()+"/live", level, p.clients, channels, publish)
	defer fleet.Close()

	pub := StartPublisher(log, channels, p.rate, publish)
	kinds := []Fault{FaultCut, FaultStall, FaultHalfCloseClient, FaultHalfCloseServer}
	hits := map[Fault]int{}
	for i := 0; i < p.faults; i++ {
		time.Sleep(time.Duration(rng.Int64N(int64(p.gap))))
		kind := kinds[rng.IntN(len(kinds))]
		n := []int{1, 5, 0}[rng.IntN(3)] // one link, five, or all of them
		stall := 200*time.Millisecond + time.Duration(rng.Int64N(int64(3*time.Second)))
		hit, err := proxy.Inject(kind, n, stall, rng.IntN)
		require.NoError(t, err)
		hits[kind] += hit
	}
	next, failed := pub.Stop()
	if failed > 0 {
		t.Fatalf("%d publishes failed with the server up", failed)
	}
	finish(ctx, t, log, channels, next, publish)
	if t.Failed() {
		fleet.describeStale(t, log, next)
		t.Logf("proxy links: %d", proxy.Links())
		dumpDebug(t, srv)
	}
	checkLog(t, log, level == protocol.LevelExtended)
	st := fleet.Stats()
	recoveries, longest := fleet.Recovery()
	c := log.Counts()
	t.Logf("connections hit: %v", hits)
	report{
		name: "proxy faults, " + string(level), clients: p.clients, channels: p.channels, faults: p.faults,
		sent: log.Sent(), received: c.Received, replayed: int(st.EventsReplayed), resyncs: c.Resyncs,
		reconnects: int(st.Reconnects), recoveries: recoveries, longest: longest, elapsed: time.Since(start),
	}.log(t)
	if fleet.Terminal() > 0 {
		t.Fatalf("%d clients stopped with a terminal error", fleet.Terminal())
	}
}

// primedFleet publishes a first event on every channel, which gives it a
// position, so that a subscriber that has not received anything yet can
// still recover; then it starts clients subscribers on url (allowing a
// second's heartbeat delay) and waits until every subscription is live.
// The caller closes the fleet.
func primedFleet(ctx context.Context, t *testing.T, url string, level protocol.Level, clients int, channels []string, publish PublishFunc) (*Fleet, *Log) {
	t.Helper()
	for _, ch := range channels {
		if _, err := publish(ctx, ch, 0); err != nil {
			t.Fatal(err)
		}
	}
	log := NewLog()
	fleet, err := StartFleet(FleetConfig{
		URL: url, Clients: clients, Channels: channels, Level: level,
		Tweak: func(c *provider.Config) { c.HeartbeatGrace = time.Second },
	}, log)
	require.NoError(t, err)
	if err := WaitFor(ctx, "every subscription", fleet.AllSubscribed); err != nil {
		fleet.Close()
		t.Fatal(err)
	}
	return fleet, log
}

// finish publishes a marker round on every channel and waits until every
// subscriber has it: no subscriber may stay stale. A basic subscriber that
// was still reconnecting when a round went out may miss it (behind a
// resync), so a new round follows every second until one reaches everyone.
func finish(ctx context.Context, t *testing.T, log *Log, channels []string, n int, publish PublishFunc) {
	t.Helper()
	for ; ; n++ {
		for _, ch := range channels {
			for {
				_, err := publish(ctx, ch, n)
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					t.Fatalf("failed to publish the final marker: %v", err)
				}
				time.Sleep(50 * time.Millisecond) // the server is coming back
			}
			log.Published(ch, n, true)
		}
		round, cancel := context.WithTimeout(ctx, time.Second)
		err := WaitFor(round, "every subscriber to receive the final marker", func() bool { return log.allAt(n) })
		cancel()
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Error(err)
			return
		}
	}
}

func checkLog(t *testing.T, log *Log, exact bool) {
	t.Helper()
	if errs := log.Check(exact, 10); len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
}

func (f *Fleet) describeStale(t *testing.T, log *Log, n int) {
	for _, line := range f.staleClients(log, n) {
		t.Log(line)
	}
}

func dumpDebug(t *testing.T, srv *server.Server) {
	rec := httptest.NewRecorder()
	srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "refine_live") {
			t.Log(line)
		}
	}
	if path := os.Getenv("SOAK_STACKS"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			_ = pprof.Lookup("goroutine").WriteTo(f, 2)
			_ = f.Close()
		}
	}
}

// TestServerRestarts: the liveserver process is killed (SIGKILL) and
// started again on the same port while a publisher sends continuously.
// Each start loses the in-memory history and draws new epochs, so every
// subscriber must get a resync for what it missed, and none may stay stale.
func TestServerRestarts(t *testing.T) {
	p := scenario(5)
	rng := newRand(t)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeLimit())
	defer cancel()
	srv := livetest.StartLiveserver(t, livetest.FreeAddr(t), "--heartbeat", "1s", "--log-level", "error")
	publish, closeIdle := httpPublisher(srv.Addr, 0)
	defer closeIdle()

	channels := channelNames("restart", p.channels)
	fleet, log := primedFleet(ctx, t, srv.WSURL(), protocol.LevelExtended, p.clients, channels, publish)
	defer fleet.Close()

	pub := StartPublisher(log, channels, p.rate, publish)
	var downtime time.Duration
	for i := 0; i < p.faults; i++ {
		time.Sleep(time.Second + time.Duration(rng.Int64N(int64(time.Second))))
		srv.Kill()
		down := time.Now()
		time.Sleep(time.Duration(rng.Int64N(int64(500 * time.Millisecond))))
		srv.Start()
		downtime = max(downtime, time.Since(down))
	}
	next, failed := pub.Stop()
	finish(ctx, t, log, channels, next, publish)
	if t.Failed() {
		for _, line := range fleet.staleClients(log, next) {
			t.Log(line)
		}
	}
	checkLog(t, log, false)
	st := fleet.Stats()
	recoveries, longest := fleet.Recovery()
	c := log.Counts()
	t.Logf("publishes refused while the server was down: %d; longest downtime %s", failed, downtime.Round(time.Millisecond))
	report{
		name: "liveserver killed and restarted", clients: p.clients, channels: p.channels, faults: p.faults,
		sent: log.Sent(), received: c.Received, replayed: int(st.EventsReplayed), resyncs: c.Resyncs,
		reconnects: int(st.Reconnects), recoveries: recoveries, longest: longest, elapsed: time.Since(start),
	}.log(t)
	if fleet.Terminal() > 0 {
		t.Fatalf("%d clients stopped with a terminal error", fleet.Terminal())
	}
}
