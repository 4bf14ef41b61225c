package soak

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Fault is one kind of network failure the Proxy injects.
type Fault string

// The faults.
const (
	// FaultCut resets both sides at once (TCP RST), as a dropped network
	// path or a crashed middlebox would.
	FaultCut Fault = "cut"
	// FaultStall stops forwarding in both directions for a while; bytes
	// are held, not lost, as on a congested or sleeping link.
	FaultStall Fault = "stall"
	// FaultHalfCloseClient sends a FIN to the client while the server side
	// stays open; FaultHalfCloseServer does the opposite.
	FaultHalfCloseClient Fault = "half-close-client"
	FaultHalfCloseServer Fault = "half-close-server"
)

// Proxy forwards TCP connections from its loopback listener to a target and
// injects faults into them on demand.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	links  map[*link]struct{}
	closed bool
	wg     sync.WaitGroup
}

// link is one proxied connection: the client's side and the server's.
type link struct {
	client, server *net.TCPConn
	done           chan struct{} // closed by kill
	once           sync.Once

	mu    sync.Mutex
	gate  chan struct{} // non-nil while stalled; closed when the stall ends
	ended int           // directions finished
}

// NewProxy listens on 127.0.0.1 and forwards every connection to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Links is how many connections are being forwarded.
func (p *Proxy) Links() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		l := &link{client: c.(*net.TCPConn), server: s.(*net.TCPConn), done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.kill()
			return
		}
		p.links[l] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(l, l.server, l.client)
		go p.pipe(l, l.client, l.server)
	}
}

// pipe copies src to dst until src ends, honouring stalls, then passes the
// end on as a half-close. The second direction to end closes the link.
func (p *Proxy) pipe(l *link, dst, src *net.TCPConn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !l.waitGate() {
				break
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = dst.CloseWrite()
	l.mu.Lock()
	l.ended++
	last := l.ended == 2
	l.mu.Unlock()
	if last {
		l.kill()
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
	}
}

// waitGate blocks while the link is stalled; false means it was killed.
func (l *link) waitGate() bool {
	l.mu.Lock()
	gate := l.gate
	l.mu.Unlock()
	if gate == nil {
		return true
	}
	select {
	case <-gate:
		return true
	case <-l.done:
		return false
	}
}

func (l *link) kill() {
	l.once.Do(func() {
		close(l.done)
		_ = l.client.SetLinger(0)
		_ = l.server.SetLinger(0)
		_ = l.client.Close()
		_ = l.server.Close()
	})
}

func (l *link) stall(d time.Duration) {
	l.mu.Lock()
	if l.gate != nil {
		l.mu.Unlock()
		return
	}
	gate := make(chan struct{})
	l.gate = gate
	l.mu.Unlock()
	time.AfterFunc(d, func() {
		l.mu.Lock()
		l.gate = nil
		l.mu.Unlock()
		close(gate)
	})
}

// Inject applies fault f to up to n of the current connections (all of
// them when n <= 0), picked by pick, and returns how many it hit.
func (p *Proxy) Inject(f Fault, n int, stall time.Duration, pick func(int) int) (int, error) {
	p.mu.Lock()
	all := make([]*link, 0, len(p.links))
	for l := range p.links {
		all = append(all, l)
	}
	p.mu.Unlock()
	if n <= 0 || n > len(all) {
		n = len(all)
	}
	for i := 0; i < n; i++ { // a partial Fisher-Yates shuffle picks n links
		j := i + pick(len(all)-i)
		all[i], all[j] = all[j], all[i]
		l := all[i]
		switch f {
		case FaultCut:
			l.kill()
		case FaultStall:
			l.stall(stall)
		case FaultHalfCloseClient:
			_ = l.client.CloseWrite()
		case FaultHalfCloseServer:
			_ = l.server.CloseWrite()
		default:
			return i, fmt.Errorf("failed to inject %q: %w", f, errors.ErrUnsupported)
		}
	}
	return n, nil
}

// Close stops accepting, kills every connection and waits for the copies.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	links := p.links
	p.links = map[*link]struct{}{}
	p.mu.Unlock()
	err := p.ln.Close()
	for l := range links {
		l.kill()
	}
	p.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("failed to close the proxy: %w", err)
	}
	return nil
}

var _ io.Closer = (*Proxy)(nil)
