//go:build js && wasm

package jsbridge

import (
	"errors"
	"strconv"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// bridgeOptions are the config fields the bridge itself uses.
type bridgeOptions struct {
	hasToken bool // getToken was given: the engine asks for a token before each dial
	debug    bool // the engine's lifecycle goes to hooks.onLog
}

// readConfig turns the shim's config object into an engine Config. Every
// field is required: the shim's DEFAULTS (npm/options.js) are the one
// source of the browser's defaults, so the engine's own never apply to it
// unnoticed. Wrong types, missing fields and values the engine would read
// as "use the default" (a zero delay) are errors.
func readConfig(obj safejs.Value) (provider.Config, bridgeOptions, error) {
	var cfg provider.Config
	var opts bridgeOptions
	urls, err := obj.Get("urls")
	if err != nil {
		return cfg, opts, errs.Wrap("read urls", err)
	}
	cfg.URLs, err = stringList(urls)
	if err != nil || len(cfg.URLs) == 0 {
		return cfg, opts, errors.New("failed to read urls: want a non-empty array of strings")
	}
	level, err := reqString(obj, "protocol")
	if err != nil {
		return cfg, opts, err
	}
	cfg.Protocol = protocol.Level(level)
	durations := []struct {
		key      string
		dst      *time.Duration
		positive bool // the engine reads zero as its own default
	}{
		{"minDelay", &cfg.MinDelay, true}, {"maxDelay", &cfg.MaxDelay, true},
		{"heartbeatGrace", &cfg.HeartbeatGrace, true}, {"coalesceMs", &cfg.Coalesce, false},
		{"resyncSpreadMs", &cfg.ResyncSpread, false},
	}
	for _, d := range durations {
		ms, err := reqNumber(obj, d.key, d.positive)
		if err != nil {
			return cfg, opts, err
		}
		*d.dst = time.Duration(ms * float64(time.Millisecond))
	}
	// 0 turns the late resync off in the shim; the engine reads zero as its
	// default and a negative value as off.
	late, err := reqNumber(obj, "lateResyncMs", false)
	if err != nil {
		return cfg, opts, err
	}
	cfg.LateResync = time.Duration(late * float64(time.Millisecond))
	if late == 0 {
		cfg.LateResync = -1
	}
	for _, n := range []struct {
		key string
		dst *int
	}{{"queueMaxCount", &cfg.QueueMaxCount}, {"queueMaxBytes", &cfg.QueueMaxBytes}} {
		f, err := reqNumber(obj, n.key, true)
		if err != nil {
			return cfg, opts, err
		}
		*n.dst = int(f)
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"filterIds", &cfg.FilterIDs}, {"debug", &opts.debug}, {"hasToken", &opts.hasToken}} {
		if *b.dst, err = reqBool(obj, b.key); err != nil {
			return cfg, opts, err
		}
	}
	return cfg, opts, nil
}

func reqString(obj safejs.Value, key string) (string, error) {
	s, ok, err := optString(obj, key)
	if err == nil && !ok {
		err = errors.New("failed to read " + key + ": missing")
	}
	return s, err
}

func reqNumber(obj safejs.Value, key string, positive bool) (float64, error) {
	f, ok, err := optNumber(obj, key)
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return 0, errors.New("failed to read " + key + ": missing")
	case positive && f == 0:
		return 0, errors.New("failed to read " + key + ": must be positive")
	}
	return f, nil
}

func reqBool(obj safejs.Value, key string) (bool, error) {
	b, ok, err := optBool(obj, key)
	if err == nil && !ok {
		err = errors.New("failed to read " + key + ": missing")
	}
	return b, err
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
		return nil, errs.Wrap("read list", err)
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
