// Command liveserver runs the refine-live reference server: WebSocket at
// /live (both protocol levels), POST /publish, GET /healthz and GET
// /metrics.
//
//	go run ./cmd/liveserver --addr 127.0.0.1:8080 --origin localhost:5173
//
// Every flag has a default that works on a fresh machine; secrets may come
// from the environment instead of flags (REFINE_LIVE_PUBLISH_TOKEN,
// REFINE_LIVE_JWT_SECRET) so that they do not show in the process list.
// SIGINT or SIGTERM shuts down gracefully: clients are closed with 4000 and
// a spread retry hint. docs/server.md lists every flag.
package main
