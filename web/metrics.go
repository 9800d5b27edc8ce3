package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/ops"
	"github.com/boxoffice/boxoffice/app/queue"
	"github.com/boxoffice/boxoffice/db"
)

// metrics are what /metrics shows Prometheus: requests by status, the
// invariant monitor's latest findings, and the Go runtime's figures.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
}

func newMetrics(monitor *booking.Monitor, pool func() *pgxpool.Stat, room *queue.Service, facts *ops.Sources, replicas func() []db.ReplicaState) *metrics {
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
	if facts != nil {
		m.registry.MustRegister(opsCollector{facts})
	}
	if replicas != nil {
		m.registry.MustRegister(replicaCollector(replicas))
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

// opsCollector shows what `boxoffice status` prints, read at each scrape.
// Alert on the last backup growing old, on archive failures, on waiting
// segments piling up, and on a certificate within two weeks of expiry
// (renewal starts 30 days before).
type opsCollector struct{ sources *ops.Sources }

var (
	opsInfo = prometheus.NewDesc("boxoffice_info",
		"Always 1; the labels say which Boxoffice and PostgreSQL run.", []string{"version", "postgresql"}, nil)
	opsSchema = prometheus.NewDesc("boxoffice_schema_version",
		"The migration the database is at (current) and the newest this binary has (known).", []string{"which"}, nil)
	opsDatabaseBytes = prometheus.NewDesc("boxoffice_database_bytes",
		"Size of the database on disk.", nil, nil)
	opsOnSale = prometheus.NewDesc("boxoffice_events_on_sale",
		"Events fans can buy tickets for now.", nil, nil)
	opsLastBackup = prometheus.NewDesc("boxoffice_backup_last_timestamp_seconds",
		"When the newest backup in the backup directory finished; 0 when there is none.", nil, nil)
	opsBackups = prometheus.NewDesc("boxoffice_backups_kept",
		"Finished backups in the backup directory.", nil, nil)
	opsArchived = prometheus.NewDesc("boxoffice_wal_archive_last_timestamp_seconds",
		"When the last write-ahead log segment was archived; 0 before the first.", nil, nil)
	opsArchiveWaiting = prometheus.NewDesc("boxoffice_wal_archive_waiting_segments",
		"Completed 16 MB segments not yet archived: the archive's lag.", nil, nil)
	opsArchiveFailures = prometheus.NewDesc("boxoffice_wal_archive_failures_total",
		"Failed attempts to archive a segment.", nil, nil)
	opsCertExpiry = prometheus.NewDesc("boxoffice_certificate_expiry_timestamp_seconds",
		"When each domain's HTTPS certificate runs out; 0 while there is none.", []string{"domain"}, nil)
	opsUp = prometheus.NewDesc("boxoffice_ops_scrape_ok",
		"1 when the facts above could be read at this scrape, else 0.", nil, nil)
)

func (opsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{opsInfo, opsSchema, opsDatabaseBytes, opsOnSale, opsLastBackup, opsBackups,
		opsArchived, opsArchiveWaiting, opsArchiveFailures, opsCertExpiry, opsUp} {
		ch <- d
	}
}

func (c opsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r, err := ops.Collect(ctx, *c.sources)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(opsUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(opsUp, prometheus.GaugeValue, 1)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	unix := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return float64(t.Unix())
	}
	gauge(opsInfo, 1, r.Version, r.PostgreSQL)
	gauge(opsSchema, float64(r.Schema), "current")
	gauge(opsSchema, float64(r.SchemaKnown), "known")
	gauge(opsDatabaseBytes, float64(r.DatabaseBytes))
	gauge(opsOnSale, float64(r.OnSale))
	if r.BackupsErr == nil && r.BackupDir != "" {
		var last time.Time
		if b := r.LastBackup(); b != nil {
			last = b.Finished
		}
		gauge(opsLastBackup, unix(last))
		gauge(opsBackups, float64(len(r.Backups)))
	}
	if a := r.Archive; a != nil {
		gauge(opsArchived, unix(a.LastAt))
		if a.Waiting >= 0 {
			gauge(opsArchiveWaiting, float64(a.Waiting))
		}
		ch <- prometheus.MustNewConstMetric(opsArchiveFailures, prometheus.CounterValue, float64(a.Failed))
	}
	for _, cert := range r.Certificates {
		gauge(opsCertExpiry, unix(cert.NotAfter), cert.Domain)
	}
}

// replicaCollector shows the read replicas as the watcher last saw them.
// Alert on boxoffice_replica_in_use staying 0: every read is on the
// primary.
type replicaCollector func() []db.ReplicaState

var (
	replicaLag = prometheus.NewDesc("boxoffice_replica_lag_seconds",
		"How far each read replica's data is behind the primary, as last measured.", []string{"replica"}, nil)
	replicaUp = prometheus.NewDesc("boxoffice_replica_up",
		"1 when the replica answered at the last check.", []string{"replica"}, nil)
	replicaInUse = prometheus.NewDesc("boxoffice_replica_in_use",
		"1 when reads go to the replica: it answers and is within BOXOFFICE_MAX_REPLICA_LAG.", []string{"replica"}, nil)
)

func (replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- replicaLag
	ch <- replicaUp
	ch <- replicaInUse
}

func (c replicaCollector) Collect(ch chan<- prometheus.Metric) {
	flag := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, r := range c() {
		ch <- prometheus.MustNewConstMetric(replicaLag, prometheus.GaugeValue, r.Lag.Seconds(), r.Name)
		ch <- prometheus.MustNewConstMetric(replicaUp, prometheus.GaugeValue, flag(r.Err == nil), r.Name)
		ch <- prometheus.MustNewConstMetric(replicaInUse, prometheus.GaugeValue, flag(r.InUse), r.Name)
	}
}
