// Package bench drives a running Boxoffice over HTTP the way crowds of fans
// do, for `boxoffice bench`, and measures the same PostgreSQL's own ceiling
// alongside, so that figures from a noisy machine still mean something.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// OnsaleConfig is one hot on-sale.
type OnsaleConfig struct {
	URL         string        // the Boxoffice to drive
	EventID     int64         // the event to sell out
	Buyers      int           // fans, each with an account and session
	Ramp        time.Duration // fans arrive spread over this time
	Concurrency int           // fans acting at once (the rest queue, as at a real on-sale)
	Pool        *pgxpool.Pool // the same database, for the ceiling and the invariant check
	Progress    io.Writer     // a line a second; nil for none
	// Race makes every fan read the seats once, then hold and retry at
	// once on a 409 (without reading again) until they get seats, and pay
	// at once: the race at the opening second of a hot on-sale.
	Race bool
	// Crash kills a PostgreSQL server process at the worst moment of the
	// on-sale and measures the recovery (crash.go).
	Crash bool
}

// OnsaleReport is what an on-sale measured.
type OnsaleReport struct {
	Buyers       int           `json:"buyers"`
	Seats        int           `json:"seats"`
	Duration     time.Duration `json:"duration_ns"`
	SoldOutAfter time.Duration `json:"sold_out_after_ns"` // 0: not sold out
	Holds        int64         `json:"holds"`
	Conflicts    int64         `json:"conflicts"`
	Confirmed    int64         `json:"confirmed"`
	Declined     int64         `json:"declined"`
	Abandoned    int64         `json:"abandoned"`
	ServerErrors int64         `json:"server_errors"` // any 5xx is a failure
	OtherErrors  int64         `json:"other_errors"`
	// StreamsRefused counts seat streams the site would not open (the
	// buyer then learns only from its own 409s).
	StreamsRefused int64 `json:"streams_refused"`
	// TicketReadsPerHold is tickets-JSON reads per successful hold.
	TicketReadsPerHold float64 `json:"ticket_reads_per_hold"`
	HoldsPerSec        float64 `json:"holds_per_sec"` // over the whole run, hold expiries included
	// AttemptsPerSec is hold requests answered (held or 409) per second
	// over the whole run: the race mode's measure.
	AttemptsPerSec float64 `json:"hold_attempts_per_sec"`
	PaidPerSec     float64 `json:"confirmed_per_sec"` // likewise
	// The rush: from the start until 95% of the seats were held or sold,
	// before the run waits for walked-away holds to run out.
	RushTime        time.Duration      `json:"rush_ns"`
	RushHoldsPerSec float64            `json:"rush_holds_per_sec"`
	PeakHoldsPerSec float64            `json:"peak_holds_per_sec"` // best one-second window
	Steps           map[string]Latency `json:"steps"`
	Ceiling         Ceiling            `json:"ceiling"`
	Invariant       []string           `json:"invariant_violations"`
	Crash           *Crash             `json:"crash,omitempty"`
}

// Latency summarises one step's response times.
type Latency struct {
	Count         int     `json:"count"`
	P50, P95, P99 float64 // milliseconds
}

// recorder collects latencies per step.
type recorder struct {
	mu    sync.Mutex
	steps map[string][]time.Duration
	also  *recorder // another that keeps the same times, if any
}

func (r *recorder) add(step string, d time.Duration) {
	r.mu.Lock()
	r.steps[step] = append(r.steps[step], d)
	r.mu.Unlock()
	if r.also != nil {
		r.also.add(step, d)
	}
}

func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	p := func(q float64) float64 {
		return float64(s[min(len(s)-1, int(q*float64(len(s))))].Microseconds()) / 1000
	}
	return Latency{Count: len(s), P50: p(0.50), P95: p(0.95), P99: p(0.99)}
}

// client is one fan's view of the site.
type client struct {
	base   string
	token  string
	http   *http.Client
	stream *http.Client // no timeout: streams stay open
	rec    *recorder
	stats  *OnsaleReport
}

