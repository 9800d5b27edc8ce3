package booking_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// bought is a confirmed booking of n seats from the fixture's ticket i.
func (f *fixture) bought(t *testing.T, fan int64, i, n int) *booking.Booking {
	t.Helper()
	b, err := f.svc.HoldTickets(context.Background(), fan, f.tickets[i:i+n])
	if err != nil {
		t.Fatal(err)
	}
	if b, err = f.svc.PayBooking(context.Background(), fan, b.ID, "pm_card_visa"); err != nil || b.Status != booking.StatusConfirmed {
		t.Fatalf("pay: %v %v", b, err)
	}
	return b
}

// A part refund gives money back and keeps the seats sold; the rest ends
// the booking and puts its seats back on sale; asking for too much, or
// after the end, changes nothing.
func TestRefundInPartsThenInFull(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10, 1)
	ctx := context.Background()
	b := f.bought(t, f.fans[0], 0, 2) // 2 × 25.00
	if _, err := f.svc.Refund(ctx, 0, b.ID, 6000, nil); code(err) != "refund_too_large" {
		t.Errorf("refunding 60.00 of 50.00: %v", err)
	}
	got, err := f.svc.Refund(ctx, 0, b.ID, 1000, nil)
	if err != nil || got.Status != booking.StatusConfirmed || got.Refunded != 1000 {
		t.Fatalf("a part refund: %+v, %v", got, err)
	}
	if n := dbtest.Int(t, f.pool, `SELECT count(*) FROM tickets WHERE status = 'sold'`); n != 2 {
		t.Errorf("%d seats sold after a part refund, want 2", n)
	}
	got, err = f.svc.Refund(ctx, 0, b.ID, 0, nil) // the rest
	if err != nil || got.Status != booking.StatusRefunded || got.Refunded != 5000 {
		t.Fatalf("refund the rest: %+v, %v", got, err)
	}
	if n := dbtest.Int(t, f.pool, `SELECT count(*) FROM tickets WHERE status = 'available'`); n != 10 {
		t.Errorf("%d seats on sale after a full refund, want 10", n)
	}
	if _, err := f.svc.Refund(ctx, 0, b.ID, 0, nil); code(err) != "already_refunded" {
		t.Errorf("refunding a refunded booking: %v", err)
	}
	if paid := f.demo.RefundedOf(b.PaymentID); paid != 5000 {
		t.Errorf("the processor gave back %d, want 5000", paid)
	}
	checkInvariant(t, f.pool)
}

// The same refund asked four times at once (a double click, two
// screens), each with the refunded total its page showed, is made once.
func TestRefundTwiceAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10, 1)
	b := f.bought(t, f.fans[0], 0, 2)
	var wg sync.WaitGroup
	seen := int64(0)
	for range 4 {
		wg.Go(func() { f.svc.Refund(context.Background(), 0, b.ID, 2000, &seen) })
	}
	wg.Wait()
	var refunded int64
	dbtest.QueryRow(t, f.pool, `SELECT refunded FROM bookings WHERE id = $1`, b.ID).Scan(&refunded)
	if paid := f.demo.RefundedOf(b.PaymentID); paid != 2000 || refunded != 2000 {
		t.Errorf("four clicks refunding 20.00 of 50.00: the processor gave back %d, the booking says %d; want 2000 both", paid, refunded)
	}
}

