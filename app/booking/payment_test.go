package booking_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// counting is the demo processor, counting the charges that went through.
type counting struct {
	*payment.Demo
	mu      sync.Mutex
	charged int
}

func (c *counting) Charge(ctx context.Context, r payment.Request) (payment.Receipt, error) {
	rec, err := c.Demo.Charge(ctx, r)
	if err == nil {
		c.mu.Lock()
		c.charged++
		c.mu.Unlock()
	}
	return rec, err
}

func (c *counting) charges() int { c.mu.Lock(); defer c.mu.Unlock(); return c.charged }

func serviceWith(f *fixture, p booking.Payments) *booking.Service {
	return booking.NewService(f.pool, p, booking.Config{HoldTTL: 10 * time.Minute, MaxTickets: 8}, f.clock.now,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func intentStatus(t *testing.T, p booking.Payments, id string) string {
	t.Helper()
	if id == "" {
		t.Fatal("the booking has no payment")
	}
	in, err := p.GetIntent(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in.Status
}

// Paying a hold that ran out charges nothing (it used to charge and
// refund), and the booking's payment is cancelled, so that no app can pay
// it either.
func TestPayingALapsedHoldChargesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, taken := range []bool{true, false} {
		name := "seat free again"
		if taken {
			name = "seat taken by another fan"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, 5, 2)
			pays := &counting{Demo: f.demo}
			svc := serviceWith(f, pays)
			b, err := svc.HoldTickets(ctx, f.fans[0], f.tickets[:1])
			if err != nil {
				t.Fatal(err)
			}
			// A declined try makes the booking's payment.
			if _, err := svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_chargeDeclined"); code(err) != "payment_declined" {
				t.Fatalf("declined card: %v", err)
			}
			f.clock.add(11 * time.Minute)
			if taken {
				if _, err := svc.HoldTickets(ctx, f.fans[1], f.tickets[:1]); err != nil {
					t.Fatal(err)
				}
			}
			_, err = svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_visa")
			if code(err) != "booking_not_pending" {
				t.Fatalf("paying a lapsed hold: %v, want booking_not_pending", err)
			}
			if n := pays.charges(); n != 0 {
				t.Errorf("a lapsed hold was charged %d times", n)
			}
			got, err := svc.FindBooking(ctx, f.fans[0], b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != booking.StatusExpired {
				t.Errorf("the lapsed booking is %s, want expired", got.Status)
			}
			if s := intentStatus(t, pays, got.PaymentID); s != payment.StatusCanceled {
				t.Errorf("the lapsed booking's payment is %s, want canceled", s)
			}
			checkInvariant(t, f.pool)
		})
	}
}

// Cancelling a booking, or its hold running out, cancels its payment.
func TestEndedBookingsCancelTheirPayment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, 5, 1)
	svc := serviceWith(f, f.demo)
	var ids []int64
	for _, seat := range f.tickets[:2] {
		b, err := svc.HoldTickets(ctx, f.fans[0], []int64{seat})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_chargeDeclined"); code(err) != "payment_declined" {
			t.Fatalf("declined card: %v", err)
		}
		ids = append(ids, b.ID)
	}
	if _, err := svc.CancelBooking(ctx, f.fans[0], ids[0]); err != nil {
		t.Fatal(err)
	}
	f.clock.add(11 * time.Minute)
	if n, err := svc.SweepExpired(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	for i, id := range ids {
		b, err := svc.FindBooking(ctx, f.fans[0], id)
		if err != nil {
			t.Fatal(err)
		}
		if s := intentStatus(t, f.demo, b.PaymentID); s != payment.StatusCanceled {
			t.Errorf("booking %d (%s): payment %s, want canceled", i, b.Status, s)
		}
		// An app holding the client secret cannot pay it now.
		_, err = f.demo.Charge(ctx, payment.Request{Intent: b.PaymentID, Method: "pm_card_visa", Amount: b.Total, Currency: b.Currency, IdempotencyKey: "app-retry"})
		if !errors.Is(err, payment.ErrCanceled) {
			t.Errorf("paying an ended booking's payment: %v", err)
		}
	}
}

