package live

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// house makes event 1 with n tickets in two sections (odd seats in 1,
// even in 2) and returns the pool.
func house(t *testing.T, n int) *pgxpool.Pool {
	t.Helper()
	pool := dbtest.New(t)
	exec(t, pool, `INSERT INTO venues (id, name, address, city, country, timezone, capacity, map_width, map_height)
		VALUES (1, 'Test Hall', '1 Main St', 'Leeds', 'GB', 'Europe/London', $1, 100, 100)`, n)
	exec(t, pool, `INSERT INTO sections (id, venue_id, name, position, outline) VALUES
		(1, 1, 'Stalls', 0, '((0,0),(100,0),(100,100))'), (2, 1, 'Circle', 1, '((0,0),(100,0),(100,100))')`)
	exec(t, pool, `INSERT INTO seats (section_id, row_label, seat_number, x, y) SELECT 2 - n % 2, 'A', n, n, 10 FROM generate_series(1, $1) n`, n)
	exec(t, pool, `INSERT INTO events (id, venue_id, name, type, starts_at, timezone, currency)
		VALUES (1, 1, 'Test Night', 'concert', now() + interval '30 days', 'Europe/London', 'GBP')`)
	exec(t, pool, `INSERT INTO tickets (event_id, seat_id, section_id, price, currency) SELECT 1, id, section_id, 2500, 'GBP' FROM seats ORDER BY id`)
	return pool
}

