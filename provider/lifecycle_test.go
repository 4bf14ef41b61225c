package provider

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"
	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func TestAutoFallsBackOnFirstEvent(t *testing.T) {
	h := newHarness(t, nil)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.tr.expectDial(t).accept()
	fc.expectWriteEq(t, clientHello)
	fc.expectWriteEq(t, `{"action":"subscribe","channel":"c","age":1000}`)
	fc.send(`{"channel":"c","type":"updated","payload":{}}`)
	h.waitStatus(StatusOpen)
	h.expectEvent()
	var level protocol.Level
	h.query(func() { level = h.c.link.conn.level })
	if level != protocol.LevelBasic {
		t.Fatalf("level %s", level)
	}
	// A publish goes out in basic form.
	h.c.Publish(PublishEvent{Channel: "c", Type: "t"})
	fc.expectWriteEq(t, `{"action":"publish","channel":"c","type":"t","payload":{}}`)
}

func TestAutoFallsBackOnHelloTimeout(t *testing.T) {
	h := newHarness(t, nil)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.tr.expectDial(t).accept()
	fc.expectWrite(t)
	fc.expectWrite(t)
	h.clk.Advance(DefaultHelloTimeout - time.Millisecond)
	h.sync()
	if h.c.Status() != StatusConnecting {
		t.Fatalf("status %s before the hello timeout", h.c.Status())
	}
	h.clk.Advance(time.Millisecond)
	h.waitStatus(StatusOpen)
}

func TestAutoRemembersServerThatChokesOnHello(t *testing.T) {
	h := newHarness(t, nil)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.tr.expectDial(t).accept()
	fc.expectWrite(t)
	fc.drop(protocol.CloseUnsupported, "")
	h.waitLoop("retry", func() bool { return h.c.link.retry != nil })
	h.clk.Advance(time.Second)
	fc2 := h.tr.expectDial(t).accept()
	fc2.expectWriteEq(t, `{"action":"subscribe","channel":"c"}`) // no hello this time
	h.waitStatus(StatusOpen)
}

func TestAutoKeepsExtendedOnServerRestart(t *testing.T) {
	h := newHarness(t, nil)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.tr.expectDial(t).accept()
	fc.expectWrite(t)
	fc.drop(protocol.CloseRestart, "")
	h.waitLoop("retry", func() bool { return h.c.link.retry != nil })
	h.clk.Advance(time.Second)
	fc2 := h.tr.expectDial(t).accept()
	fc2.expectWriteEq(t, clientHello)
}

func TestTerminalCloseStops(t *testing.T) {
	h := newHarness(t, basic)
	s := h.sub(SubscribeOptions{Channel: "c"})
	h.c.Publish(PublishEvent{Channel: "c", Type: "t"})
	fc := h.tr.expectDial(t).accept()
	fc.expectWrite(t)
	fc.drop(protocol.CloseForbidden, `{"message":"go away"}`)
	err := h.expectErr(ErrTerminal)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != protocol.CloseForbidden {
		t.Fatalf("error %v", err)
	}
	h.waitStatus(StatusClosed)
	h.waitLoop("no retry", func() bool { return h.c.link.retry == nil && h.c.link.dial == nil })
	h.c.Reconnect()
	h.clk.Advance(time.Hour)
	h.sync()
	select {
	case <-h.tr.dials:
		t.Fatal("dialed after a terminal close")
	default:
	}
	if s.State() != SubUnsubscribed {
		t.Fatalf("state %s", s.State())
	}
	// Later calls are harmless.
	s2 := h.sub(SubscribeOptions{Channel: "d"})
	h.c.Publish(PublishEvent{Channel: "c", Type: "t"})
	h.expectErr(ErrClosed)
	h.sync()
	if s2.State() != SubUnsubscribed {
		t.Fatalf("state %s", s2.State())
	}
}

func TestRetryHintHonoured(t *testing.T) {
	h := newHarness(t, basic)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelBasic, 0)
	fc.drop(protocol.CloseShutdown, protocol.CloseReason{Message: "drain", RetryAfter: 7 * time.Second}.Encode())
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(7*time.Second - time.Millisecond)
	h.waitLoop("still waiting", func() bool { return h.c.link.dial == nil && h.c.link.retry != nil })
	h.clk.Advance(time.Millisecond)
	h.tr.expectDial(t)
}

