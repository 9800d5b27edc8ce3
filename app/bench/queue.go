package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// QueueConfig is a queued on-sale: fans join the event's waiting room,
// half of them in the Lead before the open and half in the Burst after it,
// wait as the room's page does (asking again after Retry-After), and shop
// when let in.
type QueueConfig struct {
	URL         string
	EventID     int64
	Fans        int
	Lead, Burst time.Duration
	Auto        bool // the room in 'auto' rather than 'always'
	Pool        *pgxpool.Pool
	Progress    io.Writer
}

// QueueReport is what a queued on-sale measured.
type QueueReport struct {
	Fans        int     `json:"fans"`
	Seats       int     `json:"seats"`
	JoinsPerSec float64 `json:"joins_per_sec"` // in the burst after the open
	Rate        float64 `json:"rate_per_sec"`  // the room's admission rate, as configured
	Mode        string  `json:"mode"`
	// RateSeen is the lowest and highest rate the room admitted at, per
	// second, as read every 5 s (in 'auto' it follows the hold path).
	RateSeen     [2]float64 `json:"rate_seen_per_sec"`
	AdmittedPerS float64    `json:"admitted_per_s"` // measured from the first admission to the last
	Admitted     int        `json:"admitted"`
	// InversionsAfter counts pairs of fans who joined after the open and
	// were placed out of their arrival order (0 is fair);
	// EarlyInversions is the share of pairs of early fans out of join
	// order (about 0.5 for a random draw, 0 for join order).
	InversionsAfter int                `json:"inversions_after_open"`
	EarlyInversions float64            `json:"early_inversion_share"`
	Holds           int64              `json:"holds"`
	Confirmed       int64              `json:"confirmed"`
	ServerErrors    int64              `json:"server_errors"`
	OtherErrors     int64              `json:"other_errors"`
	Steps           map[string]Latency `json:"steps"`
	// CalmSteps are the steps of fans let in 10 s or more after the last
	// join, when the room's only load is its polls and its shoppers.
	CalmSteps map[string]Latency `json:"steps_after_the_joins"`
	Invariant []string           `json:"invariant_violations"`
	Duration  time.Duration      `json:"duration_ns"`
}

