// Command boxoffice runs the Boxoffice ticketing site: one binary that
// serves the pages and the JSON API, migrates its database, and, with no
// DATABASE_URL, runs a PostgreSQL of its own.
//
//	boxoffice [serve]                 run the site (default)
//	boxoffice migrate up|down|status  manage the schema
//	boxoffice seed [--events N]       load the demo catalogue, plus N synthetic events
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // venue time zones must resolve in minimal containers too

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/term"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/account"
	"github.com/boxoffice/boxoffice/app/bench"
	"github.com/boxoffice/boxoffice/app/mail"
	"github.com/boxoffice/boxoffice/app/ops"
	"github.com/boxoffice/boxoffice/app/queue"
	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/backup"
	"github.com/boxoffice/boxoffice/db/devcluster"
	"github.com/boxoffice/boxoffice/web"
	"github.com/boxoffice/boxoffice/web/https"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, stop)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "boxoffice:", err)
		}
		os.Exit(1)
	}
}

// config is every setting, from flags or, failing those, the environment
// (DESIGN §6: --hold-ttl is BOXOFFICE_HOLD_TTL).
type config struct {
	Addr                 string
	Domains              string
	TLSAddr              string
	ACMEURL              string
	ACMEEmail            string
	DatabaseURL          string
	DatabaseReadURL      string
	DatabaseSessionURL   string
	MaxReplicaLag        time.Duration
	DataDir              string
	DemoData             bool
	HoldTTL              time.Duration
	MaxTickets           int
	SeatMapLimit         int
	SweepInterval        time.Duration
	MonitorInterval      time.Duration
	BookingRate          web.Rate
	SearchRate           web.Rate
	SignupRate           web.Rate
	StreamsPerAddress    int
	QueueRate            int
	QueueWindow          time.Duration
	QueueOpensBefore     time.Duration
	QueueBudget          time.Duration
	SigningKey           string
	SMTPURL              string
	BaseURL              string
	MetricsAddr          string
	TrustProxy           bool
	LogFormat            string
	WALArchive           string
	BackupDir            string
	BackupEvery          time.Duration
	BackupKeep           int
	StripeSecretKey      string
	StripePublishableKey string
	StripeWebhookSecret  string
}

