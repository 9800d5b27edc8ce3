package booking_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is one event of a small venue with seats tickets, and fans.
type fixture struct {
	pool    *pgxpool.Pool
	clock   *clock
	demo    *payment.Demo
	svc     *booking.Service
	eventID int64
	tickets []int64
	fans    []int64
}

func newFixture(t testing.TB, seats, fans int) *fixture {
	t.Helper()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := &fixture{pool: pool, clock: &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}, demo: payment.NewDemo()}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO venues (id, name, address, city, country, timezone, capacity, map_width, map_height)
		VALUES (1, 'Test Hall', '1 Main St', 'Leeds', 'GB', 'Europe/London', $1, 100, 100)`, seats)
	exec(`INSERT INTO sections (id, venue_id, name, position, outline) VALUES (1, 1, 'Stalls', 0, '((0,0),(100,0),(100,100))')`)
	exec(`INSERT INTO seats (section_id, row_label, seat_number, x, y) SELECT 1, 'A', n, n, 10 FROM generate_series(1, $1) n`, seats)
	exec(`INSERT INTO events (id, venue_id, name, type, starts_at, timezone, currency) VALUES (1, 1, 'Test Night', 'concert', $1, 'Europe/London', 'GBP')`,
		f.clock.now().Add(30*24*time.Hour))
	exec(`INSERT INTO tickets (event_id, seat_id, section_id, price, currency) SELECT 1, id, 1, 2500, 'GBP' FROM seats ORDER BY id`)
	exec(`INSERT INTO users (email, name) SELECT 'fan' || n || '@example.com', 'Fan ' || n FROM generate_series(1, $1) n`, fans)
	f.eventID = 1
	f.tickets = dbtest.IDs(t, pool, `SELECT id FROM tickets ORDER BY id`)
	f.fans = dbtest.IDs(t, pool, `SELECT id FROM users ORDER BY id`)
	f.svc = booking.NewService(pool, f.demo, booking.Config{HoldTTL: 10 * time.Minute, MaxTickets: 8}, f.clock.now,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	return f
}

// checkInvariant asserts DESIGN §4 on every event in the database.
func checkInvariant(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	events := dbtest.IDs(t, pool, `SELECT id FROM events`)
	counts, err := booking.CheckInvariant(context.Background(), pool, events)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range booking.Checks {
		if counts[name] != 0 {
			t.Errorf("invariant broken: %s (%d)", name, counts[name])
		}
	}
}

func code(err error) string {
	var e *app.Error
	if errors.As(err, &e) {
		if e.Reason != "" {
			return e.Reason
		}
		return e.Code
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func TestHoldPayConfirm(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10, 2)
	ctx := context.Background()
	b, err := f.svc.HoldTickets(ctx, f.fans[0], []int64{f.tickets[3], f.tickets[2]})
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != booking.StatusPending || b.Total != 5000 || b.Currency != "GBP" || len(b.Tickets) != 2 ||
		!b.ExpiresAt.Equal(f.clock.now().Add(10*time.Minute)) {
		t.Fatalf("held booking %+v", b)
	}
	// The seats are taken for everyone else.
	if _, err := f.svc.HoldTickets(ctx, f.fans[1], []int64{f.tickets[2], f.tickets[5]}); code(err) != "tickets_unavailable" {
		t.Fatalf("holding a held seat: %v", err)
	}
	var e *app.Error
	_, err = f.svc.HoldTickets(ctx, f.fans[1], []int64{f.tickets[5], f.tickets[3], f.tickets[2]})
	if !errors.As(err, &e) || !slices.Equal(e.Detail["ticket_ids"].([]int64), []int64{f.tickets[2], f.tickets[3]}) {
		t.Fatalf("409 names %v, want the two held tickets", e)
	}
	// Nothing changed for the free seat of the failed request.
	if n := dbtest.IDs(t, f.pool, `SELECT id FROM tickets WHERE id = $1 AND status = 'available'`, f.tickets[5]); len(n) != 1 {
		t.Error("a refused hold changed a free ticket")
	}

	if _, err := f.svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_chargeDeclined"); code(err) != "payment_declined" {
		t.Fatalf("declined card: %v", err)
	}
	if b2, _ := f.svc.FindBooking(ctx, f.fans[0], b.ID); b2.Status != booking.StatusPending {
		t.Fatalf("after a decline the booking is %s, want pending with its hold", b2.Status)
	}
	paid, err := f.svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_visa")
	if err != nil {
		t.Fatal(err)
	}
	if paid.Status != booking.StatusConfirmed || paid.ConfirmedAt == nil || paid.PaymentProvider != "demo" {
		t.Fatalf("paid booking %+v", paid)
	}
	for _, tk := range paid.Tickets {
		if tk.Status != "sold" || tk.Section != "Stalls" || tk.Row != "A" || len(paid.Code(tk)) != 11 {
			t.Errorf("ticket %+v (code %q)", tk, paid.Code(tk))
		}
	}
	// Paying again is refused and does not charge twice.
	if _, err := f.svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_visa"); code(err) != "booking_not_pending" {
		t.Errorf("paying a confirmed booking: %v", err)
	}
	if _, err := f.svc.CancelBooking(ctx, f.fans[0], b.ID); code(err) != "booking_not_pending" {
		t.Errorf("cancelling a confirmed booking: %v", err)
	}
	checkInvariant(t, f.pool)
}

func TestHoldRejectsBadRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 12, 1)
	ctx := context.Background()
	for name, req := range map[string][]int64{
		"nothing":        {},
		"too many":       f.tickets[:9],
		"duplicates":     {f.tickets[0], f.tickets[0]},
		"unknown ticket": {f.tickets[0], 999999},
		"negative":       {-5},
	} {
		if _, err := f.svc.HoldTickets(ctx, f.fans[0], req); code(err) != app.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if n := dbtest.Int(t, f.pool, `SELECT count(*) FROM bookings`); n != 0 {
		t.Errorf("%d bookings after refused requests", n)
	}
}

func TestOtherFansBookingIsNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5, 2)
	ctx := context.Background()
	b, err := f.svc.HoldTickets(ctx, f.fans[0], f.tickets[:1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FindBooking(ctx, f.fans[1], b.ID); code(err) != app.ENOTFOUND {
		t.Errorf("another fan reads the booking: %v", err)
	}
	if _, err := f.svc.PayBooking(ctx, f.fans[1], b.ID, "pm_card_visa"); code(err) != app.ENOTFOUND {
		t.Errorf("another fan pays the booking: %v", err)
	}
	if _, err := f.svc.CancelBooking(ctx, f.fans[1], b.ID); code(err) != app.ENOTFOUND {
		t.Errorf("another fan cancels the booking: %v", err)
	}
}

func TestCancelFreesSeats(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5, 2)
	ctx := context.Background()
	b, _ := f.svc.HoldTickets(ctx, f.fans[0], f.tickets[:2])
	c, err := f.svc.CancelBooking(ctx, f.fans[0], b.ID)
	if err != nil || c.Status != booking.StatusCancelled {
		t.Fatalf("cancel: %v %+v", err, c)
	}
	if _, err := f.svc.HoldTickets(ctx, f.fans[1], f.tickets[:2]); err != nil {
		t.Errorf("seats of a cancelled booking are not free: %v", err)
	}
	checkInvariant(t, f.pool)
}

func TestExpiredHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("frees the seats without the sweeper", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, 5, 2)
		b, _ := f.svc.HoldTickets(ctx, f.fans[0], f.tickets[:2])
		f.clock.add(10*time.Minute + time.Second)
		if _, err := f.svc.HoldTickets(ctx, f.fans[1], f.tickets[1:3]); err != nil {
			t.Fatalf("a seat whose hold ran out cannot be held: %v", err)
		}
		// Paying now charges nothing (TestPayingALapsedHoldChargesNothing
		// has the detail) and ends the booking.
		if _, err := f.svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_visa"); code(err) != "booking_not_pending" {
			t.Fatalf("paying a lost hold: %v", err)
		}
		// Its other seat, which nobody took, is free again.
		if got := dbtest.IDs(t, f.pool, `SELECT id FROM tickets WHERE id = $1 AND status = 'available'`, f.tickets[0]); len(got) != 1 {
			t.Error("the lapsed booking's untaken seat is not free")
		}
		checkInvariant(t, f.pool)
	})

	t.Run("the sweeper ends it", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, 5, 1)
		b, _ := f.svc.HoldTickets(ctx, f.fans[0], f.tickets[:2])
		if n, _ := f.svc.SweepExpired(ctx); n != 0 {
			t.Fatalf("swept %d live holds", n)
		}
		f.clock.add(11 * time.Minute)
		if n, err := f.svc.SweepExpired(ctx); n != 1 || err != nil {
			t.Fatalf("swept %d, %v", n, err)
		}
		got, _ := f.svc.FindBooking(ctx, f.fans[0], b.ID)
		if got.Status != booking.StatusExpired || got.Tickets[0].Status != "available" {
			t.Errorf("after the sweep: %+v", got)
		}
		if _, err := f.svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_visa"); code(err) != "booking_not_pending" {
			t.Errorf("paying an expired booking: %v", err)
		}
		checkInvariant(t, f.pool)
	})
}

// TestNoDoubleBooking races many buyers for a few seats and checks the
// database afterwards.
func TestNoDoubleBooking(t *testing.T) {
	t.Parallel()
	const seats, buyers = 50, 200
	f := newFixture(t, seats, buyers)
	ctx := context.Background()
	type outcome struct {
		asked   []int64
		booking *booking.Booking
		err     error
	}
	results := make([]outcome, buyers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range buyers {
		rng := rand.New(rand.NewPCG(uint64(i), 99))
		n := 1 + rng.IntN(4)
		var asked []int64
		for _, j := range rng.Perm(seats)[:n] {
			asked = append(asked, f.tickets[j])
		}
		wg.Go(func() {
			<-start
			b, err := f.svc.HoldTickets(ctx, f.fans[i], asked)
			if err == nil && rng.IntN(2) == 0 {
				b, err = f.svc.PayBooking(ctx, f.fans[i], b.ID, "pm_card_visa")
			}
			results[i] = outcome{asked, b, err}
		})
	}
	close(start)
	wg.Wait()

	won := map[int64]int{}
	held := 0
	for i, r := range results {
		switch code(r.err) {
		case "":
			held++
			if got := r.booking.TicketIDs(); !sameSet(got, r.asked) {
				t.Errorf("buyer %d asked for %v, got %v", i, r.asked, got)
			}
			for _, id := range r.asked {
				won[id]++
			}
		case "tickets_unavailable":
			var e *app.Error
			errors.As(r.err, &e)
			for _, id := range e.Detail["ticket_ids"].([]int64) {
				if !slices.Contains(r.asked, id) {
					t.Errorf("buyer %d was told %d was taken, but did not ask for it", i, id)
				}
			}
		default:
			t.Errorf("buyer %d: %v", i, r.err)
		}
	}
	for id, n := range won {
		if n > 1 {
			t.Errorf("ticket %d went to %d buyers", id, n)
		}
	}
	// Every 409 named only tickets that another buyer really got.
	for i, r := range results {
		var e *app.Error
		if errors.As(r.err, &e) && e.Reason == "tickets_unavailable" {
			for _, id := range e.Detail["ticket_ids"].([]int64) {
				if won[id] == 0 {
					t.Errorf("buyer %d was refused ticket %d, which nobody holds", i, id)
				}
			}
		}
	}
	if held == 0 || held == buyers {
		t.Errorf("%d of %d buyers got seats: the race did not race", held, buyers)
	}
	checkInvariant(t, f.pool)
	t.Logf("%d of %d buyers got seats; %d of %d seats taken", held, buyers, len(won), seats)
}

func sameSet(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// holdToPay holds tickets for the first fan and makes the booking's
// payment (a declined card does); it returns the booking and the receipt
// its payment gives once paid.
func holdToPay(t *testing.T, f *fixture, tickets []int64) (*booking.Booking, payment.Receipt) {
	t.Helper()
	ctx := context.Background()
	b, err := f.svc.HoldTickets(ctx, f.fans[0], tickets)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_chargeDeclined"); code(err) != "payment_declined" {
		t.Fatalf("declined card: %v", err)
	}
	if b, err = f.svc.FindBooking(ctx, f.fans[0], b.ID); err != nil {
		t.Fatal(err)
	}
	return b, payment.Receipt{Provider: b.PaymentProvider, ID: b.PaymentID, Amount: b.Total, Currency: b.Currency}
}

// paymentEvent is a webhook about receipt; a refund is a full one.
func paymentEvent(id, typ string, receipt payment.Receipt) payment.Event {
	ev := payment.Event{ID: id, Type: typ, Payment: receipt}
	if typ == "charge.refunded" {
		ev.Refunded = receipt.Amount
	}
	return ev
}

// state is what a booking and its seats look like, for comparing outcomes.
func state(t *testing.T, f *fixture, id int64) string {
	t.Helper()
	b, err := f.svc.FindBooking(context.Background(), f.fans[0], id)
	if err != nil {
		t.Fatal(err)
	}
	s := b.Status + ":" + b.PaymentID
	for _, tk := range b.Tickets {
		s += ":" + tk.Status
	}
	return s
}

func TestPaymentEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("the same success three times confirms once", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, 5, 1)
		b, paid := holdToPay(t, f, f.tickets[:2])
		for range 3 {
			if err := f.svc.HandlePaymentEvent(ctx, paymentEvent("evt_ok", "payment_intent.succeeded", paid)); err != nil {
				t.Fatal(err)
			}
		}
		if got := state(t, f, b.ID); got != "confirmed:"+paid.ID+":sold:sold" {
			t.Errorf("state %s", got)
		}
		if n := dbtest.Int(t, f.pool, `SELECT count(*) FROM payment_events WHERE event_id = 'evt_ok'`); n != 1 {
			t.Errorf("event recorded %d times", n)
		}
		checkInvariant(t, f.pool)
	})

	t.Run("a failed payment keeps the hold", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, 5, 1)
		b, paid := holdToPay(t, f, f.tickets[:1])
		if err := f.svc.HandlePaymentEvent(ctx, paymentEvent("evt_fail", "payment_intent.payment_failed", paid)); err != nil {
			t.Fatal(err)
		}
		if got := state(t, f, b.ID); got != "pending:"+paid.ID+":reserved" {
			t.Errorf("state %s", got)
		}
	})

	t.Run("success and refund in either order end the same", func(t *testing.T) {
		t.Parallel()
		var finals []string
		for _, order := range [][]string{{"payment_intent.succeeded", "charge.refunded"}, {"charge.refunded", "payment_intent.succeeded"}} {
			f := newFixture(t, 5, 1)
			b, paid := holdToPay(t, f, f.tickets[:2])
			for i, typ := range order {
				for range 2 { // and each delivered twice
					if err := f.svc.HandlePaymentEvent(ctx, paymentEvent(fmt.Sprint("evt_", i), typ, paid)); err != nil {
						t.Fatal(err)
					}
				}
			}
			finals = append(finals, strings.TrimPrefix(state(t, f, b.ID), "refunded:"+paid.ID))
			checkInvariant(t, f.pool)
		}
		if finals[0] != finals[1] || finals[0] != ":available:available" {
			t.Errorf("final states %q", finals)
		}
	})

	t.Run("a payment after the hold was lost is refunded", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, 5, 2)
		b, paid := holdToPay(t, f, f.tickets[:1])
		f.clock.add(11 * time.Minute)
		if _, err := f.svc.HoldTickets(ctx, f.fans[1], f.tickets[:1]); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.HandlePaymentEvent(ctx, paymentEvent("evt_late", "payment_intent.succeeded", paid)); err != nil {
			t.Fatal(err)
		}
		if got := state(t, f, b.ID); got != "refunded:"+paid.ID+":reserved" { // the seat is the other fan's hold now
			t.Errorf("state %s", got)
		}
		if !f.demo.Refunded("boxoffice-refund-" + b.PaymentKey) {
			t.Error("not refunded")
		}
		checkInvariant(t, f.pool)
	})

	t.Run("an event about a payment of no booking changes nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, 5, 1)
		b, paid := holdToPay(t, f, f.tickets[:1])
		stranger := paid
		stranger.ID = "pi_not_ours"
		for _, typ := range []string{"payment_intent.succeeded", "charge.refunded"} {
			if err := f.svc.HandlePaymentEvent(ctx, paymentEvent("evt_"+typ, typ, stranger)); err != nil {
				t.Fatal(err)
			}
		}
		if got := state(t, f, b.ID); got != "pending:"+paid.ID+":reserved" {
			t.Errorf("state %s", got)
		}
	})
}

// browserPayments is a processor whose payments the browser confirms: the
// test says when an intent's money arrives.
type browserPayments struct {
	*payment.Demo
	mu      sync.Mutex
	intents map[string]payment.Intent
	created int
}

func (p *browserPayments) Name() string    { return "stripe" }
func (p *browserPayments) InBrowser() bool { return true }

func (p *browserPayments) CreateIntent(ctx context.Context, r payment.Request) (payment.Intent, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.created++
	in := payment.Intent{Provider: "stripe", ID: "pi_" + r.Reference, ClientSecret: "pi_" + r.Reference + "_secret",
		Status: payment.StatusRequiresPayment, Amount: r.Amount, Currency: r.Currency}
	p.intents[in.ID] = in
	return in, nil
}

func (p *browserPayments) GetIntent(ctx context.Context, id string) (payment.Intent, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.intents[id], nil
}

// CancelIntent cancels an intent nobody paid, as Stripe does, and fails
// for one that was paid.
func (p *browserPayments) CancelIntent(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.intents[id]
	if !ok {
		return nil
	}
	if in.Status == payment.StatusSucceeded {
		return payment.ErrAlreadyPaid
	}
	in.Status = payment.StatusCanceled
	p.intents[id] = in
	return nil
}

func (p *browserPayments) pay(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.intents[id]
	in.Status = payment.StatusSucceeded
	p.intents[id] = in
}

func TestPayingInTheBrowser(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5, 1)
	ctx := context.Background()
	pays := &browserPayments{Demo: f.demo, intents: map[string]payment.Intent{}}
	svc := serviceWith(f, pays)
	b, _ := svc.HoldTickets(ctx, f.fans[0], f.tickets[:2])
	in, err := svc.Checkout(ctx, b)
	if err != nil || in.ClientSecret == "" {
		t.Fatalf("Checkout: %+v, %v", in, err)
	}
	reread, _ := svc.FindBooking(ctx, f.fans[0], b.ID)
	if again, _ := svc.Checkout(ctx, reread); again.ClientSecret != in.ClientSecret || pays.created != 1 {
		t.Errorf("a second checkout made another intent (%d) or secret %q", pays.created, again.ClientSecret)
	}
	// A look before the money came: still pending, with the intent to pay.
	look := func() (*booking.Booking, payment.Intent) {
		t.Helper()
		found, err := svc.FindBooking(ctx, f.fans[0], b.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.CheckPayment(ctx, found, false)
		if err != nil {
			t.Fatal(err)
		}
		in, err := svc.Checkout(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		return got, in
	}
	if got, seen := look(); got.Status != booking.StatusPending || seen.ClientSecret != in.ClientSecret {
		t.Fatalf("a look before paying: %+v, intent %+v", got, seen)
	}
	// The money arrives while nobody listens; a look after the last answer
	// has gone stale confirms.
	pays.pay("pi_" + fmt.Sprint(b.ID))
	f.clock.add(10 * time.Second)
	got, _ := look()
	if got.Status != booking.StatusConfirmed || got.PaymentID != "pi_"+fmt.Sprint(b.ID) {
		t.Fatalf("a look after paying: %+v", got)
	}
	// The webhook arriving afterwards changes nothing.
	paid := payment.Receipt{Provider: "stripe", ID: got.PaymentID, Amount: got.Total, Currency: got.Currency}
	if err := svc.HandlePaymentEvent(ctx, paymentEvent("evt_b", "payment_intent.succeeded", paid)); err != nil {
		t.Fatal(err)
	}
	if s := state(t, f, b.ID); s != "confirmed:"+got.PaymentID+":sold:sold" {
		t.Errorf("state %s", s)
	}
	if f.demo.Refunded("boxoffice-refund-" + b.PaymentKey) {
		t.Error("the webhook after the return refunded the payment")
	}

	// Paying on the server a booking already paid in the browser charges
	// nothing more: the booking has one intent, and it has succeeded.
	f.clock.add(time.Minute)
	second, _ := svc.HoldTickets(ctx, f.fans[0], f.tickets[2:3])
	svc.Checkout(ctx, second)
	pays.pay("pi_" + fmt.Sprint(second.ID))
	confirmed, err := svc.PayBooking(ctx, f.fans[0], second.ID, "pm_card_visa")
	if err != nil || confirmed.Status != booking.StatusConfirmed || confirmed.PaymentID != "pi_"+fmt.Sprint(second.ID) {
		t.Errorf("paying on the server after the browser: %v %+v", err, confirmed)
	}
	checkInvariant(t, f.pool)
}

// TestPaymentFoundPaidWhenItsHoldEnds: the money arrived but nobody heard
// of it (the browser paid and the fan left; or the database went away
// between the charge and the confirmation) and no webhook came. When the
// hold runs out, the sweeper finds the payment made instead of cancelling
// it, and refunds it: nobody pays for seats they do not get.
func TestPaymentFoundPaidWhenItsHoldEnds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5, 1)
	ctx := context.Background()
	pays := &browserPayments{Demo: f.demo, intents: map[string]payment.Intent{}}
	svc := serviceWith(f, pays)
	b, _ := svc.HoldTickets(ctx, f.fans[0], f.tickets[:2])
	if _, err := svc.Checkout(ctx, b); err != nil {
		t.Fatal(err)
	}
	pays.pay("pi_" + fmt.Sprint(b.ID))
	f.clock.add(11 * time.Minute)
	if n, err := svc.SweepExpired(ctx); n != 1 || err != nil {
		t.Fatalf("swept %d, %v", n, err)
	}
	got, err := svc.FindBooking(ctx, f.fans[0], b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != booking.StatusRefunded || !f.demo.Refunded("boxoffice-refund-"+b.PaymentKey) {
		t.Errorf("a paid booking whose hold ran out: %s, refunded at the processor: %v; want refunded", got.Status, f.demo.Refunded("boxoffice-refund-"+b.PaymentKey))
	}
	if free := dbtest.Int(t, f.pool, `SELECT count(*) FROM tickets WHERE id = ANY($1) AND status = 'available'`, f.tickets[:2]); free != 2 {
		t.Errorf("%d of its 2 seats are free again", free)
	}
	checkInvariant(t, f.pool)
}

func TestHoldGivesUpOnAStuckLock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5, 1)
	ctx := context.Background()
	svc := booking.NewService(f.pool, f.demo, booking.Config{HoldTTL: 10 * time.Minute, MaxTickets: 8, LockTimeout: 200 * time.Millisecond},
		f.clock.now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Something else holds the ticket's row lock and does not let go.
	stuck, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stuck.Exec(ctx, `SELECT id FROM tickets WHERE id = $1 FOR UPDATE`, f.tickets[0]); err != nil {
		t.Fatal(err)
	}
	defer stuck.Rollback(ctx)
	// The fan is told to try again while the lock is still held: the
	// hold gave up by itself. Were the lock timeout not applied, the hold
	// would wait until this context ends, and that error is not "try again".
	waitLong, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = svc.HoldTickets(waitLong, f.fans[0], f.tickets[:2])
	if !db.TimedOut(err) || !db.Unavailable(err) {
		t.Errorf("hold behind a stuck lock: %v, want 'busy, try again'", err)
	}
	if err := stuck.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.HoldTickets(ctx, f.fans[0], f.tickets[:2]); err != nil {
		t.Errorf("hold once the lock is gone: %v", err)
	}
	checkInvariant(t, f.pool)
}
