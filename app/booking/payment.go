package booking

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/payment"
)

// PayBooking charges the booking's total with paymentMethod and confirms
// it. A hold that has run out is not charged at all: the booking ends
// expired (app.ECONFLICT, reason booking_not_pending). A declined card is
// an app.EPAYMENT (reason payment_declined) and the hold stays. If the hold
// is lost while the money is on its way, the charge is refunded and the
// booking ends refunded.
func (s *Service) PayBooking(ctx context.Context, userID, id int64, paymentMethod string) (*Booking, error) {
	b, err := s.FindBooking(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	return s.PayFound(ctx, b, paymentMethod)
}

// PayFound is PayBooking for a booking the caller has just read with
// FindBooking (the fan's own): it is not read again.
func (s *Service) PayFound(ctx context.Context, b *Booking, paymentMethod string) (*Booking, error) {
	if b.Status != StatusPending {
		return nil, notPending(b.Status)
	}
	if !b.Held(s.now()) {
		return nil, s.lapse(ctx, b)
	}
	if paymentMethod == "" {
		return nil, app.Errorf(app.EINVALID, "Choose how to pay.")
	}
	if !validMethod(paymentMethod) {
		return nil, app.Errorf(app.EINVALID, "That is not a payment method: send the id of one, such as pm_card_visa.")
	}
	// Asked afresh, not from the cache: it may have been paid a moment ago
	// in the browser or an app.
	in, err := s.intent(ctx, b, false)
	if err != nil {
		return nil, err
	}
	if in.Succeeded() {
		return s.confirmPayment(ctx, b.ID, in.Receipt(), b)
	}
	receipt, err := s.payments.Charge(ctx, payment.Request{
		Reference: strconv.FormatInt(b.ID, 10), Amount: b.Total, Currency: b.Currency,
		Method: paymentMethod, Intent: in.ID,
		IdempotencyKey: "boxoffice-pay-" + b.PaymentKey + "-" + paymentMethod,
	})
	var declined *payment.DeclinedError
	switch {
	case errors.As(err, &declined):
		return nil, &app.Error{Code: app.EPAYMENT, Reason: "payment_declined", Message: declined.Message}
	case errors.Is(err, payment.ErrUnknownMethod):
		return nil, app.Errorf(app.EINVALID, "%s", err.Error())
	case errors.Is(err, payment.ErrCanceled):
		return nil, notPending(StatusExpired) // the sweeper ended it meanwhile
	case err != nil:
		// The charge may have gone through with its answer lost: the
		// next look must ask Stripe, not trust what it said before.
		s.intents.Delete(in.ID)
		return nil, s.unreachable(err)
	}
	// The money has moved: record it even if the fan has gone.
	return s.confirmPayment(context.WithoutCancel(ctx), b.ID, receipt, b)
}

// validMethod reports whether m looks like a payment method id (pm_…,
// Stripe's test names): it goes into idempotency keys, which Stripe bounds.
func validMethod(m string) bool {
	if len(m) > 100 {
		return false
	}
	for _, r := range m {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// lapse ends a pending booking whose hold has run out, as the sweeper
// would, and says so.
func (s *Service) lapse(ctx context.Context, b *Booking) error {
	if err := s.end(ctx, b.UserID, b.ID, StatusExpired); err != nil && app.ErrorCode(err) != app.ECONFLICT {
		return err
	}
	s.cancelPayments(ctx, b.PaymentID)
	return notPending(StatusExpired)
}

// errMismatch is a payment that is not the one made for the booking, or
// not of its total: it confirms nothing.
var errMismatch = &app.Error{Code: app.ECONFLICT, Reason: "payment_mismatch",
	Message: "This payment does not match the booking, so it confirmed nothing. Nothing more was charged."}

// ConfirmPayment records a successful payment for booking id: its tickets
// are sold to it if the payment is the one made for the booking, of its
// total, and the booking still holds every seat. A payment that arrives
// after the hold was lost is refunded and the booking ends refunded. Any
// other payment is logged and ignored (app.ECONFLICT, payment_mismatch).
// Confirming twice with the same receipt is harmless.
func (s *Service) ConfirmPayment(ctx context.Context, id int64, receipt payment.Receipt) (*Booking, error) {
	return s.confirmPayment(ctx, id, receipt, nil)
}

// confirmPayment is ConfirmPayment; known, when not nil, is the booking as
// read before it was paid, which a confirmation made here returns updated
// rather than read again.
func (s *Service) confirmPayment(ctx context.Context, id int64, receipt payment.Receipt, known *Booking) (*Booking, error) {
	outcome, l, at, err := s.confirm(ctx, id, receipt)
	if err != nil {
		return nil, err
	}
	if at != nil && known != nil {
		b := *known
		b.Status, b.ConfirmedAt, b.PaymentProvider, b.PaymentID = StatusConfirmed, at, receipt.Provider, receipt.ID
		b.Tickets = slices.Clone(known.Tickets)
		for i := range b.Tickets {
			b.Tickets[i].Status = "sold"
		}
		return &b, nil
	}
	switch outcome {
	case mismatch:
		s.log.Error("a payment that is not the booking's own was ignored", "booking", id,
			"payment", receipt.ID, "amount", receipt.Amount, "currency", receipt.Currency,
			"booking_payment", l.payID, "total", l.total, "booking_currency", l.currency)
		return nil, errMismatch
	case lostHold:
		b, err := s.FindBooking(ctx, l.userID, id)
		if err != nil {
			return nil, err
		}
		if err := s.payments.Refund(ctx, receipt, 0, "boxoffice-refund-"+b.PaymentKey); err != nil {
			return nil, s.unreachable(err)
		}
		if err := s.refund(ctx, id, receipt, receipt.Amount); err != nil {
			return nil, err
		}
		s.log.Warn("payment arrived after the hold was lost; refunded", "booking", id, "payment", receipt.ID)
	}
	return s.FindBooking(ctx, l.userID, id)
}

// Checkout returns the payment the fan's browser or app pays booking b
// with (its ClientSecret), making it the first time. It is empty when the
// processor is paid only through Boxoffice, or b no longer holds its seats.
func (s *Service) Checkout(ctx context.Context, b *Booking) (payment.Intent, error) {
	if !s.payments.InBrowser() || !b.Held(s.now()) {
		return payment.Intent{}, nil
	}
	return s.intent(ctx, b, true)
}

// CheckPayment returns booking b as it stands after asking the processor
// how its payment stands (unless fresh, an answer from the last few
// seconds will do): money that arrived while nobody was listening (the fan
// paid in the browser or an app and did not come back, or our process lost
// the answer) confirms it now, without waiting for the webhook. An
// unreachable processor leaves the booking as it was.
func (s *Service) CheckPayment(ctx context.Context, b *Booking, fresh bool) (*Booking, error) {
	if b.Status != StatusPending || b.PaymentID == "" {
		return b, nil
	}
	in, err := s.intent(ctx, b, !fresh)
	if err != nil {
		s.log.Warn("could not ask the payment processor about a booking", "booking", b.ID, "err", err)
		return b, nil
	}
	if !in.Succeeded() {
		return b, nil
	}
	confirmed, err := s.ConfirmPayment(context.WithoutCancel(ctx), b.ID, in.Receipt())
	if err != nil {
		// Shown as it was; the webhook or the next look tries again.
		s.log.Warn("could not record a payment found on a look at its booking", "booking", b.ID, "err", err)
		return b, nil
	}
	return confirmed, nil
}

// intent returns pending booking b's payment, making it the first time
// (its idempotency key is the booking's, so there is only ever one,
// whether the browser, an app or our server pays it) and noting it on the
// booking before anyone can pay it. With recent, an answer from the last
// few seconds will do.
func (s *Service) intent(ctx context.Context, b *Booking, recent bool) (payment.Intent, error) {
	if b.PaymentID != "" {
		if in, ok := s.intents.Get(b.PaymentID); ok && recent {
			return in, nil
		}
		in, err := s.payments.GetIntent(ctx, b.PaymentID)
		if err != nil {
			return payment.Intent{}, s.unreachable(err)
		}
		s.intents.Put(in.ID, in)
		return in, nil
	}
	in, err := s.payments.CreateIntent(ctx, payment.Request{
		Reference: strconv.FormatInt(b.ID, 10), Amount: b.Total, Currency: b.Currency,
		IdempotencyKey: "boxoffice-intent-" + b.PaymentKey,
	})
	if err != nil {
		return payment.Intent{}, s.unreachable(err)
	}
	noted, err := s.notePayment(ctx, b.ID, in)
	if err != nil {
		return payment.Intent{}, err
	}
	if !noted {
		// The booking ended while its payment was being made: nobody may
		// pay a payment no booking will ever match.
		s.cancelPayments(ctx, in.ID)
		return payment.Intent{}, notPending("no longer held")
	}
	b.PaymentProvider, b.PaymentID = in.Provider, in.ID
	s.intents.Put(in.ID, in)
	return in, nil
}

// cancelPayments cancels the payments of bookings that ended unpaid, so
// that no browser or app can pay them any more. A payment found paid after
// all (its answer was lost: the database went away between the charge and
// the booking's confirmation, and the fan never came back) is settled as
// its webhook would settle it: refunded, since its hold is gone. That
// does not wait for a webhook, which the demo processor never sends.
func (s *Service) cancelPayments(ctx context.Context, ids ...string) {
	for _, id := range ids {
		if id == "" {
			continue
		}
		s.intents.Delete(id)
		err := s.payments.CancelIntent(ctx, id)
		if err == nil {
			continue
		}
		in, gerr := s.payments.GetIntent(ctx, id)
		if gerr != nil || in.Status != payment.StatusSucceeded {
			s.log.Warn("could not cancel the payment of an ended booking", "payment", id, "err", err)
			continue
		}
		booking, ok, berr := s.bookingOfPayment(ctx, in.Receipt())
		if berr != nil || !ok {
			s.log.Error("an ended booking's payment went through and its booking cannot be found; refund it by hand", "payment", id, "err", berr)
			continue
		}
		if _, err := s.ConfirmPayment(ctx, booking, in.Receipt()); err != nil { // refunds it, and says so
			s.log.Error("an ended booking's payment went through and could not be refunded; the next webhook or a person must", "booking", booking, "payment", id, "err", err)
		}
	}
}

// HandlePaymentEvent applies a processor's event (a Stripe webhook) to the
// booking its payment was made for. Each event id is applied once; and
// since every step is idempotent, a replay or events out of order end in
// the same state: a payment that succeeded confirms the booking (or is
// refunded if the hold was lost); a full refund ends it refunded and puts
// its seats back on sale; a partial refund is noted and the fan keeps
// their tickets. Events about payments that are none of our bookings' are
// logged and ignored.
func (s *Service) HandlePaymentEvent(ctx context.Context, ev payment.Event) error {
	if seen, err := s.seenPaymentEvent(ctx, ev); err != nil || seen {
		return err
	}
	id, ok, err := s.bookingOfPayment(ctx, ev.Payment)
	if err != nil {
		return err
	}
	if !ok {
		s.log.Warn("payment event for no booking of ours; ignored", "event", ev.ID, "type", ev.Type, "payment", ev.Payment.ID)
		return s.recordPaymentEvent(ctx, ev, 0)
	}
	switch ev.Type {
	case "payment_intent.succeeded":
		if _, err := s.ConfirmPayment(ctx, id, ev.Payment); err != nil && !errors.Is(err, errMismatch) {
			return err
		}
	case "charge.refunded":
		if err := s.refund(ctx, id, ev.Payment, ev.Refunded); err != nil {
			return err
		}
	case "payment_intent.payment_failed":
		// The booking stays pending with its hold; the fan may try again.
	}
	return s.recordPaymentEvent(ctx, ev, id)
}

// unreachable is the error for a processor that did not answer; the
// cause goes to the log, not to the fan.
func (s *Service) unreachable(err error) error {
	s.log.Error("payment processor call failed", "err", err)
	return &app.Error{Code: app.EUNAVAILABLE, Message: "We could not reach the payment processor. Your seats are still held; try again in a moment."}
}