func TestTokenAuthAndExpiryRetry(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	h := newHarness(t, func(cfg *Config) {
		extended(cfg)
		cfg.Token = func(ctx context.Context) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return "tok" + itoa(calls), nil
		}
	})
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.tr.expectDial(t).accept()
	fc.expectWrite(t)
	fc.expectWriteEq(t, `{"action":"auth","token":"tok1"}`)
	fc.drop(protocol.CloseTokenExpired, "")
	h.waitLoop("retry", func() bool { return h.c.link.retry != nil })
	h.clk.Advance(time.Second)
	fc2 := h.tr.expectDial(t).accept()
	fc2.expectWrite(t)
	fc2.expectWriteEq(t, `{"action":"auth","token":"tok2"}`)
	// A second expiry before the connection proved stable is terminal.
	fc2.drop(protocol.CloseTokenExpired, "")
	h.expectErr(ErrTerminal)
	h.waitStatus(StatusClosed)
}

func TestTokenErrorRetries(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		cfg.Token = func(ctx context.Context) (string, error) { return "", errors.New("no session") }
	})
	h.sub(SubscribeOptions{Channel: "c"})
	if err := h.expectErr(ErrConnect); !strings.Contains(err.Error(), "no session") {
		t.Fatalf("error %v", err)
	}
	h.waitLoop("retry", func() bool { return h.c.link.retry != nil })
}

func TestSubscribeRefusedIsNotRetriedInALoop(t *testing.T) {
	h := newHarness(t, extended)
	s := h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelExtended, 0)
	fc.expectWrite(t)
	fc.send(`{"action":"error","channel":"c","code":"forbidden","message":"nope"}`)
	var se *ServerError
	if err := h.expectErr(ErrServer); !errors.As(err, &se) || se.Channel != "c" {
		t.Fatalf("error %v", err)
	}
	h.waitLoop("refused", func() bool { return s.State() == SubRefused })
	h.clk.Advance(time.Minute)
	if got := h.flush(fc); len(got) != 0 {
		t.Fatalf("wrote %q", got)
	}
	// A new subscriber tries once more, asking for everything since the
	// first one's call, the channel never having been live.
	h.sub(SubscribeOptions{Channel: "c"})
	fc.expectWriteEq(t, `{"action":"subscribe","channel":"c","age":61000}`)
	if s.State() != SubSubscribing {
		t.Fatalf("state %s while subscribing again", s.State())
	}
}

func TestCallbacksMayReenterAndPanic(t *testing.T) {
	h := newHarness(t, basic)
	var inner *Subscription
	got := make(chan string, 4)
	h.sub(SubscribeOptions{Channel: "c", Callback: func(e Event) {
		if inner == nil {
			var err error
			inner, err = h.c.Subscribe(SubscribeOptions{Channel: "d", Callback: func(e Event) { got <- e.Channel }})
			if err != nil {
				t.Error(err)
			}
			h.c.Publish(PublishEvent{Channel: "c", Type: "t"})
			panic("boom")
		}
		h.c.Unsubscribe(inner)
		got <- "c"
	}})
	fc := h.open(protocol.LevelBasic, 0)
	fc.send(`{"channel":"c","type":"t","payload":{}}`)
	if err := h.expectErr(ErrCallbackPanic); !strings.Contains(err.Error(), "boom") {
		t.Fatalf("error %v", err)
	}
	fc.send(`{"channel":"d","type":"t","payload":{}}`)
	if ch := recv(t, got); ch != "d" {
		t.Fatalf("got %s", ch)
	}
	fc.send(`{"channel":"c","type":"t","payload":{}}`)
	if ch := recv(t, got); ch != "c" {
		t.Fatalf("got %s", ch)
	}
}

func TestPanickingErrorCallbackIsContained(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		basic(cfg)
		cfg.OnError = func(error) { panic(errors.New("bad handler")) }
	})
	h.sub(SubscribeOptions{Channel: "c", Callback: func(Event) { panic("boom") }})
	fc := h.open(protocol.LevelBasic, 0)
	fc.send(`{"channel":"c","type":"t","payload":{}}`)
	h.waitLoop("delivered", func() bool { return h.c.Stats().EventsDelivered == 1 })
}

