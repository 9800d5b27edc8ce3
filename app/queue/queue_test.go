package queue_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/app/queue"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type room struct {
	pool    *pgxpool.Pool
	clock   *clock
	svc     *queue.Service
	eventID int64
	fans    []int64
	tickets []int64
	open    time.Time
}

// newRoom is an event in queue mode 'always' going on sale in ten
// minutes, with seats seats and fans fans.
func newRoom(t testing.TB, seats, fans int, cfg queue.Config) *room {
	t.Helper()
	pool := dbtest.New(t)
	r := &room{pool: pool, clock: &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}}
	r.open = r.clock.now().Add(10 * time.Minute)
	exec := func(sql string, args ...any) { t.Helper(); dbtest.Exec(t, pool, sql, args...) }
	exec(`INSERT INTO venues (id, name, address, city, country, timezone, capacity, map_width, map_height)
		VALUES (1, 'Hall', '1 Main St', 'Leeds', 'GB', 'Europe/London', $1, 100, 100)`, seats)
	exec(`INSERT INTO sections (id, venue_id, name, position, outline) VALUES (1, 1, 'Stalls', 0, '((0,0),(100,0),(100,100))')`)
	exec(`INSERT INTO seats (section_id, row_label, seat_number, x, y) SELECT 1, 'A', n, n, 10 FROM generate_series(1, $1) n`, seats)
	exec(`INSERT INTO events (id, venue_id, name, type, starts_at, timezone, currency, on_sale_at, queue)
		VALUES (1, 1, 'Big Night', 'concert', $1, 'Europe/London', 'GBP', $2, 'always')`, r.open.Add(30*24*time.Hour), r.open)
	exec(`INSERT INTO tickets (event_id, seat_id, section_id, price, currency) SELECT 1, id, 1, 2500, 'GBP' FROM seats ORDER BY id`)
	exec(`INSERT INTO users (email, name) SELECT 'fan' || n || '@example.com', 'Fan ' || n FROM generate_series(1, $1) n`, fans)
	r.eventID = 1
	r.fans = dbtest.IDs(t, pool, `SELECT id FROM users ORDER BY id`)
	r.tickets = dbtest.IDs(t, pool, `SELECT id FROM tickets ORDER BY id`)
	r.svc = queue.New(pool, cfg, r.clock.now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return r
}

// tick runs one round of the admitter.
func (r *room) tick(t *testing.T) {
	t.Helper()
	conn, err := r.pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if err := r.svc.Tick(context.Background(), conn.Conn()); err != nil {
		t.Fatal(err)
	}
}

func (r *room) join(t *testing.T, fan int64) *queue.Place {
	t.Helper()
	p, err := r.svc.Join(context.Background(), r.eventID, fan)
	if err != nil {
		t.Fatalf("fan %d joins: %v", fan, err)
	}
	return p
}

func (r *room) place(t *testing.T, fan int64) *queue.Place {
	t.Helper()
	p, err := r.svc.Place(context.Background(), r.eventID, fan)
	if err != nil {
		t.Fatalf("fan %d's place: %v", fan, err)
	}
	return p
}

// inversions counts the pairs out of order in positions, taken in join order.
func inversions(positions []int64) int {
	n := 0
	for i := range positions {
		for j := i + 1; j < len(positions); j++ {
			if positions[i] > positions[j] {
				n++
			}
		}
	}
	return n
}

