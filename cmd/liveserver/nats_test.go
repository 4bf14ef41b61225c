package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/natstest"
)

// Two binaries on one embedded NATS share the channel's history: a publish
// on either continues the same seq in the same epoch.
func TestRunWithNATSSharesHistoryAcrossNodes(t *testing.T) {
	url := natstest.Start(t).URL()
	var addrs []string
	for i := 0; i < 2; i++ {
		addrs = append(addrs, startRun(t, "--nats", url, "--nats-stream", "T", "--history", "10", "--log-level", "error").addr)
	}
	var epoch string
	for i, a := range []string{addrs[0], addrs[1], addrs[0]} {
		resp, err := http.Post("http://"+a+"/publish", "application/json", strings.NewReader(`{"channel":"resources/posts","type":"created"}`))
		require.NoError(t, err)
		var out struct {
			Seq   uint64 `json:"seq"`
			Epoch string `json:"epoch"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || out.Seq != uint64(i+1) || (epoch != "" && out.Epoch != epoch) {
			t.Fatalf("publish %d on %s: %d %+v %v (epoch %s)", i, a, resp.StatusCode, out, err, epoch)
		}
		epoch = out.Epoch
	}
}

func TestNATSFlags(t *testing.T) {
	o, err := parseFlags([]string{"--nats", "nats://a:4222", "--nats-replicas", "3", "--history-ttl", "1h"}, &bytes.Buffer{})
	require.NoError(t, err)
	n := o.natsOptions(nil)
	if n.Stream != "REFINE_LIVE" || n.Replicas != 3 || n.History != 1000 || n.MaxAge != time.Hour {
		t.Fatalf("%+v", n)
	}
	for _, bad := range [][]string{{"--nats", "nats://a", "--history", "0"}, {"--nats", "nats://a", "--nats-replicas", "0"}} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: want error", bad)
		}
	}
}

func TestRunFailsWithoutNATS(t *testing.T) {
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--nats", "nats://127.0.0.1:1"}, &bytes.Buffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "failed to connect to NATS") {
		t.Fatalf("want a connect error, got %v", err)
	}
}
