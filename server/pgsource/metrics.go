package pgsource

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	events     *prometheus.CounterVec // table
	messages   prometheus.Counter
	skipped    *prometheus.CounterVec // reason
	lagBytes   prometheus.Gauge
	retained   prometheus.Gauge
	lagSeconds prometheus.Gauge
	streaming  prometheus.Gauge
	failures   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	const ns, sub = "refine_live", "postgres"
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "events_total",
			Help: "Row changes published as events, by table (schema.table); replays of unconfirmed changes included."}, []string{"table"}),
		messages: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "messages_total",
			Help: "refine-live logical decoding messages published as events."}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "skipped_total",
			Help: "Messages that could not become events, by reason (bad_message, invalid_event)."}, []string{"reason"}),
		lagBytes: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "lag_bytes",
			Help: "WAL written after the slot's confirmed flush position."}),
		retained: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "retained_bytes",
			Help: "WAL the slot keeps on the server's disk (after its restart position)."}),
		lagSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "lag_seconds",
			Help: "Time from the commit of the last streamed transaction to its events being stored."}),
		streaming: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "streaming",
			Help: "1 while this node consumes the slot, 0 while it stands by or retries."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "failures_total",
			Help: "Sessions with PostgreSQL that ended in an error (each is retried)."}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.messages, m.skipped, m.lagBytes, m.retained, m.lagSeconds, m.streaming, m.failures)
	}
	return m
}
