package natsbroker

import (
	"fmt"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/internal/natstest"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

const channel = "resources/posts"

// cluster starts a NATS server, n nodes on it and per-node client URL
// lists that start at the node and fail over to the others in turn.
func cluster(t *testing.T, n int, opts Options) (*natstest.Server, []*node, [][]string) {
	t.Helper()
	e := natstest.Start(t)
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = startNode(t, e, opts)
	}
	urls := make([][]string, n)
	for i := range nodes {
		for j := 0; j < n; j++ {
			urls[i] = append(urls[i], nodes[(i+j)%n].url)
		}
	}
	return e, nodes, urls
}

func spread(t *testing.T, urls [][]string, perNode int) [][]*client {
	t.Helper()
	clients := make([][]*client, len(urls))
	for i := range urls {
		for j := 0; j < perNode; j++ {
			clients[i] = append(clients[i], newClient(t, urls[i], nil, channel))
		}
	}
	for _, cs := range clients {
		for _, c := range cs {
			require.Eventually(t, c.subscribed, wait, tick, "subscribed")
		}
	}
	return clients
}

// everyClientExactlyOnce waits until every client has the events up to
// seq total and checks that each got them exactly once, in order.
func everyClientExactlyOnce(t *testing.T, clients [][]*client, total int) {
	t.Helper()
	for i, cs := range clients {
		for j, c := range cs {
			require.Eventually(t, func() bool { return c.lastSeq() >= uint64(total) }, wait, tick, "every event")
			exactlyOnce(t, fmt.Sprintf("node %d client %d", i, j), c.snapshot(), total)
		}
	}
}

// Scenario 1: events published on each of three nodes reach every client,
// wherever it is connected, exactly once and in order.
func TestThreeNodesDeliverEveryEventExactlyOnce(t *testing.T) {
	_, nodes, urls := cluster(t, 3, Options{})
	clients := spread(t, urls, 3)
	const perNode = 15
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perNode; j++ {
				publish(t, n, channel, i*perNode+j)
			}
		}()
	}
	wg.Wait()
	total := perNode * len(nodes)
	everyClientExactlyOnce(t, clients, total)
}

// Scenario 2: a node stops while events flow; its clients fail over to the
// next URL and recover every event they missed, exactly once, in order.
func TestNodeStopFailsOverAndRecoversExactlyOnce(t *testing.T) {
	_, nodes, urls := cluster(t, 3, Options{})
	clients := spread(t, urls, 2)
	const total = 60
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < total; i++ {
			publish(t, nodes[i%2], channel, i) // nodes 0 and 1 stay up
		}
	}()
	require.Eventually(t, func() bool { return clients[2][0].lastSeq() >= 10 }, wait, tick, "events flowing to the doomed node's clients")
	nodes[2].stop()
	wg.Wait()
	everyClientExactlyOnce(t, clients, total)
	for _, c := range clients[2] {
		if st := c.eng.Stats(); st.Reconnects == 0 || st.DialFailures == 0 {
			t.Fatalf("stats %+v: the client should have failed over after a refused dial", st)
		}
	}
}

// Scenario 3: NATS restarts (same store); nodes reconnect and clients get
// every event, or a resync where they cannot: never silent loss.
func TestNATSRestartLosesNothingSilently(t *testing.T) {
	e, nodes, urls := cluster(t, 2, Options{})
	clients := spread(t, urls, 2)
	for i := 0; i < 10; i++ {
		publish(t, nodes[i%2], channel, i)
	}
	e.Stop()
	for _, n := range nodes {
		require.Eventually(t, func() bool { return n.broker.nc.Status() != nats.CONNECTED }, wait, tick, "the node to notice")
	}
	e.Start()
	var top server.Event
	for i := 10; i < 30; i++ {
		top = publish(t, nodes[i%2], channel, i)
	}
	if top.Seq != 30 {
		t.Fatalf("after the restart the history continues: got seq %d, want 30", top.Seq)
	}
	for i, cs := range clients {
		for j, c := range cs {
			require.Eventually(t, func() bool { return c.lastSeq() >= top.Seq }, wait, tick, "the newest event")
			if r := noSilentLoss(t, fmt.Sprintf("node %d client %d", i, j), c.snapshot(), top); r > 0 {
				t.Logf("node %d client %d: %d resyncs", i, j, r)
			}
		}
	}
}

// Scenario 3b: NATS comes back without its store. The nodes recreate the
// stream, the channel starts a new epoch, and clients resync.
func TestNATSRestartWithoutStoreResyncs(t *testing.T) {
	e, nodes, urls := cluster(t, 2, Options{})
	clients := spread(t, urls, 1)
	old := publish(t, nodes[0], channel, 0)
	for _, cs := range clients {
		require.Eventually(t, func() bool { return cs[0].lastSeq() == 1 }, wait, tick, "the first event")
	}
	e.Stop()
	e.Dir = t.TempDir()
	e.Start()
	var top server.Event
	for i := 1; i < 5; i++ {
		top = publish(t, nodes[i%2], channel, i)
	}
	if top.Epoch == old.Epoch {
		t.Fatalf("a lost history must give a new epoch, still %s", top.Epoch)
	}
	for i, cs := range clients {
		c := cs[0]
		require.Eventually(t, func() bool { return c.snapshot()[len(c.snapshot())-1].Seq == top.Seq }, wait, tick, "the newest event")
		if noSilentLoss(t, fmt.Sprintf("client %d", i), c.snapshot(), top) == 0 {
			t.Fatalf("client %d: a new epoch must come with a resync", i)
		}
	}
}

// Scenario 4: a client away for longer than the stream keeps gets
// recovered:false and exactly one resync, then live events again.
func TestGapBeyondRetentionResyncs(t *testing.T) {
	_, nodes, urls := cluster(t, 2, Options{History: 5})
	tr := &livetest.GatedTransport{}
	c := newClient(t, urls[0], tr, channel)
	require.Eventually(t, c.subscribed, wait, tick, "subscribed")
	publish(t, nodes[0], channel, 1)
	publish(t, nodes[1], channel, 2)
	require.Eventually(t, func() bool { return c.lastSeq() == 2 }, wait, tick, "two events")

	release := tr.Cut()
	require.Eventually(t, func() bool { return !c.subscribed() }, wait, tick, "the client to be away")
	for i := 3; i <= 12; i++ { // 10 events, the stream keeps 5
		publish(t, nodes[i%2], channel, i)
	}
	release()
	require.Eventually(t, func() bool { return len(c.snapshot()) >= 3 }, wait, tick, "the resync")
	top := publish(t, nodes[1], channel, 13)
	require.Eventually(t, func() bool { return c.lastSeq() == 13 }, wait, tick, "the live event")
	evs := c.snapshot()
	if len(evs) != 4 || evs[2].Type != "*" || evs[2].Resync != "unrecovered" || evs[3].Seq != top.Seq {
		t.Fatalf("got %+v, want seqs 1, 2, one unrecovered resync, 13", evs)
	}
	if st := c.eng.Stats(); st.Resyncs != 1 || st.EventsReplayed != 0 {
		t.Fatalf("stats %+v", st)
	}
}
