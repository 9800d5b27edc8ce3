package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/seed"
)

// Target is the Boxoffice a benchmark drives, and its database.
type Target struct {
	URL  string
	Pool *pgxpool.Pool
}

// Site is how a command gets its target (main provides it, since only main
// may start a whole Boxoffice): with url empty, one of its own on a fresh
// database loaded by prepare; else the one at url. Stop stops what it
// started.
type Site func(ctx context.Context, url string, o SiteOptions) (t Target, stop func(), err error)

// SiteOptions shape the Boxoffice a benchmark starts for itself.
type SiteOptions struct {
	PoolSize int32 // database connections the benchmark itself uses
	// ShortHolds makes holds last a minute (swept every 5 s), so that
	// holds walked away from run out within the run.
	ShortHolds bool
	Prepare    func(context.Context, *pgxpool.Pool) error
}

// Command is one `boxoffice bench` command.
type Command interface {
	// Flags registers its flags.
	Flags(fs *flag.FlagSet)
	// Run checks its flags and runs, printing the report on stdout and its
	// progress on stderr. databaseURL is the database the flags named
	// (needed with --url).
	Run(ctx context.Context, site Site, databaseURL string, stdout, stderr io.Writer) error
}

// Lookup returns the command called name: onsale or browse.
func Lookup(name string) (Command, error) {
	switch name {
	case "onsale":
		return &onsaleCommand{}, nil
	case "browse":
		return &browseCommand{}, nil
	}
	return nil, errors.New("usage: boxoffice bench onsale|browse [flags]")
}

type common struct {
	url        string
	asJSON     bool
	cpuProfile string
}

func (c *common) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (server and load) to this file")
	fs.BoolVar(&c.asJSON, "json", false, "print the report as JSON")
}

