package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics live in a registry of their own per Server, so that a process
// (or a test) can run several servers without name clashes.
type metrics struct {
	reg           *prometheus.Registry
	connections   *prometheus.GaugeVec   // level
	subscriptions prometheus.Gauge       //
	eventsIn      *prometheus.CounterVec // source: ws, http, api
	eventsOut     prometheus.Counter     // event frames queued to connections
	replays       prometheus.Counter     // subscribes with since
	replayed      prometheus.Counter     // events sent by replays
	recoveryFails prometheus.Counter     // replays answered recovered:false
	drops         *prometheus.CounterVec // reason
	disconnects   *prometheus.CounterVec // reason
	badMessages   *prometheus.CounterVec // code
}

func newMetrics() *metrics {
	const ns = "refine_live"
	m := &metrics{
		reg: prometheus.NewRegistry(),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "connections",
			Help: "Open WebSocket connections by protocol level (pending until the first frame)."}, []string{"level"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "subscriptions",
			Help: "Channel subscriptions held by open connections."}),
		eventsIn: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "events_published_total",
			Help: "Events stored, by source (ws, http, api); duplicates by id excluded."}, []string{"source"}),
		eventsOut: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "events_delivered_total",
			Help: "Event frames queued to connections, live and replayed."}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "replays_total",
			Help: "Subscribes with a since position."}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "replayed_events_total",
			Help: "Events sent by replays."}),
		recoveryFails: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "recovery_failures_total",
			Help: "Subscribes with since answered recovered:false."}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "dropped_total",
			Help: "Inbound frames ignored or refused, by reason."}, []string{"reason"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "disconnects_total",
			Help: "Connections closed by the server, by reason."}, []string{"reason"}),
		badMessages: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "errors_sent_total",
			Help: "Error messages sent to extended clients, by code."}, []string{"code"}),
	}
	m.reg.MustRegister(m.connections, m.subscriptions, m.eventsIn, m.eventsOut, m.replays,
		m.replayed, m.recoveryFails, m.drops, m.disconnects, m.badMessages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsRegistry is where a component running beside the Server (a change
// source) registers its own metrics, so that MetricsHandler serves them
// with the Server's.
func (s *Server) MetricsRegistry() prometheus.Registerer { return s.metrics.reg }