// Only the payment made for a booking, of its total in its currency,
// confirms it.
func TestOnlyTheBookingsOwnPaymentConfirmsIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a payment of the wrong amount or currency, or another payment", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, 5, 1)
		svc := serviceWith(f, f.demo)
		b, err := svc.HoldTickets(ctx, f.fans[0], f.tickets[:2])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_chargeDeclined"); code(err) != "payment_declined" {
			t.Fatal(err)
		}
		b, _ = svc.FindBooking(ctx, f.fans[0], b.ID)
		own := payment.Receipt{Provider: "demo", ID: b.PaymentID, Amount: b.Total, Currency: b.Currency}
		for name, r := range map[string]payment.Receipt{
			"too little":       {Provider: own.Provider, ID: own.ID, Amount: 1, Currency: own.Currency},
			"another currency": {Provider: own.Provider, ID: own.ID, Amount: own.Amount, Currency: "JPY"},
			"another payment":  {Provider: own.Provider, ID: "demo_pi_someone_else", Amount: own.Amount, Currency: own.Currency},
			"another provider": {Provider: "stripe", ID: own.ID, Amount: own.Amount, Currency: own.Currency},
		} {
			if _, err := svc.ConfirmPayment(ctx, b.ID, r); code(err) != "payment_mismatch" {
				t.Errorf("%s: %v, want payment_mismatch", name, err)
			}
			if got := state(t, f, b.ID); got != "pending:"+own.ID+":reserved:reserved" {
				t.Errorf("%s: the booking is %s", name, got)
			}
			// Nor does a webhook about it.
			ev := payment.Event{ID: "evt_" + name, Type: "payment_intent.succeeded", Payment: r}
			if err := svc.HandlePaymentEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
			if got := state(t, f, b.ID); got != "pending:"+own.ID+":reserved:reserved" {
				t.Errorf("%s by webhook: the booking is %s", name, got)
			}
		}
		if _, err := svc.ConfirmPayment(ctx, b.ID, own); err != nil {
			t.Fatalf("its own payment: %v", err)
		}
		if got := state(t, f, b.ID); got != "confirmed:"+own.ID+":sold:sold" {
			t.Errorf("after its own payment the booking is %s", got)
		}
		checkInvariant(t, f.pool)
	})

	// Two databases on one Stripe account (staging and production, or a
	// restore) both have a booking 1: paying one must not pay the other.
	t.Run("another database's booking with the same id", func(t *testing.T) {
		t.Parallel()
		account := &counting{Demo: payment.NewDemo()}
		first, second := newFixture(t, 5, 1), newFixture(t, 5, 1)
		a, b := serviceWith(first, account), serviceWith(second, account)
		paid, err := a.HoldTickets(ctx, first.fans[0], first.tickets[:1])
		if err != nil {
			t.Fatal(err)
		}
		if paid, err = a.PayBooking(ctx, first.fans[0], paid.ID, "pm_card_visa"); err != nil || paid.Status != booking.StatusConfirmed {
			t.Fatalf("paying in the first database: %v", err)
		}
		other, err := b.HoldTickets(ctx, second.fans[0], second.tickets[:1])
		if err != nil {
			t.Fatal(err)
		}
		if other.ID != paid.ID {
			t.Fatalf("the two bookings have ids %d and %d; the test needs them equal", paid.ID, other.ID)
		}
		// A card that declines: if the other database's paid payment came
		// back, this would confirm for free.
		if _, err := b.PayBooking(ctx, second.fans[0], other.ID, "pm_card_chargeDeclined"); code(err) != "payment_declined" {
			t.Errorf("the second database's booking: %v, want payment_declined", err)
		}
		if got := state(t, second, other.ID); got != "pending:"+mustFind(t, b, second, other.ID).PaymentID+":reserved" {
			t.Errorf("the second database's booking is %s", got)
		}
	})
}