// flags registers the settings on fs with defaults from the environment
// (read through lookupEnv), and returns a check to run after parsing for
// values that did not parse or do not fit.
func (c *config) flags(fs *flag.FlagSet, lookupEnv func(string) (string, bool)) func() error {
	var bad []string
	env := func(name, def string) string {
		if v, ok := lookupEnv(name); ok {
			return v
		}
		return def
	}
	envBool := func(name string, def bool) bool {
		v, err := strconv.ParseBool(env(name, strconv.FormatBool(def)))
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s must be true or false", name))
		}
		return v
	}
	envDuration := func(name string, def time.Duration) time.Duration {
		v, err := time.ParseDuration(env(name, def.String()))
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s must be a duration such as 10m or 90s", name))
		}
		return v
	}
	envInt := func(name string, def int) int {
		v, err := strconv.Atoi(env(name, strconv.Itoa(def)))
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s must be a whole number", name))
		}
		return v
	}
	fs.StringVar(&c.Addr, "addr", env("BOXOFFICE_ADDR", ""), "listen address (BOXOFFICE_ADDR; default :8080, or :80 with --domains, where it sends fans to HTTPS)")
	fs.StringVar(&c.Domains, "domains", env("BOXOFFICE_DOMAINS", ""), "host names to serve over HTTPS with certificates got over ACME, e.g. tickets.example.com; empty serves plain HTTP, as behind a proxy (BOXOFFICE_DOMAINS)")
	fs.StringVar(&c.TLSAddr, "tls-addr", env("BOXOFFICE_TLS_ADDR", ":443"), "listen address for HTTPS, with --domains (BOXOFFICE_TLS_ADDR)")
	fs.StringVar(&c.ACMEURL, "acme-url", env("BOXOFFICE_ACME_URL", ""), "the ACME directory of the CA that issues the certificates; empty: Let's Encrypt (BOXOFFICE_ACME_URL)")
	fs.StringVar(&c.ACMEEmail, "acme-email", env("BOXOFFICE_ACME_EMAIL", ""), "an address the CA may write to about the certificates, e.g. before they run out (BOXOFFICE_ACME_EMAIL)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", ""), "PostgreSQL to use; empty runs an embedded cluster (DATABASE_URL)")
	fs.StringVar(&c.DatabaseSessionURL, "database-session-url", env("DATABASE_SESSION_URL", ""), "the same database as DATABASE_URL reached with whole sessions (directly, or a session-pooling PgBouncer) when DATABASE_URL is a transaction-pooling PgBouncer: LISTEN, the admitter's lock and migrations need one (DATABASE_SESSION_URL)")
	fs.StringVar(&c.DatabaseReadURL, "database-read-url", env("DATABASE_READ_URL", ""), "read replicas of DATABASE_URL, comma-separated: event pages and search read there while they keep up (DATABASE_READ_URL)")
	fs.DurationVar(&c.MaxReplicaLag, "max-replica-lag", envDuration("BOXOFFICE_MAX_REPLICA_LAG", 5*time.Second), "a read replica further behind than this is skipped until it catches up (BOXOFFICE_MAX_REPLICA_LAG)")
	fs.StringVar(&c.DataDir, "data-dir", env("BOXOFFICE_DATA_DIR", "./.boxoffice"), "where the embedded cluster keeps its data (BOXOFFICE_DATA_DIR)")
	fs.BoolVar(&c.DemoData, "demo-data", envBool("BOXOFFICE_DEMO_DATA", true), "seed the demo catalogue into an empty database (BOXOFFICE_DEMO_DATA)")
	fs.DurationVar(&c.HoldTTL, "hold-ttl", envDuration("BOXOFFICE_HOLD_TTL", 10*time.Minute), "how long a hold lasts (BOXOFFICE_HOLD_TTL)")
	fs.IntVar(&c.MaxTickets, "max-tickets", envInt("BOXOFFICE_MAX_TICKETS", 8), "tickets per booking (BOXOFFICE_MAX_TICKETS)")
	fs.IntVar(&c.SeatMapLimit, "seat-map-limit", envInt("BOXOFFICE_SEAT_MAP_LIMIT", 2500), "largest venue whose event page shows every seat; larger ones show sections first (BOXOFFICE_SEAT_MAP_LIMIT)")
	fs.DurationVar(&c.SweepInterval, "sweep-interval", envDuration("BOXOFFICE_SWEEP_INTERVAL", 30*time.Second), "how often expired holds are tidied up (BOXOFFICE_SWEEP_INTERVAL)")
	fs.DurationVar(&c.MonitorInterval, "monitor-interval", envDuration("BOXOFFICE_MONITOR_INTERVAL", time.Minute), "how often the booking invariant is checked on events whose bookings changed (BOXOFFICE_MONITOR_INTERVAL)")
	envRate := func(name, def string) web.Rate {
		v, err := web.ParseRate(env(name, def))
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", name, err))
		}
		return v
	}
	fs.TextVar(&c.BookingRate, "booking-rate", envRate("BOXOFFICE_BOOKING_RATE", "30/min,10"), "holds, payments and cancellations one fan may make, as N/min[,BURST] or off (BOXOFFICE_BOOKING_RATE)")
	fs.TextVar(&c.SearchRate, "search-rate", envRate("BOXOFFICE_SEARCH_RATE", "120/min,40"), "searches one client may make, as N/min[,BURST] or off (BOXOFFICE_SEARCH_RATE)")
	fs.TextVar(&c.SignupRate, "signup-rate", envRate("BOXOFFICE_SIGNUP_RATE", "60/min,60"), "sign-ups and log-ins one address may make (each costs a password hash), as N/min[,BURST] or off (BOXOFFICE_SIGNUP_RATE)")
	fs.IntVar(&c.StreamsPerAddress, "streams-per-address", envInt("BOXOFFICE_STREAMS_PER_ADDRESS", 20), "live seat-map streams one client address may keep open (BOXOFFICE_STREAMS_PER_ADDRESS)")
	fs.IntVar(&c.QueueRate, "queue-rate", envInt("BOXOFFICE_QUEUE_RATE", 300), "fans a waiting room lets in per minute, per event (BOXOFFICE_QUEUE_RATE)")
	fs.DurationVar(&c.QueueWindow, "queue-window", envDuration("BOXOFFICE_QUEUE_WINDOW", 10*time.Minute), "how long a fan let in by a waiting room may shop (BOXOFFICE_QUEUE_WINDOW)")
	fs.DurationVar(&c.QueueOpensBefore, "queue-opens-before", envDuration("BOXOFFICE_QUEUE_OPENS_BEFORE", 30*time.Minute), "how long before an on-sale fans may join its waiting room (BOXOFFICE_QUEUE_OPENS_BEFORE)")
	fs.DurationVar(&c.QueueBudget, "queue-budget", envDuration("BOXOFFICE_QUEUE_BUDGET", 100*time.Millisecond), "the hold time (p99) a waiting room in auto mode admits fans to: its rate falls while holds are slower (BOXOFFICE_QUEUE_BUDGET)")
	fs.StringVar(&c.BaseURL, "base-url", env("BOXOFFICE_BASE_URL", ""), "the site's address as fans reach it, for links in e-mail, e.g. https://tickets.example.com (BOXOFFICE_BASE_URL; default http://localhost:8080)")
	fs.StringVar(&c.SMTPURL, "smtp-url", env("BOXOFFICE_SMTP_URL", ""), "where e-mail goes: smtp://user:password@host:587?from=tickets@example.com (STARTTLS); empty writes it to the log (BOXOFFICE_SMTP_URL)")
	fs.StringVar(&c.SigningKey, "signing-key", env("BOXOFFICE_SIGNING_KEY", ""), "base64 of the 32-byte Ed25519 seed that signs ticket codes; empty: made on first start and kept in the database (BOXOFFICE_SIGNING_KEY)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("BOXOFFICE_METRICS_ADDR", ""), "where to serve /metrics for Prometheus, apart from the site (e.g. 127.0.0.1:9090); empty serves none (BOXOFFICE_METRICS_ADDR)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", envBool("BOXOFFICE_TRUST_PROXY", false), "take client addresses from X-Forwarded-For, set by a load balancer in front (BOXOFFICE_TRUST_PROXY)")
	fs.StringVar(&c.LogFormat, "log-format", env("BOXOFFICE_LOG_FORMAT", "text"), "log format, text or json (BOXOFFICE_LOG_FORMAT)")
	fs.StringVar(&c.WALArchive, "wal-archive", env("BOXOFFICE_WAL_ARCHIVE", ""), "a directory, best on another disk, where the embedded cluster archives its write-ahead log for point-in-time recovery; empty: off (BOXOFFICE_WAL_ARCHIVE)")
	fs.StringVar(&c.BackupDir, "backup-dir", env("BOXOFFICE_BACKUP_DIR", ""), "where backups go, best on another disk (BOXOFFICE_BACKUP_DIR; default: backups in the data directory)")
	fs.DurationVar(&c.BackupEvery, "backup-every", envDuration("BOXOFFICE_BACKUP_EVERY", 0), "take a backup this often while serving, e.g. 24h; 0: never (BOXOFFICE_BACKUP_EVERY)")
	fs.IntVar(&c.BackupKeep, "backup-keep", envInt("BOXOFFICE_BACKUP_KEEP", 7), "scheduled backups to keep, with the archived write-ahead log they need (BOXOFFICE_BACKUP_KEEP)")
	fs.StringVar(&c.StripeSecretKey, "stripe-secret-key", env("STRIPE_SECRET_KEY", ""), "Stripe secret key; empty uses the demo processor (STRIPE_SECRET_KEY)")
	fs.StringVar(&c.StripePublishableKey, "stripe-publishable-key", env("STRIPE_PUBLISHABLE_KEY", ""), "Stripe publishable key (STRIPE_PUBLISHABLE_KEY)")
	fs.StringVar(&c.StripeWebhookSecret, "stripe-webhook-secret", env("STRIPE_WEBHOOK_SECRET", ""), "Stripe webhook signing secret (STRIPE_WEBHOOK_SECRET)")
	return func() error {
		switch {
		case len(bad) > 0:
			return errors.New(strings.Join(bad, "; "))
		case c.HoldTTL < time.Minute:
			return errors.New("--hold-ttl must be at least 1m: fans need time to pay")
		case c.QueueRate < 1:
			return errors.New("--queue-rate must be at least 1 fan a minute")
		case c.QueueWindow < time.Minute:
			return errors.New("--queue-window must be at least 1m: fans need time to choose and pay")
		case c.QueueBudget < time.Millisecond:
			return errors.New("--queue-budget must be at least 1ms")
		case c.QueueOpensBefore < 0:
			return errors.New("--queue-opens-before cannot be negative")
		case c.StreamsPerAddress < 1:
			return errors.New("--streams-per-address must be at least 1")
		case c.MaxTickets < 1 || c.MaxTickets > 100:
			return errors.New("--max-tickets must be between 1 and 100")
		case c.SweepInterval < time.Second:
			return errors.New("--sweep-interval must be at least 1s")
		case c.MonitorInterval < time.Second:
			return errors.New("--monitor-interval must be at least 1s")
		case c.StripeSecretKey != "" && c.StripeWebhookSecret == "":
			return errors.New("STRIPE_WEBHOOK_SECRET is needed with STRIPE_SECRET_KEY: payments that finish after a fan leaves arrive by webhook")
		case strings.HasPrefix(c.StripeSecretKey, "sk_live_") && c.StripePublishableKey == "":
			return errors.New("STRIPE_PUBLISHABLE_KEY is needed with a live STRIPE_SECRET_KEY: with real money, fans pay through Stripe's card form, not test cards")
		case c.SeatMapLimit < 1:
			return errors.New("--seat-map-limit must be at least 1")
		case c.LogFormat != "text" && c.LogFormat != "json":
			return errors.New("--log-format must be text or json")
		case c.BackupEvery < 0 || c.BackupEvery > 0 && c.BackupEvery < time.Minute:
			return errors.New("--backup-every must be 0 (no scheduled backups) or at least 1m")
		case c.BackupKeep < 1:
			return errors.New("--backup-keep must be at least 1")
		case c.MaxReplicaLag < 100*time.Millisecond:
			return errors.New("--max-replica-lag must be at least 100ms")
		}
		if c.BackupDir == "" {
			c.BackupDir = filepath.Join(c.DataDir, "backups")
		}
		if c.Addr == "" {
			c.Addr = ":8080"
			if c.Domains != "" {
				c.Addr = ":80"
			}
		}
		// Fans reach HTTPS on 443 (a TLS address of another port sits behind
		// a port mapping), where port 80 sends them too.
		if domains := https.SplitDomains(c.Domains); len(domains) > 0 && c.BaseURL == "" {
			c.BaseURL = "https://" + domains[0]
		}
		return nil
	}
}

