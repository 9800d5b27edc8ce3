// Package payment takes money for bookings: through Stripe when it is
// configured, or through a demo processor that moves no money and accepts
// Stripe's test payment methods, so the whole flow can be tried without an
// account. It is the only package that talks to Stripe.
package payment

import (
	"context"
	"errors"
)

// Request is one charge.
type Request struct {
	Reference      string // our booking, for the processor's records
	Amount         int64  // minor units
	Currency       string // ISO 4217
	Method         string // a payment method id such as pm_card_visa
	IdempotencyKey string // the same key never charges twice
	// Intent is the processor's payment made for the booking beforehand
	// (a Stripe PaymentIntent), to be confirmed with Method; empty makes
	// a new one. The demo processor has none.
	Intent string
}

// Receipt identifies a successful charge with its processor.
type Receipt struct {
	Provider string // "demo" or "stripe"
	ID       string
}

// DeclinedError is a charge the card's bank refused; Message is for the fan.
type DeclinedError struct {
	Code    string
	Message string
}

func (e *DeclinedError) Error() string { return "payment declined: " + e.Message }

// ErrUnknownMethod is a payment method the processor does not know.
var ErrUnknownMethod = errors.New("unknown payment method")

// Processor takes and gives back money.
type Processor interface {
	Charge(ctx context.Context, r Request) (Receipt, error)
	Refund(ctx context.Context, receipt Receipt, idempotencyKey string) error
}
