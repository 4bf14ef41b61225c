package provider

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.Equal(t, protocol.LevelBasic, level)
	// A publish goes out in basic form.
	h.publish(PublishEvent{Channel: "c", Type: "t"})
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
	require.Equal(t, StatusConnecting, h.c.Status(), "status before the hello timeout")
	h.clk.Advance(time.Millisecond)
	h.waitStatus(StatusOpen)
}

// A server that closes right after our hello without a word probably does
// not know it: the next connection to it speaks basic. One that closes for
// its own reasons (a restart) is heard again in extended.
func TestAutoCloseAfterHello(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   protocol.CloseCode
		first  string // the first frame of the next connection
		opened bool   // it opens at once, without a hello
	}{
		{"chokes on hello", protocol.CloseUnsupported, `{"action":"subscribe","channel":"c"}`, true},
		{"server restart", protocol.CloseRestart, clientHello, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.sub(SubscribeOptions{Channel: "c"})
			fc := h.tr.expectDial(t).accept()
			fc.expectWrite(t)
			fc.drop(tc.code, "")
			h.waitLoop("retry", func() bool { return h.c.link.retry != nil })
			h.clk.Advance(time.Second)
			h.tr.expectDial(t).accept().expectWriteEq(t, tc.first)
			if tc.opened {
				h.waitStatus(StatusOpen)
			}
		})
	}
}

func TestTerminalCloseStops(t *testing.T) {
	h := newHarness(t, basic)
	s := h.sub(SubscribeOptions{Channel: "c"})
	h.publish(PublishEvent{Channel: "c", Type: "t"})
	fc := h.tr.expectDial(t).accept()
	fc.expectWrite(t)
	fc.drop(protocol.CloseForbidden, `{"message":"go away"}`)
	var ce *CloseError
	require.ErrorAs(t, h.expectErr(ErrTerminal), &ce)
	assert.Equal(t, protocol.CloseForbidden, ce.Code)
	h.waitStatus(StatusClosed)
	h.waitLoop("no retry", func() bool { return h.c.link.retry == nil && h.c.link.dial == nil })
	h.c.Reconnect()
	h.clk.Advance(time.Hour)
	h.sync()
	h.tr.expectNoDial(t, "after a terminal close")
	assert.Equal(t, SubUnsubscribed, s.State())
	// Later calls are harmless.
	s2 := h.sub(SubscribeOptions{Channel: "d"})
	h.c.Publish(PublishEvent{Channel: "c", Type: "t"})
	h.expectErr(ErrClosed)
	h.sync()
	assert.Equal(t, SubUnsubscribed, s2.State())
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
	assert.Contains(t, h.expectErr(ErrConnect).Error(), "no session")
	h.waitLoop("retry", func() bool { return h.c.link.retry != nil })
}

func TestSubscribeRefusedIsNotRetriedInALoop(t *testing.T) {
	h := newHarness(t, extended)
	s := h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelExtended, 0)
	fc.expectWrite(t)
	fc.send(`{"action":"error","channel":"c","code":"forbidden","message":"nope"}`)
	se := h.expectServerError()
	assert.Equal(t, "c", se.Channel)
	h.waitLoop("refused", func() bool { return s.State() == SubRefused })
	h.clk.Advance(time.Minute)
	assert.Empty(t, h.flush(fc))
	// A new subscriber tries once more, asking for everything since the
	// first one's call, the channel never having been live.
	h.sub(SubscribeOptions{Channel: "c"})
	fc.expectWriteEq(t, `{"action":"subscribe","channel":"c","age":61000}`)
	assert.Equal(t, SubSubscribing, s.State(), "state while subscribing again")
}

func TestCallbacksMayReenterAndPanic(t *testing.T) {
	h := newHarness(t, basic)
	var inner *Subscription
	got := make(chan string, 4)
	h.sub(SubscribeOptions{Channel: "c", Callback: func(e Event) {
		if inner == nil {
			var err error
			inner, err = h.c.Subscribe(SubscribeOptions{Channel: "d", Callback: func(e Event) { got <- e.Channel }})
			assert.NoError(t, err)
			h.c.Publish(PublishEvent{Channel: "c", Type: "t"})
			panic("boom")
		}
		h.c.Unsubscribe(inner)
		got <- "c"
	}})
	fc := h.open(protocol.LevelBasic, 0)
	fc.send(`{"channel":"c","type":"t","payload":{}}`)
	assert.Contains(t, h.expectErr(ErrCallbackPanic).Error(), "boom")
	fc.send(`{"channel":"d","type":"t","payload":{}}`)
	assert.Equal(t, "d", recv(t, got))
	fc.send(`{"channel":"c","type":"t","payload":{}}`)
	assert.Equal(t, "c", recv(t, got))
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
	assert.Equal(t, SubSubscribed, recv(t, states))
	h.c.Close()
	h.c.Close()
	for _, want := range []string{"idle>connecting", "connecting>open", "open>closed"} {
		assert.Equal(t, want, recv(t, trail))
	}
	remove()
	assert.Equal(t, SubUnsubscribed, recv(t, states))
	assert.Equal(t, StatusClosed, h.c.Status())
	_, err := h.c.Subscribe(SubscribeOptions{Channel: "c", Callback: func(Event) {}})
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, h.c.Publish(PublishEvent{Channel: "c", Type: "t"}), ErrClosed)
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
		_, err := h.c.Subscribe(o)
		assert.ErrorIs(t, err, ErrInvalidOptions, "%+v", o)
	}
	var nilClient *Client
	_, err := nilClient.Subscribe(SubscribeOptions{})
	assert.ErrorIs(t, err, ErrClosed)
	nilClient.Unsubscribe(nil)
	nilClient.Reconnect()
	nilClient.Close()
	assert.ErrorIs(t, nilClient.Publish(PublishEvent{}), ErrClosed)
	var nilSub *Subscription
	assert.Equal(t, SubUnsubscribed, nilSub.State())
	assert.Empty(t, nilSub.Channel())
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
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig, "%+v", cfg)
	}
	c, err := New(Config{URLs: []string{"ws://a"}, Transport: tr, Linger: -1})
	require.NoError(t, err)
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
		assert.EqualError(t, tc.err, tc.want)
	}
	for l, want := range map[LogLevel]string{LogDebug: "debug", LogInfo: "info", LogWarn: "warn", LogError: "error"} {
		assert.Equal(t, want, l.String())
	}
}

