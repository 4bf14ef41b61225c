package provider

import (
	"testing"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

func TestUnackedPublishIsResentWithItsRef(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	for _, p := range []string{`{"ids":[1]}`, `{"ids":[2]}`} {
		if err := h.c.Publish(PublishEvent{Channel: "c", Type: "updated", Payload: []byte(p)}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := protocol.DecodeClient([]byte(fc.expectWrite(t)), 0)
	if err != nil {
		t.Fatal(err)
	}
	second, err := protocol.DecodeClient([]byte(fc.expectWrite(t)), 0)
	if err != nil {
		t.Fatal(err)
	}
	fc.send(`{"action":"ack","ref":"` + first.Ref + `","channel":"c","seq":1,"epoch":"e1"}`)
	h.waitLoop("the first ack", func() bool { return h.c.Stats().PublishesAcked == 1 })

	fc2, _ := reconnect(h, fc)
	again, err := protocol.DecodeClient([]byte(fc2.expectWrite(t)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if again.Action != protocol.ActionPublish || again.Ref != second.Ref || string(again.Payload) != `{"ids":[2]}` {
		t.Fatalf("resent %+v, want the unacknowledged publish with ref %s", again, second.Ref)
	}
	if rest := h.flush(fc2); len(rest) != 0 {
		t.Fatalf("also sent %q: an acknowledged publish must not be resent", rest)
	}
	fc2.send(`{"action":"ack","ref":"` + second.Ref + `","channel":"c","seq":2,"epoch":"e1"}`)
	h.waitLoop("the second ack", func() bool { return h.c.Stats().PublishesAcked == 2 })
	// Its echo is still recognised as our own.
	fc2.send(`{"channel":"c","type":"updated","payload":{"ids":[2]},"id":"` + second.Ref + `","seq":2,"epoch":"e1"}`)
	fc2.send(ev("c", 3, "e1"))
	if e := h.expectEvent(); e.Seq != 3 {
		t.Fatalf("got %+v, want the own publish suppressed", e)
	}
}

func TestResentPublishesRespectTheQueueBounds(t *testing.T) {
	h := newHarness(t, func(cfg *Config) {
		cfg.Protocol = protocol.LevelExtended
		cfg.QueueMaxCount = 2
	})
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	for _, p := range []string{`{"n":1}`, `{"n":2}`, `{"n":3}`} {
		if err := h.c.Publish(PublishEvent{Channel: "c", Type: "t", Payload: []byte(p)}); err != nil {
			t.Fatal(err)
		}
		fc.expectWrite(t)
	}
	fc2, _ := reconnect(h, fc)
	for _, want := range []string{`{"n":2}`, `{"n":3}`} {
		m, err := protocol.DecodeClient([]byte(fc2.expectWrite(t)), 0)
		if err != nil || string(m.Payload) != want {
			t.Fatalf("resent %+v (%v), want payload %s", m, err, want)
		}
	}
	if st := h.c.Stats(); st.PublishesDropped != 1 {
		t.Fatalf("stats %+v: want the oldest of three dropped", st)
	}
}

// A publish answered with rate_limited is not lost: after the hint, it is
// sent again with its ref, and so is the one after it, which a server of
// ours drops without a word; an acknowledged one is not.
func TestRateLimitedPublishesAreSentAgain(t *testing.T) {
	h := newHarness(t, extended)
	h.sub(SubscribeOptions{Channel: "c"})
	fc := openSubscribed(h, 0, "e1")
	var sent []protocol.ClientMessage
	for _, p := range []string{`{"ids":[1]}`, `{"ids":[2]}`, `{"ids":[3]}`} {
		if err := h.c.Publish(PublishEvent{Channel: "c", Type: "updated", Payload: []byte(p)}); err != nil {
			t.Fatal(err)
		}
		m, err := protocol.DecodeClient([]byte(fc.expectWrite(t)), 0)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, m)
	}
	fc.send(`{"action":"ack","ref":"` + sent[0].Ref + `","channel":"c","seq":1,"epoch":"e1"}`)
	fc.send(`{"action":"error","code":"rate_limited","message":"slow down","ref":"` + sent[1].Ref + `","retryAfter":300}`)
	h.waitLoop("the pause", func() bool { return h.c.link.conn.subPause != nil && h.c.Stats().PublishesAcked == 1 })
	h.clk.Advance(299 * time.Millisecond)
	if got := h.flush(fc); len(got) != 0 {
		t.Fatalf("sent %q before the hint", got)
	}
	h.clk.Advance(time.Millisecond)
	for _, want := range sent[1:] {
		again, err := protocol.DecodeClient([]byte(fc.expectWrite(t)), 0)
		if err != nil {
			t.Fatal(err)
		}
		if again.Ref != want.Ref || string(again.Payload) != string(want.Payload) {
			t.Fatalf("resent %+v, want %+v", again, want)
		}
	}
	if rest := h.flush(fc); len(rest) != 0 {
		t.Fatalf("also sent %q", rest)
	}
	if st := h.c.Stats(); st.PublishesFailed != 0 {
		t.Fatalf("a rate-limited publish counted as failed: %+v", st)
	}
	select {
	case err := <-h.errs:
		t.Fatalf("a rate limit was reported as %v", err)
	default:
	}
}
