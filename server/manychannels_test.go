package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// These tests hold one client with hundreds of channels against a server
// with its default limits (a burst of 100 messages, 50 a second, 256
// subscriptions): every channel is either live or visibly refused.

// restartableServer is a server on a fixed loopback port that a test can
// restart, losing its in-memory history as a real restart does.
type restartableServer struct {
	t    *testing.T
	addr string
	srv  *Server
	hs   *http.Server
	done chan struct{}
}

func startRestartable(t *testing.T) *restartableServer {
	r := &restartableServer{t: t, addr: "127.0.0.1:0"}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *restartableServer) start() {
	r.t.Helper()
	var ln net.Listener
	var err error
	deadline := time.Now().Add(wait)
	for {
		// The port of the stopped server may take a moment to free.
		if ln, err = net.Listen("tcp", r.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(r.t, err)
	r.addr = ln.Addr().String()
	r.srv = New(Config{Broker: testBroker(MemoryOptions{}), Logger: livetest.Quiet()})
	r.srv.ownBroker = true
	r.hs = &http.Server{Handler: r.srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	r.done = make(chan struct{})
	go func() { defer close(r.done); _ = r.hs.Serve(ln) }()
}

func (r *restartableServer) stop() {
	if r.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	_ = r.hs.Close()
	<-r.done
	r.srv = nil
}

// channelWatch counts, per channel, the ordinary events received and the
// refusals reported.
type channelWatch struct {
	mu      sync.Mutex
	events  map[string]int
	refused map[string]string // channel → error code
	other   []error
}

func newChannelClient(t *testing.T, url string, n int) (*provider.Client, []*provider.Subscription, *channelWatch) {
	t.Helper()
	w := &channelWatch{events: make(map[string]int), refused: make(map[string]string)}
	c := livetest.NewEngine(t, provider.Config{
		URLs: []string{url}, MinDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond,
		OnError: func(err error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			var se *provider.ServerError
			if errors.As(err, &se) && se.Channel != "" {
				if _, dup := w.refused[se.Channel]; dup {
					w.other = append(w.other, errors.New("reported twice: "+err.Error()))
				}
				w.refused[se.Channel] = se.Code
				return
			}
			if !errors.Is(err, provider.ErrConnect) {
				w.other = append(w.other, err)
			}
		},
	})
	subs := make([]*provider.Subscription, n)
	for i := range subs {
		ch := "many/" + strconv.Itoa(i)
		var err error
		subs[i], err = c.Subscribe(provider.SubscribeOptions{Channel: ch, Callback: func(e provider.Event) {
			if e.Resync == "" {
				w.mu.Lock()
				w.events[ch]++
				w.mu.Unlock()
			}
		}})
		require.NoError(t, err)
	}
	return c, subs, w
}

func countStates(subs []*provider.Subscription) map[provider.SubState]int {
	n := map[provider.SubState]int{}
	for _, s := range subs {
		n[s.State()]++
	}
	return n
}

// publishEach publishes one event to each of the first n channels and
// waits until each was received round times.
func publishEach(t *testing.T, srv *Server, w *channelWatch, n, round int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := srv.Publish(context.Background(), Event{Channel: "many/" + strconv.Itoa(i), Type: "updated"}); err != nil {
			t.Fatal(err)
		}
	}
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for i := 0; i < n; i++ {
			if w.events["many/"+strconv.Itoa(i)] < round {
				return false
			}
		}
		return true
	}, wait, tick, "every channel to receive its event")
}

func TestManyChannelsSurviveDefaultLimitsAndARestart(t *testing.T) {
	const n = 250
	s := startRestartable(t)
	_, subs, w := newChannelClient(t, "ws://"+s.addr+"/live", n)
	require.Eventually(t, func() bool { return countStates(subs)[provider.SubSubscribed] == n }, wait, tick, "every channel subscribed")
	publishEach(t, s.srv, w, n, 1)

	s.stop()
	// Until the client has seen the close, its channels still read as
	// subscribed: wait for that, or the next check could pass too early.
	require.Eventually(t, func() bool { return countStates(subs)[provider.SubSubscribed] == 0 }, wait, tick, "the client to notice the restart")
	s.start()
	require.Eventually(t, func() bool { return countStates(subs)[provider.SubSubscribed] == n }, wait, tick, "every channel subscribed again")
	publishEach(t, s.srv, w, n, 2)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.refused) > 0 || len(w.other) > 0 {
		t.Fatalf("refused %v, other errors %v", w.refused, w.other)
	}
}

func TestChannelsBeyondTheLimitAreRefusedOneByOne(t *testing.T) {
	const n, limit = 300, 256
	s := startRestartable(t)
	_, subs, w := newChannelClient(t, "ws://"+s.addr+"/live", n)
	require.Eventually(t, func() bool {
		st := countStates(subs)
		return st[provider.SubSubscribed] == limit && st[provider.SubRefused] == n-limit
	}, wait, tick, "every channel answered")
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.refused) == n-limit
	}, wait, tick, "every refusal reported")
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch, code := range w.refused {
		if code != protocol.CodeSubscriptionLimit {
			t.Errorf("%s refused with %s", ch, code)
		}
	}
	for i, sub := range subs {
		if _, refused := w.refused[sub.Channel()]; refused != (sub.State() == provider.SubRefused) {
			t.Errorf("subscription %d (%s) is %s, reported refused: %v", i, sub.Channel(), sub.State(), refused)
		}
	}
	if len(w.other) > 0 {
		t.Fatalf("other errors: %v", w.other)
	}
}

// A client that publishes faster than the default rate limit loses
// nothing: the server answers the first refused frame, drops the next
// ones and, past 50 in a row, closes with 4003; the client sends what was
// not acknowledged again (after the hint, or on the next connection) with
// the same refs, and each event is stored once.
func TestPublishesBeyondTheRateLimitAllArrive(t *testing.T) {
	const n = 200
	s := startRestartable(t)
	url := "ws://" + s.addr + "/live"
	_, subs, w := newChannelClient(t, url, 1)
	livetest.Subscribed(t, subs[0])
	pub := livetest.NewEngine(t, provider.Config{URLs: []string{url}, MinDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond})
	for i := 0; i < n; i++ {
		require.NoError(t, pub.Publish(provider.PublishEvent{Channel: "many/0", Type: "updated", Payload: []byte(`{"n":` + strconv.Itoa(i) + `}`)}))
		if i == 0 {
			// The rest on the open connection: before it, the publish
			// queue's own bound (100) would drop the oldest.
			require.Eventually(t, func() bool { return pub.Status() == provider.StatusOpen }, wait, tick, "the publisher's connection")
		}
	}
	deadline := time.Now().Add(wait)
	for {
		w.mu.Lock()
		got := w.events["many/0"]
		w.mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d publishes arrived; publisher %+v, status %s", got, n, pub.Stats(), pub.Status())
		}
		time.Sleep(time.Millisecond)
	}
	hist, err := s.srv.broker.History(context.Background(), "many/0", nil)
	if err != nil || hist.Top.Seq != n {
		t.Fatalf("the channel holds %d events (%v), want %d: each stored once", hist.Top.Seq, err, n)
	}
	if st := pub.Stats(); st.PublishesFailed != 0 || st.PublishesSent <= n {
		// More sent than published: the refused ones went again.
		t.Fatalf("publisher stats %+v", st)
	}
}
