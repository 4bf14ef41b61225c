package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/refine-live-wasm/refine-live-wasm/server"
	"github.com/refine-live-wasm/refine-live-wasm/server/pgsource"
)

// postgresSource starts the PostgreSQL change source when --postgres is
// given; without it the returned source is nil, and closing nil is a
// no-op.
func (o options) postgresSource(ctx context.Context, log *slog.Logger, live *server.Server) (*pgsource.Source, error) {
	if o.postgres == "" {
		return nil, nil
	}
	rename, err := pgsource.ParseRename(o.pgRename)
	if err != nil {
		return nil, fmt.Errorf("failed to parse --postgres-rename: %w", err)
	}
	src, err := pgsource.New(pgsource.Config{
		URL: o.postgres, Slot: o.pgSlot, Publication: o.pgPublication, Schema: o.pgSchema,
		Tables: o.pgTables, Rename: rename, LagWarn: o.pgLagWarn,
		Logger: log.With("component", "postgres"), Registerer: live.MetricsRegistry(),
	}, live)
	if err != nil {
		return nil, err
	}
	if err := src.Start(ctx); err != nil {
		return nil, err
	}
	log.Info("streaming PostgreSQL changes", "slot", o.pgSlot, "publication", o.pgPublication, "schema", o.pgSchema)
	return src, nil
}
