package server

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// checkOrigin decides whether a browser page may open a WebSocket: the
// check that stops another site, open in the same browser, from using the
// server as its visitor. It applies coder/websocket's rules (no Origin
// header, as from a non-browser client, or the request's own host, or a
// match of OriginPatterns) and, when no pattern is configured, accepts a
// page served from a loopback host on any port: the dev server of the
// quick start. Such a page can only come from the visitor's own machine;
// docs/server.md argues the default.
func (s *Server) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" || s.cfg.InsecureSkipOriginCheck {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("failed to parse Origin %q as a URL with a host", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, p := range s.cfg.OriginPatterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		ok, err := path.Match(strings.ToLower(p), strings.ToLower(target))
		if err != nil {
			return fmt.Errorf("failed to match origin pattern %q: %w", p, err)
		}
		if ok {
			return nil
		}
	}
	if len(s.cfg.OriginPatterns) == 0 && (u.Scheme == "http" || u.Scheme == "https") && isLoopbackHost(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("origin %q is not allowed for host %q", origin, r.Host)
}

// isLoopbackHost reports whether a browser reaches host only on its own
// machine. Names are taken literally, never resolved: a public name that
// resolves to 127.0.0.1 (DNS rebinding) is not a loopback origin.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// refuseOrigin answers a handshake from an origin that is not allowed, with
// a log line that says how to allow it: a refused dev server is the most
// common first-run problem.
func (s *Server) refuseOrigin(w http.ResponseWriter, r *http.Request, err error) {
	s.metrics.drops.WithLabelValues("origin").Inc()
	s.cfg.Logger.Warn("WebSocket handshake refused: origin not allowed",
		"origin", r.Header.Get("Origin"), "host", r.Host, "remote", r.RemoteAddr, "err", err,
		"allow_with", "Config.OriginPatterns (liveserver: --origin or REFINE_LIVE_ORIGINS)")
	http.Error(w, "origin not allowed", http.StatusForbidden)
}