// running returns a feed on pool that listens until the test ends.
func running(t *testing.T, pool *pgxpool.Pool, cfg Config) *Feed {
	t.Helper()
	f := New(pool, cfg, time.Now, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the listener to connect", func() bool { return f.listening.Load() })
	return f
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// statuses reads the model as ticket id → status now.
func statuses(e *Event) map[int64]string {
	out := map[int64]string{}
	now := time.Now().UnixMilli()
	e.Read(func(_ int64, tickets []Ticket) {
		for _, t := range tickets {
			out[t.ID] = t.Status(now)
		}
	})
	return out
}

// truth reads the database as ticket id → status now.
func truth(t *testing.T, pool *pgxpool.Pool) map[int64]string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT id, CASE WHEN status = 'reserved' AND reserved_until <= now() THEN 'available' ELSE status END FROM tickets`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			t.Fatal(err)
		}
		out[id] = s
	}
	return out
}

func same(a, b map[int64]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestFeedFollowsCommittedChangesInOrder(t *testing.T) {
	t.Parallel()
	pool := house(t, 20)
	f := running(t, pool, Config{})
	ctx := context.Background()
	e, err := f.Event(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v := e.Version(); v != 0 {
		t.Fatalf("a fresh event is at version %d, want 0", v)
	}

	// A change that is rolled back is never published.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE tickets SET status = 'sold', booking_id = NULL WHERE false`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE tickets SET status = 'reserved', reserved_until = now() + interval '1 hour' WHERE id <= 5`); err == nil {
		t.Fatal("a hold without a booking passed the schema's checks")
	}
	_ = tx.Rollback(ctx)

	// Fifty changes, one statement each.
	var bookingID int64
	dbtestSetup(t, pool, &bookingID)
	for i := range 50 { // hold a ticket, let it go, hold the next…
		id := int64(i/2%20 + 1)
		if i%2 == 0 {
			exec(t, pool, `UPDATE tickets SET status = 'reserved', booking_id = $2, reserved_until = now() + interval '1 hour' WHERE id = $1`, id, bookingID)
		} else {
			exec(t, pool, `UPDATE tickets SET status = 'available', booking_id = NULL, reserved_until = NULL WHERE id = $1`, id)
		}
	}
	waitFor(t, "version 50", func() bool { return e.Version() == 50 })
	if got, want := statuses(e), truth(t, pool); !same(got, want) {
		t.Fatalf("model after 50 changes:\n%v\ndatabase:\n%v", got, want)
	}
	// Every step is in the history, in order.
	_, changed, ok := e.Since(0, 0)
	if !ok || len(changed) != 20 {
		t.Fatalf("Since(0) = %d tickets, %v; want the 20 that changed", len(changed), ok)
	}
	_, changed, ok = e.Since(49, 0)
	if !ok || len(changed) != 1 || changed[0].ID != 5 {
		t.Fatalf("Since(49) = %v, %v; want ticket 5 alone", changed, ok)
	}
	_, changed, ok = e.Since(49, 2)
	if !ok || len(changed) != 0 {
		t.Fatalf("Since(49) in section 2 = %v, %v; ticket 5 is in section 1", changed, ok)
	}
}

// dbtestSetup makes a user and a pending booking of event 1 for holds
// made by hand.
func dbtestSetup(t *testing.T, pool *pgxpool.Pool, bookingID *int64) {
	t.Helper()
	exec(t, pool, `INSERT INTO users (id, email, name) VALUES (1, 'fan@example.com', 'Fan')`)
	dbtest.QueryRow(t, pool, `INSERT INTO bookings (user_id, event_id, total, currency, expires_at)
		VALUES (1, 1, 0, 'GBP', now() + interval '1 hour') RETURNING id`).Scan(bookingID)
}

func TestFeedSplitsLargeChanges(t *testing.T) {
	t.Parallel()
	pool := house(t, 450)
	f := running(t, pool, Config{})
	e, err := f.Event(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, pool, `UPDATE tickets SET status = 'sold', booking_id = NULL WHERE false`) // no change, no version
	var bookingID int64
	dbtestSetup(t, pool, &bookingID)
	exec(t, pool, `UPDATE tickets SET status = 'reserved', booking_id = $1, reserved_until = now() + interval '1 hour'`, bookingID)
	// 450 tickets: three notifications of at most 200, three versions.
	waitFor(t, "version 3", func() bool { return e.Version() == 3 })
	if got, want := statuses(e), truth(t, pool); !same(got, want) {
		t.Fatalf("model after a 450-ticket change differs from the database")
	}
}

func TestFeedReloadsOnGap(t *testing.T) {
	t.Parallel()
	pool := house(t, 10)
	// Not listening: notifications are handed over by the test.
	f := New(pool, Config{}, time.Now, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	e, err := f.Event(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var bookingID int64
	dbtestSetup(t, pool, &bookingID)
	for _, id := range []int64{1, 2, 3} {
		exec(t, pool, `UPDATE tickets SET status = 'reserved', booking_id = $2, reserved_until = now() + interval '1 hour' WHERE id = $1`, id, bookingID)
	}
	var until int64
	dbtest.QueryRow(t, pool, `SELECT (extract(epoch FROM reserved_until) * 1000)::bigint FROM tickets WHERE id = 1`).Scan(&until)
	// Version 1 arrives, 2 is lost, 3 arrives: the model notices and reloads.
	f.heard(notice{Event: 1, Version: 1, Tickets: []noticeTicket{{ID: 1, Status: 'r', Until: until}}})
	if v := e.Version(); v != 1 {
		t.Fatalf("after version 1: at %d", v)
	}
	f.heard(notice{Event: 1, Version: 3, Tickets: []noticeTicket{{ID: 3, Status: 'r', Until: time.Now().Add(time.Hour).UnixMilli()}}})
	waitFor(t, "the reload", func() bool { return e.Version() == 3 })
	if got, want := statuses(e), truth(t, pool); !same(got, want) {
		t.Fatalf("after the reload the model says %v, the database %v", got, want)
	}
	// A stream that saw version 1 still gets what changed after it.
	_, changed, ok := e.Since(1, 0)
	if !ok || len(changed) != 2 {
		t.Fatalf("Since(1) after a reload = %v, %v; want tickets 2 and 3", changed, ok)
	}
	// An old notification is ignored.
	f.heard(notice{Event: 1, Version: 2, Tickets: []noticeTicket{{ID: 9, Status: 's'}}})
	if statuses(e)[9] != StatusAvailable || e.Version() != 3 {
		t.Fatal("an old notification changed the model")
	}
}

func TestFeedCatchesUpAfterReconnecting(t *testing.T) {
	t.Parallel()
	pool := house(t, 10)
	f := running(t, pool, Config{})
	ctx := context.Background()
	e, err := f.Event(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var bookingID int64
	dbtestSetup(t, pool, &bookingID)
	// Cut the listener off and change tickets while it is away.
	exec(t, pool, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, ListenerName)
	waitFor(t, "the listener to notice", func() bool { return !f.listening.Load() })
	exec(t, pool, `UPDATE tickets SET status = 'reserved', booking_id = $1, reserved_until = now() + interval '1 hour' WHERE id <= 4`, bookingID)
	waitFor(t, "the model to catch up", func() bool { return e.Version() == 1 })
	if got, want := statuses(e), truth(t, pool); !same(got, want) {
		t.Fatalf("after reconnecting the model says %v, the database %v", got, want)
	}
}

func TestQuietModelChecksTheDatabase(t *testing.T) {
	t.Parallel()
	pool := house(t, 10)
	f := New(pool, Config{Quiet: time.Millisecond}, time.Now, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	e, err := f.Event(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var bookingID int64
	dbtestSetup(t, pool, &bookingID)
	exec(t, pool, `UPDATE tickets SET status = 'reserved', booking_id = $1, reserved_until = now() + interval '1 hour' WHERE id = 7`, bookingID)
	time.Sleep(2 * time.Millisecond) // longer than Quiet: the model has heard nothing
	if err := f.check(ctx, false); err != nil {
		t.Fatal(err)
	}
	if statuses(e)[7] != StatusReserved || e.Version() != 1 {
		t.Fatalf("a quiet model did not catch up: version %d", e.Version())
	}
}

func TestExpiredHoldReadsAvailable(t *testing.T) {
	t.Parallel()
	now := time.Now().UnixMilli()
	held := Ticket{status: 'r', until: now + 1000}
	if held.Status(now) != StatusReserved || held.Status(now+1000) != StatusAvailable {
		t.Fatal("a hold does not end at its reserved_until")
	}
	if (Ticket{status: 's'}).Status(now) != StatusSold || (Ticket{status: 'a'}).Status(now) != StatusAvailable {
		t.Fatal("stored states misread")
	}
}

func TestHistoryForgetsTheOldest(t *testing.T) {
	t.Parallel()
	e := newEvent(1)
	tickets := []Ticket{{ID: 1, status: 'a'}, {ID: 2, status: 'a'}}
	e.replace(0, tickets, time.Now())
	for v := int64(1); v <= historyLength+10; v++ {
		status := byte('a')
		if v%2 == 1 {
			status = 's'
		}
		if !e.apply(notice{Event: 1, Version: v, Tickets: []noticeTicket{{ID: 1 + v%2, Status: status}}}, time.Now()) {
			t.Fatalf("version %d not applied", v)
		}
	}
	if _, _, ok := e.Since(5, 0); ok {
		t.Error("a stream 500 versions behind is told it can catch up")
	}
	if _, changed, ok := e.Since(historyLength, 0); !ok || len(changed) != 2 {
		t.Errorf("a stream 10 versions behind: %v, %v", changed, ok)
	}
	if _, _, ok := e.Since(historyLength+11, 0); ok {
		t.Error("a version from the future is accepted")
	}
}

// TestNoticeDuringFirstLoadIsKept: a change committed while a model makes
// its first load (and so perhaps after the load's snapshot) is applied
// once the load is in place.
func TestNoticeDuringFirstLoadIsKept(t *testing.T) {
	t.Parallel()
	e := newEvent(1)
	e.reload = true // as Feed.entry makes it
	if !e.apply(notice{Event: 1, Version: 101, Tickets: []noticeTicket{{ID: 2, Status: 's'}}}, time.Now()) {
		t.Fatal("a notice heard while loading was refused")
	}
	e.replace(100, []Ticket{{ID: 1, status: 'a'}, {ID: 2, status: 'a'}}, time.Now())
	if !e.reloaded() {
		t.Fatal("the next version after the load left a gap")
	}
	if e.Version() != 101 || statuses(e)[2] != StatusSold {
		t.Fatalf("after the load: version %d, ticket 2 %s", e.Version(), statuses(e)[2])
	}
}

// TestResumeWithinAReloadIsRefused: a reload covers several versions in
// one step; a stream that saw a version inside it cannot be told what it
// missed (a seat may have been taken and freed), so it gets a snapshot.
func TestResumeWithinAReloadIsRefused(t *testing.T) {
	t.Parallel()
	e := newEvent(1)
	e.replace(10, []Ticket{{ID: 1, status: 'a'}, {ID: 2, status: 'a'}}, time.Now())
	e.replace(20, []Ticket{{ID: 1, status: 's'}, {ID: 2, status: 'a'}}, time.Now())
	if _, _, ok := e.Since(15, 0); ok {
		t.Error("a stream at version 15 is told it can catch up across a reload from 10 to 20")
	}
	if _, changed, ok := e.Since(10, 0); !ok || len(changed) != 1 || changed[0].ID != 1 {
		t.Errorf("a stream at version 10: %v, %v; want ticket 1", changed, ok)
	}
}

// TestHoldsByTheirEnd checks the held tickets' order that streams read
// expiries from, as holds come, move and go.
func TestHoldsByTheirEnd(t *testing.T) {
	t.Parallel()
	e := newEvent(1)
	e.replace(0, []Ticket{
		{ID: 1, SectionID: 1, status: 'r', until: 3000}, {ID: 2, SectionID: 1, status: 'a'},
		{ID: 3, SectionID: 2, status: 'r', until: 1000}, {ID: 4, SectionID: 2, status: 'a'},
	}, time.Now())
	step := func(v int64, id int64, status byte, until int64) {
		t.Helper()
		if !e.apply(notice{Event: 1, Version: v, Tickets: []noticeTicket{{ID: id, Status: status, Until: until}}}, time.Now()) {
			t.Fatalf("version %d not applied", v)
		}
	}
	ids := func(ts []Ticket) []int64 {
		var out []int64
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}
	if got, next := e.Expiring(0, 0, 2000); len(got) != 1 || got[0].ID != 3 || next != 3000 {
		t.Fatalf("expiring by 2000: %v, next %d", ids(got), next)
	}
	step(1, 2, 'r', 2000) // a new hold
	step(2, 1, 's', 0)    // a hold paid
	step(3, 3, 'a', 0)    // a hold cancelled
	step(4, 4, 'r', 2500) // another new hold
	if got, next := e.Expiring(0, 0, 5000); len(got) != 2 || got[0].ID != 2 || got[1].ID != 4 || next != 0 {
		t.Fatalf("expiring by 5000: %v, next %d; want 2 then 4", ids(got), next)
	}
	if got, next := e.Expiring(2, 0, 2200); len(got) != 0 || next != 2500 {
		t.Fatalf("section 2 by 2200: %v, next %d; want none, next 2500", ids(got), next)
	}
	if _, tickets := e.Snapshot(2); len(tickets) != 2 || tickets[0].ID != 3 || tickets[1].ID != 4 {
		t.Fatalf("section 2's snapshot: %v", ids(tickets))
	}
}
