//go:build js && wasm

package jsbridge

import (
	"errors"
	"strconv"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// readConfig turns the shim's config object into an engine Config. Absent
// fields keep the engine's defaults; wrong types are errors.
func readConfig(obj safejs.Value) (provider.Config, bool, error) {
	var cfg provider.Config
	urls, err := obj.Get("urls")
	if err != nil {
		return cfg, false, wrapErr("failed to read urls", err)
	}
	cfg.URLs, err = stringList(urls)
	if err != nil || len(cfg.URLs) == 0 {
		return cfg, false, errors.New("failed to read urls: want a non-empty array of strings")
	}
	if s, ok, err := optString(obj, "protocol"); err != nil {
		return cfg, false, err
	} else if ok {
		cfg.Protocol = protocol.Level(s)
	}
	durations := []struct {
		key string
		dst *time.Duration
	}{
		{"minDelay", &cfg.MinDelay}, {"maxDelay", &cfg.MaxDelay},
		{"heartbeatGrace", &cfg.HeartbeatGrace}, {"coalesceMs", &cfg.Coalesce},
		{"resyncSpreadMs", &cfg.ResyncSpread},
	}
	for _, d := range durations {
		ms, ok, err := optNumber(obj, d.key)
		if err != nil {
			return cfg, false, err
		}
		if ok {
			*d.dst = time.Duration(ms * float64(time.Millisecond))
		}
	}
	if n, ok, err := optNumber(obj, "queueMaxCount"); err != nil {
		return cfg, false, err
	} else if ok {
		cfg.QueueMaxCount = int(n)
	}
	if n, ok, err := optNumber(obj, "queueMaxBytes"); err != nil {
		return cfg, false, err
	} else if ok {
		cfg.QueueMaxBytes = int(n)
	}
	if b, ok, err := optBool(obj, "filterIds"); err != nil {
		return cfg, false, err
	} else if ok {
		cfg.FilterIDs = b
	}
	hasToken, _, err := optBool(obj, "hasToken")
	if err != nil {
		return cfg, false, err
	}
	return cfg, hasToken, nil
}

func optString(obj safejs.Value, key string) (string, bool, error) {
	v, err := obj.Get(key)
	if err != nil || v.IsUndefined() || v.IsNull() {
		return "", false, err
	}
	if v.Type() != safejs.TypeString {
		return "", false, errors.New("failed to read " + key + ": want a string")
	}
	s, err := v.String()
	return s, err == nil, err
}

func optNumber(obj safejs.Value, key string) (float64, bool, error) {
	v, err := obj.Get(key)
	if err != nil || v.IsUndefined() || v.IsNull() {
		return 0, false, err
	}
	if v.Type() != safejs.TypeNumber || v.IsNaN() {
		return 0, false, errors.New("failed to read " + key + ": want a number")
	}
	f, err := v.Float()
	if err != nil {
		return 0, false, err
	}
	if f < 0 {
		return 0, false, errors.New("failed to read " + key + ": must not be negative")
	}
	return f, true, nil
}

func optBool(obj safejs.Value, key string) (bool, bool, error) {
	v, err := obj.Get(key)
	if err != nil || v.IsUndefined() || v.IsNull() {
		return false, false, err
	}
	if v.Type() != safejs.TypeBoolean {
		return false, false, errors.New("failed to read " + key + ": want a boolean")
	}
	b, err := v.Bool()
	return b, err == nil, err
}

// stringList reads a JavaScript array of strings; null and undefined give
// nil.
func stringList(v safejs.Value) ([]string, error) {
	if v.IsUndefined() || v.IsNull() {
		return nil, nil
	}
	n, err := v.Length()
	if err != nil {
		return nil, wrapErr("failed to read list", err)
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		e, err := v.Index(i)
		if err != nil {
			return nil, err
		}
		if e.Type() != safejs.TypeString {
			return nil, errors.New("failed to read list: element " + strconv.Itoa(i) + " is not a string")
		}
		s, err := e.String()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
