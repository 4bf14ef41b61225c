package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The fault tests run liveserver as a process of its own, so that it can
// be killed with SIGKILL.

// startNode runs liveserver as a process of its own on addr.
func startNode(t *testing.T, addr string, args ...string) *livetest.Liveserver {
	t.Helper()
	return livetest.StartLiveserver(t, addr, append([]string{"--log-level", "info"}, args...)...)
}

// streaming reports whether the node at addr consumes the slot.
func streaming(addr string) bool {
	s, _ := livetest.Get(addr, "/metrics")
	return strings.Contains(s, "\nrefine_live_postgres_streaming 1")
}

// rowEvents collects the creations a client receives and checks each on
// arrival: every row once, in commit order, seqs without a gap, no resync
// once the first row has arrived.
type rowEvents struct {
	mu      sync.Mutex
	next    int
	ids     map[string]bool
	seq     uint64
	epoch   string
	bad     []string
	firstAt time.Time
	lastAt  time.Time
}

func (r *rowEvents) add(e provider.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Resync != "" {
		if r.next > 0 {
			r.bad = append(r.bad, "resync "+e.Resync+" after row "+strconv.Itoa(r.next-1))
		}
		return
	}
	var p struct{ IDs []int }
	if err := json.Unmarshal(e.Payload, &p); err != nil || len(p.IDs) != 1 {
		r.bad = append(r.bad, "payload "+string(e.Payload))
		return
	}
	switch {
	case r.ids[e.ID]:
		r.bad = append(r.bad, "event "+e.ID+" twice")
	case p.IDs[0] != r.next:
		r.bad = append(r.bad, "row "+strconv.Itoa(p.IDs[0])+" where "+strconv.Itoa(r.next)+" was due")
	case r.epoch != "" && (e.Epoch != r.epoch || e.Seq != r.seq+1):
		r.bad = append(r.bad, "position "+e.Epoch+"/"+strconv.FormatUint(e.Seq, 10)+" after "+r.epoch+"/"+strconv.FormatUint(r.seq, 10))
	}
	r.ids[e.ID] = true
	r.epoch, r.seq = e.Epoch, e.Seq
	r.next = p.IDs[0] + 1
	r.lastAt = time.Now()
	if r.firstAt.IsZero() {
		r.firstAt = r.lastAt
	}
}

func (r *rowEvents) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids)
}

func (r *rowEvents) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bad) > 0
}

func (r *rowEvents) check(t *testing.T, want int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		t.Fatalf("%d bad deliveries, first: %s", len(r.bad), strings.Join(r.bad[:min(5, len(r.bad))], "; "))
	}
	if len(r.ids) != want || r.next != want {
		t.Fatalf("%d events up to row %d, want %d", len(r.ids), r.next-1, want)
	}
}

// subscribeRows opens a client on the given nodes' URLs, subscribed to
// channel.
func subscribeRows(t *testing.T, channel string, addrs ...string) *rowEvents {
	t.Helper()
	var urls []string
	for _, a := range addrs {
		urls = append(urls, "ws://"+a+"/live")
	}
	c := livetest.QuietEngine(t, urls...)
	r := &rowEvents{ids: map[string]bool{}}
	sub, err := c.Subscribe(provider.SubscribeOptions{Channel: channel, Callback: r.add})
	require.NoError(t, err)
	livetest.Subscribed(t, sub)
	return r
}

// insertRows inserts rows 0..n-1 into items in transactions of 1 to 20
// rows, in order, and reports the first error.
func insertRows(ctx context.Context, url string, n int) error {
	c, err := pgxConnect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	for i, size := 0, 1; i < n; size = size%20 + 1 {
		var b bytes.Buffer
		b.WriteString("INSERT INTO items VALUES ")
		for j := 0; j < size && i < n; j, i = j+1, i+1 {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("(" + strconv.Itoa(i) + ")")
		}
		if _, err := c.Exec(ctx, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// streamMessages is the number of messages in the JetStream stream.
func streamMessages(t *testing.T, url, stream string) uint64 {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	return info.State.Msgs
}

// metricLine is the line of a metric in a scrape.
func metricLine(scrape, name string) string {
	for _, l := range strings.Split(scrape, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return name + " absent"
}
