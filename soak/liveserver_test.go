package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
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

// liveserverBinary builds cmd/liveserver once per test binary.
func liveserverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "soak-liveserver-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "liveserver")
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out, err := exec.Command(goBin, "build", "-o", buildPath, "../cmd/liveserver").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("failed to build liveserver: %w: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// childServer is liveserver running as a child process on a fixed port.
type childServer struct {
	bin  string
	addr string
	args []string
	cmd  *exec.Cmd
	out  bytes.Buffer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// start runs the process and waits until /healthz answers.
func (s *childServer) start(ctx context.Context) error {
	s.out.Reset()
	s.cmd = exec.Command(s.bin, append([]string{"--addr", s.addr}, s.args...)...)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("failed to start liveserver: %w", err)
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	return WaitFor(ctx, "liveserver /healthz", func() bool {
		resp, err := client.Get("http://" + s.addr + "/healthz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// kill ends the process with SIGKILL: no close frames, no goodbye, and its
// in-memory history is gone.
func (s *childServer) kill() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("failed to kill liveserver: %w", err)
	}
	_ = s.cmd.Wait()
	s.cmd = nil
	return nil
}

// httpPublisher publishes through POST /publish. A refused dial or an
// error status means not stored; a request whose answer was lost (the
// process died mid-request) may or may not have been stored. pad adds that
// many bytes to each payload.
func httpPublisher(addr string, pad int) (PublishFunc, func()) {
	padding := strings.Repeat("x", pad)
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	client := &http.Client{Timeout: 2 * time.Second, Transport: tr}
	publish := func(ctx context.Context, ch string, n int) (bool, error) {
		p := Payload(n)
		if pad > 0 {
			p = append(append(p[:len(p)-1], `,"pad":"`+padding+`"`...), '}')
		}
		body := fmt.Sprintf(`{"channel":%q,"type":"updated","payload":%s}`, ch, p)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/publish", bytes.NewReader([]byte(body)))
		if err != nil {
			return true, err
		}
		resp, err := client.Do(req)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				return true, err
			}
			return false, err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return true, fmt.Errorf("failed to publish: status %d", resp.StatusCode)
		}
		return true, nil
	}
	return publish, tr.CloseIdleConnections
}
