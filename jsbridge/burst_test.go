//go:build js && wasm

package jsbridge

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A burst reaches a browser engine whole and in order. The reference
// server batches what queues up for a connection into newline-separated
// frames once the engine's hello offered it, so this is the batched
// extended level end to end through the bridge.
func TestBurstArrivesWholeAndInOrder(t *testing.T) {
	testAPI(t)
	recvRec, recvHooks := newRecorder(t)
	_, sendHooks := newRecorder(t)
	receiver := newTestClient(t, recvHooks, "extended")
	sender := newTestClient(t, sendHooks, "extended")
	defer closeClient(t, sender)
	defer closeClient(t, receiver)
	const channel = "resources/burst"
	send(t, receiver, subscribeCmd(9, channel))
	recvRec.waitFor(t, "receiver open", func() bool { return contains(recvRec.statuses, "open") })
	publishUntilHeard(t, sender, recvRec, channel)

	// Below the server's message burst (100), so that none is refused.
	const n = 90
	for i := 0; i < n; i++ {
		send(t, sender, publishCmd(channel, `{"ids":[`+strconv.Itoa(1000+i)+`]}`))
	}
	id := regexp.MustCompile(`"ids":\[(1\d\d\d)\]`)
	var got []string
	recvRec.waitFor(t, "the whole burst", func() bool {
		got = nil
		for _, m := range id.FindAllStringSubmatch(strings.Join(recvRec.batches, ""), -1) {
			got = append(got, m[1])
		}
		return len(got) >= n
	})
	for i, s := range got {
		if s != strconv.Itoa(1000+i) {
			t.Fatalf("event %d carries id %s: the burst arrived out of order or incomplete (%v)", i, s, got)
		}
	}
	if len(got) != n {
		t.Fatalf("%d events, want %d", len(got), n)
	}
}
