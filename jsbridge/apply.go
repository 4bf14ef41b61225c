//go:build js && wasm

package jsbridge

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// apply runs a batch of subscribes and unsubscribes that the shim joined
// into one string, so that a burst of them costs one call (and three
// JavaScript references) instead of one call and up to four references
// each. The format is parseApply's. A malformed batch is refused whole.
func (b *boundClient) apply(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 1 || args[0].Type() != safejs.TypeString {
		return nil, codedError(codeInvalidArgument, errors.New("failed to apply: want a string"))
	}
	text, _ := args[0].String()
	ops, ok := parseApply(text, time.Now)
	if !ok {
		return nil, codedError(codeInvalidArgument, errors.New("failed to apply: malformed batch"))
	}
	for i := range ops {
		var err error
		if ops[i].unsubscribe {
			err = b.unsubscribeID(ops[i].id)
		} else {
			err = b.subscribeOpts(ops[i].id, ops[i].opts)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// applyOp is one record of an apply batch.
type applyOp struct {
	unsubscribe bool
	id          int
	opts        provider.SubscribeOptions // subscribes only; no Callback yet
}

// parseApply reads the shim's batch. Records are separated by U+001E,
// fields by U+001F:
//
//	s id coalesceMs disabled(0|1) ageMs channel nTypes types… nIDs(-1: null) ids…
//	u id
//
// ageMs is how long before the batch the application called subscribe
// (the shim queues subscriptions while live.wasm loads); now is read once,
// and only when some record has an age.
func parseApply(text string, now func() time.Time) ([]applyOp, bool) {
	var (
		ops     []applyOp
		nowTime time.Time
		haveNow bool
	)
	for _, rec := range strings.Split(text, "\x1e") {
		f := strings.Split(rec, "\x1f")
		if len(f) < 2 {
			return nil, false
		}
		id, err := strconv.Atoi(f[1])
		if err != nil || id <= 0 {
			return nil, false
		}
		switch f[0] {
		case "u":
			if len(f) != 2 {
				return nil, false
			}
			ops = append(ops, applyOp{unsubscribe: true, id: id})
		case "s":
			if len(f) < 8 {
				return nil, false
			}
			coalesceMs, err1 := strconv.ParseFloat(f[2], 64)
			ageMs, err2 := strconv.ParseFloat(f[4], 64)
			nt, err3 := strconv.Atoi(f[6])
			if err1 != nil || err2 != nil || err3 != nil || (f[3] != "0" && f[3] != "1") || nt < 0 || len(f) < 8+nt {
				return nil, false
			}
			types := f[7 : 7+nt : 7+nt]
			ni, err := strconv.Atoi(f[7+nt])
			if err != nil || ni < -1 || len(f) != 8+nt+max(ni, 0) {
				return nil, false
			}
			var ids []string
			if ni >= 0 {
				ids = f[8+nt:]
			}
			var at time.Time
			if ageMs > 0 {
				if !haveNow {
					nowTime, haveNow = now(), true
				}
				at = nowTime.Add(-msDuration(ageMs))
			}
			ops = append(ops, applyOp{id: id, opts: provider.SubscribeOptions{
				Channel: f[5], Types: types, IDs: ids, Disabled: f[3] == "1",
				Coalesce: msDuration(coalesceMs), CalledAt: at,
			}})
		default:
			return nil, false
		}
	}
	return ops, true
}
