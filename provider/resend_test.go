package provider

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// publishAll publishes one event per payload on channel c and returns the
// messages written for them.
func publishAll(h *harness, fc *fakeConn, typ string, payloads ...string) []protocol.ClientMessage {
	h.t.Helper()
	var sent []protocol.ClientMessage
	for _, p := range payloads {
		h.publish(PublishEvent{Channel: "c", Type: typ, Payload: []byte(p)})
		sent = append(sent, fc.expectMessage(h.t))
	}
	return sent
}

func ack(ref string, seq int) string {
	return `{"action":"ack","ref":"` + ref + `","channel":"c","seq":` + itoa(seq) + `,"epoch":"e1"}`
}

func TestUnackedPublishIsResentWithItsRef(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	sent := publishAll(h, fc, "updated", `{"ids":[1]}`, `{"ids":[2]}`)
	fc.send(ack(sent[0].Ref, 1))
	h.waitLoop("the first ack", func() bool { return h.c.Stats().PublishesAcked == 1 })

	fc2, _ := reconnect(h, fc)
	again := fc2.expectMessage(t)
	assert.Equal(t, protocol.ActionPublish, again.Action)
	assert.Equal(t, sent[1].Ref, again.Ref, "the unacknowledged publish keeps its ref")
	assert.Equal(t, `{"ids":[2]}`, string(again.Payload))
	assert.Empty(t, h.flush(fc2), "an acknowledged publish must not be resent")
	fc2.send(ack(sent[1].Ref, 2))
	h.waitLoop("the second ack", func() bool { return h.c.Stats().PublishesAcked == 2 })
	// Its echo is still recognised as our own.
	fc2.send(`{"channel":"c","type":"updated","payload":{"ids":[2]},"id":"` + sent[1].Ref + `","seq":2,"epoch":"e1"}`)
	fc2.send(ev("c", 3, "e1"))
	h.expectSeq(3)
}

func TestResentPublishesRespectTheQueueBounds(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		extended(cfg)
		cfg.QueueMaxCount = 2
	})
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	publishAll(h, fc, "t", `{"n":1}`, `{"n":2}`, `{"n":3}`)
	fc2, _ := reconnect(h, fc)
	for _, want := range []string{`{"n":2}`, `{"n":3}`} {
		assert.Equal(t, want, string(fc2.expectMessage(t).Payload))
	}
	assert.Equal(t, uint64(1), h.c.Stats().PublishesDropped, "the oldest of three dropped")
}

// A publish answered with rate_limited is not lost: after the hint, it is
// sent again with its ref, and so is the one after it, which a server of
// ours drops without a word; an acknowledged one is not.
func TestRateLimitedPublishesAreSentAgain(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	sent := publishAll(h, fc, "updated", `{"ids":[1]}`, `{"ids":[2]}`, `{"ids":[3]}`)
	fc.send(ack(sent[0].Ref, 1))
	fc.send(`{"action":"error","code":"rate_limited","message":"slow down","ref":"` + sent[1].Ref + `","retryAfter":300}`)
	h.waitLoop("the pause", func() bool { return h.c.link.conn.subPause != nil && h.c.Stats().PublishesAcked == 1 })
	h.clk.Advance(299 * time.Millisecond)
	assert.Empty(t, h.flush(fc), "sent before the hint")
	h.clk.Advance(time.Millisecond)
	for _, want := range sent[1:] {
		again := fc.expectMessage(t)
		require.Equal(t, want.Ref, again.Ref)
		require.Equal(t, string(want.Payload), string(again.Payload))
	}
	assert.Empty(t, h.flush(fc))
	assert.Zero(t, h.c.Stats().PublishesFailed, "a rate-limited publish counted as failed")
	h.expectNoErr()
}
