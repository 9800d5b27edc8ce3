package web

import (
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/queue"
)

// metrics are what /metrics shows Prometheus: requests by status, the
// invariant monitor's latest findings, and the Go runtime's figures.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
}

func newMetrics(monitor *booking.Monitor, pool func() *pgxpool.Stat, room *queue.Service) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "boxoffice_http_requests_total",
			Help: "HTTP requests answered, by status code.",
		}, []string{"code"}),
	}
	m.registry.MustRegister(m.requests, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if monitor != nil {
		m.registry.MustRegister(invariantCollector{monitor})
	}
	if pool != nil {
		m.registry.MustRegister(poolCollector(pool))
	}
	if room != nil {
		m.registry.MustRegister(holdCollector{room})
	}
	return m
}

func (m *metrics) countRequest(status int) { m.requests.WithLabelValues(strconv.Itoa(status)).Inc() }

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// invariantCollector reads the monitor's latest report at each scrape.
// Alert on boxoffice_invariant_violations > 0 (something was sold twice or
// miscounted) and on the last success growing old (the monitor cannot run).
type invariantCollector struct{ monitor *booking.Monitor }

var (
	invariantViolations = prometheus.NewDesc("boxoffice_invariant_violations",
		"What breaks each booking invariant check on the latest run; anything but 0 needs a person now.", []string{"check"}, nil)
	invariantRuns = prometheus.NewDesc("boxoffice_invariant_runs_total",
		"Invariant monitor runs, failed ones included.", nil, nil)
	invariantFailures = prometheus.NewDesc("boxoffice_invariant_failures_total",
		"Invariant monitor runs that could not query the database.", nil, nil)
	invariantLastSuccess = prometheus.NewDesc("boxoffice_invariant_last_success_timestamp_seconds",
		"When the invariant monitor last finished a run.", nil, nil)
	invariantEvents = prometheus.NewDesc("boxoffice_invariant_events_checked",
		"Events the latest invariant run checked (those whose bookings changed).", nil, nil)
	invariantSeconds = prometheus.NewDesc("boxoffice_invariant_check_seconds",
		"How long the latest invariant run took.", nil, nil)
)

func (invariantCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{invariantViolations, invariantRuns, invariantFailures, invariantLastSuccess, invariantEvents, invariantSeconds} {
		ch <- d
	}
}

func (c invariantCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.monitor.Report()
	ch <- prometheus.MustNewConstMetric(invariantRuns, prometheus.CounterValue, float64(r.Runs))
	ch <- prometheus.MustNewConstMetric(invariantFailures, prometheus.CounterValue, float64(r.Failures))
	if r.At.IsZero() {
		return // no run has finished: no figures to claim
	}
	for _, name := range booking.Checks {
		ch <- prometheus.MustNewConstMetric(invariantViolations, prometheus.GaugeValue, float64(r.Violations[name]), name)
	}
	ch <- prometheus.MustNewConstMetric(invariantLastSuccess, prometheus.GaugeValue, float64(r.At.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(invariantEvents, prometheus.GaugeValue, float64(r.Events))
	ch <- prometheus.MustNewConstMetric(invariantSeconds, prometheus.GaugeValue, r.Took.Seconds())
}

// poolCollector shows the database pool: connections in use against the
// most allowed, and how often a request had to wait for one.
type poolCollector func() *pgxpool.Stat

var (
	poolConns = prometheus.NewDesc("boxoffice_db_connections",
		"Database connections by state (acquired, idle, max).", []string{"state"}, nil)
	poolAcquires = prometheus.NewDesc("boxoffice_db_acquires_total",
		"Connections handed out.", nil, nil)
	poolWaits = prometheus.NewDesc("boxoffice_db_acquire_waits_total",
		"Connections asked for when none was free: rising fast means the pool is too small for the load.", nil, nil)
	poolWaitSeconds = prometheus.NewDesc("boxoffice_db_acquire_wait_seconds_total",
		"Time spent waiting for a connection.", nil, nil)
)

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolAcquires, poolWaits, poolWaitSeconds} {
		ch <- d
	}
}

func (p poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.MaxConns()), "max")
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaitSeconds, prometheus.CounterValue, s.AcquireDuration().Seconds())
}

// holdCollector shows the holds of the last few seconds in this process,
// as the waiting room's 'auto' rooms steer by them.
type holdCollector struct{ room *queue.Service }

var (
	recentHolds = prometheus.NewDesc("boxoffice_recent_holds",
		"Hold requests this process answered in the last few seconds.", nil, nil)
	recentHoldP99 = prometheus.NewDesc("boxoffice_recent_hold_p99_seconds",
		"Their 99th percentile (within 20%): a waiting room in auto mode admits fewer fans while it is over BOXOFFICE_QUEUE_BUDGET.", nil, nil)
)

func (holdCollector) Describe(ch chan<- *prometheus.Desc) { ch <- recentHolds; ch <- recentHoldP99 }

func (c holdCollector) Collect(ch chan<- prometheus.Metric) {
	n, p99 := c.room.RecentHolds()
	ch <- prometheus.MustNewConstMetric(recentHolds, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(recentHoldP99, prometheus.GaugeValue, p99.Seconds())
}