func (c *config) logger(w io.Writer) *slog.Logger {
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

const usage = `Boxoffice: tickets for live events.

Usage:
  boxoffice [serve] [flags]            run the site (the default)
  boxoffice migrate up|down|status     apply, roll back one, or list schema migrations
  boxoffice seed [--events N] [flags]  load the demo catalogue into an empty database,
                                       then add N synthetic events (for benchmarks)
  boxoffice users create --email E --role R [--name N]
                                       make an account (fan, organiser or admin); the
                                       password is read from stdin, or asked for
  boxoffice users role --email E --role R
                                       give an account another role
  boxoffice backup [--to DIR]         copy the database while the site runs, with a
                                       manifest and checksums (default: BOXOFFICE_BACKUP_DIR)
  boxoffice restore --from BACKUP [--until TIME] [--drill]
                                       bring a backup back into an empty data directory,
                                       replaying the WAL archive up to TIME (or all of it);
                                       --drill: a test copy that never writes to the archive
  boxoffice status                     version, schema, database size, last backup, WAL
                                       archive, certificates, events on sale
  boxoffice dev cluster [--instances N] [--port P] [--dir DIR]
                                       a scaled-out Boxoffice on this machine: a primary
                                       and a replica, PgBouncer, nginx, N instances
  boxoffice bench onsale [flags]       sell out an event with thousands of buyers and
                                       report holds/s, latencies and the invariant
  boxoffice bench browse [flags]       a fixed-rate read load (event pages, sections,
                                       search, ticket JSON) and the highest rate it bears

Run "boxoffice <command> -h" for the flags of a command.
`

// run is the whole program; main only adds the process around it. stop
// restores default signal handling once shutdown has begun, so that a
// second Ctrl-C ends the process at once.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, stop func()) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, stdout, stderr, stop)
	case "migrate":
		return runMigrate(ctx, args, stdout, stderr)
	case "seed":
		return runSeed(ctx, args, stdout, stderr)
	case "bench":
		return runBench(ctx, args, stdout, stderr)
	case "users":
		return runUsers(ctx, args, stdout, stderr)
	case "backup":
		return runBackup(ctx, args, stdout, stderr)
	case "restore":
		return runRestore(ctx, args, stdout, stderr)
	case "status":
		return runStatus(ctx, args, stdout, stderr)
	case "dev":
		return runDev(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// parse reads a command's flags and the environment.
func parse(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*config, []string, error) {
	return parseWith(name, args, os.LookupEnv, stderr, extra)
}

// parseWith is parse with the environment read through lookupEnv.
func parseWith(name string, args []string, lookupEnv func(string) (string, bool), stderr io.Writer, extra func(*flag.FlagSet)) (*config, []string, error) {
	fs := flag.NewFlagSet("boxoffice "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	check := c.flags(fs, lookupEnv)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if err := check(); err != nil {
		return nil, nil, err
	}
	return &c, fs.Args(), nil
}

// openDB opens the database the config names and brings its schema up to
// date.
func openDB(ctx context.Context, c *config, log *slog.Logger, migrate bool) (*db.DB, error) {
	d, err := db.Open(ctx, c.dbConfig(), log)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := db.Migrate(ctx, d.Session, log); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

func (c *config) dbConfig() db.Config {
	return db.Config{URL: c.DatabaseURL, DataDir: c.DataDir, WALArchive: c.WALArchive, SessionURL: c.DatabaseSessionURL}
}

// checkpoint writes out what a bulk load changed, so that a crash soon
// after replays a few seconds of log instead of the whole load.
func checkpoint(ctx context.Context, d *db.DB, log *slog.Logger) {
	if _, err := d.Pool.Exec(ctx, "CHECKPOINT"); err != nil {
		log.Warn("checkpoint after loading", "err", err) // needs pg_checkpoint on a server of the operator's
	}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, stop func()) error {
	c, _, err := parse("serve", args, stderr, nil)
	if err != nil {
		return err
	}
	log := c.logger(stderr)
	started := time.Now()

	d, err := openDB(ctx, c, log, true)
	if err != nil {
		return err
	}
	defer func() {
		if err := d.Close(); err != nil {
			log.Error("close database", "err", err)
		}
	}()
	if d.Cluster != nil {
		d.Cluster.Supervise(time.Second) // until d.Close stops it
	}
	if c.DemoData {
		t0 := time.Now()
		stats, seeded, err := seed.Demo(ctx, d.Pool, time.Now())
		if err != nil {
			return err
		}
		if seeded {
			checkpoint(ctx, d, log)
			log.Info("seeded the demo catalogue", "took", time.Since(t0).Round(time.Millisecond), "what", stats.String())
		}
	}
	if d.Cluster != nil && c.WALArchive == "" {
		log.Warn("the write-ahead log is not archived: a lost disk loses every sale since the last backup, and there is no point-in-time recovery; set BOXOFFICE_WAL_ARCHIVE to a directory on another disk")
	}
	if c.BackupEvery > 0 {
		bin, err := d.ServerBinaries()
		if err != nil {
			return err
		}
		sched := &backup.Schedule{Every: c.BackupEvery, Keep: c.BackupKeep, Dir: c.BackupDir, Archive: c.WALArchive,
			Tools: backup.Tools{BinDir: bin}, Pool: d.Session, Conn: d.CopyURL(), Log: log}
		schedCtx, stopSched := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); sched.Run(schedCtx) }()
		defer func() { stopSched(); <-done }()
		log.Info("backups on a schedule", "every", c.BackupEvery, "keep", c.BackupKeep, "dir", c.BackupDir)
	}
	tlsSite, err := c.https(log)
	if err != nil {
		return err
	}
	srv, closeSite, err := buildSite(d, c, log)
	if err != nil {
		return err
	}
	defer closeSite()

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set BOXOFFICE_ADDR or --addr to another address)", c.Addr, err)
	}
	var hs *http.Server
	serveErr := make(chan error, 1)
	url := siteURL(ln.Addr())
	if tlsSite != nil {
		// The site on the TLS port; the plain port only sends fans there
		// and answers the CA's http-01 challenges.
		tln, err := net.Listen("tcp", c.TLSAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w (set BOXOFFICE_TLS_ADDR or --tls-addr to another address; ports under 1024 need root or CAP_NET_BIND_SERVICE)", c.TLSAddr, err)
		}
		hs = srv.HTTPServer(c.TLSAddr)
		hs.Handler = https.HSTS(hs.Handler)
		hs.TLSConfig = tlsSite.TLSConfig()
		go func() { serveErr <- hs.ServeTLS(tln, "", "") }()
		redirect := &http.Server{Handler: healthOr(srv, tlsSite.RedirectHandler()), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go redirect.Serve(ln)
		defer redirect.Close()
		go func() {
			if err := tlsSite.Load(); err != nil {
				log.Error("https: certificates not got yet; fans cannot connect until they are", "err", err)
			}
		}()
		url = c.BaseURL
	} else {
		hs = srv.HTTPServer(c.Addr)
		go func() { serveErr <- hs.Serve(ln) }()
	}
	if c.MetricsAddr != "" {
		mln, err := net.Listen("tcp", c.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen for metrics on %s: %w (set BOXOFFICE_METRICS_ADDR to another address)", c.MetricsAddr, err)
		}
		ms := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go ms.Serve(mln)
		defer ms.Close()
		log.Info("serving metrics", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	log.Info("boxoffice is ready", "url", url, "took", time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(stdout, "Boxoffice is running at %s\n", url)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	stop()
	if c.TrustProxy && tlsSite == nil {
		// Behind a proxy: let it close its idle connections to this
		// instance rather than close one under a request it is sending.
		log.Info("shutting down: draining connections from the proxy", "at_most", drainTime)
		drainCtx, cancel := context.WithTimeout(context.Background(), drainTime)
		srv.Drain(drainCtx, ln)
		cancel()
	}
	log.Info("shutting down: finishing requests in flight")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		log.Warn("requests still running at shutdown", "err", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// drainTime bounds the wait for a proxy to close its idle connections at
// shutdown: longer than the keepalive_timeout deploy/nginx.conf sets.
const drainTime = 10 * time.Second

// buildSite wires the services on d into the web server and starts the
// expiry sweeper and the invariant monitor; stop stops what it started.
func buildSite(d *db.DB, c *config, log *slog.Logger) (srv *web.Site, stop func(), err error) {
	smtp, err := mail.ParseSMTP(c.SMTPURL)
	if err != nil {
		return nil, nil, err
	}
	var reads *db.Reads
	if c.DatabaseReadURL != "" {
		if reads, err = db.NewReads(context.Background(), d.Pool, c.DatabaseReadURL, c.MaxReplicaLag, log); err != nil {
			return nil, nil, err
		}
	}
	facts := c.opsSources(d)
	site, err := web.NewSite(d.Pool, web.SiteConfig{
		Log:                  log,
		HoldTTL:              c.HoldTTL,
		MaxTickets:           c.MaxTickets,
		SeatMapLimit:         c.SeatMapLimit,
		BookingRate:          c.BookingRate,
		SearchRate:           c.SearchRate,
		SignupRate:           c.SignupRate,
		TrustProxy:           c.TrustProxy,
		StreamsPerAddress:    c.StreamsPerAddress,
		SigningKey:           c.SigningKey,
		SMTP:                 smtp,
		BaseURL:              c.BaseURL,
		Queue:                queue.Config{Rate: float64(c.QueueRate), Window: c.QueueWindow, OpensBefore: c.QueueOpensBefore, Budget: c.QueueBudget},
		StripeSecretKey:      c.StripeSecretKey,
		StripePublishableKey: c.StripePublishableKey,
		StripeWebhookSecret:  c.StripeWebhookSecret,
		Ops:                  &facts,
		Reads:                reads,
		Session:              session(d),
	})
	if err != nil {
		if reads != nil {
			reads.Close()
		}
		return nil, nil, err
	}
	if c.StripeSecretKey != "" {
		log.Info("payments through Stripe", "live", strings.HasPrefix(c.StripeSecretKey, "sk_live_"), "payment_element", c.StripePublishableKey != "")
	}
	stopWork := site.Start(c.SweepInterval, c.MonitorInterval)
	if reads == nil {
		return site, func() { stopWork(); site.Close() }, nil
	}
	watchCtx, stopWatching := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { defer close(watched); reads.Watch(watchCtx, time.Second) }()
	log.Info("reading the catalogue from replicas", "replicas", len(reads.Replicas()), "max_lag", c.MaxReplicaLag)
	return site, func() { stopWork(); stopWatching(); <-watched; site.Close(); reads.Close() }, nil
}

// healthOr answers /healthz and /readyz from the site, and everything else
// with next: a health check on the plain port (a container's, a load
// balancer's) must not be sent to HTTPS.
func healthOr(site http.Handler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			site.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// session is d's pool of whole sessions when it has one of its own.
func session(d *db.DB) *pgxpool.Pool {
	if d.Session == d.Pool {
		return nil
	}
	return d.Session
}

// siteURL is the address a person opens, for a listener's address.
func siteURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() || ip.IsLoopback() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, rest, err := parse("migrate", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(rest) != 1 || (rest[0] != "up" && rest[0] != "down" && rest[0] != "status") {
		return errors.New("usage: boxoffice migrate up|down|status")
	}
	log := c.logger(stderr)
	d, err := openDB(ctx, c, log, false)
	if err != nil {
		return err
	}
	defer d.Close()
	m, err := db.NewMigrator(d.Session, nil)
	if err != nil {
		return err
	}
	defer m.Close()
	switch rest[0] {
	case "up":
		res, err := m.Up(ctx)
		for _, r := range res {
			fmt.Fprintln(stdout, r)
		}
		if err == nil && len(res) == 0 {
			fmt.Fprintln(stdout, "schema is current; nothing to apply")
		}
		return err
	case "down":
		res, err := m.Down(ctx)
		if res != nil {
			fmt.Fprintln(stdout, res)
		}
		return err
	default:
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			applied := "pending"
			if !s.AppliedAt.IsZero() {
				applied = "applied " + s.AppliedAt.Local().Format(time.DateTime)
			}
			fmt.Fprintf(stdout, "%-32s %s\n", s.Source.Path, applied)
		}
		return nil
	}
}

// runBackup runs `boxoffice backup`: a base backup of the running (or,
// when none runs, a briefly started) database.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var to string
	c, _, err := parse("backup", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "directory to put the backup in (default: --backup-dir)")
	})
	if err != nil {
		return err
	}
	if to == "" {
		to = c.BackupDir
	}
	log := c.logger(stderr)
	d, err := db.Connect(ctx, c.dbConfig(), log)
	if err != nil {
		return err
	}
	defer d.Close()
	bin, err := d.ServerBinaries()
	if err != nil {
		return err
	}
	t0 := time.Now()
	b, err := backup.Take(ctx, backup.Tools{BinDir: bin}, d.Pool, d.CopyURL(), to, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup %s: %d files, %s, schema %d, took %v; checked with pg_verifybackup\n",
		b.Dir, b.Files, ops.Bytes(b.Bytes), b.Schema, time.Since(t0).Round(time.Millisecond))
	return nil
}

// runRestore runs `boxoffice restore`: a backup back into an empty data
// directory, recovered up to a moment with the WAL archive.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from, until string
	var drill bool
	c, _, err := parse("restore", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "a backup, or a directory of backups (the newest that suits --until is used)")
		fs.StringVar(&until, "until", "", `recover to this moment, as "2026-12-01 21:04:00" (local time) or RFC 3339; default: all the archive holds`)
		fs.BoolVar(&drill, "drill", false, "a restore drill beside the live site: read the WAL archive, never write to it, and mark the copy so that it is never started with the archive")
	})
	if err != nil {
		return err
	}
	if from == "" {
		return errors.New("boxoffice restore needs --from BACKUP: a backup's directory or the directory of backups")
	}
	if c.DatabaseURL != "" {
		return errors.New("boxoffice restore brings a backup back into the embedded cluster's data directory (--data-dir); unset DATABASE_URL, and restore a server of your own with its own tools")
	}
	var target time.Time
	if until != "" {
		if target, err = parseMoment(until); err != nil {
			return err
		}
		if c.WALArchive == "" {
			return errors.New("--until needs the write-ahead log archive: set BOXOFFICE_WAL_ARCHIVE (or --wal-archive) to where it is")
		}
	}
	b, err := backup.Find(from, target)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restoring backup %s (taken %s, %s) into %s\n", b.Dir, b.Finished.Local().Format(time.DateTime), ops.Bytes(b.Bytes), c.DataDir)
	log := c.logger(stderr)
	t0 := time.Now()
	r, err := backup.Restore(ctx, b, c.DataDir, backup.Options{Archive: c.WALArchive, Until: target, Drill: drill}, log)
	if err != nil {
		return fmt.Errorf("nothing was restored: %w", err)
	}
	took := time.Since(t0)
	switch {
	case !target.IsZero():
		fmt.Fprintf(stdout, "recovered to %s", target.Local().Format(time.DateTime))
	case c.WALArchive != "":
		fmt.Fprint(stdout, "recovered all the archive holds")
	default:
		fmt.Fprint(stdout, "restored the backup as taken (no WAL archive to replay)")
	}
	last := "no transaction was replayed"
	if r.LastCommit != nil {
		last = "the last transaction replayed committed at " + r.LastCommit.Local().Format("2006-01-02 15:04:05.000")
	}
	fmt.Fprintf(stdout, " in %v, up to %s on timeline %d; %s\n", took.Round(time.Millisecond), r.LSN, r.Timeline, last)
	if drill {
		fmt.Fprintf(stdout, "a drill: start it without the WAL archive and without payment keys, e.g. boxoffice serve --data-dir %s --addr 127.0.0.1:8081 --demo-data=false\n", c.DataDir)
		return nil
	}
	fmt.Fprintf(stdout, "start the site with: boxoffice serve --data-dir %s; and take a fresh backup (boxoffice backup), the first of the history it goes on with\n", c.DataDir)
	return nil
}

