// Command boxoffice runs the Boxoffice ticketing site: one binary that
// serves the pages and the JSON API, migrates its database, and, with no
// DATABASE_URL, runs a PostgreSQL of its own.
//
//	boxoffice [serve]                 run the site (default)
//	boxoffice migrate up|down|status  manage the schema
//	boxoffice seed [--events N]       load the demo catalogue, plus N synthetic events
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // venue time zones must resolve in minimal containers too

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/account"
	"github.com/boxoffice/boxoffice/app/bench"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/app/search"
	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/web"
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
	DatabaseURL          string
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
	MetricsAddr          string
	TrustProxy           bool
	LogFormat            string
	StripeSecretKey      string
	StripePublishableKey string
	StripeWebhookSecret  string
}

// flags registers the settings on fs with defaults from the environment,
// and returns a check to run after parsing for environment values that did
// not parse.
func (c *config) flags(fs *flag.FlagSet) func() error {
	var bad []string
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
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
	fs.StringVar(&c.Addr, "addr", env("BOXOFFICE_ADDR", ":8080"), "listen address (BOXOFFICE_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", ""), "PostgreSQL to use; empty runs an embedded cluster (DATABASE_URL)")
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
	fs.TextVar(&c.SignupRate, "signup-rate", envRate("BOXOFFICE_SIGNUP_RATE", "20/min,20"), "sign-ups one address may make, as N/min[,BURST] or off (BOXOFFICE_SIGNUP_RATE)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("BOXOFFICE_METRICS_ADDR", ""), "where to serve /metrics for Prometheus, apart from the site (e.g. 127.0.0.1:9090); empty serves none (BOXOFFICE_METRICS_ADDR)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", envBool("BOXOFFICE_TRUST_PROXY", false), "take client addresses from X-Forwarded-For, set by a load balancer in front (BOXOFFICE_TRUST_PROXY)")
	fs.StringVar(&c.LogFormat, "log-format", env("BOXOFFICE_LOG_FORMAT", "text"), "log format, text or json (BOXOFFICE_LOG_FORMAT)")
	fs.StringVar(&c.StripeSecretKey, "stripe-secret-key", env("STRIPE_SECRET_KEY", ""), "Stripe secret key; empty uses the demo processor (STRIPE_SECRET_KEY)")
	fs.StringVar(&c.StripePublishableKey, "stripe-publishable-key", env("STRIPE_PUBLISHABLE_KEY", ""), "Stripe publishable key (STRIPE_PUBLISHABLE_KEY)")
	fs.StringVar(&c.StripeWebhookSecret, "stripe-webhook-secret", env("STRIPE_WEBHOOK_SECRET", ""), "Stripe webhook signing secret (STRIPE_WEBHOOK_SECRET)")
	return func() error {
		switch {
		case len(bad) > 0:
			return errors.New(strings.Join(bad, "; "))
		case c.HoldTTL < time.Minute:
			return errors.New("--hold-ttl must be at least 1m: fans need time to pay")
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
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// parse reads a command's flags.
func parse(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*config, []string, error) {
	fs := flag.NewFlagSet("boxoffice "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	check := c.flags(fs)
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
	d, err := db.Open(ctx, db.Config{URL: c.DatabaseURL, DataDir: c.DataDir}, log)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := db.Migrate(ctx, d.Pool, log); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
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
		supervising, stopSupervising := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { d.Cluster.Supervise(supervising, time.Second); close(done) }()
		defer func() { stopSupervising(); <-done }() // before the cluster stops
	}
	if c.DemoData {
		t0 := time.Now()
		stats, seeded, err := seed.Demo(ctx, d.Pool, time.Now())
		if err != nil {
			return err
		}
		if seeded {
			log.Info("seeded the demo catalogue", "took", time.Since(t0).Round(time.Millisecond), "what", stats.String())
		}
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
	hs := srv.HTTPServer(c.Addr)
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
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
	log.Info("boxoffice is ready", "url", siteURL(ln.Addr()), "took", time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(stdout, "Boxoffice is running at %s\n", siteURL(ln.Addr()))

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	stop()
	log.Info("shutting down: finishing requests in flight")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		log.Warn("requests still running at shutdown", "err", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// buildSite wires the services on d into the web server and starts the
// expiry sweeper and the invariant monitor; stop stops what it started.
func buildSite(d *db.DB, c *config, log *slog.Logger) (srv *web.Server, stop func(), err error) {
	migrator, err := db.NewMigrator(d.Pool, nil)
	if err != nil {
		return nil, nil, err
	}
	events := event.NewService(d.Pool, time.Now)
	var processor booking.Payments = payment.NewDemo()
	var webhooks web.WebhookVerifier
	live := strings.HasPrefix(c.StripeSecretKey, "sk_live_")
	if c.StripeSecretKey != "" {
		stripe := payment.NewStripe(payment.StripeConfig{SecretKey: c.StripeSecretKey, WebhookSecret: c.StripeWebhookSecret})
		processor, webhooks = stripe, stripe
		log.Info("payments through Stripe", "live", live, "payment_element", c.StripePublishableKey != "")
	}
	bookings := booking.NewService(d.Pool, processor,
		booking.Config{HoldTTL: c.HoldTTL, MaxTickets: c.MaxTickets}, time.Now, log)
	monitor := booking.NewMonitor(d.Pool, time.Now, log)
	background, stopBackground := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	workers.Go(func() { bookings.RunSweeper(background, c.SweepInterval) })
	workers.Go(func() { monitor.Run(background, c.MonitorInterval) })

	srv = web.NewServer(web.Config{
		Log:                  log,
		Events:               events,
		Search:               search.NewService(d.Pool, events, time.Now),
		Accounts:             account.NewService(d.Pool, time.Now),
		Bookings:             bookings,
		Webhooks:             webhooks,
		StripePublishableKey: c.StripePublishableKey,
		LivePayments:         live,
		SeatMapLimit:         c.SeatMapLimit,
		BookingRate:          c.BookingRate,
		SearchRate:           c.SearchRate,
		SignupRate:           c.SignupRate,
		TrustProxy:           c.TrustProxy,
		Monitor:              monitor,
		PoolStats:            d.Pool.Stat,
		Ready: func(ctx context.Context) error {
			if err := d.Pool.Ping(ctx); err != nil {
				return fmt.Errorf("database unreachable: %w", err)
			}
			if pending, err := migrator.Pending(ctx); err != nil || pending {
				return fmt.Errorf("schema not current (pending migrations: %v, %v)", pending, err)
			}
			return nil
		},
	})
	return srv, func() { stopBackground(); workers.Wait(); migrator.Close() }, nil
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
	m, err := db.NewMigrator(d.Pool, nil)
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
	fmt.Fprintf(stdout, "synthetic: %v in %v\n", stats, time.Since(t0).Round(time.Millisecond))
	return nil
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "browse" {
		return runBrowse(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "onsale" {
		return errors.New("usage: boxoffice bench onsale|browse [flags]")
	}
	var url string
	var eventID int64
	var seats, buyers, concurrency int
	var ramp time.Duration
	var asJSON bool
	var cpuProfile string
	c, _, err := parse("bench onsale", args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run (server and buyers) to this file")
		fs.StringVar(&url, "url", "", "a running Boxoffice to drive (with --event and DATABASE_URL); empty starts one on a fresh database")
		fs.Int64Var(&eventID, "event", 0, "the event to sell out, with --url")
		fs.IntVar(&seats, "seats", 5000, "seats of the event to create (without --url)")
		fs.IntVar(&buyers, "buyers", 2000, "buyers, each with an account and a session")
		fs.DurationVar(&ramp, "ramp", 10*time.Second, "buyers arrive spread over this time")
		fs.IntVar(&concurrency, "concurrency", 64, "buyers acting at once")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	})
	if err != nil {
		return err
	}
	switch {
	case seats < 1 || seats > 1_000_000:
		return errors.New("--seats must be between 1 and 1000000")
	case buyers < 1 || buyers > 100_000:
		return errors.New("--buyers must be between 1 and 100000")
	case concurrency < 1 || concurrency > 1000:
		return errors.New("--concurrency must be between 1 and 1000")
	case url != "" && (eventID <= 0 || c.DatabaseURL == ""):
		return errors.New("with --url, give --event and DATABASE_URL (the benchmark reads the database for its ceiling and the invariant check)")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	progress := stderr

	if url == "" {
		// Holds that are walked away from must run out within the run.
		c.HoldTTL, c.SweepInterval = time.Minute, 5*time.Second
	}
	url, pool, cleanup, err := benchSite(ctx, c, url, log, int32(concurrency), func(pool *pgxpool.Pool) error {
		eventID, err = seed.OnsaleEvent(ctx, pool, seats, time.Now())
		fmt.Fprintf(progress, "created event %d (%d seats)\n", eventID, seats)
		return err
	})
	if err != nil {
		return err
	}
	defer cleanup()

	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	rep, err := bench.Onsale(ctx, bench.OnsaleConfig{URL: url, EventID: eventID, Buyers: buyers, Ramp: ramp,
		Concurrency: concurrency, Pool: pool, Progress: progress})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.WriteText(stdout)
	if len(rep.Invariant) > 0 || rep.ServerErrors > 0 {
		return fmt.Errorf("the on-sale broke the rules: %d server errors, invariant: %v", rep.ServerErrors, rep.Invariant)
	}
	return nil
}

func runBrowse(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var url string
	var rate float64
	var duration time.Duration
	var findMax, asJSON bool
	var cpuProfile string
	c, _, err := parse("bench browse", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run (server and load) to this file")
		fs.StringVar(&url, "url", "", "a running Boxoffice to drive (with DATABASE_URL, to pick targets); empty starts one with the demo catalogue")
		fs.Float64Var(&rate, "rate", 100, "requests per second")
		fs.DurationVar(&duration, "duration", 20*time.Second, "how long to send them")
		fs.BoolVar(&findMax, "find-max", true, "also search for the highest rate with p99 under 100 ms, for the mix and for /healthz")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	})
	if err != nil {
		return err
	}
	if rate <= 0 || duration < time.Second {
		return errors.New("--rate must be above 0 and --duration at least 1s")
	}
	if url != "" && c.DatabaseURL == "" {
		return errors.New("with --url, give DATABASE_URL too: the load picks its events and sections from the database")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	progress := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }

	url, pool, cleanup, err := benchSite(ctx, c, url, log, 4, func(pool *pgxpool.Pool) error {
		_, _, err := seed.Demo(ctx, pool, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	defer cleanup()
	mix, err := bench.BuildMix(ctx, pool)
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	progress("browsing at %.0f requests/s for %v…", rate, duration)
	rep, err := bench.Browse(ctx, url, mix, rate, duration)
	if err != nil {
		return err
	}
	out := struct {
		Load         *bench.BrowseReport `json:"load"`
		EventPageMax float64             `json:"event_page_max_rate,omitempty"`
		HealthzMax   float64             `json:"healthz_max_rate,omitempty"`
	}{Load: rep}
	if findMax {
		const limit = 100 * time.Millisecond
		progress("highest rate of the mix with the event page's p99 under 100 ms:")
		out.EventPageMax, _, err = bench.MaxRate(ctx, url, mix, "event page", limit, 5*time.Second, 25, progress)
		if err != nil {
			return err
		}
		progress("highest rate of /healthz with p99 under 100 ms:")
		out.HealthzMax, _, err = bench.MaxRate(ctx, url, bench.HealthzOnly, "", limit, 5*time.Second, 500, progress)
		if err != nil {
			return err
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "\nbrowse: asked %.0f req/s for %v, achieved %.1f req/s, %d errors\n\n| route | requests | p50 | p99 | errors |\n| --- | --- | --- | --- | --- |\n",
		rep.Rate, duration, rep.Achieved, rep.Errors)
	for _, route := range []string{"event page", "section map", "search", "tickets json"} {
		r := rep.Routes[route]
		fmt.Fprintf(stdout, "| %s | %d | %.1f ms | %.1f ms | %d |\n", route, r.Count, r.P50, r.P99, r.Errors)
	}
	if findMax {
		fmt.Fprintf(stdout, "\nhighest rate with the event page's p99 < 100 ms: %.0f req/s of the mix\n", out.EventPageMax)
		fmt.Fprintf(stdout, "highest rate of /healthz with p99 < 100 ms: %.0f req/s (the ceiling)\n", out.HealthzMax)
		if out.HealthzMax > 0 {
			fmt.Fprintf(stdout, "ratio: %.1f%%\n", 100*out.EventPageMax/out.HealthzMax)
		}
	}
	return nil
}

// startCPUProfile profiles the process into path until the returned stop
// is called; an empty path profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// benchSite is the Boxoffice a benchmark drives: with url empty, one of
// its own on a fresh database (an embedded cluster in a temporary folder,
// unless DATABASE_URL names one), loaded by prepare; else the one at url,
// with the database at DATABASE_URL for targets and checks.
func benchSite(ctx context.Context, c *config, url string, log *slog.Logger, poolSize int32,
	prepare func(*pgxpool.Pool) error) (site string, pool *pgxpool.Pool, cleanup func(), err error) {
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
		if pool, err = db.NewPool(ctx, c.DatabaseURL, poolSize); err != nil {
			return "", nil, nil, err
		}
		return url, pool, pool.Close, nil
	}
	if c.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "boxoffice-bench-")
		if err != nil {
			return "", nil, nil, err
		}
		os.Chmod(dir, 0o755) // the server user must get in when we run as root
		undo = append(undo, func() { os.RemoveAll(dir) })
		c.DataDir = dir
	}
	d, err := openDB(ctx, c, log, true)
	if err != nil {
		return "", nil, nil, err
	}
	undo = append(undo, func() { d.Close() })
	if err = prepare(d.Pool); err != nil {
		return "", nil, nil, err
	}
	// One load generator stands in for thousands of fans at one address:
	// per-client limits would measure the limiter, not the site.
	c.BookingRate, c.SearchRate, c.SignupRate = web.Rate{}, web.Rate{}, web.Rate{}
	srv, closeSite, err := buildSite(d, c, log)
	if err != nil {
		return "", nil, nil, err
	}
	undo = append(undo, closeSite)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	hs := srv.HTTPServer(ln.Addr().String())
	go hs.Serve(ln)
	undo = append(undo, func() { hs.Close() })
	site = "http://" + ln.Addr().String()
	fmt.Fprintf(os.Stderr, "started Boxoffice at %s\n", site)
	return site, d.Pool, cleanup, nil
}
