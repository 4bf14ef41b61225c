package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
)

// TestLoad: many native clients on one liveserver process, a paced
// publisher, and one consumer that never reads. Figures: events/s
// delivered, delivery latency, server memory per connection, and when the
// slow consumer was cut off with 4002. Without -soak.load it is a smoke
// test of 100 connections.
func TestLoad(t *testing.T) {
	// The slow consumer is cut off once the server's socket buffer (Linux
	// grows it up to 4 MiB) and its queue are full: the smoke form's few
	// events are larger and its queue shorter to get there.
	conns, channels, rate, dur, queue, pad := 100, 10, 200, 2*time.Second, "32", 16<<10
	if *loadFull {
		conns, channels, rate, dur, queue, pad = 2000, 100, 1000, 20*time.Second, "512", 1<<10
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := livetest.StartLiveserver(t, livetest.FreeAddr(t), "--log-level", "error", "--heartbeat", "10s", "--send-queue", queue)
	base := scrape(t, srv.Addr)

	var mu sync.Mutex
	var lat []sample
	names := channelNames("load", channels)
	clients := make([]*provider.Client, 0, conns)
	defer func() {
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Add(1)
			go func() { defer wg.Done(); _ = c.Close() }()
		}
		wg.Wait()
	}()
	var subs []*provider.Subscription
	for i := 0; i < conns; i++ {
		c, err := provider.New(provider.Config{URLs: []string{srv.WSURL()}, Protocol: protocol.LevelExtended, Transport: &wstransport.Transport{}})
		require.NoError(t, err)
		clients = append(clients, c)
		sub, err := c.Subscribe(provider.SubscribeOptions{Channel: names[i%channels], Callback: func(e provider.Event) {
			_, sent, err := ParsePayload(e.Payload)
			if err == nil {
				d := time.Since(sent)
				mu.Lock()
				lat = append(lat, sample{sent, d})
				mu.Unlock()
			}
		}})
		require.NoError(t, err)
		subs = append(subs, sub)
	}
	require.NoError(t, WaitFor(ctx, "every subscription", func() bool {
		for _, s := range subs {
			if s.State() != provider.SubSubscribed {
				return false
			}
		}
		return true
	}))
	loaded := scrape(t, srv.Addr)

	// The slow consumer subscribes to every channel and never reads.
	slow, _, err := websocket.Dial(ctx, srv.WSURL(), &websocket.DialOptions{HTTPClient: tinyBufferClient()})
	require.NoError(t, err)
	defer slow.CloseNow()
	for _, ch := range names {
		require.NoError(t, slow.Write(ctx, websocket.MessageText, []byte(`{"action":"subscribe","channel":"`+ch+`"}`)))
	}
	publish, closeIdle := httpPublisher(srv.Addr, pad)
	defer closeIdle()
	start := time.Now()
	var cutAt time.Duration
	sent := paced(ctx, rate, dur, names, publish, func() bool {
		if cutAt == 0 && scrape(t, srv.Addr)["refine_live_disconnects_total{reason=\"slow_consumer\"}"] > 0 {
			cutAt = time.Since(start)
		}
		return cutAt > 0
	})
	publishing := time.Since(start)
	want := sent * conns / channels
	_ = WaitFor(ctx, "every delivery", func() bool { mu.Lock(); defer mu.Unlock(); return len(lat) >= want })
	mu.Lock()
	all := slices.Clone(lat)
	mu.Unlock()
	if len(all) < want {
		t.Errorf("delivered %d of %d events", len(all), want)
	}
	code := slowClose(ctx, slow)
	cuts := scrape(t, srv.Addr)["refine_live_disconnects_total{reason=\"slow_consumer\"}"]
	perConn := (loaded["process_resident_memory_bytes"] - base["process_resident_memory_bytes"]) / float64(conns)
	heapPerConn := (loaded["go_memstats_heap_inuse_bytes"] - base["go_memstats_heap_inuse_bytes"]) / float64(conns)
	var before, after []sample
	for _, x := range all {
		if cutAt > 0 && x.sent.Sub(start) < cutAt {
			before = append(before, x)
		} else {
			after = append(after, x)
		}
	}
	t.Logf("| connections | channels | events published | deliveries | deliveries/s | p50 | p99 | max | server RSS per connection | heap per connection |")
	t.Logf("| %d | %d | %d in %s | %d | %.0f | %s | %s | %s | %.1f KiB | %.1f KiB |",
		conns, channels, sent, publishing.Round(time.Millisecond), len(all), float64(len(all))/publishing.Seconds(),
		quantile(all, 0.5), quantile(all, 0.99), quantile(all, 1), perConn/1024, heapPerConn/1024)
	t.Logf("| slow consumer cut off (4002) after | p99 while it was connected | p99 after | close code it read at the end |")
	t.Logf("| %s | %s (%d deliveries) | %s (%d deliveries) | %d |",
		cutAt.Round(10*time.Millisecond), quantile(before, 0.99), len(before), quantile(after, 0.99), len(after), code)
	// The close frame reaches a consumer that reads again before the
	// server's close handshake times out; one that stays silent for long
	// sees the connection end (1006) instead. The server's count is the
	// fact that matters.
	if cuts != 1 {
		t.Errorf("server counted %v slow-consumer disconnects, want 1", cuts)
	}
}

type sample struct {
	sent time.Time
	d    time.Duration
}

func quantile(xs []sample, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = x.d
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(float64(len(ds))*p))].Round(10 * time.Microsecond)
}

// paced publishes rate events per second, round robin over channels, for
// dur, calling tick every 100 ms; while tick reports false it goes on, up
// to five times dur (a slow machine publishes less in the same time). It
// returns how many were stored.
func paced(ctx context.Context, rate int, dur time.Duration, names []string, publish PublishFunc, tick func() bool) int {
	const workers = 8
	jobs := make(chan int, workers)
	var sent sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for w := 0; w < workers; w++ {
		sent.Add(1)
		go func() {
			defer sent.Done()
			for n := range jobs {
				if _, err := publish(ctx, names[n%len(names)], n); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}
		}()
	}
	start := time.Now()
	every := time.NewTicker(100 * time.Millisecond)
	defer every.Stop()
	done := false
	for n := 0; time.Since(start) < dur || (!done && time.Since(start) < 5*dur); {
		due := int(time.Since(start).Seconds() * float64(rate))
		for ; n < due; n++ {
			jobs <- n
		}
		select {
		case <-every.C:
			done = tick()
		case <-time.After(time.Millisecond):
		}
	}
	close(jobs)
	sent.Wait()
	return ok
}

// tinyBufferClient dials with a 4 KiB receive buffer, so that a consumer
// that does not read backs up into the server's queue after a few events
// rather than after megabytes of kernel buffers.
func tinyBufferClient() *http.Client {
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// slowClose reads the slow consumer's backlog and returns its close code.
func slowClose(ctx context.Context, c *websocket.Conn) protocol.CloseCode {
	c.SetReadLimit(1 << 20)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return protocol.CloseCode(websocket.CloseStatus(err))
		}
	}
}

// scrape reads the server's Prometheus metrics into name{labels} → value.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(fmt.Errorf("failed to scrape: %w", err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				out[line[:i]] = v
			}
		}
	}
	return out
}