// parseMoment reads --until: a local date and time, or RFC 3339.
func parseMoment(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--until %q: give a moment as \"2026-12-01 21:04:00\" (local time) or 2026-12-01T21:04:00Z", s)
}

// runStatus runs `boxoffice status`.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, _, err := parse("status", args, stderr, nil)
	if err != nil {
		return err
	}
	d, err := db.Connect(ctx, c.dbConfig(), c.logger(io.Discard))
	if err != nil {
		return err
	}
	defer d.Close()
	r, err := ops.Collect(ctx, c.opsSources(d))
	if err != nil {
		return err
	}
	where := c.DatabaseURL
	switch {
	case d.Shared:
		where = "embedded, in " + c.DataDir + " (run by the site)"
	case d.Cluster != nil:
		where = "embedded, in " + c.DataDir + " (not running: started for this)"
	}
	fmt.Fprintf(stdout, "%-14s %s\n", "database at:", where)
	r.WriteText(stdout)
	return nil
}

// runDev runs `boxoffice dev cluster`: what a scaled-out Boxoffice runs
// on, all on this machine, until Ctrl-C.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "cluster" {
		return errors.New("usage: boxoffice dev cluster [--instances N] [--port P] [--dir DIR]")
	}
	var instances, port int
	var dir string
	c, _, err := parse("dev cluster", args[1:], stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&instances, "instances", 2, "Boxoffice instances behind nginx")
		fs.IntVar(&port, "port", 8080, "nginx's port, where fans go")
		fs.StringVar(&dir, "dir", "./.boxoffice-cluster", "where the databases, configurations and logs go (kept between runs)")
	})
	if err != nil {
		return err
	}
	if instances < 1 || instances > 16 {
		return errors.New("--instances must be between 1 and 16")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	log := c.logger(stderr)
	fmt.Fprintf(stdout, "starting a primary and a replica, PgBouncer, %d instances and nginx in %s…\n", instances, dir)
	cl, err := devcluster.Start(ctx, devcluster.Config{Dir: dir, Instances: instances, Binary: self, Port: port, Log: log})
	if err != nil {
		return err
	}
	defer cl.Stop()
	fmt.Fprintf(stdout, "primary    %s\nreplica    %s\npgbouncer  %s (transaction pooling)\n", cl.Primary.DataDir(), cl.Replica.DataDir(), cl.Bouncer)
	for _, p := range cl.Instances {
		fmt.Fprintf(stdout, "%s  http://%s (pid %d)\n", p.Name, p.Addr, p.PID())
	}
	fmt.Fprintf(stdout, "nginx      %s\nBoxoffice is running at %s (Ctrl-C stops everything; logs in %s)\n", cl.URL, cl.URL, dir)
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping…")
	return nil
}

