package search_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/live"
	"github.com/boxoffice/boxoffice/app/search"
	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// BenchmarkSearchMix runs a fixed mix of realistic searches over 100,000
// synthetic events (plus the demo catalogue) from 8 concurrent clients,
// with this package's implementation and with a naive ILIKE one, and
// reports latency percentiles and throughput of each. One iteration is one
// pass of the whole mix.
//
//	go test ./app/search -run '^$' -bench SearchMix -benchtime 10x -timeout 60m
//
// It loads its own catalogue (about three minutes), or uses the database
// at BOXOFFICE_BENCH_DATABASE_URL, loaded with `boxoffice seed --events 100000`.
func BenchmarkSearchMix(b *testing.B) {
	pool := benchPool(b)
	mix := searchMix(b, pool)
	b.Logf("%d queries in the mix, 8 clients", len(mix))

	// No search may read the whole of a large table.
	explain := search.NewService(pool, event.NewService(pool, live.New(pool, live.Config{}, time.Now, slog.New(slog.DiscardHandler)), time.Now), time.Now)
	for _, q := range mix {
		plans, err := explain.Explain(context.Background(), q)
		if err != nil {
			b.Fatal(err)
		}
		for _, plan := range plans {
			for _, table := range []string{"event_search", "events", "event_performers", "tickets"} {
				if readsAll(plan, table) {
					b.Errorf("%s reads all of %s:\n%s", q.Values().Encode(), table, plan)
				}
			}
		}
	}
	// using searches with the service newService returns: a new one per
	// query measures a search with nothing cached.
	using := func(newService func() *search.Service) func(context.Context, search.Query) (int, error) {
		return func(ctx context.Context, q search.Query) (int, error) {
			r, err := newService().Search(ctx, q)
			if err != nil {
				return 0, err
			}
			return r.Total, nil
		}
	}
	// Nothing cached but the catalogue's names, which a process loads once
	// and then refreshes in the background.
	fresh := func() *search.Service {
		return search.NewService(pool, event.NewService(pool, live.New(pool, live.Config{}, time.Now, slog.New(slog.DiscardHandler)), time.Now), time.Now).
			SharingNames(explain)
	}
	shared := fresh()
	impls := []struct {
		name string
		run  func(context.Context, search.Query) (int, error)
		warm bool // one untimed pass first, as a site that has been up a while
	}{
		{"indexed", using(fresh), false},
		{"indexed-cached", using(func() *search.Service { return shared }), true},
		{"naive-ilike", func(ctx context.Context, q search.Query) (int, error) { return naiveSearch(ctx, pool, q, time.Now()) }, false},
	}
	stats := map[string]mixStats{}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			if impl.warm {
				if _, err := runMix(mix, 8, impl.run); err != nil {
					b.Fatal(err)
				}
			}
			var all []time.Duration
			start := time.Now()
			for b.Loop() {
				lat, err := runMix(mix, 8, impl.run)
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, lat...)
			}
			st := summarize(all, time.Since(start))
			stats[impl.name] = st
			b.ReportMetric(st.p50, "p50-ms")
			b.ReportMetric(st.p95, "p95-ms")
			b.ReportMetric(st.p99, "p99-ms")
			b.ReportMetric(st.qps, "queries/s")
		})
	}
	logSlowest(b, mix, fresh)
	in, ca, nv := stats["indexed"], stats["indexed-cached"], stats["naive-ilike"]
	if in.qps > 0 && ca.qps > 0 && nv.qps > 0 {
		row := func(name string, s mixStats) string {
			return fmt.Sprintf("| %s | %.1f ms | %.1f ms | %.1f ms | %.0f |\n", name, s.p50, s.p95, s.p99, s.qps)
		}
		b.Logf("\n| implementation | p50 | p95 | p99 | queries/s |\n| --- | --- | --- | --- | --- |\n%s%s%s"+
			"| naive / indexed, nothing cached | %.1fx | %.1fx | %.1fx | %.1fx |",
			row("indexed, nothing cached", in), row("indexed, warm: facets (30 s) and stock (5 s) cached", ca), row("naive ILIKE", nv),
			nv.p50/in.p50, nv.p95/in.p95, nv.p99/in.p99, in.qps/nv.qps)
	}
}

