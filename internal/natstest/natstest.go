// Package natstest runs an embedded NATS server with JetStream for tests.
package natstest

import (
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"
)

// Server is an in-process NATS server with JetStream on a loopback port
// and a store on disk; Stop and Start bring it down and back on the same
// port.
type Server struct {
	t   testing.TB
	mu  sync.Mutex
	srv *natsserver.Server
	// Dir is the store; a test points it at an empty directory between
	// Stop and Start to lose the history.
	Dir  string
	port int
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, Dir: t.TempDir(), port: -1}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start starts a server stopped with Stop, on the same port.
func (s *Server) Start() {
	s.t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: s.port, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: s.Dir,
	})
	require.NoError(s.t, err, "failed to create nats-server")
	go ns.Start()
	require.True(s.t, ns.ReadyForConnections(20*time.Second), "nats-server did not start")
	s.mu.Lock()
	s.srv = ns
	s.port = ns.Addr().(*net.TCPAddr).Port
	s.mu.Unlock()
}

// Stop shuts the server down and waits until it has.
func (s *Server) Stop() {
	s.mu.Lock()
	ns := s.srv
	s.srv = nil
	s.mu.Unlock()
	if ns != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
	}
}

// URL is the server's client URL.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "nats://127.0.0.1:" + strconv.Itoa(s.port)
}
