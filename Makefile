# One-line targets. `make test` runs every check; `make demo` runs the example app.
GO ?= go
FUZZTIME ?= 30s

.PHONY: test lint fmt-check vet vet-js gotest cover fuzz demo

test: lint gotest

lint: fmt-check vet vet-js

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

vet-js:
	GOOS=js GOARCH=wasm $(GO) vet ./protocol/... ./provider/...

gotest:
	$(GO) test -race -count=1 ./...

cover:
	$(GO) test -count=1 -cover ./protocol/... ./provider/...

fuzz:
	@for t in $$($(GO) test -list '^Fuzz' ./protocol/ | grep ^Fuzz); do $(GO) test ./protocol/ -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) || exit 1; done

demo:
	@echo "The example app is not built yet: make demo will build and serve it at http://127.0.0.1:8080." ; exit 1