// A refund the processor made but Boxoffice did not record (it stopped
// in between) is finished by the next attempt, with the same key: the
// money goes back once, and the next attempt is told to look again.
func TestRefundAfterACrash(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10, 1)
	ctx := context.Background()
	b := f.bought(t, f.fans[0], 0, 2)
	// What the first attempt did before it stopped: written down, asked.
	dbtest.Exec(t, f.pool, `UPDATE bookings SET refund_pending = 3000 WHERE id = $1`, b.ID)
	receipt := payment.Receipt{Provider: b.PaymentProvider, ID: b.PaymentID, Amount: b.Total, Currency: b.Currency}
	if err := f.demo.Refund(ctx, receipt, 3000, fmt.Sprintf("boxoffice-refund-%d-3000", b.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Refund(ctx, 0, b.ID, 500, nil); code(err) != "refund_changed" {
		t.Errorf("the next attempt: %v, want refund_changed once the earlier refund is finished", err)
	}
	var refunded int64
	var pending *int64
	dbtest.QueryRow(t, f.pool, `SELECT refunded, refund_pending FROM bookings WHERE id = $1`, b.ID).Scan(&refunded, &pending)
	if paid := f.demo.RefundedOf(b.PaymentID); paid != 3000 || refunded != 3000 || pending != nil {
		t.Errorf("after finishing the earlier refund: processor %d, booking %d, pending %v; want 3000, 3000, none", paid, refunded, pending)
	}
	got, err := f.svc.Refund(ctx, 0, b.ID, 500, &refunded)
	if err != nil || got.Refunded != 3500 || f.demo.RefundedOf(b.PaymentID) != 3500 {
		t.Errorf("then 5.00 more: %+v %v", got, err)
	}
}

// failingRefunds is the demo processor whose refunds fail after the first
// few, as when it goes down half way through a cancellation.
type failingRefunds struct {
	*payment.Demo
	left atomic.Int32
}

func (p *failingRefunds) Refund(ctx context.Context, r payment.Receipt, amount int64, key string) error {
	if p.left.Add(-1) < 0 {
		return errors.New("processor unreachable")
	}
	return p.Demo.Refund(ctx, r, amount, key)
}

// Settling a cancelled event ends its holds and refunds every booking in
// full; stopped half way, it goes on where it stopped, and nothing is
// refunded twice.
func TestSettleCancelledResumes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10, 4)
	ctx := context.Background()
	var paid []*booking.Booking
	for i, fan := range f.fans[:3] {
		paid = append(paid, f.bought(t, fan, 2*i, 2))
	}
	if _, err := f.svc.HoldTickets(ctx, f.fans[3], f.tickets[8:9]); err != nil {
		t.Fatal(err)
	}
	dbtest.Exec(t, f.pool, `UPDATE events SET status = 'cancelled'`)
	flaky := &failingRefunds{Demo: f.demo}
	flaky.left.Store(1)
	halfway := booking.NewService(f.pool, flaky, booking.Config{HoldTTL: 10 * time.Minute, MaxTickets: 8}, f.clock.now,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ended, refunded, err := halfway.SettleCancelled(ctx, f.eventID)
	if err == nil || ended != 1 || refunded != 1 {
		t.Fatalf("with the processor failing after one refund: %d holds ended, %d refunded, %v", ended, refunded, err)
	}
	for range 2 { // the sweeper's next rounds, in a process that restarted
		if _, _, err := f.svc.SettleCancelled(ctx, f.eventID); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range paid {
		if got := f.demo.RefundedOf(b.PaymentID); got != b.Total {
			t.Errorf("booking %d: refunded %d of %d", b.ID, got, b.Total)
		}
	}
	if n := dbtest.Int(t, f.pool, `SELECT count(*) FROM bookings WHERE status NOT IN ('refunded', 'cancelled')`); n != 0 {
		t.Errorf("%d bookings still live on a cancelled event", n)
	}
	checkInvariant(t, f.pool)
}

// A fan whose address takes no mail still pays and is refunded: the
// message is left out, not the change.
func TestAnAddressWithoutMailDoesNotStopAPayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 4, 1)
	dbtest.Exec(t, f.pool, `UPDATE users SET email = 'no mail@example' WHERE id = $1`, f.fans[0])
	b := f.bought(t, f.fans[0], 0, 1)
	if _, err := f.svc.Refund(context.Background(), 0, b.ID, 0, nil); err != nil {
		t.Fatalf("refund: %v", err)
	}
	if n := dbtest.Int(t, f.pool, `SELECT count(*) FROM outbox`); n != 0 {
		t.Errorf("%d messages written to an address that takes none", n)
	}
}
