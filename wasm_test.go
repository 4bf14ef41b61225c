package refinelivewasm_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/internal/wasmpack"
	"github.com/refine-live-wasm/refine-live-wasm/server"
)

// Size ceilings for live.wasm. They are limits that catch a regression
// (a dependency that drags net/http in, say), not targets. Raw is above the
// linker's output because packing writes short runs of zeros out.
const (
	maxWasmRaw  = 4_600_000
	maxWasmGzip = 880_000
)

// TestWasm builds live.wasm exactly as `make wasm` does, checks its size, and
// runs the js/wasm tests of jsbridge/ and wasm/ under Node against a live
// reference server on loopback.
func TestWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds live.wasm and runs Node: skipped with -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is required for the js/wasm tests: install Node.js 20 or later")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	// Go's own runner, but with the instance's exports reachable from the
	// tests (see the script).
	runnerDir, err := filepath.Abs(filepath.Join("jsbridge", "testdata", "node"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("size", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "live.wasm")
		// The flags and the packing of `make wasm`.
		build := exec.Command(goBin, "build", "-trimpath", "-gcflags=all=-l", "-gcflags=github.com/refine-live-wasm/refine-live-wasm/...=",
			"-ldflags=-s -w -buildid=", "-o", out, "./wasm")
		build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if msg, err := build.CombinedOutput(); err != nil {
			t.Fatalf("failed to build live.wasm: %v\n%s", err, msg)
		}
		built, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := wasmpack.Pack(built)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		br := brotliSize(t, node, out)
		t.Logf("live.wasm: raw %d bytes, gzip -9 %d bytes, brotli %s bytes", len(raw), gz.Len(), br)
		if len(raw) > maxWasmRaw {
			t.Errorf("live.wasm is %d bytes raw, above the %d ceiling", len(raw), maxWasmRaw)
		}
		if gz.Len() > maxWasmGzip {
			t.Errorf("live.wasm is %d bytes gzipped, above the %d ceiling", gz.Len(), maxWasmGzip)
		}
	})

	t.Run("js", func(t *testing.T) {
		// Nothing was published before this server: a first subscribe made
		// right after its start is whole.
		broker := server.NewMemoryBroker(server.MemoryOptions{HistoryStart: time.Now().Add(-time.Hour)})
		defer broker.Close()
		srv := server.New(server.Config{Broker: broker, Heartbeat: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
		mux := http.NewServeMux()
		mux.Handle("/live", srv)
		hs := httptest.NewServer(mux)
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			hs.Close()
		}()
		wsURL := "ws" + strings.TrimPrefix(hs.URL, "http") + "/live"

		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goBin, "test", "-count=1", "-v", "./jsbridge/...", "./wasm/...")
		cmd.Env = append(os.Environ(),
			"GOOS=js", "GOARCH=wasm",
			"PATH="+runnerDir+string(os.PathListSeparator)+os.Getenv("PATH"),
			"GOROOT="+runtime.GOROOT(),
			"NODE_OPTIONS=--experimental-websocket --no-warnings",
			"REFINE_LIVE_TEST_WS="+wsURL,
		)
		out, err := cmd.CombinedOutput()
		t.Logf("js/wasm tests:\n%s", out)
		if err != nil {
			t.Fatalf("js/wasm tests failed: %v", err)
		}
		if !bytes.Contains(out, []byte("--- PASS")) {
			t.Fatal("js/wasm tests ran no test")
		}
	})
}

// brotliSize compresses with Node's built-in brotli at its best quality.
func brotliSize(t *testing.T, node, path string) string {
	script := `const z=require("zlib"),fs=require("fs");` +
		`const b=z.brotliCompressSync(fs.readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}});` +
		`process.stdout.write(String(b.length))`
	out, err := exec.Command(node, "-e", script, path).Output()
	if err != nil {
		t.Logf("failed to measure brotli size: %v", err)
		return "?"
	}
	if _, err := strconv.Atoi(string(out)); err != nil {
		return "?"
	}
	return string(out)
}
