package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Mix is the read traffic fans make: event pages (popular events far more
// often than others), section maps, searches and ticket JSON.
type Mix struct {
	events   []int64 // most popular first
	small    []int64 // events of at most 2,500 seats, whose tickets list whole
	sections [][2]int64
	searches []string
	zipf     func(*rand.Rand) int
}

// HealthzOnly is the mix of the ceiling: every request to /healthz.
var HealthzOnly = &Mix{}

// BuildMix reads the catalogue for realistic targets.
func BuildMix(ctx context.Context, pool *pgxpool.Pool) (*Mix, error) {
	m := &Mix{}
	rows, err := pool.Query(ctx, `SELECT id FROM events WHERE starts_at > now() ORDER BY starts_at, id LIMIT 500`)
	if err != nil {
		return nil, err
	}
	if m.events, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return nil, err
	}
	// A large event's tickets come a section at a time (the sections
	// below); whole lists only for the others.
	rows, err = pool.Query(ctx, `SELECT e.id FROM events e JOIN venues v ON v.id = e.venue_id
		WHERE v.capacity <= 2500 AND e.starts_at > now() ORDER BY e.starts_at, e.id LIMIT 500`)
	if err != nil {
		return nil, err
	}
	if m.small, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `SELECT e.id, s.id FROM events e JOIN venues v ON v.id = e.venue_id JOIN sections s ON s.venue_id = v.id
		WHERE v.capacity > 2500 AND e.starts_at > now() ORDER BY e.starts_at, s.position LIMIT 400`)
	if err != nil {
		return nil, err
	}
	if m.sections, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]int64, error) {
		var p [2]int64
		err := r.Scan(&p[0], &p[1])
		return p, err
	}); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `SELECT name FROM performers ORDER BY id LIMIT 40`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	m.searches = append(names, "rock", "jazz", "comedy", "family", "tour", "London", "chicgo", "theatre")
	if len(m.events) == 0 {
		return nil, fmt.Errorf("no upcoming events to browse")
	}
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 1)), 1.2, 1, uint64(len(m.events)-1))
	var mu sync.Mutex
	m.zipf = func(*rand.Rand) int { mu.Lock(); defer mu.Unlock(); return int(z.Uint64()) }
	return m, nil
}

// next picks a request: its route (for the report) and path.
func (m *Mix) next(rng *rand.Rand) (string, string) {
	if m == HealthzOnly {
		return "healthz", "/healthz"
	}
	switch r := rng.IntN(100); {
	case r < 55:
		return "event page", fmt.Sprintf("/event/%d", m.events[m.zipf(rng)])
	case r < 70 && len(m.sections) > 0:
		s := m.sections[rng.IntN(len(m.sections))]
		return "section map", fmt.Sprintf("/event/%d/sections/%d", s[0], s[1])
	case r < 90:
		return "search", "/search?q=" + url.QueryEscape(m.searches[rng.IntN(len(m.searches))])
	case len(m.sections) > 0 && (len(m.small) == 0 || rng.IntN(2) == 0):
		s := m.sections[rng.IntN(len(m.sections))]
		return "tickets json", fmt.Sprintf("/api/v1/events/%d/tickets?section=%d&status=available", s[0], s[1])
	case len(m.small) > 0:
		return "tickets json", fmt.Sprintf("/api/v1/events/%d/tickets?status=available", m.small[rng.IntN(len(m.small))])
	default:
		return "event page", fmt.Sprintf("/event/%d", m.events[m.zipf(rng)])
	}
}

// BrowseReport is what an open-model read load measured.
type BrowseReport struct {
	Rate     float64                `json:"rate"`     // asked for, requests/s
	Achieved float64                `json:"achieved"` // completed, requests/s
	Duration time.Duration          `json:"duration_ns"`
	Overall  Latency                `json:"overall"`
	Routes   map[string]RouteReport `json:"routes"`
	Errors   int64                  `json:"errors"`
}