// profile profiles the process into the --cpuprofile file until the
// returned stop is called; without the flag it profiles nothing.
func (c *common) profile() (stop func() error, err error) {
	if c.cpuProfile == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(c.cpuProfile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type onsaleCommand struct {
	common
	eventID                    int64
	seats, buyers, concurrency int
	ramp                       time.Duration
	race, crash                bool
	queue, auto                bool
	lead, burst                time.Duration
}

func (c *onsaleCommand) Flags(fs *flag.FlagSet) {
	c.common.flags(fs)
	fs.StringVar(&c.url, "url", "", "a running Boxoffice to drive (with --event and DATABASE_URL); empty starts one on a fresh database")
	fs.Int64Var(&c.eventID, "event", 0, "the event to sell out, with --url")
	fs.IntVar(&c.seats, "seats", 5000, "seats of the event to create (without --url)")
	fs.IntVar(&c.buyers, "buyers", 2000, "buyers, each with an account and a session")
	fs.DurationVar(&c.ramp, "ramp", 10*time.Second, "buyers arrive spread over this time")
	fs.IntVar(&c.concurrency, "concurrency", 64, "buyers acting at once")
	fs.BoolVar(&c.queue, "queue", false, "a queued on-sale: --buyers fans join the event's waiting room, half in the --lead before the open and half in the --burst after it, and shop when let in (the room admits at BOXOFFICE_QUEUE_RATE; try --buyers 20000 with BOXOFFICE_QUEUE_RATE=6000)")
	fs.DurationVar(&c.lead, "lead", time.Minute, "with --queue: how long before the open the first half joins")
	fs.BoolVar(&c.auto, "auto", false, "with --queue: the room in auto mode, admitting as many as keep holds inside BOXOFFICE_QUEUE_BUDGET (starting at BOXOFFICE_QUEUE_RATE)")
	fs.DurationVar(&c.burst, "burst", 10*time.Second, "with --queue: how long after the open the second half joins")
	fs.BoolVar(&c.crash, "crash", false, "kill a PostgreSQL server process (SIGKILL) at the worst moment of the on-sale, when the log to replay is near its most, and measure the recovery; run as root or the database's user, on its machine (try --seats 40000 --buyers 12000 --ramp 90s)")
	fs.BoolVar(&c.race, "race", false, "the opening-second race: each buyer reads the seats once, retries at once on a 409 and pays at once (try --seats 600 --buyers 300 --concurrency 300 --ramp 0)")
}

func (c *onsaleCommand) check(databaseURL string) error {
	switch {
	case c.seats < 1 || c.seats > 1_000_000:
		return errors.New("--seats must be between 1 and 1000000")
	case c.buyers < 1 || c.buyers > 100_000:
		return errors.New("--buyers must be between 1 and 100000")
	case c.concurrency < 1 || c.concurrency > 1000:
		return errors.New("--concurrency must be between 1 and 1000")
	case c.ramp < 0:
		return errors.New("--ramp cannot be negative")
	case c.url != "" && (c.eventID <= 0 || databaseURL == ""):
		return errors.New("with --url, give --event and DATABASE_URL (the benchmark reads the database for its ceiling and the invariant check)")
	}
	return nil
}

func (c *onsaleCommand) Run(ctx context.Context, site Site, databaseURL string, stdout, stderr io.Writer) error {
	if err := c.check(databaseURL); err != nil {
		return err
	}
	eventID := c.eventID
	target, stopSite, err := site(ctx, c.url, SiteOptions{PoolSize: int32(c.concurrency), ShortHolds: true,
		Prepare: func(ctx context.Context, pool *pgxpool.Pool) error {
			id, err := seed.OnsaleEvent(ctx, pool, c.seats, time.Now())
			if err == nil {
				eventID = id
				fmt.Fprintf(stderr, "created event %d (%d seats)\n", eventID, c.seats)
			}
			return err
		}})
	if err != nil {
		return err
	}
	defer stopSite()
	stopProfile, err := c.profile()
	if err != nil {
		return err
	}
	if c.queue {
		return c.runQueue(ctx, target, eventID, stdout, stderr)
	}
	rep, err := Onsale(ctx, OnsaleConfig{URL: target.URL, EventID: eventID, Buyers: c.buyers, Ramp: c.ramp,
		Concurrency: c.concurrency, Pool: target.Pool, Progress: stderr, Race: c.race, Crash: c.crash})
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	if c.asJSON {
		err = writeJSON(stdout, rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if len(rep.Invariant) > 0 || rep.ServerErrors > 0 {
		return fmt.Errorf("the on-sale broke the rules: %d server errors, invariant: %v", rep.ServerErrors, rep.Invariant)
	}
	return nil
}

// runQueue is --queue: the waiting room's on-sale.
func (c *onsaleCommand) runQueue(ctx context.Context, target Target, eventID int64, stdout, stderr io.Writer) error {
	if c.lead <= 0 || c.burst < 0 {
		return errors.New("--lead must be above 0 and --burst not negative")
	}
	rep, err := Queue(ctx, QueueConfig{URL: target.URL, EventID: eventID, Fans: c.buyers, Lead: c.lead, Burst: c.burst,
		Auto: c.auto, Pool: target.Pool, Progress: stderr})
	if err != nil {
		return err
	}
	rate := 300.0 // the site's default; the site reads BOXOFFICE_QUEUE_RATE as this does
	if v, err := strconv.ParseFloat(os.Getenv("BOXOFFICE_QUEUE_RATE"), 64); err == nil {
		rate = v
	}
	rep.Rate = rate / 60
	if c.asJSON {
		err = writeJSON(stdout, rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if len(rep.Invariant) > 0 || rep.ServerErrors > 0 {
		return fmt.Errorf("the on-sale broke the rules: %d server errors, invariant: %v", rep.ServerErrors, rep.Invariant)
	}
	return nil
}

type browseCommand struct {
	common
	rate     float64
	duration time.Duration
	findMax  bool
}

func (c *browseCommand) Flags(fs *flag.FlagSet) {
	c.common.flags(fs)
	fs.StringVar(&c.url, "url", "", "a running Boxoffice to drive (with DATABASE_URL, to pick targets); empty starts one with the demo catalogue")
	fs.Float64Var(&c.rate, "rate", 100, "requests per second")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "how long to send them")
	fs.BoolVar(&c.findMax, "find-max", true, "also search for the highest rate with p99 under 100 ms, for the mix and for /healthz")
}

// BrowseResult is what `bench browse` measured: the load at the asked
// rate and, with --find-max, the highest rates that kept the p99 under
// 100 ms.
type BrowseResult struct {
	Load         *BrowseReport `json:"load"`
	EventPageMax float64       `json:"event_page_max_rate,omitempty"`
	HealthzMax   float64       `json:"healthz_max_rate,omitempty"`
}

func (c *browseCommand) Run(ctx context.Context, site Site, databaseURL string, stdout, stderr io.Writer) error {
	if c.rate <= 0 || c.duration < time.Second {
		return errors.New("--rate must be above 0 and --duration at least 1s")
	}
	if c.url != "" && databaseURL == "" {
		return errors.New("with --url, give DATABASE_URL too: the load picks its events and sections from the database")
	}
	progress := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	target, stopSite, err := site(ctx, c.url, SiteOptions{PoolSize: 4, Prepare: func(ctx context.Context, pool *pgxpool.Pool) error {
		_, _, err := seed.Demo(ctx, pool, time.Now())
		return err
	}})
	if err != nil {
		return err
	}
	defer stopSite()
	mix, err := BuildMix(ctx, target.Pool)
	if err != nil {
		return err
	}
	stopProfile, err := c.profile()
	if err != nil {
		return err
	}
	res, err := c.measure(ctx, target.URL, mix, progress)
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	if c.asJSON {
		return writeJSON(stdout, res)
	}
	return res.WriteText(stdout, c.findMax)
}

func (c *browseCommand) measure(ctx context.Context, url string, mix *Mix, progress func(string, ...any)) (*BrowseResult, error) {
	progress("browsing at %.0f requests/s for %v…", c.rate, c.duration)
	rep, err := Browse(ctx, url, mix, c.rate, c.duration)
	if err != nil {
		return nil, err
	}
	res := &BrowseResult{Load: rep}
	if !c.findMax {
		return res, nil
	}
	const limit = 100 * time.Millisecond
	progress("highest rate of the mix with the event page's p99 under 100 ms:")
	if res.EventPageMax, _, err = MaxRate(ctx, url, mix, "event page", limit, 5*time.Second, 25, progress); err != nil {
		return nil, err
	}
	progress("highest rate of /healthz with p99 under 100 ms:")
	if res.HealthzMax, _, err = MaxRate(ctx, url, HealthzOnly, "", limit, 5*time.Second, 500, progress); err != nil {
		return nil, err
	}
	return res, nil
}

// WriteText prints the result as the README's tables.
func (r *BrowseResult) WriteText(w io.Writer, withMax bool) error {
	rep := r.Load
	pw := &errWriter{w: w}
	pw.printf("\nbrowse: asked %.0f req/s for %v, achieved %.1f req/s, %d errors\n\n| route | requests | p50 | p99 | errors |\n| --- | --- | --- | --- | --- |\n",
		rep.Rate, rep.Duration.Round(time.Second), rep.Achieved, rep.Errors)
	for _, route := range []string{"event page", "section map", "search", "tickets json"} {
		rr := rep.Routes[route]
		pw.printf("| %s | %d | %.1f ms | %.1f ms | %d |\n", route, rr.Count, rr.P50, rr.P99, rr.Errors)
	}
	if withMax {
		pw.printf("\nhighest rate with the event page's p99 < 100 ms: %.0f req/s of the mix\n", r.EventPageMax)
		pw.printf("highest rate of /healthz with p99 < 100 ms: %.0f req/s (the ceiling)\n", r.HealthzMax)
		if r.HealthzMax > 0 {
			pw.printf("ratio: %.1f%%\n", 100*r.EventPageMax/r.HealthzMax)
		}
	}
	return pw.err
}

// errWriter prints until the first error, and keeps it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