// Everyone who joins before the open gets a place in a random order at
// the open; later fans queue in order of arrival; joining again keeps
// one's place.
func TestPlacesAreDrawnAtTheOpenThenFirstComeFirstServed(t *testing.T) {
	t.Parallel()
	r := newRoom(t, 10, 300, queue.Config{Rate: 60})
	early, late := r.fans[:200], r.fans[200:]
	r.clock.add(-5 * time.Minute) // 15 minutes before the sale: the room opens 30 before
	for _, f := range early {
		if p := r.join(t, f); p.State != queue.StateWaiting || p.Position != 0 {
			t.Fatalf("before the open fan %d is %+v, want waiting without a place", f, p)
		}
	}
	r.tick(t) // before the open: nobody is placed or admitted
	if p := r.place(t, early[0]); p.Position != 0 || p.Ahead != 199 {
		t.Errorf("before the open: %+v, want no place and 199 others", p)
	}
	r.clock.add(16 * time.Minute) // a minute after the open
	r.tick(t)
	var drawn []int64
	seen := map[int64]bool{}
	for _, f := range early {
		p := r.place(t, f)
		if p.Position < 1 || p.Position > 200 || seen[p.Position] {
			t.Fatalf("fan %d drew place %d: %+v", f, p.Position, p)
		}
		seen[p.Position] = true
		drawn = append(drawn, p.Position)
	}
	// A random order has about n(n-1)/4 pairs out of join order (9,950 of
	// 19,900 here, standard deviation about 470); join order has none.
	if inv := inversions(drawn); inv < 7000 || inv > 13000 {
		t.Errorf("%d inversions against join order among 200 early fans: not a random draw", inv)
	}
	for _, f := range late {
		r.join(t, f)
	}
	if p := r.join(t, early[0]); p.Position != drawn[0] {
		t.Errorf("joining again moved fan %d from %d to %d", early[0], drawn[0], p.Position)
	}
	r.tick(t)
	var after []int64
	for _, f := range late {
		after = append(after, r.place(t, f).Position)
	}
	if inv := inversions(after); inv != 0 || after[0] != 201 || after[len(after)-1] != 300 {
		t.Errorf("after the open places follow arrival: first %d, last %d, %d inversions", after[0], after[len(after)-1], inv)
	}
}

// Fans are let in at the rate, in order, and only they may hold seats; a
// window that ends or a purchase lets the next in when the shoppers are
// at the cap.
func TestAdmissionAtTheRate(t *testing.T) {
	t.Parallel()
	r := newRoom(t, 20, 12, queue.Config{Rate: 60, Window: 5 * time.Minute, Shoppers: 4})
	bookings := booking.NewService(r.pool, payment.NewDemo(), booking.Config{HoldTTL: 2 * time.Minute, MaxTickets: 8}, r.clock.now,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.clock.add(10 * time.Minute) // the open
	for _, f := range r.fans {
		r.join(t, f)
	}
	r.tick(t) // places
	_, err := bookings.HoldTickets(context.Background(), r.fans[0], r.tickets[:1])
	if reason(err) != "queue_required" {
		t.Fatalf("holding before admission: %v, want queue_required", err)
	}
	r.clock.add(2 * time.Second) // one fan a second
	r.tick(t)
	admitted := func() (n int) {
		for _, f := range r.fans {
			if r.place(t, f).State == queue.StateAdmitted {
				n++
			}
		}
		return n
	}
	if n := admitted(); n != 2 {
		t.Fatalf("%d admitted two seconds after the open at one a second", n)
	}
	first := r.place(t, r.fans[0])
	if first.State != queue.StateAdmitted || first.AdmittedUntil == nil || !first.AdmittedUntil.Equal(r.clock.now().Add(5*time.Minute)) {
		t.Fatalf("first fan: %+v", first)
	}
	b, err := bookings.HoldTickets(context.Background(), r.fans[0], r.tickets[:2])
	if err != nil {
		t.Fatalf("an admitted fan holds: %v", err)
	}
	r.clock.add(10 * time.Second)
	r.tick(t)
	if n := admitted(); n != 4 {
		t.Fatalf("%d admitted, want the cap of 4 shoppers", n)
	}
	// The first fan buys: the next comes in.
	if _, err := bookings.PayBooking(context.Background(), r.fans[0], b.ID, "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	if p := r.place(t, r.fans[0]); p.State != queue.StateExpired {
		t.Errorf("after buying the first fan is %s", p.State)
	}
	r.tick(t)
	if p := r.place(t, r.fans[4]); p.State != queue.StateAdmitted {
		t.Errorf("after a purchase the fifth fan is %s, want admitted", p.State)
	}
	// The windows of the others end: as many come in.
	r.clock.add(6 * time.Minute)
	if p := r.place(t, r.fans[1]); p.State != queue.StateExpired {
		t.Errorf("after its window the second fan is %s", p.State)
	}
	if _, err := bookings.HoldTickets(context.Background(), r.fans[1], r.tickets[5:6]); reason(err) != "queue_required" {
		t.Errorf("holding after the window ended: %v, want queue_required", err)
	}
	r.tick(t)
	if n := admitted(); n != 4 {
		t.Errorf("%d shopping after the windows ended, want 4 new ones", n)
	}
	if p := r.place(t, r.fans[8]); p.State != queue.StateAdmitted {
		t.Errorf("the ninth fan is %s", p.State)
	}
}

// Two admitters at once (two processes, or one that lost its lock) admit
// each place once.
func TestTwoAdmittersAdmitOnce(t *testing.T) {
	t.Parallel()
	r := newRoom(t, 10, 100, queue.Config{Rate: 600})
	r.clock.add(10 * time.Minute)
	for _, f := range r.fans {
		r.join(t, f)
	}
	r.tick(t)
	r.clock.add(5 * time.Second) // 50 due
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range 10 {
				r.tick(t)
			}
		})
	}
	wg.Wait()
	var n int
	dbtest.QueryRow(t, r.pool, `SELECT count(*) FROM queue_entries WHERE admitted_at IS NOT NULL`).Scan(&n)
	if n < 49 || n > 51 {
		t.Errorf("%d admitted by two admitters, want the 50 due", n)
	}
}