// RouteReport is one route's share of a load.
type RouteReport struct {
	Latency
	Errors int64 `json:"errors"`
}

// Browse sends requests of mix to base at a fixed rate for d, whatever
// the answers take (an open model, as vegeta does): each latency counts
// from when the request was due, so a server that falls behind cannot hide
// its queue. Requests still unanswered at the end count as errors.
func Browse(ctx context.Context, base string, mix *Mix, rate float64, d time.Duration) (*BrowseReport, error) {
	httpc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0}}
	rec := &recorder{steps: map[string][]time.Duration{}}
	errs := map[string]*int64{}
	var errMu sync.Mutex
	failed := func(route string) {
		errMu.Lock()
		if errs[route] == nil {
			errs[route] = new(int64)
		}
		*errs[route]++
		errMu.Unlock()
	}
	var done atomic.Int64
	var wg sync.WaitGroup
	// At most this many requests in flight: past it the server is far
	// behind, and a request that cannot even be sent counts as an error
	// rather than as one more open file.
	inflight := make(chan struct{}, 2000)
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	rng := rand.New(rand.NewPCG(uint64(rate), 9))
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Until(due))
		route, path := mix.next(rng)
		select {
		case inflight <- struct{}{}:
		default:
			failed(route)
			continue
		}
		wg.Go(func() {
			defer func() { <-inflight }()
			req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			res, err := httpc.Do(req)
			if err != nil {
				failed(route)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode >= 400 {
				failed(route)
				return
			}
			rec.add(route, time.Since(due))
			done.Add(1)
		})
	}
	wg.Wait()
	took := time.Since(start)
	rep := &BrowseReport{Rate: rate, Duration: took, Achieved: float64(done.Load()) / took.Seconds(), Routes: map[string]RouteReport{}}
	var all []time.Duration
	for route, ds := range rec.steps {
		rr := RouteReport{Latency: summarize(ds)}
		if e := errs[route]; e != nil {
			rr.Errors = *e
		}
		rep.Routes[route] = rr
		all = append(all, ds...)
	}
	for route, e := range errs {
		rep.Errors += *e
		if _, ok := rep.Routes[route]; !ok {
			rep.Routes[route] = RouteReport{Errors: *e}
		}
	}
	rep.Overall = summarize(all)
	return rep, nil
}

// MaxRate searches for the highest rate at which route (or every route,
// when route is "") keeps p99 under limit with no errors, by doubling and
// then halving the gap, with runs of d each. It returns the rate and the
// report of the best run.
func MaxRate(ctx context.Context, base string, mix *Mix, route string, limit, d time.Duration, from float64, progress func(string, ...any)) (float64, *BrowseReport, error) {
	ok := func(r *BrowseReport) bool {
		p99 := r.Overall.P99
		if route != "" {
			p99 = r.Routes[route].P99
		}
		return r.Errors == 0 && p99 < float64(limit.Microseconds())/1000 && r.Achieved > 0.9*r.Rate
	}
	var best *BrowseReport
	lo, hi := 0.0, 0.0
	for rate := from; hi == 0; rate *= 2 {
		r, err := Browse(ctx, base, mix, rate, d)
		if err != nil {
			return 0, nil, err
		}
		progress("  %6.0f req/s: p99 %.1f ms, errors %d", rate, r.Overall.P99, r.Errors)
		if ok(r) {
			lo, best = rate, r
		} else {
			hi = rate
		}
		if rate > 1e6 {
			break
		}
	}
	for i := 0; i < 4 && hi > lo*1.1; i++ {
		mid := math.Round((lo + hi) / 2)
		r, err := Browse(ctx, base, mix, mid, d)
		if err != nil {
			return 0, nil, err
		}
		progress("  %6.0f req/s: p99 %.1f ms, errors %d", mid, r.Overall.P99, r.Errors)
		if ok(r) {
			lo, best = mid, r
		} else {
			hi = mid
		}
	}
	return lo, best, nil
}
