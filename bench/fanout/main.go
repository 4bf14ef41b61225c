package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type params struct {
	server, clients     string
	conns, channels     int
	events, payload     int
	publishers, slow    int
	timeout             time.Duration
	serveKind, serveURL string
}

func main() {
	var p params
	flag.StringVar(&p.server, "server", "liveserver", "liveserver, liveserver-nats (NATS broker, embedded nats-server) or centrifuge")
	flag.StringVar(&p.clients, "clients", "extended", "extended (the Go engine), extended-raw (a plain client of the batched extended level), basic, or centrifuge")
	flag.IntVar(&p.conns, "conns", 1000, "connections")
	flag.IntVar(&p.channels, "channels", 1, "channels; connection i subscribes to channel i mod channels")
	flag.IntVar(&p.events, "events", 1000, "events published, spread over the channels in turn")
	flag.IntVar(&p.payload, "payload", 100, "payload bytes")
	flag.IntVar(&p.publishers, "publishers", 1, "concurrent publishing requests")
	flag.IntVar(&p.slow, "slow", 0, "extra basic connections (liveserver) on channel 0 that never read")
	flag.DurationVar(&p.timeout, "timeout", 50*time.Second, "limit for the whole delivery")
	cpuprofile := flag.String("cpuprofile", "", "write the load generator's own CPU profile (the clients) to this file; FANOUT_CPUPROFILE does it for the server")
	flag.StringVar(&p.serveKind, "serve", "", "internal: run this server in the foreground")
	flag.StringVar(&p.serveURL, "addr", "127.0.0.1:0", "internal: the address to serve on")
	flag.Parse()
	var err error
	if *cpuprofile != "" {
		f, ferr := os.Create(*cpuprofile)
		if ferr == nil {
			ferr = pprof.StartCPUProfile(f)
		}
		if ferr != nil {
			fmt.Fprintln(os.Stderr, "failed to start the profile:", ferr)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if p.serveKind != "" {
		err = serve(p.serveKind, p.serveURL)
	} else {
		err = run(p)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("failed to find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startChild runs this binary as the server and waits for its "ready".
func startChild(kind, addr string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0], "-serve", kind, "-addr", addr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("failed to pipe the server's output: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start the server: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("failed to start the server: %q: %w", line, err)
	}
	return cmd, nil
}

func run(p params) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	child, err := startChild(p.server, addr)
	if err != nil {
		return err
	}
	defer func() {
		_ = child.Process.Signal(syscall.SIGTERM)
		_ = child.Wait()
	}()
	pid := child.Process.Pid
	time.Sleep(200 * time.Millisecond) // let the child's start-up garbage settle before the baseline
	base, err := sampleProc(pid)
	if err != nil {
		return err
	}

	url := "ws://" + addr + "/live"
	dial := dialExtended
	switch p.clients {
	case "basic":
		dial = dialBasic
	case "extended-raw":
		dial = dialExtendedRaw
	case "centrifuge":
		url, dial = "ws://"+addr+"/connection/websocket", dialCentrifuge
	}
	perChannel := make([]int, p.channels) // events each channel gets
	for k := 0; k < p.events; k++ {
		perChannel[k%p.channels]++
	}
	recvs := make([]*recv, p.conns)
	ready := make([]func() bool, p.conns)
	expected := 0
	for i := range recvs {
		want := perChannel[i%p.channels]
		// Concurrent publishers may store events in another order than
		// their numbering: then only completeness is checked.
		recvs[i] = &recv{lat: make([]int32, 0, want), seen: make([]bool, want), ordered: p.publishers == 1}
		expected += perChannel[i%p.channels]
	}
	defer func() {
		for _, r := range recvs {
			if r.closeFn != nil {
				r.closeFn()
			}
		}
	}()
	if err := dialAll(p, url, dial, recvs, ready); err != nil {
		return err
	}
	for range p.slow {
		closeSlow, err := dialSlow(url, "bench/0")
		if err != nil {
			return err
		}
		defer closeSlow()
	}
	if err := waitSubscribed(p, addr, ready); err != nil {
		return err
	}
	idle, err := sampleProc(pid)
	if err != nil {
		return err
	}

	start := time.Now()
	if err := publishAll(p, addr); err != nil {
		return err
	}
	published := time.Since(start)
	deadline := start.Add(p.timeout)
	var got int64
	for {
		got = 0
		for _, r := range recvs {
			got += r.count.Load()
		}
		if got >= int64(expected) || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	end, err := sampleProc(pid)
	if err != nil {
		return err
	}
	return report(p, addr, recvs, perChannel, got, expected, elapsed, published, base, idle, end)
}

// dialAll connects the clients, 32 at a time.
func dialAll(p params, url string, dial func(string, string, *recv) (func() bool, error), recvs []*recv, ready []func() bool) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, 32)
	for i := range recvs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := dial(url, "bench/"+strconv.Itoa(i%p.channels), recvs[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = fmt.Errorf("failed to connect client %d: %w", i, err)
			}
			ready[i] = ok
		}()
	}
	wg.Wait()
	return first
}

// waitSubscribed waits until every client is subscribed: by its own state,
// and for liveserver also by the server's subscription count (basic
// subscribes get no answer).
func waitSubscribed(p params, addr string, ready []func() bool) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := 0
		for _, ok := range ready {
			if ok != nil && ok() {
				n++
			}
		}
		if n == len(ready) && (p.server == "centrifuge" || serverSubscriptions(addr) == len(ready)+p.slow) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("failed to subscribe: %d of %d clients after 60 s", n, len(ready))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func serverSubscriptions(addr string) int {
	return int(metricValue(addr, "refine_live_subscriptions"))
}

// publishAll posts the events, each request as soon as the previous one of
// its publisher was answered.
func publishAll(p params, addr string) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: p.publishers}}
	pad := strings.Repeat("x", max(0, p.payload-len(`{"t":1764190800000000000,"n":100000,"p":""}`)))
	next := make([]int, p.channels)
	var mu sync.Mutex
	take := func() (int, int, bool) {
		mu.Lock()
		defer mu.Unlock()
		k := 0
		for c := range next {
			k += next[c]
		}
		if k >= p.events {
			return 0, 0, false
		}
		c := k % p.channels
		n := next[c]
		next[c]++
		return c, n, true
	}
	errs := make(chan error, p.publishers)
	for range p.publishers {
		go func() {
			for {
				c, n, ok := take()
				if !ok {
					errs <- nil
					return
				}
				body := `{"channel":"bench/` + strconv.Itoa(c) + `","type":"updated","payload":{"t":` +
					strconv.FormatInt(time.Now().UnixNano(), 10) + `,"n":` + strconv.Itoa(n) + `,"p":"` + pad + `"}}`
				resp, err := client.Post("http://"+addr+"/publish", "application/json", strings.NewReader(body))
				if err != nil {
					errs <- fmt.Errorf("failed to publish: %w", err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("failed to publish: status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	var first error
	for range p.publishers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func report(p params, addr string, recvs []*recv, perChannel []int, got int64, expected int, elapsed, published time.Duration, base, idle, end procSample) error {
	var lats []int32
	lost, disordered := 0, 0
	for i, r := range recvs {
		want := int64(perChannel[i%p.channels])
		if c := r.count.Load(); c < want {
			lost++
		}
		if r.bad > 0 || r.dups > 0 || r.count.Load() > want {
			disordered++
		}
		lats = append(lats, r.lat...)
	}
	slices.Sort(lats)
	pct := func(q float64) float64 {
		if len(lats) == 0 {
			return 0
		}
		return float64(lats[min(len(lats)-1, int(q*float64(len(lats))))]) / 1000
	}
	d := float64(got)
	cpu := end.cpu - idle.cpu
	fmt.Printf("| %s | %s | %d | %d | %d | %d | %.0fk | %.1f | %.1f | %.1f | %.1f | %.3f | %.1f | %d | %.1f |\n",
		p.server, p.clients, p.conns, p.channels, p.events, got, d/elapsed.Seconds()/1000,
		pct(0.5), pct(0.99), pct(1), float64(cpu.Microseconds())/d, float64(end.syscw-idle.syscw)/d,
		float64(int64(idle.rssKiB)-int64(base.rssKiB))/float64(p.conns), lost, published.Seconds())
	if p.slow > 0 {
		fmt.Fprintf(os.Stderr, "slow consumers closed: %.0f of %d\n",
			metricValue(addr, `refine_live_disconnects_total{reason="slow_consumer"}`), p.slow)
	}
	if recvs[0].stats != nil {
		fmt.Fprintln(os.Stderr, "client 0:", recvs[0].stats())
	}
	if lost > 0 || disordered > 0 || got != int64(expected) {
		return errors.New("failed: " + strconv.Itoa(lost) + " clients lost events, " + strconv.Itoa(disordered) +
			" got them out of order or twice; " + strconv.FormatInt(got, 10) + " of " + strconv.Itoa(expected) + " deliveries")
	}
	return nil
}