func mustFind(t *testing.T, svc *booking.Service, f *fixture, id int64) *booking.Booking {
	t.Helper()
	b, err := svc.FindBooking(context.Background(), f.fans[0], id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A partial refund is noted and the fan keeps their seats; only a full
// refund ends the booking and puts the seats back on sale.
func TestPartialRefundKeepsTheTickets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, 5, 1)
	svc := serviceWith(f, f.demo)
	b, err := svc.HoldTickets(ctx, f.fans[0], f.tickets[:2])
	if err != nil {
		t.Fatal(err)
	}
	if b, err = svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	charge := payment.Receipt{Provider: "demo", ID: b.PaymentID, Amount: b.Total, Currency: b.Currency}
	if err := svc.HandlePaymentEvent(ctx, payment.Event{ID: "evt_part", Type: "charge.refunded", Payment: charge, Refunded: b.Total / 2}); err != nil {
		t.Fatal(err)
	}
	got := mustFind(t, svc, f, b.ID)
	if s := state(t, f, b.ID); s != "confirmed:"+b.PaymentID+":sold:sold" || got.Refunded != b.Total/2 {
		t.Errorf("after a partial refund: %s, refunded %d", s, got.Refunded)
	}
	checkInvariant(t, f.pool)
	if err := svc.HandlePaymentEvent(ctx, payment.Event{ID: "evt_all", Type: "charge.refunded", Payment: charge, Refunded: b.Total}); err != nil {
		t.Fatal(err)
	}
	got = mustFind(t, svc, f, b.ID)
	if s := state(t, f, b.ID); s != "refunded:"+b.PaymentID+":available:available" || got.Refunded != b.Total {
		t.Errorf("after the full refund: %s, refunded %d", s, got.Refunded)
	}
	if n := dbtest.Int(t, f.pool, `SELECT count(*) FROM tickets WHERE booking_id = $1`, b.ID); n != 0 {
		t.Errorf("%d seats still belong to the refunded booking", n)
	}
	checkInvariant(t, f.pool)
}

// cancelling is the demo processor through which the fan cancels their
// booking while its payment is being made.
type cancelling struct {
	counting
	cancel func()
	made   payment.Intent
}

func (c *cancelling) CreateIntent(ctx context.Context, r payment.Request) (payment.Intent, error) {
	in, err := c.Demo.CreateIntent(ctx, r)
	c.made = in
	c.cancel()
	return in, err
}

// A payment made for a booking that ended meanwhile is cancelled, not
// handed out: no booking would ever match the money.
func TestAPaymentForABookingThatEndedIsCancelled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, 5, 1)
	pays := &cancelling{counting: counting{Demo: f.demo}}
	svc := serviceWith(f, pays)
	b, err := svc.HoldTickets(ctx, f.fans[0], f.tickets[:1])
	if err != nil {
		t.Fatal(err)
	}
	pays.cancel = func() {
		if _, err := svc.CancelBooking(ctx, f.fans[0], b.ID); err != nil {
			t.Error(err)
		}
	}
	if _, err := svc.PayBooking(ctx, f.fans[0], b.ID, "pm_card_visa"); code(err) != "booking_not_pending" {
		t.Errorf("paying while the booking is cancelled: %v, want booking_not_pending", err)
	}
	if n := pays.charges(); n != 0 {
		t.Errorf("charged %d times", n)
	}
	if s := intentStatus(t, pays, pays.made.ID); s != payment.StatusCanceled {
		t.Errorf("the payment made for the cancelled booking is %s, want canceled", s)
	}
}

// A payment method is an id: anything else is refused before a payment is
// made or a processor asked.
func TestPaymentMethodMustBeAnID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, 5, 1)
	pays := &counting{Demo: f.demo}
	svc := serviceWith(f, pays)
	b, err := svc.HoldTickets(ctx, f.fans[0], f.tickets[:1])
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"pm_card visa", "pm_" + strings.Repeat("x", 300), "pm_card_visa\n"} {
		if _, err := svc.PayBooking(ctx, f.fans[0], b.ID, m); code(err) != app.EINVALID {
			t.Errorf("payment method %.20q: %v, want invalid", m, err)
		}
	}
	if got := mustFind(t, svc, f, b.ID); got.PaymentID != "" || pays.charges() != 0 {
		t.Errorf("a refused method made a payment (%q) or charged (%d)", got.PaymentID, pays.charges())
	}
}
