package booking

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/payment"
)

// Intents is what booking needs of a processor whose payments the fan's
// browser confirms (Stripe's Payment Element).
type Intents interface {
	CreateIntent(ctx context.Context, r payment.Request) (payment.Intent, error)
	GetIntent(ctx context.Context, id string) (payment.Intent, error)
}

// PaysInBrowser reports whether the processor lets the browser pay.
func (s *Service) PaysInBrowser() bool {
	_, ok := s.payments.(Intents)
	return ok
}

// PrepareCheckout returns the client secret the browser pays pending
// booking id with, creating its PaymentIntent the first time (and only
// then: the key is the booking's) and noting it on the booking, so that
// its outcome can be matched later even if nobody comes back.
func (s *Service) PrepareCheckout(ctx context.Context, userID, id int64) (string, error) {
	intents, ok := s.payments.(Intents)
	if !ok {
		return "", errors.New("the payment processor does not take payments in the browser")
	}
	b, err := s.FindBooking(ctx, userID, id)
	if err != nil {
		return "", err
	}
	if b.Status != StatusPending {
		return "", notPending(b)
	}
	if b.PaymentID != "" {
		in, err := intents.GetIntent(ctx, b.PaymentID)
		if err != nil {
			return "", s.unreachable(err)
		}
		return in.ClientSecret, nil
	}
	in, err := intents.CreateIntent(ctx, payment.Request{
		Reference: strconv.FormatInt(b.ID, 10), Amount: b.Total, Currency: b.Currency,
		IdempotencyKey: fmt.Sprintf("boxoffice-intent-%d", b.ID),
	})
	if err != nil {
		return "", s.unreachable(err)
	}
	_, err = s.pool.Exec(ctx, `UPDATE bookings SET payment_provider = 'stripe', payment_id = $2, updated_at = $3
		WHERE id = $1 AND status = 'pending' AND payment_id IS NULL`, b.ID, in.ID, s.now())
	if err != nil {
		return "", fmt.Errorf("note payment intent of booking %d: %w", b.ID, err)
	}
	return in.ClientSecret, nil
}

// SyncPayment asks the processor how booking id's PaymentIntent stands
// and confirms the booking if its money has arrived: when the fan comes
// back from paying, before the webhook does.
func (s *Service) SyncPayment(ctx context.Context, userID, id int64) (*Booking, error) {
	b, err := s.FindBooking(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	intents, ok := s.payments.(Intents)
	if !ok || b.Status != StatusPending || b.PaymentID == "" {
		return b, nil
	}
	in, err := intents.GetIntent(ctx, b.PaymentID)
	if err != nil {
		return nil, s.unreachable(err)
	}
	if !in.Succeeded() {
		return b, nil
	}
	return s.Confirm(ctx, b.ID, payment.Receipt{Provider: b.PaymentProvider, ID: in.ID})
}

// unreachable is the error for a processor that did not answer; the
// cause goes to the log, not to the fan.
func (s *Service) unreachable(err error) error {
	s.log.Error("payment processor call failed", "err", err)
	return &app.Error{Code: app.EUNAVAILABLE, Message: "We could not reach the payment processor. Your seats are still held; try again in a moment."}
}
