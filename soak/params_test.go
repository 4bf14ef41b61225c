package soak

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
)

// The package's flags: the short forms of the scenarios run by default.
var (
	long     = flag.Bool("soak.long", false, "run the long forms (make soak) instead of the short ones")
	loadFull = flag.Bool("soak.load", false, "run the full load test (make load): 2,000 connections, 100 channels")
)

func TestMain(m *testing.M) {
	flag.Parse()
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		livetest.RemoveBuilt()
		os.Exit(code)
	}))
}

// timeLimit bounds every wait of a scenario; it turns a hang into a
// failure and is never a measure.
func timeLimit() time.Duration {
	if *long {
		return 20 * time.Minute
	}
	return 2 * time.Minute
}

// params size a scenario.
type params struct {
	clients, channels int
	faults            int           // proxy faults, or server restarts
	rate              int           // events published per second, all channels together
	gap               time.Duration // upper bound of the pause between two faults
}

func scenario(faults int) params {
	p := params{clients: 50, channels: 20, faults: faults, rate: 200, gap: 600 * time.Millisecond}
	if *long {
		p.faults *= 10
		p.rate = 400
	}
	if raceEnabled {
		// The race detector slows everything down (docs/reliability.md):
		// the same scenario at a lower event rate.
		p.rate = 60
	}
	return p
}

// newRand is seeded from SOAK_SEED when set, so a failing run can be
// replayed with the same faults; the seed is logged either way.
func newRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SOAK_SEED"); s != "" {
		if _, err := fmt.Sscan(s, &seed); err != nil {
			t.Fatalf("failed to parse SOAK_SEED: %v", err)
		}
	}
	t.Logf("SOAK_SEED=%d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func channelNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s/%d", prefix, i)
	}
	return out
}

// report is one scenario's figures, logged as a markdown table row.
type report struct {
	name                      string
	clients, channels, faults int
	sent, received, replayed  int
	resyncs, reconnects       int
	recoveries                int
	longest                   time.Duration
	elapsed                   time.Duration
}

func (r report) log(t *testing.T) {
	t.Logf("| scenario | clients × channels | faults | events sent | received | replayed | resyncs | reconnects | recoveries | longest recovery | duration |")
	t.Logf("| %s | %d × %d | %d | %d | %d | %d | %d | %d | %d | %s | %s |",
		r.name, r.clients, r.channels, r.faults, r.sent, r.received, r.replayed, r.resyncs, r.reconnects,
		r.recoveries, r.longest.Round(time.Millisecond), r.elapsed.Round(100*time.Millisecond))
}