// opsSources are where `boxoffice status` and /metrics find their facts.
func (c *config) opsSources(d *db.DB) ops.Sources {
	s := ops.Sources{Pool: d.Pool, BackupDir: c.BackupDir}
	if domains := https.SplitDomains(c.Domains); len(domains) > 0 {
		s.Certificates = func() ([]ops.Certificate, error) {
			infos, err := https.ReadCache(c.acmeCache(), domains)
			var certs []ops.Certificate
			for _, i := range infos {
				certs = append(certs, ops.Certificate{Domain: i.Domain, NotAfter: i.NotAfter, Issuer: i.Issuer})
			}
			return certs, err
		}
	}
	return s
}

// acmeCache is where the certificates are kept: in the data directory,
// which backups of the machine already cover.
func (c *config) acmeCache() string { return filepath.Join(c.DataDir, "acme") }

// https is the certificate manager for --domains, or nil without them.
func (c *config) https(log *slog.Logger) (*https.Manager, error) {
	domains := https.SplitDomains(c.Domains)
	if len(domains) == 0 {
		return nil, nil
	}
	return https.New(https.Config{Domains: domains, DirectoryURL: c.ACMEURL, Email: c.ACMEEmail, CacheDir: c.acmeCache()}, log)
}

// stdin is where `boxoffice users create` reads a password.
var stdin io.Reader = os.Stdin