// call sends a JSON request and decodes the answer; 5xx answers count as
// server errors.
func (c *client) call(ctx context.Context, step, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	t0 := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		atomic.AddInt64(&c.stats.OtherErrors, 1)
		return 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	c.rec.add(step, time.Since(t0))
	if res.StatusCode >= 500 {
		atomic.AddInt64(&c.stats.ServerErrors, 1)
	}
	if err == nil && out != nil && len(data) > 0 {
		err = json.Unmarshal(data, out)
	}
	return res.StatusCode, err
}

type ticket struct {
	ID      int64  `json:"id"`
	Section int64  `json:"section_id"`
	Row     string `json:"row"`
	Seat    int    `json:"seat"`
	Price   int64  `json:"price"`
	Status  string `json:"status"`
}

// Onsale runs a hot on-sale: every fan signs up, arrives within the ramp,
// looks at the event, picks 1 to 4 seats side by side among the best left,
// holds them (trying other seats on a 409), and then pays (most), has a
// card declined and pays again (some), or walks away and lets the hold run
// out (some), until the event is sold out.
func Onsale(ctx context.Context, cfg OnsaleConfig) (*OnsaleReport, error) {
	rep := &OnsaleReport{Buyers: cfg.Buyers}
	rec := &recorder{steps: map[string][]time.Duration{}}
	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency * 2}}
	streamc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency}}
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}

	if err := cfg.Pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE event_id = $1`, cfg.EventID).Scan(&rep.Seats); err != nil {
		return nil, err
	}
	if rep.Seats == 0 {
		return nil, fmt.Errorf("event %d has no tickets", cfg.EventID)
	}

	// Accounts first: signing up is not part of the on-sale.
	progress("signing up %d buyers…", cfg.Buyers)
	fans := make([]*client, cfg.Buyers)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	var signupErr atomic.Value
	run := time.Now().UnixNano()
	for i := range fans {
		fans[i] = &client{base: cfg.URL, http: httpc, stream: streamc, rec: &recorder{steps: map[string][]time.Duration{}}, stats: rep}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := fans[i].signUp(ctx, fmt.Sprintf("buyer%d.%d@bench.example.com", run, i)); err != nil {
				signupErr.Store(err)
			}
		})
	}
	wg.Wait()
	if err, ok := signupErr.Load().(error); ok {
		return nil, fmt.Errorf("sign up buyers: %w", err)
	}
	for _, f := range fans {
		f.rec = rec
	}

	progress("on-sale: %d buyers over %v, %d at once, %d seats", cfg.Buyers, cfg.Ramp, cfg.Concurrency, rep.Seats)
	start := time.Now()
	active := make(chan struct{}, cfg.Concurrency)
	done, reported := make(chan struct{}), make(chan struct{})
	go func() { reportProgress(ctx, cfg, rep, start, done, progress); close(reported) }()
	crashed := make(chan struct{})
	if cfg.Crash {
		rep.Crash = &Crash{}
		crashCtx, stopCrash := context.WithCancel(ctx)
		defer func() { stopCrash(); <-crashed }()
		go func() { defer close(crashed); crashAtPeak(crashCtx, cfg, rep, start, done, progress) }()
	} else {
		close(crashed)
	}
	for i, f := range fans {
		rng := rand.New(rand.NewPCG(uint64(i), 11))
		arrive := time.Duration(rng.Int64N(int64(cfg.Ramp) + 1))
		wg.Go(func() {
			select {
			case <-time.After(arrive - time.Since(start)):
			case <-ctx.Done():
				return
			}
			active <- struct{}{}
			defer func() { <-active }()
			if cfg.Race {
				f.race(ctx, cfg.EventID, rng)
			} else {
				f.buy(ctx, cfg.EventID, rng)
			}
		})
	}
	wg.Wait()
	close(done)
	<-reported
	if cfg.Crash {
		<-crashed // the measurement finishes even when the fans are done
	}
	rep.Duration = time.Since(start)
	rep.SoldOutAfter = soldOutAfter(ctx, cfg, rep.Seats, start)
	rep.HoldsPerSec = float64(rep.Holds) / rep.Duration.Seconds()
	rep.AttemptsPerSec = float64(rep.Holds+rep.Conflicts) / rep.Duration.Seconds()
	rep.PaidPerSec = float64(rep.Confirmed) / rep.Duration.Seconds()
	if rep.Holds > 0 {
		rep.TicketReadsPerHold = float64(len(rec.steps["tickets json"])) / float64(rep.Holds)
	}
	rep.Steps = map[string]Latency{}
	for step, ds := range rec.steps {
		rep.Steps[step] = summarize(ds)
	}

	ceilingTime := min(rep.Duration, 20*time.Second)
	// At most 64 connections: PostgreSQL allows 100 by default, and the
	// site under test holds some.
	clients := min(cfg.Concurrency, 64)
	progress("ceiling: %d clients locking and updating one seat each, for %v…", clients, ceilingTime.Round(time.Second))
	var err error
	if rep.Ceiling, err = MeasureCeiling(ctx, cfg.Pool, clients, ceilingTime); err != nil {
		return rep, err
	}
	rep.Invariant, err = CheckInvariant(ctx, cfg.Pool, cfg.EventID)
	return rep, err
}

func (c *client) signUp(ctx context.Context, email string) error {
	const password = "bench password 123"
	if code, err := c.call(ctx, "signup", "POST", "/api/v1/users", map[string]string{"email": email, "password": password, "name": "Bench Fan"}, nil); code != 201 {
		return fmt.Errorf("sign up %s: %d %v", email, code, err)
	}
	var sess struct{ Token string }
	if code, err := c.call(ctx, "login", "POST", "/api/v1/sessions", map[string]string{"email": email, "password": password}, &sess); code != 201 {
		return fmt.Errorf("log in %s: %d %v", email, code, err)
	}
	c.token = sess.Token
	return nil
}

// race is one fan at the opening second: one read of the free seats, then
// holds of 1 to 4 seats side by side (seven times in ten among the dearest
// third), again at once with other seats after each 409 (dropping the ones
// it named), and paying at once on success.
func (c *client) race(ctx context.Context, eventID int64, rng *rand.Rand) {
	var list struct{ Tickets []ticket }
	if _, err := c.call(ctx, "tickets json", "GET", fmt.Sprintf("/api/v1/events/%d/tickets?status=available", eventID), nil, &list); err != nil {
		return
	}
	free := list.Tickets
	want := 1 + rng.IntN(4)
	for attempt := 0; attempt < 100 && len(free) > 0 && ctx.Err() == nil; attempt++ {
		choice := free
		if rng.IntN(10) < 7 {
			sort.SliceStable(choice, func(i, j int) bool { return choice[i].Price > choice[j].Price })
			choice = choice[:max(1, len(choice)/3)]
		}
		ids := pickSeats(slices.Clone(choice), want, rng)
		var held struct {
			ID    int64
			Error struct {
				TicketIDs []int64 `json:"ticket_ids"`
			}
		}
		switch code, _ := c.call(ctx, "hold", "POST", "/api/v1/bookings", map[string]any{"ticket_ids": ids}, &held); code {
		case 201:
			atomic.AddInt64(&c.stats.Holds, 1)
			if code, _ := c.call(ctx, "pay", "POST", fmt.Sprintf("/api/v1/bookings/%d/pay", held.ID), map[string]string{"payment_method": "pm_card_visa"}, nil); code == 200 {
				atomic.AddInt64(&c.stats.Confirmed, 1)
			}
			return
		case 409:
			atomic.AddInt64(&c.stats.Conflicts, 1)
			gone := held.Error.TicketIDs
			if len(gone) == 0 {
				gone = ids
			}
			free = slices.DeleteFunc(free, func(t ticket) bool { return slices.Contains(gone, t.ID) })
		default:
			atomic.AddInt64(&c.stats.OtherErrors, 1)
			return
		}
	}
}

// buy is one fan's on-sale: they come back for more (as more fans would
// arrive) while seats are left, up to rounds times.
func (c *client) buy(ctx context.Context, eventID int64, rng *rand.Rand) {
	const rounds = 10
	if _, err := c.get(ctx, "event page", fmt.Sprintf("/event/%d", eventID)); err != nil {
		return
	}
	for range rounds {
		if !c.buyOnce(ctx, eventID, rng) {
			return
		}
	}
}

type eventJSON struct {
	Available int
	Sections  []sectionJSON
}

type sectionJSON struct {
	ID        int64
	Available int
	MaxPrice  int64 `json:"max_price"`
}

// buyOnce picks seats in the best section with room, holds them (trying
// again on a 409) and pays or walks away. It reports whether seats may be
// left to buy. Like the seat map page, it reads a section's tickets once
// and then follows the event's stream for what others take.
func (c *client) buyOnce(ctx context.Context, eventID int64, rng *rand.Rand) bool {
	want := 2 + rng.IntN(3) // most fans come in twos to fours
	if rng.IntN(10) == 0 {
		want = 1
	}
	var view *seatView
	stop := func() {}
	defer func() { stop() }()
	for attempt := 0; attempt < 40 && ctx.Err() == nil; attempt++ {
		if view == nil || len(view.free()) == 0 {
			stop()
			view = nil
			var ev eventJSON
			if _, err := c.call(ctx, "event json", "GET", fmt.Sprintf("/api/v1/events/%d", eventID), nil, &ev); err != nil {
				return false
			}
			if ev.Available == 0 {
				if c.soldOut(ctx, eventID) {
					return false
				}
				time.Sleep(2 * time.Second) // holds may run out; wait for them
				continue
			}
			// The best sections first: the dearest with seats left, a
			// little spread so that not everyone piles into one.
			secs := slices.DeleteFunc(ev.Sections, func(s sectionJSON) bool { return s.Available == 0 })
			sort.SliceStable(secs, func(i, j int) bool { return secs[i].MaxPrice > secs[j].MaxPrice })
			section := secs[rng.IntN(min(len(secs), 3))]
			var err error
			if view, stop, err = c.follow(ctx, eventID, section.ID); err != nil {
				return false
			}
			if len(view.free()) == 0 {
				continue
			}
		}
		ids := pickSeats(view.free(), want, rng)
		var held struct {
			ID    int64
			Error struct {
				Code      string
				TicketIDs []int64 `json:"ticket_ids"`
			}
		}
		code, _ := c.call(ctx, "hold", "POST", "/api/v1/bookings", map[string]any{"ticket_ids": ids}, &held)
		switch code {
		case 201:
			atomic.AddInt64(&c.stats.Holds, 1)
			stop()
			c.pay(ctx, held.ID, rng)
			return true
		case 409:
			if held.Error.Code == "ticket_limit" {
				return false // has all a fan may have of this event
			}
			atomic.AddInt64(&c.stats.Conflicts, 1)
			gone := held.Error.TicketIDs
			if len(gone) == 0 {
				gone = ids
			}
			// As a fan does: look at the map again once it has moved on
			// (its next message), not at once at the same stale picture.
			select {
			case <-view.taken(gone):
			case <-time.After(500 * time.Millisecond):
			case <-ctx.Done():
			}
		default:
			atomic.AddInt64(&c.stats.OtherErrors, 1)
			return false
		}
	}
	return false
}

func (c *client) pay(ctx context.Context, bookingID int64, rng *rand.Rand) {
	path := fmt.Sprintf("/api/v1/bookings/%d/pay", bookingID)
	switch r := rng.IntN(100); {
	case r < 10:
		atomic.AddInt64(&c.stats.Abandoned, 1)
		return // the hold runs out
	case r < 25:
		if code, _ := c.call(ctx, "pay", "POST", path, map[string]string{"payment_method": "pm_card_chargeDeclined"}, nil); code == 402 {
			atomic.AddInt64(&c.stats.Declined, 1)
		}
	}
	if code, _ := c.call(ctx, "pay", "POST", path, map[string]string{"payment_method": "pm_card_visa"}, nil); code == 200 {
		atomic.AddInt64(&c.stats.Confirmed, 1)
	}
}

func (c *client) get(ctx context.Context, step, path string) (int, error) {
	return c.call(ctx, step, "GET", path, nil, nil)
}

// soldOut asks whether any ticket is left or held: the bench's own
// polling while walked-away holds run out, counted apart from buying.
// A large event's tickets are listed a section at a time.
func (c *client) soldOut(ctx context.Context, eventID int64) bool {
	var ev eventJSON
	if _, err := c.call(ctx, "sold-out check", "GET", fmt.Sprintf("/api/v1/events/%d", eventID), nil, &ev); err != nil {
		return true
	}
	if ev.Available > 0 {
		return false
	}
	for _, s := range ev.Sections {
		var held struct{ Tickets []ticket }
		code, err := c.call(ctx, "sold-out check", "GET", fmt.Sprintf("/api/v1/events/%d/tickets?section=%d&status=reserved", eventID, s.ID), nil, &held)
		if err != nil || code != 200 || len(held.Tickets) > 0 {
			return err != nil // not sold out while seats are held (or the answer is unclear)
		}
	}
	return true
}

// pickSeats chooses want seats side by side (same section and row,
// consecutive numbers), at random among such blocks, or the longest block
// there is when none is long enough.
func pickSeats(free []ticket, want int, rng *rand.Rand) []int64 {
	sort.Slice(free, func(i, j int) bool {
		a, b := free[i], free[j]
		if a.Section != b.Section {
			return a.Section < b.Section
		}
		if a.Row != b.Row {
			return a.Row < b.Row
		}
		return a.Seat < b.Seat
	})
	var blocks, longest [][]int64
	run := []int64{free[0].ID}
	flush := func() {
		if len(run) >= want {
			for k := 0; k+want <= len(run); k += want {
				blocks = append(blocks, run[k:k+want])
			}
		}
		if len(longest) == 0 || len(run) > len(longest[0]) {
			longest = [][]int64{run}
		}
	}
	for i := 1; i < len(free); i++ {
		prev, t := free[i-1], free[i]
		if t.Section == prev.Section && t.Row == prev.Row && t.Seat == prev.Seat+1 {
			run = append(run, t.ID)
			continue
		}
		flush()
		run = []int64{t.ID}
	}
	flush()
	if len(blocks) > 0 {
		return slices.Clone(blocks[rng.IntN(len(blocks))])
	}
	return slices.Clone(longest[0])
}

// reportProgress prints a line a second until done, and notes the rush
// (until 95% of seats are taken) and the best second.
func reportProgress(ctx context.Context, cfg OnsaleConfig, rep *OnsaleReport, start time.Time, done chan struct{}, progress func(string, ...any)) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastHolds int64
	for {
		select {
		case <-done:
			return
		case <-t.C:
			var sold, held int
			if err := cfg.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'sold'), count(*) FILTER (WHERE status = 'reserved' AND reserved_until > now())
				FROM tickets WHERE event_id = $1`, cfg.EventID).Scan(&sold, &held); err != nil {
				progress("could not count the seats taken: %v", err)
				continue
			}
			holds := atomic.LoadInt64(&rep.Holds)
			rep.PeakHoldsPerSec = max(rep.PeakHoldsPerSec, float64(holds-lastHolds))
			lastHolds = holds
			if rep.RushTime == 0 && (sold+held)*100 >= rep.Seats*95 {
				rep.RushTime = time.Since(start)
				rep.RushHoldsPerSec = float64(holds) / rep.RushTime.Seconds()
			}
			progress("%5.0fs  holds %6d  conflicts %6d  confirmed %6d  sold %6d/%d  held %5d  5xx %d",
				time.Since(start).Seconds(), atomic.LoadInt64(&rep.Holds), atomic.LoadInt64(&rep.Conflicts),
				atomic.LoadInt64(&rep.Confirmed), sold, rep.Seats, held, atomic.LoadInt64(&rep.ServerErrors))
		}
	}
}