// Only one process admits; when it stops, another takes over.
func TestAnotherProcessTakesOverAdmitting(t *testing.T) {
	t.Parallel()
	r := newRoom(t, 10, 5, queue.Config{Rate: 6000, Tick: 20 * time.Millisecond})
	r.clock.add(10 * time.Minute)
	other := queue.New(r.pool, r.svc.Config(), r.clock.now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx1, stop1 := context.WithCancel(context.Background())
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	var wg sync.WaitGroup
	wg.Go(func() { r.svc.Run(ctx1) })
	wg.Go(func() { other.Run(ctx2) })
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			r.clock.add(100 * time.Millisecond)
		}
	}
	var leaders int
	waitFor("an admitter", func() bool {
		dbtest.QueryRow(t, r.pool, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7002 AND granted`).Scan(&leaders)
		return leaders == 1
	})
	r.join(t, r.fans[0])
	waitFor("the first fan's admission", func() bool { return r.place(t, r.fans[0]).State == queue.StateAdmitted })
	stop1() // one process stops (or dies): the other admits
	r.join(t, r.fans[1])
	waitFor("the second fan's admission", func() bool { return r.place(t, r.fans[1]).State == queue.StateAdmitted })
	stop2()
	wg.Wait()
}

// A fan may have at most MaxTickets tickets of an event, held or bought,
// across bookings; two holds at once cannot pass it together.
func TestTicketLimitAcrossBookings(t *testing.T) {
	t.Parallel()
	r := newRoom(t, 40, 2, queue.Config{})
	if _, err := r.pool.Exec(context.Background(), `UPDATE events SET queue = 'off', on_sale_at = NULL`); err != nil {
		t.Fatal(err)
	}
	bookings := booking.NewService(r.pool, payment.NewDemo(), booking.Config{HoldTTL: 10 * time.Minute, MaxTickets: 8}, r.clock.now,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	fan := r.fans[0]
	b, err := bookings.HoldTickets(ctx, fan, r.tickets[:5])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bookings.PayBooking(ctx, fan, b.ID, "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	if _, err := bookings.HoldTickets(ctx, fan, r.tickets[5:9]); reason(err) != "ticket_limit" {
		t.Fatalf("5 bought and 4 more: %v, want ticket_limit", err)
	}
	var e *app.Error
	if _, err := bookings.HoldTickets(ctx, fan, r.tickets[5:9]); errors.As(err, &e) && e.Detail["remaining"] != 3 {
		t.Errorf("the refusal says %v remain, want 3", e.Detail["remaining"])
	}
	if _, err := bookings.HoldTickets(ctx, fan, r.tickets[5:8]); err != nil {
		t.Fatalf("5 bought and 3 more: %v", err)
	}
	// Another fan, two tabs at once, 5 seats each: one hold, one refusal.
	other := r.fans[1]
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { _, errs[i] = bookings.HoldTickets(ctx, other, r.tickets[10+i*10:15+i*10]) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || reason(errors.Join(errs...)) != "ticket_limit" {
		t.Errorf("two tabs holding 5 each at once: %v, %v; want one hold and one ticket_limit", errs[0], errs[1])
	}
	var held int
	dbtest.QueryRow(t, r.pool, `SELECT count(*) FROM tickets t JOIN bookings b ON b.id = t.booking_id WHERE b.user_id = $1`, other).Scan(&held)
	if held != 5 {
		t.Errorf("the fan holds %d tickets, want 5", held)
	}
}

// Joining a room outside its hours, or of an event without one, says why.
func TestJoiningOutsideTheRoom(t *testing.T) {
	t.Parallel()
	r := newRoom(t, 10, 1, queue.Config{OpensBefore: 5 * time.Minute})
	if _, err := r.svc.Join(context.Background(), r.eventID, r.fans[0]); reason(err) != "queue_not_open" {
		t.Errorf("ten minutes before a room that opens five before: %v", err)
	}
	if _, err := r.svc.Place(context.Background(), r.eventID, r.fans[0]); reason(err) != "not_in_queue" {
		t.Errorf("the place of a fan who never joined: %v", err)
	}
	if _, err := r.pool.Exec(context.Background(), `UPDATE events SET queue = 'off'`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Join(context.Background(), r.eventID, r.fans[0]); reason(err) != "no_queue" {
		t.Errorf("joining an event without a room: %v", err)
	}
	if _, err := r.svc.Join(context.Background(), 999, r.fans[0]); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("joining a missing event: %v", err)
	}
}

func reason(err error) string {
	var e *app.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return fmt.Sprint(err)
}

// A room in 'auto' lets everyone in while the hold path keeps inside its
// budget; when holds grow slow it engages and admits fewer fans each
// second they stay slow, and more again once they are fast.
func TestAutoRoomFollowsTheHoldPath(t *testing.T) {
	t.Parallel()
	r := newRoom(t, 10, 200, queue.Config{Rate: 600, Budget: 100 * time.Millisecond})
	dbtest.Exec(t, r.pool, `UPDATE events SET queue = 'auto', on_sale_at = NULL`)
	report := func(holds int, p99 time.Duration) {
		t.Helper()
		dbtest.Exec(t, r.pool, `INSERT INTO queue_load (instance, seen_at, holds, p99_ms) VALUES ('a', $1, $2, $3)
			ON CONFLICT (instance) DO UPDATE SET seen_at = EXCLUDED.seen_at, holds = EXCLUDED.holds, p99_ms = EXCLUDED.p99_ms`,
			r.clock.now(), holds, float64(p99)/float64(time.Millisecond))
	}
	admitted := func() (n int) {
		dbtest.QueryRow(t, r.pool, `SELECT count(*) FROM queue_entries WHERE admitted_at IS NOT NULL`).Scan(&n)
		return n
	}
	rate := func() (perMinute float64) {
		dbtest.QueryRow(t, r.pool, `SELECT rate FROM queue_state`).Scan(&perMinute)
		return perMinute
	}

	// Fast holds: the room is off, and whoever comes is let in at once.
	report(200, 20*time.Millisecond)
	for _, f := range r.fans[:20] {
		r.join(t, f)
	}
	r.tick(t)
	if n := admitted(); n != 20 {
		t.Fatalf("%d of 20 let in while holds are fast, want all", n)
	}

	// Slow holds (p99 300 ms), and a crowd: the room engages and slows
	// down by a fifth each second.
	report(200, 300*time.Millisecond)
	for _, f := range r.fans[20:] {
		r.join(t, f)
	}
	r.tick(t)
	before := admitted()
	for range 5 {
		r.clock.add(time.Second)
		report(200, 300*time.Millisecond)
		r.tick(t)
	}
	// The first round, fast with fans waiting, raised the rate to 660 a
	// minute; then 528, 422, 338, 270, 216: about 30 fans in 5 s, where
	// 600 a minute would have let in 50.
	if n := admitted() - before; n < 25 || n > 35 {
		t.Errorf("%d let in over 5 slow seconds, want about 30 (the rate falling by a fifth a second)", n)
	}
	if got := rate(); got > 230 || got < 200 {
		t.Errorf("rate after 5 slow seconds: %.0f/min, want about 216", got)
	}
	if p := r.place(t, r.fans[len(r.fans)-1]); p.State != queue.StateWaiting || p.EstimatedWait < time.Duration(float64(p.Ahead)/230*60)*time.Second {
		t.Errorf("the last fan: %+v; want a wait at the slower rate", p)
	}

	// A report with too few holds is no percentile: it does not slow the room.
	r.clock.add(time.Second)
	report(3, 900*time.Millisecond)
	r.tick(t)
	if got := rate(); got < 200 {
		t.Errorf("3 slow holds cut the rate to %.0f/min", got)
	}

	// Fast again: the rate climbs by a tenth of the configured one a second.
	for range 10 {
		r.clock.add(time.Second)
		report(200, 20*time.Millisecond)
		r.tick(t)
	}
	if got := rate(); got < 700 {
		t.Errorf("rate after 10 fast seconds: %.0f/min, want back above 600", got)
	}
}

// The meter's p99 is the slowest hundredth of the last seconds' holds.
func TestMeterTakesTheRecentP99(t *testing.T) {
	var m queue.Meter
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range 1000 {
		d := 5 * time.Millisecond
		if i%50 == 0 {
			d = 400 * time.Millisecond // 20 slow holds in 1,000
		}
		m.Observe(at.Add(time.Duration(i)*time.Millisecond), d)
	}
	holds, p99 := m.Summary(at.Add(2 * time.Second))
	if holds != 1000 || p99 < 400*time.Millisecond || p99 > 480*time.Millisecond {
		t.Errorf("1,000 holds, 2%% at 400 ms: summary %d, p99 %v", holds, p99)
	}
	if holds, _ := m.Summary(at.Add(10 * time.Second)); holds != 0 {
		t.Errorf("10 s later the meter still counts %d holds", holds)
	}
	for range 995 {
		m.Observe(at.Add(20*time.Second), 5*time.Millisecond)
	}
	for range 5 {
		m.Observe(at.Add(20*time.Second), 400*time.Millisecond)
	}
	if _, p99 := m.Summary(at.Add(20 * time.Second)); p99 > 6*time.Millisecond {
		t.Errorf("0.5%% slow holds: p99 %v, want the fast ones' 5 ms bucket", p99)
	}
}

// A crowd that joined an 'auto' room before the open is more than a
// minute's worth: the room engages at the open and lets them in at the
// rate, not all at once.
func TestAutoRoomEngagesForTheCrowdAtTheOpen(t *testing.T) {
	t.Parallel()
	r := newRoom(t, 10, 100, queue.Config{Rate: 60})
	dbtest.Exec(t, r.pool, `UPDATE events SET queue = 'auto'`)
	for _, f := range r.fans {
		r.join(t, f)
	}
	r.clock.add(10 * time.Minute) // the open
	r.tick(t)
	r.clock.add(2 * time.Second)
	r.tick(t)
	if n := dbtest.Int(t, r.pool, `SELECT count(*) FROM queue_entries WHERE admitted_at IS NOT NULL`); n != 2 {
		t.Errorf("%d of 100 let in two seconds after the open at 60 a minute, want 2", n)
	}
}

// Joins at once are written together: each fan gets one place however
// many tabs join at the same instant, and a join refused in the same
// batch (an event without a room) is told why without failing the rest.
func TestJoinsAtOnce(t *testing.T) {
	t.Parallel()
	r := newRoom(t, 10, 300, queue.Config{})
	r.clock.add(10 * time.Minute) // the open: places follow arrival
	dbtest.Exec(t, r.pool, `INSERT INTO events (id, venue_id, name, type, starts_at, timezone, currency)
		VALUES (2, 1, 'Quiet Night', 'concert', $1, 'Europe/London', 'GBP')`, r.open.Add(24*time.Hour))
	var wg sync.WaitGroup
	errs := make(chan error, 3*len(r.fans))
	for _, f := range r.fans {
		for range 2 { // two tabs
			wg.Go(func() {
				if _, err := r.svc.Join(context.Background(), r.eventID, f); err != nil {
					errs <- fmt.Errorf("fan %d joins: %w", f, err)
				}
			})
		}
		wg.Go(func() {
			if _, err := r.svc.Join(context.Background(), 2, f); reason(err) != "no_queue" {
				errs <- fmt.Errorf("fan %d joins an event without a room: %v, want no_queue", f, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := dbtest.Int(t, r.pool, `SELECT count(DISTINCT user_id) FROM queue_entries WHERE event_id = 1`); n != 300 {
		t.Errorf("%d fans in the room after 300 joined twice each, want 300", n)
	}
	if n := dbtest.Int(t, r.pool, `SELECT count(*) FROM queue_entries WHERE event_id = 2`); n != 0 {
		t.Errorf("%d fans in a room that does not exist", n)
	}
	r.tick(t)
	if n := dbtest.Int(t, r.pool, `SELECT count(DISTINCT position) FROM queue_entries WHERE event_id = 1`); n != 300 {
		t.Errorf("%d distinct places for 300 fans", n)
	}
}
