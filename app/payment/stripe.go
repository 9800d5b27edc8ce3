package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"
)

// Stripe takes payments through Stripe: one PaymentIntent per booking,
// paid in the fan's browser or app, or confirmed on the server with the
// fan's payment method.
type Stripe struct {
	api           *client.API
	webhookSecret string
}

// StripeConfig configures the Stripe processor.
type StripeConfig struct {
	SecretKey     string
	WebhookSecret string
	// APIURL replaces Stripe's API address, for stripe-mock in tests.
	APIURL string
	// Timeout bounds each call to Stripe (default 20 s).
	Timeout time.Duration
}

// NewStripe returns a Stripe processor.
func NewStripe(cfg StripeConfig) *Stripe {
	if cfg.Timeout == 0 {
		cfg.Timeout = 20 * time.Second
	}
	bc := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: cfg.Timeout},
		MaxNetworkRetries: stripe.Int64(2), // with the same idempotency key: never charges twice
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelError},
	}
	if cfg.APIURL != "" {
		bc.URL = stripe.String(cfg.APIURL)
	}
	api := &client.API{}
	api.Init(cfg.SecretKey, &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, bc),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, bc),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, bc),
	})
	return &Stripe{api: api, webhookSecret: cfg.WebhookSecret}
}

// Name is what bookings record as their payment provider.
func (s *Stripe) Name() string { return "stripe" }

// InBrowser is true: the Payment Element and apps pay with the intent's
// client secret.
func (s *Stripe) InBrowser() bool { return true }

// Charge confirms the PaymentIntent r.Intent with r.Method, or creates and
// confirms one when r.Intent is empty. A card error is a *DeclinedError
// carrying Stripe's message for the fan.
func (s *Stripe) Charge(ctx context.Context, r Request) (Receipt, error) {
	var pi *stripe.PaymentIntent
	var err error
	if r.Intent != "" {
		params := &stripe.PaymentIntentConfirmParams{PaymentMethod: stripe.String(r.Method)}
		params.Context = ctx
		params.SetIdempotencyKey(r.IdempotencyKey)
		pi, err = s.api.PaymentIntents.Confirm(r.Intent, params)
		var se *stripe.Error
		if errors.As(err, &se) && se.Code == stripe.ErrorCodePaymentIntentUnexpectedState {
			// Paid a moment ago (in the browser, another tab), or cancelled
			// because its booking ended: which one, Stripe says.
			return s.settled(ctx, r.Intent)
		}
	} else {
		params := &stripe.PaymentIntentParams{
			Amount:             stripe.Int64(r.Amount),
			Currency:           stripe.String(strings.ToLower(r.Currency)),
			PaymentMethod:      stripe.String(r.Method),
			PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
			Confirm:            stripe.Bool(true),
			Description:        stripe.String("Boxoffice booking " + r.Reference),
		}
		params.Context = ctx
		params.AddMetadata("booking_id", r.Reference)
		params.SetIdempotencyKey(r.IdempotencyKey)
		pi, err = s.api.PaymentIntents.New(params)
	}
	if err != nil {
		return Receipt{}, stripeError(err)
	}
	receipt := receiptOf(pi)
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		return receipt, nil
	case stripe.PaymentIntentStatusRequiresPaymentMethod:
		msg := "Your card was declined. Try another card."
		if pi.LastPaymentError != nil && pi.LastPaymentError.Msg != "" {
			msg = pi.LastPaymentError.Msg
		}
		return Receipt{}, &DeclinedError{Code: "card_declined", Message: msg}
	case stripe.PaymentIntentStatusRequiresAction:
		return Receipt{}, &DeclinedError{Code: "authentication_required",
			Message: "Your bank wants you to approve this payment yourself: pay on the booking page, where it can ask you."}
	}
	return Receipt{}, fmt.Errorf("payment %s is %s, not succeeded", pi.ID, pi.Status)
}

func receiptOf(pi *stripe.PaymentIntent) Receipt {
	return Receipt{Provider: "stripe", ID: pi.ID, Amount: pi.Amount, Currency: strings.ToUpper(string(pi.Currency))}
}

// stripeError turns Stripe's errors into ours: card errors are declines.
func stripeError(err error) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		if se.Type == stripe.ErrorTypeCard {
			return &DeclinedError{Code: string(se.Code), Message: se.Msg}
		}
		if se.Code == stripe.ErrorCodeResourceMissing && se.Param == "payment_method" {
			return fmt.Errorf("%w %q", ErrUnknownMethod, se.Msg)
		}
	}
	return fmt.Errorf("stripe: %w", err)
}

// Refund refunds amount (minor units) of a PaymentIntent, or all of it
// when amount is 0; refunding one already refunded in full is not an
// error.
func (s *Stripe) Refund(ctx context.Context, receipt Receipt, amount int64, idempotencyKey string) error {
	params := &stripe.RefundParams{PaymentIntent: stripe.String(receipt.ID)}
	if amount > 0 {
		params.Amount = stripe.Int64(amount)
	}
	params.Context = ctx
	params.SetIdempotencyKey(idempotencyKey)
	_, err := s.api.Refunds.New(params)
	var se *stripe.Error
	if errors.As(err, &se) && se.Code == stripe.ErrorCodeChargeAlreadyRefunded {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stripe refund %s: %w", receipt.ID, err)
	}
	return nil
}