// Queue runs a queued on-sale.
func Queue(ctx context.Context, cfg QueueConfig) (*QueueReport, error) {
	rep := &QueueReport{Fans: cfg.Fans, Mode: "always"}
	if cfg.Auto {
		rep.Mode = "auto"
	}
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	if err := cfg.Pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE event_id = $1`, cfg.EventID).Scan(&rep.Seats); err != nil {
		return nil, err
	}
	// Accounts and sessions straight into the database: 20,000 password
	// hashes would take minutes and are not what this measures.
	progress("creating %d fans with sessions…", cfg.Fans)
	run := time.Now().UnixNano()
	if _, err := cfg.Pool.Exec(ctx, `
		WITH u AS (
			INSERT INTO users (email, name)
			SELECT 'queue' || $1::bigint || '.' || n || '@bench.example.com', 'Bench Fan' FROM generate_series(1, $2) n
			RETURNING id, email
		)
		INSERT INTO sessions (token_hash, user_id, expires_at)
		SELECT sha256(convert_to('qb-' || u.email, 'UTF8')), u.id, now() + interval '1 day' FROM u`, run, cfg.Fans); err != nil {
		return nil, fmt.Errorf("create fans: %w", err)
	}
	open := time.Now().Add(cfg.Lead)
	if _, err := cfg.Pool.Exec(ctx, `UPDATE events SET queue = $3, on_sale_at = $2 WHERE id = $1`, cfg.EventID, open, rep.Mode); err != nil {
		return nil, err
	}

	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
	streamc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	rec := &recorder{steps: map[string][]time.Duration{}}
	// Fans let in once the joins are over shop apart from the flood: their
	// times are also kept on their own.
	recCalm := &recorder{steps: map[string][]time.Duration{}, also: rec}
	stats := &OnsaleReport{}
	var joinedLate atomic.Int64
	var inRoom atomic.Int64 // fans not yet gone home
	var soldOut atomic.Bool // nothing left to buy: fans still waiting go home
	var lateFirst, lateLast atomic.Int64
	progress("%d fans join, half in the %v before the open, half in the %v after it…", cfg.Fans, cfg.Lead, cfg.Burst)
	start := time.Now()
	// The run ends when every fan has gone home (a fan far back goes when
	// the room says nothing is left), or once nothing has sold for 30 s
	// after the joins: fans still shopping then go home, as they do when
	// a sale is over.
	shop, closeShop := context.WithCancel(ctx)
	defer closeShop()
	var wg sync.WaitGroup
	for i := range cfg.Fans {
		rng := rand.New(rand.NewPCG(uint64(i), 29))
		var at time.Time
		if i%2 == 0 {
			at = start.Add(time.Duration(rng.Int64N(int64(cfg.Lead))))
		} else {
			at = open.Add(time.Duration(rng.Int64N(int64(cfg.Burst) + 1)))
		}
		c := &client{base: cfg.URL, http: httpc, stream: streamc, rec: rec, stats: stats,
			token: fmt.Sprintf("qb-queue%d.%d@bench.example.com", run, i+1)}
		wg.Go(func() {
			inRoom.Add(1)
			defer inRoom.Add(-1)
			select {
			case <-time.After(time.Until(at)):
			case <-ctx.Done():
				return
			}
			var place struct{ State string }
			code, _ := c.call(ctx, "join", "POST", fmt.Sprintf("/api/v1/events/%d/queue", cfg.EventID), nil, &place)
			if code != http.StatusOK {
				atomic.AddInt64(&stats.OtherErrors, 1)
				return
			}
			if at.After(open) {
				now := time.Now().UnixNano()
				joinedLate.Add(1)
				lateFirst.CompareAndSwap(0, now)
				lateLast.Store(max(lateLast.Load(), now))
			}
			if !c.waitTurn(shop, cfg.EventID, place.State, &soldOut) { // the sale over, fans still waiting go home too
				return
			}
			if time.Since(open) > cfg.Burst+10*time.Second {
				c.rec = recCalm
			}
			// Let in, a fan buys once: a purchase ends their turn.
			if _, err := c.get(shop, "event page", fmt.Sprintf("/event/%d", cfg.EventID)); err == nil {
				c.buyOnce(shop, cfg.EventID, rng)
			}
		})
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		var sold int64
		lastSale := open // nothing sells before the open
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				var left int
				cfg.Pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE event_id = $1 AND status <> 'sold'`, cfg.EventID).Scan(&left)
				soldOut.Store(left == 0)
				var waiting, admitted int
				var rate *float64
				cfg.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE admitted_at IS NULL), count(*) FILTER (WHERE admitted_at IS NOT NULL),
					(SELECT rate FROM queue_state WHERE event_id = $1)
					FROM queue_entries WHERE event_id = $1`, cfg.EventID).Scan(&waiting, &admitted, &rate)
				perSec := 0.0
				if rate != nil && waiting > 0 {
					perSec = *rate / 60
					if rep.RateSeen[0] == 0 || perSec < rep.RateSeen[0] {
						rep.RateSeen[0] = perSec
					}
					rep.RateSeen[1] = max(rep.RateSeen[1], perSec)
				}
				progress("%6s  waiting %6d  admitted %6d  rate %5.1f/s  held %5d  confirmed %5d  5xx %d", time.Since(start).Round(time.Second),
					waiting, admitted, perSec, atomic.LoadInt64(&stats.Holds), atomic.LoadInt64(&stats.Confirmed), atomic.LoadInt64(&stats.ServerErrors))
				if now := atomic.LoadInt64(&stats.Confirmed); now != sold {
					sold, lastSale = now, time.Now()
				} else if inRoom.Load() == 0 || time.Since(start) > cfg.Lead+cfg.Burst && time.Since(lastSale) > 30*time.Second {
					closeShop()
				}
			}
		}
	}()
	wg.Wait()
	close(done)
	<-stopped
	rep.Duration = time.Since(start)
	if span := time.Duration(lateLast.Load() - lateFirst.Load()); span > 0 {
		rep.JoinsPerSec = float64(joinedLate.Load()) / max(span.Seconds(), cfg.Burst.Seconds())
	}
	rep.Holds, rep.Confirmed = stats.Holds, stats.Confirmed
	rep.ServerErrors, rep.OtherErrors = stats.ServerErrors, stats.OtherErrors
	rep.Steps = map[string]Latency{}
	for step, ds := range rec.steps {
		rep.Steps[step] = summarize(ds)
	}
	rep.CalmSteps = map[string]Latency{}
	for step, ds := range recCalm.steps {
		rep.CalmSteps[step] = summarize(ds)
	}
	if err := rep.fairness(ctx, cfg.Pool, cfg.EventID, open); err != nil {
		return rep, err
	}
	var err error
	rep.Invariant, err = CheckInvariant(ctx, cfg.Pool, cfg.EventID)
	return rep, err
}

// waitTurn waits as the room's page does until the fan is let in; false
// when their turn will not come (the event sold out, or an error).
func (c *client) waitTurn(ctx context.Context, eventID int64, state string, soldOut *atomic.Bool) bool {
	for state == "waiting" && !soldOut.Load() {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/events/%d/queue", c.base, eventID), nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		t0 := time.Now()
		res, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() == nil { // not the sale ending
				atomic.AddInt64(&c.stats.OtherErrors, 1)
			}
			return false
		}
		var place struct {
			State     string
			SeatsLeft int `json:"seats_left"`
		}
		data, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			err = json.Unmarshal(data, &place)
		}
		c.rec.add("place", time.Since(t0))
		if res.StatusCode >= 500 {
			atomic.AddInt64(&c.stats.ServerErrors, 1)
		}
		if err != nil || res.StatusCode != http.StatusOK {
			return false
		}
		if state = place.State; state != "waiting" {
			break
		}
		if place.SeatsLeft == 0 {
			return false // sold out: a fan far back goes home
		}
		wait := 5 * time.Second
		if s, err := time.ParseDuration(res.Header.Get("Retry-After") + "s"); err == nil {
			wait = s
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return false
		}
	}
	return state == "admitted"
}

// fairness reads the room's outcome: the rate admitted at, and the order
// of places against the order of joining.
func (r *QueueReport) fairness(ctx context.Context, pool *pgxpool.Pool, eventID int64, open time.Time) error {
	rows, err := pool.Query(ctx, `SELECT joined_at < $2, arrival, position, admitted_at FROM queue_entries
		WHERE event_id = $1 AND position IS NOT NULL ORDER BY arrival`, eventID, open)
	if err != nil {
		return err
	}
	defer rows.Close()
	var early, late []int64
	var first, last time.Time
	for rows.Next() {
		var before bool
		var arrival, position int64
		var admitted *time.Time
		if err := rows.Scan(&before, &arrival, &position, &admitted); err != nil {
			return err
		}
		if before {
			early = append(early, position)
		} else {
			late = append(late, position)
		}
		if admitted != nil {
			r.Admitted++
			if first.IsZero() || admitted.Before(first) {
				first = *admitted
			}
			if admitted.After(last) {
				last = *admitted
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if span := last.Sub(first).Seconds(); span > 0 {
		r.AdmittedPerS = float64(r.Admitted-1) / span
	}
	r.InversionsAfter = inversions(late)
	if n := len(early); n > 1 {
		r.EarlyInversions = float64(inversions(early)) / float64(n*(n-1)/2)
	}
	return nil
}

// inversions counts pairs out of order, in n log n (merge sort).
func inversions(a []int64) int {
	a = slices.Clone(a)
	tmp := make([]int64, len(a))
	var sort func(lo, hi int) int
	sort = func(lo, hi int) int {
		if hi-lo < 2 {
			return 0
		}
		mid := (lo + hi) / 2
		n := sort(lo, mid) + sort(mid, hi)
		i, j, k := lo, mid, lo
		for i < mid && j < hi {
			if a[i] <= a[j] {
				tmp[k] = a[i]
				i++
			} else {
				tmp[k] = a[j]
				n += mid - i
				j++
			}
			k++
		}
		k += copy(tmp[k:], a[i:mid])
		copy(tmp[k:], a[j:hi])
		copy(a[lo:hi], tmp[lo:hi])
		return n
	}
	return sort(0, len(a))
}

// WriteText prints the report for people.
func (r *QueueReport) WriteText(out io.Writer) error {
	_, err := fmt.Fprintf(out, `
