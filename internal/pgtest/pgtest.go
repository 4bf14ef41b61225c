package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Server is one running PostgreSQL.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	// asPostgres is set when commands must switch to the postgres user.
	asPostgres bool
}

// Start initializes and starts a server; it is stopped and its data
// removed when the test ends. A missing PostgreSQL fails the test with
// the script's explanation.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := binDir()
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "pgtest-")
	require.NoError(t, err)
	s := &Server{t: t, bin: bin, dir: filepath.Join(dir, "data"), port: freePort(t), asPostgres: os.Geteuid() == 0}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Mkdir(s.dir, 0o700))
	if s.asPostgres {
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "failed to find the postgres user (Debian's postgresql package creates it)")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, s.dir} {
			require.NoError(t, os.Chown(p, uid, gid))
		}
	}
	if out, err := s.command("initdb", "-D", s.dir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		t.Fatalf("failed to run initdb: %v\n%s", err, out)
	}
	// fsync off makes the tests fast without changing what they see;
	// synchronous_commit stays on, since a walsender sends only flushed
	// WAL and would otherwise hold changes back for wal_writer_delay.
	conf := "listen_addresses = '127.0.0.1'\nport = " + strconv.Itoa(s.port) + "\n" +
		"unix_socket_directories = '" + s.dir + "'\nwal_level = logical\nmax_wal_senders = 10\n" +
		"max_replication_slots = 10\nfsync = off\nfull_page_writes = off\n" +
		"max_connections = 100\nshared_buffers = 32MB\nwal_sender_timeout = 10s\n"
	f, err := os.OpenFile(filepath.Join(s.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	require.NoError(t, err)
	s.startServer()
	t.Cleanup(s.stop)
	return s
}

// binDir finds initdb and pg_ctl, installing PostgreSQL through the
// repository's script when they are missing.
func binDir() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "ensure-postgres.sh")
	out, err := exec.Command("bash", script).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("failed to find PostgreSQL for the tests: %w\n%s", err, msg)
	}
	return strings.TrimSpace(string(out)), nil
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	if s.asPostgres {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (s *Server) startServer() {
	s.t.Helper()
	cmd := s.command("pg_ctl", "-D", s.dir, "-l", filepath.Join(s.dir, "server.log"), "-w", "-t", "60", "start")
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		s.t.Fatalf("failed to start PostgreSQL: %v\n%s\n%s", err, out, log)
	}
}

func (s *Server) stop() {
	_ = s.command("pg_ctl", "-D", s.dir, "-m", "immediate", "-w", "stop").Run()
}

// Stop stops the server (fast mode) until Start again.
func (s *Server) Stop() {
	s.t.Helper()
	if out, err := s.command("pg_ctl", "-D", s.dir, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		s.t.Fatalf("failed to stop PostgreSQL: %v\n%s", err, out)
	}
}

// Start starts a server stopped with Stop, on the same port.
func (s *Server) Start() { s.startServer() }

// URL is the connection string of database postgres as user postgres.
func (s *Server) URL() string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(s.port) + "/postgres?sslmode=disable"
}

// Conn opens a connection, closed when the test ends.
func (s *Server) Conn() *pgx.Conn {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL())
	require.NoError(s.t, err, "failed to connect to PostgreSQL")
	s.t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// Exec runs SQL statements on a fresh connection and fails the test on an
// error.
func (s *Server) Exec(sql string, args ...any) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL())
	require.NoError(s.t, err, "failed to connect to PostgreSQL")
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		s.t.Fatalf("failed to run %q: %v", sql, err)
	}
}
