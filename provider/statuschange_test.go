package provider

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

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
		{"connection lost", basic, func(h *harness) {
			h.open(protocol.LevelBasic, 0).drop(0, "")
			h.waitStatus(StatusReconnecting)
		}, StatusChange{StatusOpen, StatusReconnecting, CodeConnectionLost, "connection reset"}, []string{CodeConnectCalled, CodeOpened}},
		{"server closed", basic, func(h *harness) {
			h.open(protocol.LevelBasic, 0).drop(protocol.CloseRestart, "deploy")
			h.waitStatus(StatusReconnecting)
		}, StatusChange{StatusOpen, StatusReconnecting, CodeServerClosed, "deploy"}, []string{CodeConnectCalled, CodeOpened}},
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
		{"terminal close", basic, func(h *harness) {
			h.open(protocol.LevelBasic, 0).drop(protocol.CloseForbidden, "go away")
			h.waitStatus(StatusClosed)
		}, StatusChange{StatusOpen, StatusClosed, CodeTerminalClose, "4502 forbidden"}, []string{CodeConnectCalled, CodeOpened}},
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