// soldOutAfter is when the last ticket was sold, if all were.
func soldOutAfter(ctx context.Context, cfg OnsaleConfig, seats int, start time.Time) time.Duration {
	var sold int
	var last *time.Time
	cfg.Pool.QueryRow(ctx, `SELECT count(*), max(b.confirmed_at) FROM tickets t JOIN bookings b ON b.id = t.booking_id
		WHERE t.event_id = $1 AND t.status = 'sold'`, cfg.EventID).Scan(&sold, &last)
	if sold < seats || last == nil {
		return 0
	}
	return last.Sub(start)
}

// WriteText writes the report as a person reads it.
func (r *OnsaleReport) WriteText(out io.Writer) error {
	w := &errWriter{w: out}
	w.printf("\non-sale: %d buyers, %d seats, %v\n", r.Buyers, r.Seats, r.Duration.Round(time.Millisecond))
	if r.SoldOutAfter > 0 {
		w.printf("sold out after %v\n", r.SoldOutAfter.Round(time.Millisecond))
	} else {
		w.printf("not sold out\n")
	}
	w.printf("holds %d (%.0f/s), confirmed %d (%.0f/s), conflicts %d, declined %d, abandoned %d, 5xx %d, other errors %d\n",
		r.Holds, r.HoldsPerSec, r.Confirmed, r.PaidPerSec, r.Conflicts, r.Declined, r.Abandoned, r.ServerErrors, r.OtherErrors)
	w.printf("hold attempts (held or 409) %.0f/s over the run; tickets JSON reads per hold %.2f; streams refused %d\n",
		r.AttemptsPerSec, r.TicketReadsPerHold, r.StreamsRefused)
	if r.RushTime > 0 {
		w.printf("rush (until 95%% of seats were taken): %v, %.0f holds/s; best second %.0f holds\n",
			r.RushTime.Round(time.Second), r.RushHoldsPerSec, r.PeakHoldsPerSec)
	}
	holdsPerSec, which := r.RushHoldsPerSec, "rush holds/s"
	if r.RushTime == 0 { // a run too small to have a rush
		holdsPerSec, which = r.HoldsPerSec, "holds/s"
	}
	w.printf("ceiling: %.0f lock-and-update tx/s from %d clients (p50 %.1f ms, p99 %.1f ms); %s are %.1f%% of it\n",
		r.Ceiling.TxPerSec, r.Ceiling.Clients, r.Ceiling.Latency.P50, r.Ceiling.Latency.P99, which, 100*holdsPerSec/r.Ceiling.TxPerSec)
	w.printf("\n| step | count | p50 | p95 | p99 |\n| --- | --- | --- | --- | --- |\n")
	for _, step := range []string{"event page", "tickets json", "hold", "pay", "event json", "sold-out check"} {
		if l, ok := r.Steps[step]; ok {
			w.printf("| %s | %d | %.1f ms | %.1f ms | %.1f ms |\n", step, l.Count, l.P50, l.P95, l.P99)
		}
	}
	if r.Crash != nil {
		r.Crash.writeText(w)
	}
	if len(r.Invariant) == 0 {
		w.printf("\ninvariant: holds (no ticket in two live bookings, sold count = confirmed bookings' tickets, every confirmed booking's tickets sold to it)\n")
	} else {
		w.printf("\nINVARIANT BROKEN: %v\n", r.Invariant)
	}
	return w.err
}

func (r *OnsaleReport) addStreamRefused() { atomic.AddInt64(&r.StreamsRefused, 1) }
