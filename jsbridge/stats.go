//go:build js && wasm

package jsbridge

import (
	"runtime"
	"runtime/metrics"
	"strconv"

	"github.com/hack-pad/safejs"
)

// stats returns the engine's counters as a JSON object text, which the
// shim parses: cheaper in live.wasm than building the object field by field.
// It adds the Go runtime's goroutine count, for leak checks.
func (b *boundClient) stats(safejs.Value, []safejs.Value) (any, error) {
	st := b.engine.Stats()
	fields := [...]struct {
		name string
		n    uint64
	}{
		{"eventsReceived", st.EventsReceived}, {"eventsDelivered", st.EventsDelivered},
		{"eventsReplayed", st.EventsReplayed}, {"duplicatesDropped", st.DuplicatesDropped},
		{"echoesSuppressed", st.EchoesSuppressed}, {"resyncs", st.Resyncs},
		{"publishesSent", st.PublishesSent}, {"publishesAcked", st.PublishesAcked},
		{"publishesQueued", st.PublishesQueued}, {"publishesDropped", st.PublishesDropped},
		{"publishesFailed", st.PublishesFailed}, {"reconnects", st.Reconnects},
		{"dialFailures", st.DialFailures}, {"goroutines", uint64(runtime.NumGoroutine())},
		{"goLiveHeapBytes", liveHeap()},
	}
	buf := make([]byte, 0, 400)
	for i, f := range fields {
		if i == 0 {
			buf = append(buf, '{')
		} else {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		buf = append(buf, f.name...)
		buf = append(buf, '"', ':')
		buf = strconv.AppendUint(buf, f.n, 10)
	}
	return string(append(buf, '}')), nil
}

// liveHeap is the Go heap that survived the last collection: the memory
// the client really holds, where the wasm memory only shows its peak
// (WebAssembly memory never shrinks).
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}
