// Package payment takes money for bookings: through Stripe when it is
// configured, or through a demo processor that moves no money and accepts
// Stripe's test payment methods, so the whole flow can be tried without an
// account. It is the only package that talks to Stripe.
package payment

import (
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

// Receipt identifies a successful charge with its processor, and says
// how much it took, so that a booking is confirmed only by a payment of
// its own total.
type Receipt struct {
	Provider string // "demo" or "stripe"
	ID       string
	Amount   int64  // minor units
	Currency string // ISO 4217, upper case
}

// DeclinedError is a charge the card's bank refused; Message is for the fan.
type DeclinedError struct {
	Code    string
	Message string
}

func (e *DeclinedError) Error() string { return "payment declined: " + e.Message }

// ErrUnknownMethod is a payment method the processor does not know.
var ErrUnknownMethod = errors.New("unknown payment method")

// ErrCanceled is a payment that was cancelled (its booking ended) and can
// no longer be paid; ErrAlreadyPaid one that was paid and so cannot be
// cancelled.
var (
	ErrCanceled    = errors.New("the payment was cancelled")
	ErrAlreadyPaid = errors.New("the payment has been made")
)

// Intent is the one payment made for a booking before it is paid (a
// Stripe PaymentIntent): the browser, an app or the server pays it, and
// paying it twice charges once.
type Intent struct {
	Provider string
	ID       string
	// ClientSecret lets the fan's browser or app pay it (Stripe's Payment
	// Element); empty for processors paid only through Boxoffice.
	ClientSecret string
	Status       string // StatusSucceeded, StatusRequiresPayment, StatusCanceled, processing, …
	Amount       int64
	Currency     string // upper case
}

// Intent statuses, as Stripe names them.
const (
	StatusSucceeded       = "succeeded"
	StatusRequiresPayment = "requires_payment_method"
	StatusCanceled        = "canceled"
)

// Succeeded reports whether the intent's money has arrived.
func (i Intent) Succeeded() bool { return i.Status == StatusSucceeded }

// Receipt is the receipt of a succeeded intent.
func (i Intent) Receipt() Receipt {
	return Receipt{Provider: i.Provider, ID: i.ID, Amount: i.Amount, Currency: i.Currency}
}