queued on-sale (%s): %d fans, %d seats, %v
joins after the open: %.0f/s
admitted %d at %.1f/s (configured %.1f/s; while fans waited, %.1f–%.1f/s)
fairness: %d inversions among fans who joined after the open; %.2f of early pairs out of join order (0.5 is random)
holds %d, confirmed %d, 5xx %d, other errors %d
`, r.Mode, r.Fans, r.Seats, r.Duration.Round(time.Second), r.JoinsPerSec, r.Admitted, r.AdmittedPerS, r.Rate, r.RateSeen[0], r.RateSeen[1],
		r.InversionsAfter, r.EarlyInversions, r.Holds, r.Confirmed, r.ServerErrors, r.OtherErrors)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n| step | count | p50 | p95 | p99 |\n| --- | --- | --- | --- | --- |\n")
	for _, step := range []string{"join", "place", "event json", "hold", "pay"} {
		if l, ok := r.Steps[step]; ok {
			fmt.Fprintf(out, "| %s | %d | %.1f ms | %.1f ms | %.1f ms |\n", step, l.Count, l.P50, l.P95, l.P99)
		}
		if l, ok := r.CalmSteps[step]; ok {
			fmt.Fprintf(out, "| %s, fans let in 10 s after the last join | %d | %.1f ms | %.1f ms | %.1f ms |\n", step, l.Count, l.P50, l.P95, l.P99)
		}
	}
	if len(r.Invariant) == 0 {
		fmt.Fprintln(out, "\ninvariant: holds")
	} else {
		fmt.Fprintf(out, "\ninvariant BROKEN: %v\n", r.Invariant)
	}
	return nil
}