// dropped opens a basic connection, has the server end it with code and
// reason (0: it is just lost) and waits for the status that follows.
func dropped(code protocol.CloseCode, reason string, then Status) func(h *harness) {
	return func(h *harness) {
		h.open(protocol.LevelBasic, 0).drop(code, reason)
		h.waitStatus(then)
	}
}

// Every status change carries the code that explains it.
func TestStatusChangeCodes(t *testing.T) {
	cases := []struct {
		name   string
		cfg    func(*Config)
		drive  func(h *harness)
		want   StatusChange // the last change; Reason is matched as a substring
		before []string     // the codes of the earlier changes
	}{
		{"connect called", basic, func(h *harness) { h.tr.expectDial(h.t) },
			StatusChange{StatusIdle, StatusConnecting, CodeConnectCalled, "first subscribe"}, nil},
		{"opened", basic, func(h *harness) { h.open(protocol.LevelBasic, 0) },
			StatusChange{StatusConnecting, StatusOpen, CodeOpened, "ws://a (basic)"}, []string{CodeConnectCalled}},
		{"dial failed", basic, func(h *harness) {
			h.tr.expectDial(h.t).fail(errors.New("refused"))
			h.waitStatus(StatusReconnecting)
		}, StatusChange{StatusConnecting, StatusReconnecting, CodeDialFailed, "refused"}, []string{CodeConnectCalled}},
		{"connection lost", basic, dropped(0, "", StatusReconnecting), StatusChange{StatusOpen, StatusReconnecting, CodeConnectionLost, "connection reset"}, []string{CodeConnectCalled, CodeOpened}},
		{"server closed", basic, dropped(protocol.CloseRestart, "deploy", StatusReconnecting), StatusChange{StatusOpen, StatusReconnecting, CodeServerClosed, "deploy"}, []string{CodeConnectCalled, CodeOpened}},
		{"heartbeat timeout", extended, func(h *harness) {
			h.open(protocol.LevelExtended, 1000)
			h.clk.Advance(11 * time.Second)
			h.waitStatus(StatusReconnecting)
		}, StatusChange{StatusOpen, StatusReconnecting, CodeHeartbeatTimeout, "server silent"}, []string{CodeConnectCalled, CodeOpened}},
		{"handshake timeout", extended, func(h *harness) {
			h.tr.expectDial(h.t).accept().expectWrite(h.t)
			h.sync()
			h.clk.Advance(DefaultHelloTimeout)
			h.waitStatus(StatusReconnecting)
		}, StatusChange{StatusConnecting, StatusReconnecting, CodeHandshakeTimeout, "no hello"}, []string{CodeConnectCalled}},
		{"clock jump", basic, func(h *harness) {
			h.open(protocol.LevelBasic, 0)
			h.clk.Jump(time.Hour)
			h.clk.Advance(jumpTick)
			h.waitStatus(StatusReconnecting)
		}, StatusChange{StatusOpen, StatusReconnecting, CodeClockJump, "wall clock jumped"}, []string{CodeConnectCalled, CodeOpened}},
		{"terminal close", basic, dropped(protocol.CloseForbidden, "go away", StatusClosed), StatusChange{StatusOpen, StatusClosed, CodeTerminalClose, "4502 forbidden"}, []string{CodeConnectCalled, CodeOpened}},
		{"closed by app", basic, func(h *harness) {
			h.open(protocol.LevelBasic, 0)
			require.NoError(h.t, h.c.Close())
		}, StatusChange{StatusOpen, StatusClosed, CodeClosedByApp, "Close"}, []string{CodeConnectCalled, CodeOpened}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg)
			changes := make(chan StatusChange, 16)
			h.c.OnStatusChange(func(sc StatusChange) { changes <- sc })
			h.sub(SubscribeOptions{Channel: "c"})
			tc.drive(h)
			for _, code := range tc.before {
				assert.Equal(t, code, recv(t, changes).Code)
			}
			got := recv(t, changes)
			assert.Equal(t, tc.want.From, got.From)
			assert.Equal(t, tc.want.To, got.To)
			assert.Equal(t, tc.want.Code, got.Code)
			assert.Contains(t, got.Reason, tc.want.Reason)
		})
	}
}

// OnStatus, built on OnStatusChange, still sees every change.
func TestOnStatusFollowsOnStatusChange(t *testing.T) {
	h := newHarness(t, basic)
	old := make(chan [2]Status, 4)
	remove := h.c.OnStatus(func(from, to Status) { old <- [2]Status{from, to} })
	h.c.OnStatusChange(nil)()
	h.sub(SubscribeOptions{Channel: "c"})
	h.open(protocol.LevelBasic, 0)
	assert.Equal(t, [2]Status{StatusIdle, StatusConnecting}, recv(t, old))
	assert.Equal(t, [2]Status{StatusConnecting, StatusOpen}, recv(t, old))
	remove()
}
