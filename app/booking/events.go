package booking

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app/payment"
)

// HandlePaymentEvent applies a processor's event (a Stripe webhook) to its
// booking. Each event id is applied once; and since every step is
// idempotent, a replay or events out of order end in the same state:
// a payment that succeeded confirms the booking (or is refunded if the
// hold was lost), a refund ends it refunded and puts its seats back on sale.
func (s *Service) HandlePaymentEvent(ctx context.Context, ev payment.Event) error {
	var seen bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payment_events WHERE provider = $1 AND event_id = $2)`,
		ev.Payment.Provider, ev.ID).Scan(&seen); err != nil {
		return fmt.Errorf("payment event %s: %w", ev.ID, err)
	}
	if seen {
		return nil
	}
	id, err := s.bookingOfPayment(ctx, ev)
	if err != nil {
		return err
	}
	switch ev.Type {
	case "payment_intent.succeeded":
		if id != 0 {
			if _, err := s.Confirm(ctx, id, ev.Payment); err != nil {
				return err
			}
		}
	case "charge.refunded":
		if id != 0 {
			if err := s.refunded(ctx, id, ev.Payment); err != nil {
				return err
			}
		}
	case "payment_intent.payment_failed":
		// The booking stays pending with its hold; the fan may try again.
	}
	var booking *int64
	if id != 0 {
		booking = &id
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO payment_events (provider, event_id, type, booking_id, received_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, ev.Payment.Provider, ev.ID, ev.Type, booking, s.now())
	if err != nil {
		return fmt.Errorf("record payment event %s: %w", ev.ID, err)
	}
	return nil
}

// bookingOfPayment finds the booking an event is about: by the reference
// the payment carries, else by the payment id recorded on the booking.
// 0 means none of ours.
func (s *Service) bookingOfPayment(ctx context.Context, ev payment.Event) (int64, error) {
	if id, err := strconv.ParseInt(ev.Reference, 10, 64); err == nil && id > 0 {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM bookings WHERE id = $1)`, id).Scan(&exists); err != nil {
			return 0, err
		}
		if exists {
			return id, nil
		}
	}
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM bookings WHERE payment_provider = $1 AND payment_id = $2`,
		ev.Payment.Provider, ev.Payment.ID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		s.log.Warn("payment event for no known booking", "event", ev.ID, "payment", ev.Payment.ID)
		return 0, nil
	}
	return id, err
}

// refunded ends a booking whose payment was refunded at the processor:
// its seats, held or sold, go back on sale.
func (s *Service) refunded(ctx context.Context, id int64, receipt payment.Receipt) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		var status string
		var paymentID *string
		if err := tx.QueryRow(ctx, `SELECT status, payment_id FROM bookings WHERE id = $1 FOR UPDATE`, id).Scan(&status, &paymentID); err != nil {
			return err
		}
		if status == StatusRefunded || (status == StatusConfirmed && (paymentID == nil || *paymentID != receipt.ID)) {
			return nil // already done, or the refund of a second, duplicate payment
		}
		if _, err := tx.Exec(ctx, `
			WITH mine AS (SELECT id FROM tickets WHERE booking_id = $1 ORDER BY id FOR UPDATE)
			UPDATE tickets t SET status = 'available', booking_id = NULL, reserved_until = NULL
			FROM mine WHERE t.id = mine.id`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE bookings SET status = 'refunded', updated_at = $2,
			payment_provider = $3, payment_id = $4 WHERE id = $1`, id, s.now(), receipt.Provider, receipt.ID)
		return err
	})
}