// runUsers runs `boxoffice users create|role`: the first admin comes from
// here, since nobody can make one in the browser before there is one.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" && args[0] != "role" {
		return errors.New("usage: boxoffice users create|role --email E --role fan|organiser|admin")
	}
	sub := args[0]
	var email, role, name string
	c, _, err := parse("users "+sub, args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the account's email address")
		fs.StringVar(&role, "role", "", "fan, organiser or admin")
		if sub == "create" {
			fs.StringVar(&name, "name", "", "the account holder's name")
		}
	})
	if err != nil {
		return err
	}
	if email == "" || role == "" {
		return fmt.Errorf("boxoffice users %s needs --email and --role", sub)
	}
	var password string
	if sub == "create" {
		if password, err = readPassword(email, stderr); err != nil {
			return err
		}
	}
	d, err := openDB(ctx, c, c.logger(stderr), true)
	if err != nil {
		return err
	}
	defer d.Close()
	accounts := account.NewService(d.Pool, time.Now)
	var u account.User
	if sub == "create" {
		u, err = accounts.Create(ctx, 0, email, password, name, role)
	} else {
		u, err = accounts.SetRole(ctx, 0, email, role)
	}
	if err != nil {
		return errors.New(app.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "%s (account %d) is %s\n", u.Email, u.ID, article(u.Role))
	return nil
}