func TestListenersAndClose(t *testing.T) {
	h := newHarness(t, basic)
	trail := make(chan string, 8)
	remove := h.c.OnStatus(func(from, to Status) { trail <- string(from) + ">" + string(to) })
	h.c.OnStatus(nil)()
	s := h.sub(SubscribeOptions{Channel: "c"})
	states := make(chan SubState, 8)
	s.OnState(func(from, to SubState) { states <- to })
	s.OnState(nil)()
	h.open(protocol.LevelBasic, 0)
	if st := recv(t, states); st != SubSubscribed {
		t.Fatalf("state %s", st)
	}
	h.c.Close()
	h.c.Close()
	for _, want := range []string{"idle>connecting", "connecting>open", "open>closed"} {
		if got := recv(t, trail); got != want {
			t.Fatalf("status change %s, want %s", got, want)
		}
	}
	remove()
	if st := recv(t, states); st != SubUnsubscribed {
		t.Fatalf("state %s", st)
	}
	if h.c.Status() != StatusClosed {
		t.Fatal(h.c.Status())
	}
	if _, err := h.c.Subscribe(SubscribeOptions{Channel: "c", Callback: func(Event) {}}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := h.c.Publish(PublishEvent{Channel: "c", Type: "t"}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	h.c.Unsubscribe(s)
	h.c.Reconnect()
}

func TestCloseFromCallback(t *testing.T) {
	h := newHarness(t, basic)
	done := make(chan struct{})
	h.sub(SubscribeOptions{Channel: "c", Callback: func(Event) { h.c.Close(); close(done) }})
	fc := h.open(protocol.LevelBasic, 0)
	fc.send(`{"channel":"c","type":"t","payload":{}}`)
	<-done
	<-h.c.out.done
}

func TestBadOptionsAndConfig(t *testing.T) {
	h := newHarness(t, nil)
	cb := func(Event) {}
	for _, o := range []SubscribeOptions{{Callback: cb}, {Channel: strings.Repeat("x", 257), Callback: cb}, {Channel: "c"}} {
		if _, err := h.c.Subscribe(o); !errors.Is(err, ErrInvalidOptions) {
			t.Fatalf("%+v: %v", o, err)
		}
	}
	var nilClient *Client
	if _, err := nilClient.Subscribe(SubscribeOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	nilClient.Unsubscribe(nil)
	nilClient.Reconnect()
	nilClient.Close()
	if err := nilClient.Publish(PublishEvent{}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	var nilSub *Subscription
	if nilSub.State() != SubUnsubscribed || nilSub.Channel() != "" {
		t.Fatal("nil subscription")
	}
	nilSub.OnState(func(SubState, SubState) {})()

	tr := newFakeTransport()
	for _, cfg := range []Config{
		{Transport: tr},
		{URLs: []string{""}, Transport: tr},
		{URLs: []string{"ws://a"}},
		{URLs: []string{"ws://a"}, Transport: tr, Protocol: "v9"},
		{URLs: []string{"ws://a"}, Transport: tr, MinDelay: time.Second, MaxDelay: time.Millisecond},
		{URLs: []string{"ws://a"}, Transport: tr, HelloTimeout: -1},
		{URLs: []string{"ws://a"}, Transport: tr, QueueMaxCount: -1},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("%+v: %v", cfg, err)
		}
	}
	c, err := New(Config{URLs: []string{"ws://a"}, Transport: tr, Linger: -1})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestErrorTexts(t *testing.T) {
	ce := &CloseError{Code: protocol.CloseForbidden, Reason: "r"}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ce, "connection closed: 4502 forbidden: r"},
		{errs.WrapKind("stay connected", ErrTerminal, ce), "failed to stay connected: server refused the connection for good: connection closed: 4502 forbidden: r"},
		{&ServerError{Code: "forbidden", Message: "m", Channel: "c"}, "server error forbidden: m (channel c)"},
		{errs.Wrap("run callback", errs.Panic(ErrCallbackPanic, 3)), "failed to run callback: callback panicked"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	for l, want := range map[LogLevel]string{LogDebug: "debug", LogInfo: "info", LogWarn: "warn", LogError: "error"} {
		if l.String() != want {
			t.Errorf("%d: %s", l, l.String())
		}
	}
}

func recv[T any](t testing.TB, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatal("nothing received")
		var zero T
		return zero
	}
}
