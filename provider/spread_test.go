package provider

import (
	"testing"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func spread(d time.Duration) func(*Config) {
	return func(cfg *Config) {
		cfg.Protocol = protocol.LevelBasic
		cfg.ResyncSpread = d
	}
}

func TestResyncSpreadDelaysAndMergesResyncs(t *testing.T) {
	h := newHarness(t, spread(time.Second))
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelBasic, 0)
	fc.expectWrite(t)
	fc.drop(0, "")
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(time.Second)
	fc2 := h.open(protocol.LevelBasic, 0)
	fc2.expectWriteEq(t, `{"action":"subscribe","channel":"c"}`)
	// Events go on flowing while the resync waits its turn.
	fc2.send(`{"channel":"c","type":"updated","payload":{"ids":[1]}}`)
	if e := h.expectEvent(); e.Resync != "" {
		t.Fatalf("got %+v before the spread delay, want the live event", e)
	}
	// A second incident while the resync waits is covered by it.
	fc2.drop(0, "")
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(400 * time.Millisecond) // under the 500ms the resync waits (Rand 0.5 · 1s)
	select {
	case e := <-h.events:
		t.Fatalf("delivered %+v before the spread delay", e)
	default:
	}
	h.clk.Advance(100 * time.Millisecond)
	if e := h.expectEvent(); e.Resync != "reconnect" {
		t.Fatalf("got %+v, want the delayed resync", e)
	}
	h.clk.Advance(2 * time.Second)
	fc3 := h.open(protocol.LevelBasic, 0)
	fc3.expectWriteEq(t, `{"action":"subscribe","channel":"c"}`)
	h.clk.Advance(time.Second)
	if e := h.expectEvent(); e.Resync != "reconnect" {
		t.Fatalf("got %+v, want the third connection's own resync", e)
	}
}

func TestResyncSpreadStopsWithTheClient(t *testing.T) {
	h := newHarness(t, spread(time.Second))
	h.sub(SubscribeOptions{Channel: "c"})
	fc := h.open(protocol.LevelBasic, 0)
	fc.expectWrite(t)
	fc.drop(0, "")
	h.waitStatus(StatusReconnecting)
	h.clk.Advance(time.Second)
	h.open(protocol.LevelBasic, 0).expectWrite(t)
	h.sync()
	if err := h.c.Close(); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(time.Second)
	for {
		select {
		case e := <-h.events:
			if e.Resync != "" {
				t.Fatalf("a resync was delivered after Close: %+v", e)
			}
		default:
			return
		}
	}
}