// Event is a Stripe webhook event, reduced to what bookings need.
type Event struct {
	ID   string // Stripe's event id: each is handled once
	Type string // payment_intent.succeeded, payment_intent.payment_failed, charge.refunded
	// Payment is the PaymentIntent the event is about, with the amount it
	// took (for charge.refunded, the amount charged).
	Payment Receipt
	// Refunded is, for charge.refunded, how much of Payment.Amount has
	// been refunded so far.
	Refunded int64
}

// ErrBadSignature is a webhook whose signature does not check out.
var ErrBadSignature = errors.New("webhook signature does not verify")

// VerifyEvent checks a webhook's Stripe-Signature header against the
// webhook secret and reads the event.
func (s *Stripe) VerifyEvent(payload []byte, signature string) (Event, error) {
	ev, err := webhook.ConstructEventWithOptions(payload, signature, s.webhookSecret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	out := Event{ID: ev.ID, Type: string(ev.Type)}
	switch ev.Type {
	case stripe.EventTypePaymentIntentSucceeded, stripe.EventTypePaymentIntentPaymentFailed:
		var pi stripe.PaymentIntent
		if err := json.Unmarshal(ev.Data.Raw, &pi); err != nil {
			return out, fmt.Errorf("read %s: %w", ev.Type, err)
		}
		out.Payment = receiptOf(&pi)
	case stripe.EventTypeChargeRefunded:
		var ch stripe.Charge
		if err := json.Unmarshal(ev.Data.Raw, &ch); err != nil {
			return out, fmt.Errorf("read %s: %w", ev.Type, err)
		}
		if ch.PaymentIntent != nil {
			out.Payment = Receipt{Provider: "stripe", ID: ch.PaymentIntent.ID, Amount: ch.Amount, Currency: strings.ToUpper(string(ch.Currency))}
		}
		out.Refunded = ch.AmountRefunded
	}
	return out, nil
}

// CreateIntent creates (once per idempotency key) a PaymentIntent for the
// browser to confirm.
func (s *Stripe) CreateIntent(ctx context.Context, r Request) (Intent, error) {
	params := &stripe.PaymentIntentParams{
		Amount:      stripe.Int64(r.Amount),
		Currency:    stripe.String(strings.ToLower(r.Currency)),
		Description: stripe.String("Boxoffice booking " + r.Reference),
		// No redirect-based methods: the same intent is confirmed on the
		// server when a fan pays with a saved card or through the API, and
		// a server cannot follow a redirect.
		AutomaticPaymentMethods: &stripe.PaymentIntentAutomaticPaymentMethodsParams{Enabled: stripe.Bool(true), AllowRedirects: stripe.String("never")},
	}
	params.Context = ctx
	params.AddMetadata("booking_id", r.Reference)
	params.SetIdempotencyKey(r.IdempotencyKey)
	pi, err := s.api.PaymentIntents.New(params)
	if err != nil {
		return Intent{}, stripeError(err)
	}
	return intentOf(pi), nil
}

func intentOf(pi *stripe.PaymentIntent) Intent {
	return Intent{Provider: "stripe", ID: pi.ID, ClientSecret: pi.ClientSecret, Status: string(pi.Status), Amount: pi.Amount, Currency: strings.ToUpper(string(pi.Currency))}
}

// GetIntent asks Stripe how a PaymentIntent stands.
func (s *Stripe) GetIntent(ctx context.Context, id string) (Intent, error) {
	params := &stripe.PaymentIntentParams{}
	params.Context = ctx
	pi, err := s.api.PaymentIntents.Get(id, params)
	if err != nil {
		return Intent{}, stripeError(err)
	}
	return intentOf(pi), nil
}

// CancelIntent cancels a PaymentIntent that has not been paid, so that
// neither the browser nor an app can pay it any more. An intent already
// canceled is not an error; one that has succeeded is.
func (s *Stripe) CancelIntent(ctx context.Context, id string) error {
	params := &stripe.PaymentIntentCancelParams{}
	params.Context = ctx
	_, err := s.api.PaymentIntents.Cancel(id, params)
	var se *stripe.Error
	if errors.As(err, &se) && se.Code == stripe.ErrorCodePaymentIntentUnexpectedState {
		_, err = s.settled(ctx, id)
		if errors.Is(err, ErrCanceled) {
			return nil // cancelled already
		}
		if err == nil {
			return fmt.Errorf("stripe cancel %s: %w", id, ErrAlreadyPaid)
		}
	}
	if err != nil {
		return fmt.Errorf("stripe cancel %s: %w", id, stripeError(err))
	}
	return nil
}

// settled says how an intent that can no longer be confirmed or cancelled
// ended: its receipt if it was paid, ErrCanceled if it was cancelled.
func (s *Stripe) settled(ctx context.Context, id string) (Receipt, error) {
	in, err := s.GetIntent(ctx, id)
	switch {
	case err != nil:
		return Receipt{}, err
	case in.Succeeded():
		return in.Receipt(), nil
	case in.Status == StatusCanceled:
		return Receipt{}, fmt.Errorf("stripe %s: %w", id, ErrCanceled)
	}
	return Receipt{}, fmt.Errorf("stripe %s is %s: neither paid nor cancelled", id, in.Status)
}
