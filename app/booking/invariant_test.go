package booking_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

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
