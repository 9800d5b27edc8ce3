package booking

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/payment"
)

// refundLock is the advisory lock class under which one booking's
// refunds queue: two at once would each ask the processor for their part
// on top of the same total.
const refundLock = "7003"

// Refund gives back amount (minor units; 0: all that is left) of
// confirmed booking id's payment, as an organiser or admin (byUserID; 0
// for Boxoffice itself) asks. A full refund ends the booking and puts its
// seats back on sale at once, on every live map; a part leaves it
// confirmed and its seats sold.
//
// Each refund asks the processor with a key naming the total refunded
// after it, so that asking again after a crash (or twice from two
// screens) refunds nothing twice.
func (s *Service) Refund(ctx context.Context, byUserID, id, amount int64) (*Booking, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("refund booking %d: %w", id, err)
	}
	defer conn.Release()
	key := strconv.FormatInt(id%(1<<31), 10)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+refundLock+`, `+key+`)`); err != nil {
		return nil, fmt.Errorf("refund booking %d: %w", id, err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+refundLock+`, `+key+`)`)

	var l locked
	err = conn.QueryRow(ctx, `SELECT user_id, event_id, status, total, currency, coalesce(payment_provider, ''), coalesce(payment_id, ''), refunded
		FROM bookings WHERE id = $1`, id).Scan(&l.userID, &l.eventID, &l.status, &l.total, &l.currency, &l.provider, &l.payID, &l.refunded)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "There is no booking %d.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("refund booking %d: %w", id, err)
	}
	left := l.total - l.refunded
	switch {
	case l.status == StatusRefunded:
		return nil, &app.Error{Code: app.ECONFLICT, Reason: "already_refunded", Message: fmt.Sprintf("Booking %d was refunded in full already.", id)}
	case l.status != StatusConfirmed || l.payID == "":
		return nil, &app.Error{Code: app.ECONFLICT, Reason: "not_paid", Message: fmt.Sprintf("Booking %d was never paid: there is nothing to refund.", id)}
	case amount == 0:
		amount = left
	case amount < 0 || amount > left:
		return nil, &app.Error{Code: app.EINVALID, Reason: "refund_too_large",
			Message: fmt.Sprintf("Booking %d has %d left to refund (of %d paid): give an amount from 1 to %d, in minor units.", id, left, l.total, left),
			Detail:  map[string]any{"left": left}}
	}
	target := l.refunded + amount
	receipt := payment.Receipt{Provider: l.provider, ID: l.payID, Amount: l.total, Currency: l.currency}
	if err := s.payments.Refund(ctx, receipt, amount, fmt.Sprintf("boxoffice-refund-%d-%d", id, target)); err != nil {
		return nil, s.unreachable(err)
	}
	entry := audit.Entry{UserID: byUserID, Action: "booking.refund", EventID: l.eventID, Subject: fmt.Sprintf("booking %d", id),
		Before: map[string]any{"status": l.status, "refunded": l.refunded}, After: map[string]any{"refunded": target, "amount": amount}}
	if err := s.applyRefund(ctx, id, receipt, target, &entry); err != nil {
		return nil, err
	}
	return s.FindBooking(ctx, l.userID, id)
}

// SettleCancelled ends what is left of a cancelled event's bookings:
// holds end, and every confirmed booking is refunded in full. It is safe
// to run again (a crash half-way, a processor that did not answer): what
// is settled stays settled, and a refund asked twice is made once.
func (s *Service) SettleCancelled(ctx context.Context, eventID int64) (cancelled, refunded int, err error) {
	var status string
	if err := s.pool.QueryRow(ctx, `SELECT status FROM events WHERE id = $1`, eventID).Scan(&status); err != nil || status != "cancelled" {
		return 0, 0, fmt.Errorf("settle event %d: not cancelled (%q): %w", eventID, status, err)
	}
	cancelled, payments, err := s.endPending(ctx, StatusCancelled, s.now(), `
		SELECT id, coalesce(payment_id, '') FROM bookings WHERE event_id = $1 AND status = 'pending' ORDER BY id FOR UPDATE`, eventID)
	if err != nil {
		return 0, 0, fmt.Errorf("settle event %d: %w", eventID, err)
	}
	if cancelled > 0 {
		s.cancelPayments(ctx, payments...)
		s.committed(ctx, eventID)
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM bookings WHERE event_id = $1 AND status = 'confirmed' ORDER BY id`, eventID)
	if err != nil {
		return cancelled, 0, fmt.Errorf("settle event %d: %w", eventID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return cancelled, 0, fmt.Errorf("settle event %d: %w", eventID, err)
	}
	for _, id := range ids {
		_, err := s.Refund(ctx, 0, id, 0)
		switch app.ErrorCode(err) {
		case "":
			refunded++
		case app.ECONFLICT: // refunded meanwhile (a webhook, another process)
		default:
			return cancelled, refunded, err
		}
	}
	return cancelled, refunded, nil
}

// settleCancelledEvents finishes the cancellations a crash or an
// unreachable processor left half done.
func (s *Service) settleCancelledEvents(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `
		SELECT DISTINCT b.event_id FROM bookings b JOIN events e ON e.id = b.event_id
		WHERE e.status = 'cancelled' AND b.status IN ('pending', 'confirmed') LIMIT 20`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	for _, id := range ids {
		cancelled, refunded, err := s.SettleCancelled(ctx, id)
		if cancelled+refunded > 0 {
			s.log.Info("a cancelled event's bookings settled", "event", id, "holds_ended", cancelled, "refunded", refunded)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
