package natsbroker

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// record is the body of one stream message: the event and its position,
// its Date in Unix milliseconds. Prev is the stream sequence of the
// channel's previous event (0 for the first of an epoch): History walks
// back along it for short replays.
type record struct {
	server.Event
	Date int64  `json:"date"`
	Prev uint64 `json:"prev,omitempty"`
}

func newRecord(ev *server.Event, prev uint64) record {
	return record{Event: *ev, Date: ev.Date.UnixMilli(), Prev: prev}
}

func (r *record) event() server.Event {
	ev := r.Event
	ev.Date = time.UnixMilli(r.Date)
	return ev
}

func decodeRecord(data []byte) (record, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("failed to decode event: %w", err)
	}
	if r.Seq == 0 || r.Epoch == "" || r.Channel == "" {
		return r, fmt.Errorf("failed to decode event: missing channel, seq or epoch")
	}
	return r, nil
}

// epochFor names a history that starts now: the stream's creation time
// (its identity: a recreated stream never repeats it) and the stream's
// last sequence when the history started (which tells two histories of
// one channel in the same stream apart, since the second starts after
// every message of the first).
func epochFor(created time.Time, lastSeq uint64) string {
	return strconv.FormatInt(created.UnixNano(), 36) + "." + strconv.FormatUint(lastSeq, 36)
}

// jsonRecord encodes ev, whose Date is then cut to the millisecond it is
// stored with, so that every node reports the same.
func jsonRecord(ev *server.Event, prev uint64) ([]byte, error) {
	ev.Date = time.UnixMilli(ev.Date.UnixMilli())
	data, err := json.Marshal(newRecord(ev, prev))
	if err != nil {
		return nil, fmt.Errorf("failed to encode event: %w", err)
	}
	return data, nil
}
