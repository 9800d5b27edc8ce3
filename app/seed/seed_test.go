package seed_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var seedDay = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

// seedDemo seeds a fresh database of t's own.
func seedDemo(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := dbtest.New(t)
	if err := demo(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// sharedDemo is a seeded database that tests which only read share.
func sharedDemo(t *testing.T) *pgxpool.Pool {
	return dbtest.Shared(t, "demo", demo)
}

func demo(ctx context.Context, pool *pgxpool.Pool) error {
	_, seeded, err := seed.Demo(ctx, pool, seedDay)
	if err == nil && !seeded {
		err = errors.New("Demo on an empty database did not seed")
	}
	return err
}

// count runs a query returning one number.
func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestDemoCatalogue(t *testing.T) {
	t.Parallel()
	pool := sharedDemo(t)

	checks := []struct {
		name string
		sql  string
		min  int
	}{
		{"venues", `SELECT count(*) FROM venues`, 10},
		{"cities", `SELECT count(DISTINCT city) FROM venues`, 10},
		{"countries", `SELECT count(DISTINCT country) FROM venues`, 5},
		{"events", `SELECT count(*) FROM events`, 80},
		{"event types", `SELECT count(DISTINCT type) FROM events`, 5},
		{"performers with a bio", `SELECT count(*) FROM performers WHERE bio <> ''`, 20},
		{"teams", `SELECT count(*) FROM performers WHERE kind = 'team'`, 6},
		{"a club of about 300 seats", `SELECT count(*) FROM venues WHERE capacity BETWEEN 200 AND 400`, 1},
		{"a stadium of 40,000+", `SELECT count(*) FROM venues WHERE capacity >= 40000`, 1},
		{"an arena", `SELECT count(*) FROM venues WHERE capacity BETWEEN 8000 AND 25000`, 1},
		{"a 2,000-seat hall with orchestra, mezzanine and balcony", `
			SELECT count(*) FROM venues v WHERE capacity BETWEEN 1800 AND 2400
			AND (SELECT count(DISTINCT level) FROM sections s WHERE s.venue_id = v.id
			     AND level IN ('Orchestra', 'Mezzanine', 'Balcony')) = 3`, 1},
		{"a West End theatre with stalls, dress circle and upper circle", `
			SELECT count(*) FROM venues v WHERE city = 'London' AND (SELECT count(DISTINCT level) FROM sections s
			WHERE s.venue_id = v.id AND level IN ('Stalls', 'Dress Circle', 'Upper Circle')) = 3`, 1},
		{"an on-sale to come, with a waiting room and nothing sold", `
			SELECT count(*) FROM events e WHERE queue = 'always' AND on_sale_at IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.event_id = e.id AND t.status <> 'available')`, 1},
		{"seats already sold", `SELECT count(*) FROM tickets WHERE status = 'sold'`, 1000},
		{"events with a mix of sold and available seats", `
			SELECT count(*) FROM (SELECT event_id FROM tickets GROUP BY event_id
			HAVING count(*) FILTER (WHERE status = 'sold') > 0 AND count(*) FILTER (WHERE status = 'available') > 0) x`, 60},
		{"sold-out events", `
			SELECT count(*) FROM (SELECT event_id FROM tickets GROUP BY event_id
			HAVING count(*) FILTER (WHERE status = 'available') = 0) x`, 1},
	}
	for _, c := range checks {
		if got := count(t, pool, c.sql); got < c.min {
			t.Errorf("%s: %d, want at least %d", c.name, got, c.min)
		}
	}
}

func TestDemoInvariants(t *testing.T) {
	t.Parallel()
	pool := sharedDemo(t)

	violations := []struct {
		name string
		sql  string
	}{
		{"a seat of an event's venue without a ticket", `
			SELECT count(*) FROM events e
			JOIN sections s ON s.venue_id = e.venue_id
			JOIN seats st ON st.section_id = s.id
			LEFT JOIN tickets t ON t.event_id = e.id AND t.seat_id = st.id
			WHERE t.id IS NULL`},
		{"a ticket for a seat of another venue", `
			SELECT count(*) FROM tickets t
			JOIN events e ON e.id = t.event_id
			JOIN sections s ON s.id = t.section_id
			WHERE s.venue_id <> e.venue_id`},
		{"a price that is not positive", `SELECT count(*) FROM tickets WHERE price <= 0`},
		{"a ticket in another currency than its event", `
			SELECT count(*) FROM tickets t JOIN events e ON e.id = t.event_id WHERE t.currency <> e.currency`},
		{"an event not in the next six months", `
			SELECT count(*) FROM events WHERE starts_at <= $1 OR starts_at > $1 + interval '190 days'`},
		{"an event whose time zone is not its venue's", `
			SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id WHERE e.timezone <> v.timezone`},
		{"a sold ticket whose booking is not a confirmed one of the same event", `
			SELECT count(*) FROM tickets t LEFT JOIN bookings b ON b.id = t.booking_id
			WHERE t.status = 'sold' AND (b.id IS NULL OR b.status <> 'confirmed' OR b.event_id <> t.event_id)`},
		{"a booking whose total is not the sum of its tickets", `
			SELECT count(*) FROM bookings b
			WHERE b.total <> (SELECT coalesce(sum(price), 0) FROM tickets t WHERE t.booking_id = b.id)`},
		{"a sold ticket missing from its booking's record", `
			SELECT count(*) FROM tickets t WHERE t.status = 'sold'
			AND NOT EXISTS (SELECT 1 FROM booking_tickets bt WHERE bt.booking_id = t.booking_id AND bt.ticket_id = t.id)`},
		{"a booking without tickets", `
			SELECT count(*) FROM bookings b WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.booking_id = b.id)`},
		{"a venue whose capacity is not its seat count", `
			SELECT count(*) FROM venues v
			WHERE capacity <> (SELECT count(*) FROM seats st JOIN sections s ON s.id = st.section_id WHERE s.venue_id = v.id)`},
		{"an event without a performer", `
			SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_performers p WHERE p.event_id = e.id)`},
	}
	for _, v := range violations {
		var args []any
		if strings.Contains(v.sql, "$1") {
			args = append(args, seedDay)
		}
		if n := count(t, pool, v.sql, args...); n != 0 {
			t.Errorf("%s: %d rows", v.name, n)
		}
	}

}

func TestDemoSeedsOnlyAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	pool := seedDemo(t)

	// The identities continue after the seeded ids.
	if _, err := pool.Exec(context.Background(),
		`INSERT INTO venues (name, address, city, country, timezone, capacity, map_width, map_height)
		 VALUES ('New Venue', '1 Main St', 'Springfield', 'US', 'America/Chicago', 0, 100, 100)`); err != nil {
		t.Fatalf("insert after seed: %v", err)
	}
	before := count(t, pool, `SELECT count(*) FROM events`)
	_, seeded, err := seed.Demo(context.Background(), pool, seedDay)
	if err != nil {
		t.Fatal(err)
	}
	if seeded {
		t.Error("Demo seeded a database that has a catalogue")
	}
	if after := count(t, pool, `SELECT count(*) FROM events`); after != before {
		t.Errorf("events: %d before, %d after a second Demo", before, after)
	}
}

// fingerprint summarises the catalogue so two seeds can be compared.
const fingerprint = `
	SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
		SELECT concat_ws(',', id, name, city, capacity) AS x FROM venues
		UNION ALL SELECT concat_ws(',', id, name, type, starts_at, currency) FROM events
		UNION ALL SELECT concat_ws(',', event_id, status, count(*), sum(price)) FROM tickets GROUP BY event_id, status
	) rows`

func TestDemoIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := sharedDemo(t), seedDemo(t)
	var fa, fb string
	if err := a.QueryRow(context.Background(), fingerprint).Scan(&fa); err != nil {
		t.Fatal(err)
	}
	if err := b.QueryRow(context.Background(), fingerprint).Scan(&fb); err != nil {
		t.Fatal(err)
	}
	if fa != fb {
		t.Errorf("two seeds on the same day differ: %s vs %s", fa, fb)
	}
}

