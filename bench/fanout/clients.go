package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	centrifugego "github.com/centrifugal/centrifuge-go"
	"github.com/coder/websocket"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
)

// recv is one client's record. Only its own goroutine writes it, except
// count, which the main goroutine polls.
type recv struct {
	next    int64  // the n expected next
	bad     int64  // events out of order (checked with one publisher only)
	dups    int64  // events received twice
	seen    []bool // by n
	ordered bool
	count   atomic.Int64
	lat     []int32 // microseconds from publish to receipt
	closeFn func()
	stats   func() string
}

// receive records one event's payload: {"t":<unix ns>,"n":<per-channel
// index>,...}.
func (r *recv) receive(payload []byte) {
	now := time.Now().UnixNano()
	t, n := intAfter(payload, `"t":`), intAfter(payload, `"n":`)
	if r.ordered && n != r.next {
		r.bad++
	}
	r.next = n + 1
	if n < 0 || n >= int64(len(r.seen)) || r.seen[n] {
		r.dups++
	} else {
		r.seen[n] = true
	}
	r.lat = append(r.lat, int32((now-t)/1000))
	r.count.Add(1)
}

func intAfter(b []byte, key string) int64 {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return -1
	}
	var v int64
	for _, c := range b[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int64(c-'0')
	}
	return v
}

type quiet struct{}

func (quiet) Log(provider.LogLevel, string, error) {}

// dialExtended is this project's engine: it offers batched frames.
func dialExtended(url, channel string, r *recv) (func() bool, error) {
	c, err := provider.New(provider.Config{
		URLs: []string{url}, Protocol: protocol.LevelExtended, Transport: &wstransport.Transport{},
		Logger: quiet{}, OnError: func(error) {},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create the client: %w", err)
	}
	sub, err := c.Subscribe(provider.SubscribeOptions{Channel: channel, Callback: func(e provider.Event) {
		if e.Resync == "" {
			r.receive(e.Payload)
		}
	}})
	if err != nil {
		return nil, fmt.Errorf("failed to subscribe: %w", err)
	}
	r.closeFn = func() { _ = c.Close() }
	r.stats = func() string {
		st := c.Stats()
		return fmt.Sprintf("reconnects %d resyncs %d", st.Reconnects, st.Resyncs)
	}
	return func() bool { return sub.State() == provider.SubSubscribed }, nil
}

// dialBasic is Refine's documented client: subscribe, then one event per
// frame. The server does not answer a basic subscribe; the caller waits for
// the server's subscription count.
func dialBasic(url, channel string, r *recv) (func() bool, error) {
	ws, err := dialPlain(url, r, subscribeFrame(channel))
	if err != nil {
		return nil, err
	}
	go func() {
		buf := make([]byte, 0, 4096)
		for {
			var err error
			if buf, err = readFrame(ws, buf); err != nil {
				return
			}
			r.receive(buf)
		}
	}()
	return func() bool { return true }, nil
}

// dialCentrifuge is centrifuge-go with its JSON protocol.
func dialCentrifuge(url, channel string, r *recv) (func() bool, error) {
	c := centrifugego.NewJsonClient(url, centrifugego.Config{})
	sub, err := c.NewSubscription(channel, centrifugego.SubscriptionConfig{})
	if err != nil {
		return nil, fmt.Errorf("failed to create the subscription: %w", err)
	}
	var subscribed atomic.Bool
	sub.OnSubscribed(func(centrifugego.SubscribedEvent) { subscribed.Store(true) })
	sub.OnPublication(func(e centrifugego.PublicationEvent) { r.receive(e.Data) })
	if err := c.Connect(); err != nil {
		return nil, fmt.Errorf("failed to connect: %w", err)
	}
	if err := sub.Subscribe(); err != nil {
		return nil, fmt.Errorf("failed to subscribe: %w", err)
	}
	r.closeFn = c.Close
	return subscribed.Load, nil
}

// dialExtendedRaw speaks the extended level with batches but does no more
// than reading: a plain WebSocket client, as light as dialBasic, so that
// the figures show the server's cost apart from the engine's.
func dialExtendedRaw(url, channel string, r *recv) (func() bool, error) {
	ws, err := dialPlain(url, r, `{"action":"hello","protocol":"refine-live.v1","batch":true,"maxMessage":1048576}`,
		subscribeFrame(channel))
	if err != nil {
		return nil, err
	}
	var subscribed atomic.Bool
	go func() {
		buf := make([]byte, 0, 64<<10)
		for {
			var err error
			if buf, err = readFrame(ws, buf); err != nil {
				return
			}
			for rest := buf; len(rest) > 0; {
				var msg []byte
				msg, rest = protocol.NextMessage(rest)
				switch {
				case bytes.HasPrefix(msg, []byte(`{"channel"`)):
					r.receive(msg)
				case bytes.HasPrefix(msg, []byte(`{"action":"subscribed"`)):
					subscribed.Store(true)
				}
			}
		}
	}()
	return subscribed.Load, nil
}

// dialPlain opens a plain WebSocket connection for r, which closes it, and
// sends frames on it.
func dialPlain(url string, r *recv, frames ...string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to dial: %w", err)
	}
	ws.SetReadLimit(1 << 20)
	r.closeFn = func() { _ = ws.CloseNow() }
	for _, m := range frames {
		if err := ws.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			return nil, fmt.Errorf("failed to subscribe: %w", err)
		}
	}
	return ws, nil
}

// subscribeFrame is the subscribe of one channel.
func subscribeFrame(channel string) string {
	return `{"action":"subscribe","channel":` + strconv.Quote(channel) + `}`
}

// readFrame reads the next frame into buf, reused from frame to frame.
func readFrame(ws *websocket.Conn, buf []byte) ([]byte, error) {
	_, rd, err := ws.Reader(context.Background())
	if err != nil {
		return buf, err
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