// logSlowest times each search of the mix alone (the middle of three, with
// nothing cached) and logs the ten slowest: where to look next.
func logSlowest(b *testing.B, mix []search.Query, fresh func() *search.Service) {
	type timed struct {
		query string
		took  time.Duration
		total int
	}
	var all []timed
	for _, q := range mix {
		var runs []time.Duration
		total := 0
		for range 3 {
			t0 := time.Now()
			r, err := fresh().Search(context.Background(), q)
			if err != nil {
				b.Fatal(err)
			}
			runs = append(runs, time.Since(t0))
			total = r.Total
		}
		slices.Sort(runs)
		all = append(all, timed{q.Values().Encode(), runs[1], total})
	}
	slices.SortFunc(all, func(x, y timed) int { return int(y.took - x.took) })
	var lines strings.Builder
	for _, t := range all[:min(10, len(all))] {
		fmt.Fprintf(&lines, "\n%8s %7d matches  %s", t.took.Round(100*time.Microsecond), t.total, t.query)
	}
	b.Logf("slowest searches, one at a time, nothing cached:%s", lines.String())
}

type mixStats struct{ p50, p95, p99, qps float64 }

// readsAll tells whether plan scans the whole of table: a sequential scan
// not cut short by a limit right above it (counting the first matches of a
// broad search reads until it has them, a few pages).
func readsAll(plan, table string) bool {
	lines := strings.Split(plan, "\n")
	for i, line := range lines {
		if strings.Contains(line, "Seq Scan on "+table+" ") && (i == 0 || !strings.Contains(lines[i-1], "Limit")) {
			return true
		}
	}
	return false
}

func summarize(lat []time.Duration, took time.Duration) mixStats {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	return mixStats{pct(0.50), pct(0.95), pct(0.99), float64(len(lat)) / took.Seconds()}
}

// runMix runs every query once from clients concurrent clients and returns
// each one's latency.
func runMix(mix []search.Query, clients int, run func(context.Context, search.Query) (int, error)) ([]time.Duration, error) {
	work := make(chan search.Query)
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for q := range work {
				t0 := time.Now()
				_, err := run(context.Background(), q)
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("%+v: %w", q, err)
				}
				mu.Unlock()
			}
		})
	}
	for _, q := range mix {
		work <- q
	}
	close(work)
	wg.Wait()
	return lat, firstErr
}

func benchPool(b testing.TB) *pgxpool.Pool {
	if url := os.Getenv("BOXOFFICE_BENCH_DATABASE_URL"); url != "" {
		pool, err := db.NewPool(context.Background(), url, 16)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		return pool
	}
	return dbtest.Shared(b, "search-bench", func(ctx context.Context, pool *pgxpool.Pool) error {
		if _, _, err := seed.Demo(ctx, pool, time.Now()); err != nil {
			return err
		}
		t0 := time.Now()
		_, err := seed.Synthetic(ctx, pool, 100_000, time.Now(), nil)
		b.Logf("loaded 100,000 synthetic events in %v", time.Since(t0).Round(time.Second))
		if err == nil {
			_, err = pool.Exec(ctx, "VACUUM ANALYZE")
		}
		return err
	})
}

