package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/natsbroker"
)

// natsBroker starts an embedded nats-server with JetStream in this
// process (its CPU and writes count as the server's: a deployment runs
// both) and returns a broker on it, with the stream in memory so that no
// disk write enters the figures.
func natsBroker() (server.Broker, func(), error) {
	dir, err := os.MkdirTemp("", "fanout-nats")
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create the store directory: %w", err)
	}
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: dir})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create nats-server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		return nil, nil, fmt.Errorf("failed to start nats-server: not ready after 10 s")
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		return nil, nil, fmt.Errorf("failed to connect to nats-server: %w", err)
	}
	b, err := natsbroker.New(context.Background(), nc, natsbroker.Options{MemoryStorage: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create the NATS broker: %w", err)
	}
	return b, func() {
		_ = b.Close()
		nc.Close()
		ns.Shutdown()
		_ = os.RemoveAll(dir)
	}, nil
}