// readPassword asks for a password on a terminal (twice, unseen), or
// reads the first line of stdin when it is not one, so that a script can
// pipe it in; never a flag, which the process list would show.
func readPassword(email string, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "Password for %s: ", email)
		p, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(p) != string(again) {
			return "", errors.New("the two passwords differ")
		}
		return string(p), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", errors.New("give the password on stdin, for example: echo \"$PASSWORD\" | boxoffice users create …")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func article(role string) string {
	if role == account.RoleOrganiser || role == account.RoleAdmin {
		return "an " + role
	}
	return "a " + role
}

func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var events int
	c, _, err := parse("seed", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&events, "events", 0, "synthetic events to add after the demo catalogue")
	})
	if err != nil {
		return err
	}
	if events < 0 || events > 10_000_000 {
		return errors.New("--events must be between 0 and 10000000")
	}
	log := c.logger(stderr)
	d, err := openDB(ctx, c, log, true)
	if err != nil {
		return err
	}
	defer d.Close()

	t0 := time.Now()
	stats, seeded, err := seed.Demo(ctx, d.Pool, time.Now())
	if err != nil {
		return err
	}
	if seeded {
		checkpoint(ctx, d, log)
		fmt.Fprintf(stdout, "demo catalogue: %v in %v\n", stats, time.Since(t0).Round(time.Millisecond))
	} else {
		fmt.Fprintln(stdout, "demo catalogue: the database already has one; left as it is")
	}
	if events == 0 {
		return nil
	}
	t0 = time.Now()
	stats, err = seed.Synthetic(ctx, d.Pool, events, time.Now(), func(p seed.Progress) {
		fmt.Fprintf(stdout, "synthetic: %d/%d events, %d tickets, %v elapsed\n", p.Events, p.Total, p.Tickets, time.Since(t0).Round(time.Second))
	})
	if err != nil {
		return err
	}
	checkpoint(ctx, d, log)
	fmt.Fprintf(stdout, "synthetic: %v in %v\n", stats, time.Since(t0).Round(time.Millisecond))
	return nil
}

