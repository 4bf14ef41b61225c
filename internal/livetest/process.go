package livetest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// LiveserverBinary builds cmd/liveserver once per test binary; RemoveBuilt
// removes it.
func LiveserverBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "liveserver-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "liveserver")
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out, err := exec.Command(goBin, "build", "-o", buildPath, "github.com/refine-live-wasm/refine-live-wasm/cmd/liveserver").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("failed to build liveserver: %w\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return buildPath
}

// RemoveBuilt removes what LiveserverBinary built; for TestMain.
func RemoveBuilt() {
	if buildPath != "" {
		_ = os.RemoveAll(filepath.Dir(buildPath))
	}
}

// Liveserver is cmd/liveserver running as a process of its own, so that
// a test can kill it with SIGKILL: no close frames, no goodbye, and its
// in-memory history gone.
type Liveserver struct {
	t    testing.TB
	Addr string
	args []string
	cmd  *exec.Cmd
	logs SyncBuffer
	done chan struct{}
}

// StartLiveserver runs liveserver on addr with args and waits until it
// answers /healthz (degraded or not). It is killed when the test ends,
// and its output logged if the test failed.
func StartLiveserver(t testing.TB, addr string, args ...string) *Liveserver {
	t.Helper()
	l := &Liveserver{t: t, Addr: addr, args: args}
	t.Cleanup(func() {
		l.Kill()
		if t.Failed() {
			t.Logf("liveserver %s output:\n%s", addr, l.Logs())
		}
	})
	l.Start()
	return l
}

// Start starts a killed server again on the same address.
func (l *Liveserver) Start() {
	l.t.Helper()
	l.cmd = exec.Command(LiveserverBinary(l.t), append([]string{"--addr", l.Addr}, l.args...)...)
	l.cmd.Stdout, l.cmd.Stderr = &l.logs, &l.logs
	require.NoError(l.t, l.cmd.Start(), "failed to start liveserver")
	done := make(chan struct{})
	l.done = done
	go func() { _ = l.cmd.Wait(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if s, _ := l.Get("/healthz"); strings.Contains(s, `"status"`) {
			return
		}
		select {
		case <-done:
			l.t.Fatalf("liveserver exited: %s", l.Logs())
		default:
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("liveserver did not answer /healthz: %s", l.Logs())
		}
		time.Sleep(20 * time.Millisecond) // the pace of the health check
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (l *Liveserver) Kill() {
	if l.cmd == nil || l.done == nil {
		return
	}
	_ = l.cmd.Process.Kill()
	<-l.done
	l.done = nil
}

// Get is the body of a GET of path.
func (l *Liveserver) Get(path string) (string, error) { return Get(l.Addr, path) }

// Get is the body of a GET of path on the server at addr (host:port).
func Get(addr, path string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// WSURL is the server's WebSocket endpoint.
func (l *Liveserver) WSURL() string { return "ws://" + l.Addr + "/live" }

// Logs is what the process has written so far.
func (l *Liveserver) Logs() string { return l.logs.String() }

// SyncBuffer lets a test read what a process or goroutine writes.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
