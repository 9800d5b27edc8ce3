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

// intentProvider names the processor whose intents bookings record.
const intentProvider = "stripe"

// PrepareCheckout returns the client secret the browser or an app pays
// booking b with; b must be pending and as just read.
func (s *Service) PrepareCheckout(ctx context.Context, b *Booking) (string, error) {
	intents, ok := s.payments.(Intents)
	if !ok {
		return "", errors.New("the payment processor does not take payments in the browser")
	}
	if b.Status != StatusPending {
		return "", notPending(b)
	}
	in, err := s.intent(ctx, intents, b)
	return in.ClientSecret, err
}

// intent returns pending booking b's PaymentIntent, creating it the first
// time (its idempotency key is the booking's, so there is only ever one,
// whether the browser, an app or our server confirms it) and noting it on
// the booking before anyone can pay it, so that its outcome can be
// matched even if nobody comes back.
func (s *Service) intent(ctx context.Context, intents Intents, b *Booking) (payment.Intent, error) {
	if b.PaymentID != "" {
		in, err := intents.GetIntent(ctx, b.PaymentID)
		if err != nil {
			return payment.Intent{}, s.unreachable(err)
		}
		return in, nil
	}
	in, err := intents.CreateIntent(ctx, payment.Request{
		Reference: strconv.FormatInt(b.ID, 10), Amount: b.Total, Currency: b.Currency,
		IdempotencyKey: fmt.Sprintf("boxoffice-intent-%d", b.ID),
	})
	if err != nil {
		return payment.Intent{}, s.unreachable(err)
	}
	_, err = s.pool.Exec(ctx, `UPDATE bookings SET payment_provider = $4, payment_id = $2, updated_at = $3
		WHERE id = $1 AND status = 'pending' AND payment_id IS NULL`, b.ID, in.ID, s.now(), intentProvider)
	if err != nil {
		return payment.Intent{}, fmt.Errorf("note payment intent of booking %d: %w", b.ID, err)
	}
	return in, nil
}

// Refresh returns booking b as it stands after asking the processor about
// its payment: money that arrived while nobody was listening (the fan paid
// in the browser or an app and did not come back, or our process died or
// lost the answer) confirms it now, without waiting for the webhook. It
// also returns the booking's PaymentIntent, when it has one and is still
// pending. An unreachable processor leaves the booking as it was.
func (s *Service) Refresh(ctx context.Context, b *Booking) (*Booking, payment.Intent, error) {
	intents, ok := s.payments.(Intents)
	if !ok || b.Status != StatusPending || b.PaymentID == "" {
		return b, payment.Intent{}, nil
	}
	in, err := intents.GetIntent(ctx, b.PaymentID)
	if err != nil {
		s.log.Warn("could not ask the payment processor about a booking", "booking", b.ID, "err", err)
		return b, payment.Intent{}, nil
	}
	if !in.Succeeded() {
		return b, in, nil
	}
	confirmed, err := s.Confirm(ctx, b.ID, payment.Receipt{Provider: b.PaymentProvider, ID: in.ID})
	return confirmed, payment.Intent{}, err
}

// unreachable is the error for a processor that did not answer; the
// cause goes to the log, not to the fan.
func (s *Service) unreachable(err error) error {
	s.log.Error("payment processor call failed", "err", err)
	return &app.Error{Code: app.EUNAVAILABLE, Message: "We could not reach the payment processor. Your seats are still held; try again in a moment."}
}
