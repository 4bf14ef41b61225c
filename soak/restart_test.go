package soak

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

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
	for _, ch := range channels {
		if _, err := publish(ctx, ch, 0); err != nil {
			t.Fatal(err)
		}
	}
	log := NewLog()
	fleet, err := StartFleet(FleetConfig{
		URL: srv.WSURL(), Clients: p.clients, Channels: channels, Level: protocol.LevelExtended,
		Tweak: func(c *provider.Config) { c.HeartbeatGrace = time.Second },
	}, log)
	require.NoError(t, err)
	defer fleet.Close()
	require.NoError(t, WaitFor(ctx, "every subscription", fleet.AllSubscribed))

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
