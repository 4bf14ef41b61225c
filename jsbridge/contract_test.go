//go:build js && wasm

package jsbridge

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/errs"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The contract between the bridge and the shim: the error codes, the
// config and the apply batch. These tests need no server.

// jsbridge/testdata/error-codes.json is the list npm's tests compare with
// ErrorCodes, index.d.ts and the README; it must be exactly the codes Go
// can produce, and every code literal in the bridge must be in it.
func TestErrorCodesMatchTheGoldenList(t *testing.T) {
	raw, err := os.ReadFile("testdata/error-codes.json")
	require.NoError(t, err)
	var golden []string
	require.NoError(t, json.Unmarshal(raw, &golden))
	if !slices.Equal(golden, errorCodes[:]) {
		want, _ := json.MarshalIndent(errorCodes, "", "  ")
		t.Fatalf("testdata/error-codes.json is %v; the bridge's errorCodes are:\n%s", golden, want)
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	literal := regexp.MustCompile(`"ERR_[A-Z_]+"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range literal.FindAllString(string(src), -1) {
			if !slices.Contains(golden, strings.Trim(m, `"`)) {
				t.Errorf("%s uses %s, which errorCodes does not list", f, m)
			}
		}
	}
}

// Each kind of error the engine reports gets the code that says what
// happened, and every listed code is reachable.
func TestErrorCodeOfEachKind(t *testing.T) {
	refused := func(code, channel, ref string) error {
		return errs.Wrap("subscribe", &provider.ServerError{Code: code, Channel: channel, Ref: ref})
	}
	cases := []struct {
		err  error
		want string
	}{
		{refused(protocol.CodeForbidden, "resources/secrets", ""), codeSubscribeRefused},
		{refused(protocol.CodeSubscriptionLimit, "c", ""), codeSubscribeRefused},
		{refused(protocol.CodeUnauthorized, "c", "r1"), codePublishRefused},
		{refused(protocol.CodeRateLimited, "c", ""), codeRateLimited},
		{refused(protocol.CodeInternal, "", ""), codeServer},
		{errs.Wrap("publish", provider.ErrQueueFull), codeQueueFull},
		{errs.Wrap("publish", provider.ErrTooLarge), codePayloadTooLarge},
		{errs.Wrap("subscribe", provider.ErrInvalidOptions), codeInvalidArgument},
		{errs.Wrap("create client", provider.ErrInvalidConfig), codeInvalidArgument},
		{errs.Wrap("publish", provider.ErrClosed), codeClosed},
		{errors.Join(provider.ErrTerminal, &provider.CloseError{Code: protocol.CloseUnauthorized}), codeConnectionClosed},
		{errors.Join(provider.ErrConnect, notOpened(&provider.CloseError{Code: protocol.CloseAbnormal})), codeConnection},
		{errs.Wrap("keep connection", provider.ErrHeartbeatTimeout), codeConnection},
		{errs.Wrap("open connection", provider.ErrHandshake), codeConnection},
		{errs.Wrap("stay connected", &provider.CloseError{Code: protocol.CloseTokenExpired}), codeConnection},
		{errors.Join(provider.ErrConnect, codedError(codeToken, errors.New("failed to get token: rejected"))), codeToken},
		{panicError("boom"), codeInternal},
		{errs.Wrap("run callback", provider.ErrCallbackPanic), codeInternal},
		{errors.New("failed to read frames: no argument"), codeInternal},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		got := errorCode(c.err)
		seen[got] = true
		if got != c.want {
			t.Errorf("errorCode(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	for _, code := range errorCodes {
		if !seen[code] {
			t.Errorf("no case produces %s: is it still emitted?", code)
		}
	}
	channel, serverCode, closeCode := errorDetails(refused(protocol.CodeForbidden, "resources/secrets", ""))
	if channel != "resources/secrets" || serverCode != "forbidden" || closeCode != 0 {
		t.Errorf("details of a refused subscribe: %q %q %d", channel, serverCode, closeCode)
	}
	if _, _, closeCode := errorDetails(errors.Join(provider.ErrTerminal, &provider.CloseError{Code: 4502})); closeCode != 4502 {
		t.Errorf("close code of a terminal close: %d", closeCode)
	}
}

// The browser's defaults have one source, the shim's DEFAULTS: the config
// it sends carries every field, the bridge refuses a config missing one
// (so the engine's own defaults never apply unnoticed), and where the
// engine documents a default of its own for the same setting it agrees.
func TestConfigComesWholeFromTheShim(t *testing.T) {
	cfgObj := shimConfig(t, map[string]any{"url": "ws://127.0.0.1:1/live"})
	cfg, opts, err := readConfig(cfgObj)
	if err != nil {
		t.Fatalf("readConfig of the shim's defaults: %v", err)
	}
	defaults, _ := importModule(t, "../npm/options.js").Get("DEFAULTS")
	ms := func(key string) time.Duration {
		v, _ := defaults.Get(key)
		f, err := v.Float()
		if err != nil {
			t.Fatalf("DEFAULTS.%s: %v", key, err)
		}
		return msDuration(f)
	}
	count := func(key string) int {
		v, _ := defaults.Get(key)
		n, err := v.Int()
		if err != nil {
			t.Fatalf("DEFAULTS.%s: %v", key, err)
		}
		return n
	}
	flag := func(key string) bool {
		v, _ := defaults.Get(key)
		b, _ := v.Bool()
		return b
	}
	level, _ := defaults.Get("protocol")
	levelText, _ := level.String()
	checks := []struct {
		name      string
		got, want any
		engine    any // the engine's documented default; nil: it has none of its own
	}{
		{"protocol", cfg.Protocol, protocol.Level(levelText), protocol.LevelAuto},
		{"minDelay", cfg.MinDelay, ms("minDelay"), provider.DefaultMinDelay},
		{"maxDelay", cfg.MaxDelay, ms("maxDelay"), provider.DefaultMaxDelay},
		{"heartbeatGrace", cfg.HeartbeatGrace, ms("heartbeatGrace"), provider.DefaultHeartbeatGrace},
		{"queueMaxCount", cfg.QueueMaxCount, count("queueMaxCount"), provider.DefaultQueueMaxCount},
		{"queueMaxBytes", cfg.QueueMaxBytes, count("queueMaxBytes"), provider.DefaultQueueMaxBytes},
		{"filterIds", cfg.FilterIDs, flag("filterIds"), false},
		{"coalesceMs", cfg.Coalesce, ms("coalesceMs"), time.Duration(0)},
		// The engine spreads no resyncs unless asked: a Go program has no
		// page of queries refetching at once. The browser's default is
		// the shim's, as for every field.
		{"resyncSpreadMs", cfg.ResyncSpread, ms("resyncSpreadMs"), nil},
		{"lateResyncMs", cfg.LateResync, ms("lateResyncMs"), provider.DefaultLateResync},
		{"debug", opts.debug, flag("debug"), nil},
		{"hasToken", opts.hasToken, false, nil},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: the bridge read %v, the shim's default is %v", c.name, c.got, c.want)
		}
		if c.engine != nil && c.engine != c.want {
			t.Errorf("%s: the engine documents %v, the shim %v", c.name, c.engine, c.want)
		}
	}

	keysFn, _ := jsEval(t, `(o) => Object.keys(o)`)
	without, _ := jsEval(t, `(o, k) => { const c = { ...o }; delete c[k]; return c; }`)
	keys, _ := keysFn.Invoke(cfgObj)
	list, _ := stringList(keys)
	if len(list) != 13 {
		t.Errorf("the shim sends %d fields %v; readConfig reads 13", len(list), list)
	}
	for _, key := range list {
		partial, _ := without.Invoke(cfgObj, key)
		if _, _, err := readConfig(partial); err == nil {
			t.Errorf("readConfig accepted a config without %s", key)
		}
	}
	zero, _ := jsEval(t, `(o) => ({ ...o, minDelay: 0 })`)
	z, _ := zero.Invoke(cfgObj)
	if _, _, err := readConfig(z); err == nil {
		t.Error("readConfig accepted minDelay 0, which the engine reads as its default")
	}
}

func TestAppendStates(t *testing.T) {
	c, err := provider.New(provider.Config{URLs: []string{"ws://x"}, Transport: NewTransport(safejs.Undefined(), func(error) {})})
	require.NoError(t, err)
	defer c.Close()
	sub, err := c.Subscribe(provider.SubscribeOptions{Channel: "c", Disabled: true, Callback: func(provider.Event) {}})
	require.NoError(t, err)
	got := string(appendStates(nil, []stateChange{{id: 7, sub: sub}, {id: 1234567890, sub: sub}}))
	if want := `[7,"unsubscribed",1234567890,"unsubscribed"]`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// A socket that fails before it opens says why in words: a browser only
// ever reports 1006 there.
func TestNotOpenedSaysWhy(t *testing.T) {
	err := notOpened(&provider.CloseError{Code: protocol.CloseAbnormal})
	want := "the connection closed before it opened (code 1006): the server is unreachable or refused the handshake (check that it allows this page's origin)"
	if err.Error() != want {
		t.Errorf("got %q\nwant %q", err.Error(), want)
	}
	var ce *provider.CloseError
	if !errors.As(err, &ce) || ce.Code != protocol.CloseAbnormal {
		t.Error("the error does not wrap the close")
	}
}