// runBench runs `boxoffice bench onsale|browse`: app/bench has the
// commands; main gives them a Boxoffice to drive.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: boxoffice bench onsale|browse [flags]")
	}
	cmd, err := bench.Lookup(args[0])
	if err != nil {
		return err
	}
	c, _, err := parse("bench "+args[0], args[1:], stderr, cmd.Flags)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	site := func(ctx context.Context, url string, o bench.SiteOptions) (bench.Target, func(), error) {
		return benchSite(ctx, c, url, o, log, stderr)
	}
	return cmd.Run(ctx, site, c.DatabaseURL, stdout, stderr)
}

// benchSite is the Boxoffice a benchmark drives: with url empty, one of
// its own on a fresh database (an embedded cluster in a temporary folder,
// unless DATABASE_URL names one), loaded by o.Prepare; else the one at url,
// with the database at DATABASE_URL for targets and checks.
func benchSite(ctx context.Context, c *config, url string, o bench.SiteOptions, log *slog.Logger, progress io.Writer) (t bench.Target, cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	if url != "" {
		pool, err := db.NewPool(ctx, c.DatabaseURL, o.PoolSize)
		if err != nil {
			return t, nil, err
		}
		return bench.Target{URL: url, Pool: pool}, pool.Close, nil
	}
	if c.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "boxoffice-bench-")
		if err != nil {
			return t, nil, err
		}
		undo = append(undo, func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil { // the server user must get in when we run as root
			return t, nil, err
		}
		c.DataDir = dir
	}
	d, err := openDB(ctx, c, log, true)
	if err != nil {
		return t, nil, err
	}
	undo = append(undo, func() { d.Close() })
	if err = o.Prepare(ctx, d.Pool); err != nil {
		return t, nil, err
	}
	// One load generator stands in for thousands of fans at one address:
	// per-client limits would measure the limiter, not the site.
	c.BookingRate, c.SearchRate, c.SignupRate = web.Rate{}, web.Rate{}, web.Rate{}
	c.StreamsPerAddress = 100_000
	if o.ShortHolds {
		c.HoldTTL, c.SweepInterval = time.Minute, 5*time.Second
	}
	srv, closeSite, err := buildSite(d, c, log)
	if err != nil {
		return t, nil, err
	}
	undo = append(undo, closeSite)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return t, nil, err
	}
	hs := srv.HTTPServer(ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	undo = append(undo, func() {
		hs.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			log.Error("bench server", "err", err)
		}
	})
	t = bench.Target{URL: "http://" + ln.Addr().String(), Pool: d.Pool}
	fmt.Fprintf(progress, "started Boxoffice at %s\n", t.URL)
	return t, cleanup, nil
}