// searchMix builds the fixed mix from the catalogue's own names: keywords,
// performers, typos, cities, date ranges, types, combinations, deep pages.
func searchMix(b testing.TB, pool *pgxpool.Pool) []search.Query {
	ctx := context.Background()
	pick := func(sql string, n int) []string {
		rows, err := pool.Query(ctx, sql, n)
		if err != nil {
			b.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(out) < n {
			b.Fatalf("%s: %d rows, %v", sql, len(out), err)
		}
		return out
	}
	// Performers with the most events, cities with the most venues.
	performers := pick(`SELECT p.name FROM performers p JOIN event_performers ep ON ep.performer_id = p.id
		WHERE p.kind IN ('band', 'artist') GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT $1`, 12)
	teams := pick(`SELECT p.name FROM performers p JOIN event_performers ep ON ep.performer_id = p.id
		WHERE p.kind = 'team' GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT $1`, 4)
	cities := pick(`SELECT city FROM venues GROUP BY city ORDER BY count(*) DESC, city LIMIT $1`, 10)
	venues := pick(`SELECT name FROM venues ORDER BY id LIMIT $1`, 3)

	day := time.Now().UTC().Truncate(24 * time.Hour)
	q := func(f func(*search.Query)) search.Query {
		s := search.Query{Page: 1, PerPage: 20}
		f(&s)
		return s
	}
	var mix []search.Query
	for _, kw := range []string{"jazz", "indie rock", "comedy", "ice hockey", "tour", "acoustic night", "theatre company",
		"\"album release\"", "blues -live", strings.Fields(performers[0])[len(strings.Fields(performers[0]))-1]} {
		mix = append(mix, q(func(s *search.Query) { s.Text = kw }))
	}
	for _, p := range append(performers[:6], teams[:2]...) {
		mix = append(mix, q(func(s *search.Query) { s.Performer = p }))
	}
	for _, p := range performers[6:10] { // misspelt performers, as keywords and as the filter
		mix = append(mix, q(func(s *search.Query) { s.Text = typo(p) }))
		mix = append(mix, q(func(s *search.Query) { s.Performer = typo(p) }))
	}
	for _, c := range cities[:8] {
		mix = append(mix, q(func(s *search.Query) { s.Location = c }))
	}
	for i, span := range []int{1, 7, 7, 30, 30, 90} {
		from := day.AddDate(0, 0, 10*i+3)
		mix = append(mix, q(func(s *search.Query) { s.From, s.To = from, from.AddDate(0, 0, span) }))
	}
	for _, t := range []string{"concert", "sports", "theater", "comedy", "family"} {
		mix = append(mix, q(func(s *search.Query) { s.Type = t }))
	}
	combos := []func(*search.Query){
		func(s *search.Query) { s.Text, s.Type, s.Location = "live", "concert", cities[0] },
		func(s *search.Query) { s.Performer, s.From, s.To = performers[1], day, day.AddDate(0, 3, 0) },
		func(s *search.Query) {
			s.Type, s.Location, s.From, s.To = "comedy", cities[1], day, day.AddDate(0, 1, 0)
		},
		func(s *search.Query) { s.Text, s.Location = "rock", typo(cities[2]) },
		func(s *search.Query) { s.Type, s.Location = "sports", cities[3] },
		func(s *search.Query) { s.Performer, s.Location = teams[0], cities[4] },
		func(s *search.Query) { s.Location = venues[0] },
		func(s *search.Query) { s.Text, s.From = "theatre", day.AddDate(0, 2, 0) },
	}
	for _, f := range combos {
		mix = append(mix, q(f))
	}
	for _, page := range []int{50, 100, 250} {
		mix = append(mix, q(func(s *search.Query) { s.Page = page }))
	}
	mix = append(mix, q(func(s *search.Query) { s.Type, s.Page = "concert", 150 }))
	mix = append(mix, q(func(s *search.Query) { s.Text, s.Page, s.PerPage = "jazz", 20, 50 }))
	return mix
}

// typo misspells a name the way fans do: one letter doubled or dropped.
func typo(name string) string {
	r := []rune(name)
	i := len(r) / 2
	if len(r)%2 == 0 {
		return string(append(r[:i:i], r[i+1:]...)) // drop one
	}
	return string(append(r[:i+1:i+1], r[i:]...)) // double one
}

// naiveSearch is the obvious implementation, for comparison: every filter
// an ILIKE over names and descriptions, no index that can help, no typo
// tolerance. It computes the same page and facets as the real one and
// returns the total.
func naiveSearch(ctx context.Context, pool *pgxpool.Pool, q search.Query, now time.Time) (int, error) {
	// where builds the conditions (all but skip) into args.
	where := func(args *[]any, skip string) string {
		arg := func(v any) string { *args = append(*args, v); return "$" + strconv.Itoa(len(*args)) }
		like := func(s string) string {
			return arg("%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%")
		}
		conds := []string{"e.status = 'on_sale'"}
		if q.From.IsZero() {
			conds = append(conds, "e.starts_at > "+arg(now))
		} else {
			conds = append(conds, "(e.starts_at AT TIME ZONE e.timezone)::date >= "+arg(q.From))
		}
		if !q.To.IsZero() {
			conds = append(conds, "(e.starts_at AT TIME ZONE e.timezone)::date <= "+arg(q.To))
		}
		for _, w := range strings.Fields(q.Text) {
			if strings.HasPrefix(w, "-") {
				continue
			}
			p := like(strings.Trim(w, `"`))
			conds = append(conds, "(e.name ILIKE "+p+" OR e.description ILIKE "+p+" OR v.name ILIKE "+p+" OR v.city ILIKE "+p+
				" OR EXISTS (SELECT 1 FROM event_performers ep JOIN performers pf ON pf.id = ep.performer_id WHERE ep.event_id = e.id AND pf.name ILIKE "+p+"))")
		}
		if q.Performer != "" {
			conds = append(conds, "EXISTS (SELECT 1 FROM event_performers ep JOIN performers pf ON pf.id = ep.performer_id WHERE ep.event_id = e.id AND pf.name ILIKE "+like(q.Performer)+")")
		}
		if q.Location != "" && skip != "location" {
			p := like(q.Location)
			conds = append(conds, "(v.city ILIKE "+p+" OR v.name ILIKE "+p+")")
		}
		if q.Type != "" && skip != "type" {
			conds = append(conds, "e.type = "+arg(q.Type))
		}
		return strings.Join(conds, " AND ")
	}
	const from = " FROM events e JOIN venues v ON v.id = e.venue_id WHERE "

	var pageArgs []any
	w := where(&pageArgs, "")
	pageArgs = append(pageArgs, now, q.PerPage, q.Offset())
	n := len(pageArgs)
	batch := &pgx.Batch{}
	batch.Queue(`
		SELECT e.id, coalesce(a.min_price, 0), coalesce(a.available, 0)
		FROM events e JOIN venues v ON v.id = e.venue_id
		LEFT JOIN LATERAL (
			SELECT min(t.price) AS min_price, count(*)::int AS available FROM tickets t
			WHERE t.event_id = e.id AND (t.status = 'available' OR (t.status = 'reserved' AND t.reserved_until <= $`+strconv.Itoa(n-2)+`))
		) a ON true
		WHERE `+w+`
		ORDER BY e.starts_at, e.id LIMIT $`+strconv.Itoa(n-1)+` OFFSET $`+strconv.Itoa(n), pageArgs...)
	var typeArgs, cityArgs []any
	batch.Queue(`SELECT e.type, count(*)`+from+where(&typeArgs, "type")+` GROUP BY e.type`, typeArgs...)
	batch.Queue(`SELECT v.city, count(*) AS n`+from+where(&cityArgs, "location")+` GROUP BY v.city ORDER BY n DESC LIMIT 12`, cityArgs...)
	br := pool.SendBatch(ctx, batch)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return 0, err
	}
	rows.Close()
	rows, err = br.Query()
	if err != nil {
		return 0, err
	}
	total := 0
	for rows.Next() {
		var t string
		var c int
		if err := rows.Scan(&t, &c); err != nil {
			return 0, err
		}
		if q.Type == "" || q.Type == t {
			total += c
		}
	}
	rows.Close()
	rows, err = br.Query()
	if err != nil {
		return 0, err
	}
	rows.Close()
	return total, rows.Err()
}
