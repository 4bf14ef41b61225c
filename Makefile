# One-line targets. `make test` runs every check; `make demo` runs the example app.
GO ?= go
FUZZTIME ?= 30s

VERSION := $(shell sed -n 's/^export const VERSION = "\(.*\)";*$$/\1/p' npm/version.js)
WASM_LDFLAGS := -s -w -buildid= -X main.version=$(VERSION)
# No inlining outside this module: the inline trees and their metadata
# cost live.wasm more than they gain; our own hot path keeps it
# (docs/benchmarks.md, Size). wasm_test.go builds with the same flags.
WASM_GCFLAGS := -gcflags=all=-l -gcflags=github.com/refine-live-wasm/refine-live-wasm/...=

.PHONY: test lint fmt-check mod-check vet vet-js gotest cover fuzz demo wasm npm npm-deps test-npm test-e2e test-browsers bin/liveserver bin/basicserver

test: lint gotest test-npm test-e2e

lint: fmt-check mod-check vet vet-js

# go.mod lists what the module requires directly, and go.sum nothing more.
mod-check:
	$(GO) mod tidy -diff

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

vet-js:
	GOOS=js GOARCH=wasm $(GO) vet ./protocol/... ./provider ./jsbridge/... ./wasm/...

gotest:
	$(GO) test -race -count=1 ./...

cover:
	$(GO) test -count=1 -cover ./protocol/... ./provider/...

fuzz:
	@for pkg in ./protocol ./provider ./server; do for t in $$($(GO) test -list '^Fuzz' $$pkg | grep ^Fuzz); do echo "$$pkg $$t"; $(GO) test $$pkg -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) || exit 1; done; done

wasm:
	GOOS=js GOARCH=wasm $(GO) build -trimpath $(WASM_GCFLAGS) -ldflags="$(WASM_LDFLAGS)" -o npm/live.wasm ./wasm
	$(GO) run ./internal/cmd/wasmpack npm/live.wasm # merge data segments (docs/benchmarks.md: Size)
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" npm/wasm_exec.js

bin/liveserver:
	$(GO) build -o bin/liveserver ./cmd/liveserver

bin/basicserver:
	$(GO) build -o bin/basicserver ./internal/cmd/basicserver

npm-deps:
	cd npm/test && npm ci --no-audit --no-fund --loglevel=error

# The shim's unit, browser and packaging tests, against a live reference
# server: the browser suite in headless Chromium, then again in Firefox ESR
# and WebKitGTK (each engine's Debian package, installed when missing).
test-npm: wasm bin/liveserver bin/basicserver npm-deps
	bash scripts/ensure-chromium.sh >/dev/null
	bash scripts/ensure-browsers.sh >/dev/null
	node scripts/live-harness.mjs bin/liveserver --basic bin/basicserver -- npm --prefix npm/test test
	node scripts/live-harness.mjs bin/liveserver --basic bin/basicserver -- npm --prefix npm/test run test:firefox
	node scripts/live-harness.mjs bin/liveserver --basic bin/basicserver -- npm --prefix npm/test run test:webkit

npm: wasm
	mkdir -p dist && cd npm && npm pack --silent --pack-destination ../dist

# Every browser suite in every engine: the npm package's suite and the
# example app's whole end-to-end suite in Chromium, Firefox and WebKit.
test-browsers: test-npm npm
	E2E_ALL_ENGINES=1 SKIP_PACK=1 bash example-app/scripts/e2e.sh

# The example app's end-to-end suite in headless Chromium, and its key
# scenarios in Firefox and WebKit, on the packed tarball, as a user would
# install it.
test-e2e: npm
	SKIP_PACK=1 bash example-app/scripts/e2e.sh

# Serves the example app at http://127.0.0.1:$${PORT:-8080}.
demo:
	bash example-app/scripts/demo.sh

# The example app on a throwaway PostgreSQL, with no publish call in the
# backend: rows changed with psql show up live (the script prints how).
.PHONY: demo-postgres
demo-postgres:
	bash example-app/scripts/demo-postgres.sh

# Browser benchmarks beside a plain JavaScript provider (about 5 minutes);
# rewrites its section of docs/benchmarks.md and docs/bench-chart.svg.
.PHONY: bench
bench: wasm bin/liveserver
	node bench/run.mjs

# The long chaos soak (proxy faults and liveserver restarts, ten times the
# short form that go test runs in make test), with its figures.
.PHONY: soak load
soak:
	$(GO) test ./soak -run 'TestChaosProxy|TestServerRestarts' -count=1 -v -timeout 30m -soak.long

# 2,000 WebSocket connections on 100 channels and a slow consumer against one
# liveserver process (about a minute), with its figures.
load:
	$(GO) test ./soak -run TestLoad -count=1 -v -timeout 10m -soak.load
