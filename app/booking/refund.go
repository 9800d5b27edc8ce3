package booking

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/payment"
)

// Refund gives back amount (minor units; 0: all that is left) of
// confirmed booking id's payment, as an organiser or admin (byUserID; 0
// for Boxoffice itself) asks. A full refund ends the booking and puts its
// seats back on sale at once, on every live map; a part leaves it
// confirmed and its seats sold.
//
// seen, when given, is the refunded total the asker saw: if the booking
// has been refunded more since (a second click, another screen), nothing
// is done and the answer says so. The refund is written down (the total
// it will make) before the processor is asked, with a key naming that
// total: if Boxoffice stops before the answer is recorded, the next
// attempt on the booking finishes that refund, never a second one.
func (s *Service) Refund(ctx context.Context, byUserID, id, amount int64, seen *int64) (*Booking, error) {
	var l locked
	var target int64
	var resumed bool
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var err error
		if l, err = lock(ctx, tx, id); err != nil {
			return err
		}
		var pending *int64
		if err := tx.QueryRow(ctx, `SELECT refund_pending FROM bookings WHERE id = $1`, id).Scan(&pending); err != nil {
			return err
		}
		if pending != nil { // an earlier refund was asked and not recorded: finish it first
			target, resumed = *pending, true
			return nil
		}
		left := l.total - l.refunded
		switch {
		case l.status == StatusRefunded:
			return &app.Error{Code: app.ECONFLICT, Reason: "already_refunded", Message: fmt.Sprintf("Booking %d was refunded in full already.", id)}
		case l.status != StatusConfirmed || l.payID == "":
			return &app.Error{Code: app.ECONFLICT, Reason: "not_paid", Message: fmt.Sprintf("Booking %d was never paid: there is nothing to refund.", id)}
		case seen != nil && *seen != l.refunded:
			return &app.Error{Code: app.ECONFLICT, Reason: "refund_changed",
				Message: fmt.Sprintf("Booking %d has been refunded %d (minor units) since you looked: look again before refunding more.", id, l.refunded),
				Detail:  map[string]any{"refunded": l.refunded}}
		case amount == 0:
			amount = left
		case amount < 0 || amount > left:
			return &app.Error{Code: app.EINVALID, Reason: "refund_too_large",
				Message: fmt.Sprintf("Booking %d has %d left to refund (of %d paid): give an amount from 1 to %d, in minor units.", id, left, l.total, left),
				Detail:  map[string]any{"left": left}}
		}
		target = l.refunded + amount
		_, err = tx.Exec(ctx, `UPDATE bookings SET refund_pending = $2 WHERE id = $1`, id, target)
		return err
	})
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			err = fmt.Errorf("refund booking %d: %w", id, err)
		}
		return nil, err
	}
	receipt := payment.Receipt{Provider: l.provider, ID: l.payID, Amount: l.total, Currency: l.currency}
	if err := s.payments.Refund(ctx, receipt, target-l.refunded, fmt.Sprintf("boxoffice-refund-%d-%d", id, target)); err != nil {
		s.log.Error("refund not taken by the payment processor", "booking", id, "err", err)
		return nil, &app.Error{Code: app.EUNAVAILABLE, Reason: "refund_not_made",
			Message: "The payment processor did not make the refund. Try again in a moment: the same refund is asked again, never a second one."}
	}
	entry := audit.Entry{UserID: byUserID, Action: "booking.refund", EventID: l.eventID, Subject: fmt.Sprintf("booking %d", id),
		Before: map[string]any{"status": l.status, "refunded": l.refunded}, After: map[string]any{"refunded": target, "amount": target - l.refunded}}
	if err := s.applyRefund(ctx, id, receipt, target, &entry); err != nil {
		return nil, err
	}
	if resumed {
		return nil, &app.Error{Code: app.ECONFLICT, Reason: "refund_changed",
			Message: fmt.Sprintf("An earlier refund of booking %d had not finished; it is done now (%d refunded in all). Look again before refunding more.", id, target),
			Detail:  map[string]any{"refunded": target}}
	}
	return s.FindBooking(ctx, l.userID, id)
}

// SettleCancelled ends what is left of a cancelled event's bookings:
// holds end, and every confirmed booking is refunded in full. It is safe
// to run again (a crash half-way, a processor that did not answer): what
// is settled stays settled, and a refund asked twice is made once.
func (s *Service) SettleCancelled(ctx context.Context, eventID int64) (cancelled, refunded int, failed error) {
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
		// A booking that will not refund (the processor refuses, or is
		// down) does not hold up the others; the sweeper tries it again.
		_, err := s.Refund(ctx, 0, id, 0, nil)
		switch app.ErrorCode(err) {
		case "":
			refunded++
		case app.ECONFLICT: // refunded meanwhile (a webhook, another process), or an earlier refund finished
		default:
			failed = errors.Join(failed, fmt.Errorf("booking %d: %w", id, err))
		}
	}
	return cancelled, refunded, failed
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
	var failed error
	for _, id := range ids {
		cancelled, refunded, err := s.SettleCancelled(ctx, id)
		if cancelled+refunded > 0 {
			s.log.Info("a cancelled event's bookings settled", "event", id, "holds_ended", cancelled, "refunded", refunded)
		}
		failed = errors.Join(failed, err) // one event's trouble does not stop the others
	}
	return failed
}