func TestSynthetic(t *testing.T) {
	t.Parallel()
	pool := seedDemo(t)
	ctx := context.Background()
	before := count(t, pool, `SELECT count(*) FROM events`)

	var reports []seed.Progress
	stats, err := seed.Synthetic(ctx, pool, 2500, seedDay, func(p seed.Progress) { reports = append(reports, p) })
	if err != nil {
		t.Fatal(err)
	}
	if stats.Events != 2500 {
		t.Errorf("Synthetic reports %d events, want 2500", stats.Events)
	}
	if got := count(t, pool, `SELECT count(*) FROM events`) - before; got != 2500 {
		t.Errorf("%d events added, want 2500", got)
	}
	if len(reports) < 2 || reports[len(reports)-1].Events != 2500 {
		t.Errorf("progress reports %+v, want one per batch ending at 2500", reports)
	}

	// A second load adds more, with fresh names, next to the first.
	if _, err := seed.Synthetic(ctx, pool, 100, seedDay, nil); err != nil {
		t.Fatalf("second synthetic load: %v", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM events`) - before; n != 2600 {
		t.Errorf("%d events after two loads, want 2600", n)
	}
	for _, v := range []struct{ name, sql string }{
		{"a seat of an event's venue without a ticket", `
			SELECT count(*) FROM events e
			JOIN sections s ON s.venue_id = e.venue_id
			JOIN seats st ON st.section_id = s.id
			LEFT JOIN tickets t ON t.event_id = e.id AND t.seat_id = st.id
			WHERE t.id IS NULL`},
		{"an event in the past", `SELECT count(*) FROM events WHERE starts_at <= $1`},
		{"a sports event without two teams", `
			SELECT count(*) FROM events e WHERE type = 'sports'
			AND (SELECT count(*) FROM event_performers p WHERE p.event_id = e.id AND role IN ('home', 'away')) <> 2`},
	} {
		var args []any
		if strings.Contains(v.sql, "$1") {
			args = append(args, seedDay)
		}
		if n := count(t, pool, v.sql, args...); n != 0 {
			t.Errorf("%s: %d", v.name, n)
		}
	}
	if n := count(t, pool, `SELECT count(DISTINCT type) FROM events`); n != 5 {
		t.Errorf("synthetic events cover %d types, want 5", n)
	}
}

// A bulk load leaves the planner's statistics behind: without them, right
// after a first start, PostgreSQL guessed its way to plans that made the
// first on-sale twelve times slower than one a few minutes later.
func TestBulkLoadsLeavePlannerStatistics(t *testing.T) {
	t.Parallel()
	pool := sharedDemo(t)
	for _, table := range []string{"tickets", "bookings", "booking_tickets", "seats", "events", "event_search"} {
		if n := count(t, pool, `SELECT count(*) FROM pg_stats WHERE schemaname = 'public' AND tablename = $1`, table); n == 0 {
			t.Errorf("no planner statistics for %s after seeding the demo catalogue", table)
		}
	}
	fresh := dbtest.New(t)
	id, err := seed.OnsaleEvent(context.Background(), fresh, 600, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, fresh, `SELECT count(*) FROM pg_stats WHERE schemaname = 'public' AND tablename = 'tickets'`); n == 0 {
		t.Errorf("no planner statistics for the tickets of on-sale event %d", id)
	}
}
