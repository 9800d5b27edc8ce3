package booking_test

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app/booking"
)

// The monitor finds a double sale that slipped past the booking code (here
// written straight into the database), keeps it in the report /metrics
// shows, and looks only at events whose bookings changed since its last run.
func TestInvariantMonitor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10, 2)
	ctx := context.Background()
	m := booking.NewMonitor(f.pool, f.clock.now, slog.New(slog.NewTextHandler(io.Discard, nil)))

	b, err := f.svc.HoldTickets(ctx, f.fans[0], f.tickets[:2])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.HoldTickets(ctx, f.fans[1], f.tickets[2:3]); err != nil {
		t.Fatal(err)
	}
	r, err := m.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Events != 1 || r.Runs != 1 || len(r.Violations) != len(booking.Checks) {
		t.Fatalf("first run: %+v", r)
	}
	for name, n := range r.Violations {
		if n != 0 {
			t.Errorf("healthy database: %s = %d", name, n)
		}
	}

	// Nothing changes: the next run looks again (a transaction open during
	// the last run may have committed since), the one after checks nothing.
	f.clock.add(5 * time.Minute)
	if r, err := m.Check(ctx); err != nil || r.Events != 1 {
		t.Errorf("the run after a change checked %d events (%v), want 1 again", r.Events, err)
	}
	f.clock.add(5 * time.Minute)
	if r, err := m.Check(ctx); err != nil || r.Events != 0 {
		t.Errorf("a run with nothing changed checked %d events (%v)", r.Events, err)
	}

	// Someone sells the first seat again behind the booking code's back.
	if _, err := f.pool.Exec(ctx, `
		WITH b AS (INSERT INTO bookings (user_id, event_id, status, total, currency, expires_at, confirmed_at, created_at, updated_at)
			VALUES ($1, 1, 'confirmed', 2500, 'GBP', $3, $3, $3, $3) RETURNING id)
		INSERT INTO booking_tickets (booking_id, ticket_id, price) SELECT id, $2, 2500 FROM b`,
		f.fans[1], f.tickets[0], f.clock.now()); err != nil {
		t.Fatal(err)
	}
	r, err = m.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"ticket_in_two_live_bookings": 1, "sold_count_mismatch": 1, "confirmed_booking_missing_seat": 1}
	for _, name := range booking.Checks {
		if r.Violations[name] != want[name] {
			t.Errorf("after a double sale %s = %d, want %d", name, r.Violations[name], want[name])
		}
	}
	// What /metrics shows until the next run says the same.
	if got := m.Report(); got.Runs != 4 || got.Failures != 0 || got.Violations["ticket_in_two_live_bookings"] != 1 {
		t.Errorf("the report after a double sale: %+v", got)
	}
}

// The seats left that search results show (ticket_stock, kept by the
// tickets' triggers) follow every way a ticket changes, and the monitor
// notices when they do not.
func TestStockCountsFollowTickets(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10, 2)
	ctx := context.Background()
	stock := func() map[int64]int {
		t.Helper()
		rows, err := f.pool.Query(ctx, `SELECT price, available FROM ticket_stock WHERE event_id = $1 AND available <> 0`, f.eventID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]int{}
		var price int64
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&price, &n}, func() error { out[price] = n; return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	expect := func(step string, want map[int64]int) {
		t.Helper()
		if got := stock(); !maps.Equal(got, want) {
			t.Errorf("%s: seats left per price %v, want %v", step, got, want)
		}
	}
	expect("on sale", map[int64]int{2500: 10})

	paid, err := f.svc.HoldTickets(ctx, f.fans[0], f.tickets[:2])
	if err != nil {
		t.Fatal(err)
	}
	expect("two held", map[int64]int{2500: 8})
	if _, err := f.svc.PayBooking(ctx, f.fans[0], paid.ID, "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	expect("two sold", map[int64]int{2500: 8})
	cancelled, err := f.svc.HoldTickets(ctx, f.fans[1], f.tickets[2:5])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CancelBooking(ctx, f.fans[1], cancelled.ID); err != nil {
		t.Fatal(err)
	}
	expect("three held and given back", map[int64]int{2500: 8})
	if _, err := f.svc.HoldTickets(ctx, f.fans[1], f.tickets[5:7]); err != nil {
		t.Fatal(err)
	}
	f.clock.add(11 * time.Minute)
	if n, err := f.svc.SweepExpired(ctx); err != nil || n != 1 {
		t.Fatalf("swept %d holds (%v), want 1", n, err)
	}
	expect("two held until the sweeper freed them", map[int64]int{2500: 8})
	// An operator reprices the back row by hand.
	if _, err := f.pool.Exec(ctx, `UPDATE tickets SET price = 1500 WHERE id = ANY ($1) AND status = 'available'`, f.tickets[7:]); err != nil {
		t.Fatal(err)
	}
	expect("three repriced", map[int64]int{2500: 5, 1500: 3})

	m := booking.NewMonitor(f.pool, f.clock.now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if r, err := m.Check(ctx); err != nil || r.Violations["stock_count_mismatch"] != 0 {
		t.Fatalf("healthy counts: %+v (%v)", r, err)
	}
	if _, err := f.pool.Exec(ctx, `UPDATE ticket_stock SET available = available + 1 WHERE event_id = $1 AND price = 1500`, f.eventID); err != nil {
		t.Fatal(err)
	}
	if r, err := m.Check(ctx); err != nil || r.Violations["stock_count_mismatch"] != 1 {
		t.Errorf("a count off by one: %+v (%v)", r, err)
	}
}
