package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/natsbroker"
)

// broker opens the broker the flags ask for: in memory by default, NATS
// JetStream with --nats. The returned function closes it (and the NATS
// connection).
func (o options) broker(ctx context.Context, log *slog.Logger) (server.Broker, func(), error) {
	if o.nats == "" {
		b := o.memoryBroker()
		return b, func() { _ = b.Close() }, nil
	}
	nc, err := nats.Connect(o.nats,
		nats.Name("liveserver"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("NATS disconnected", "err", err) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("NATS reconnected", "url", nc.ConnectedUrl()) }),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to connect to NATS: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := natsbroker.New(sctx, nc, o.natsOptions(log))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("failed to start the NATS broker: %w", err)
	}
	log.Info("using NATS JetStream", "url", nc.ConnectedUrl(), "stream", o.natsStream, "replicas", o.natsReplicas)
	return b, func() {
		_ = b.Close()
		nc.Close()
	}, nil
}
