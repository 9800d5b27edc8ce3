package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/payment"
)

// WebhookVerifier checks a processor's signed webhook and reads its event.
type WebhookVerifier interface {
	VerifyEvent(payload []byte, signature string) (payment.Event, error)
}

// handleStripeWebhook takes Stripe's events. A signature that does not
// verify is a 400 and changes nothing; a failure to apply is a 500, which
// Stripe retries.
func (s *Server) handleStripeWebhook(c echo.Context) error {
	if s.webhooks == nil {
		return echo.ErrNotFound
	}
	payload, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return app.Errorf(app.EINVALID, "The body could not be read.")
	}
	ev, err := s.webhooks.VerifyEvent(payload, c.Request().Header.Get("Stripe-Signature"))
	if errors.Is(err, payment.ErrBadSignature) {
		return &app.Error{Code: app.EINVALID, Reason: "bad_signature", Message: "The Stripe-Signature header does not verify for this body."}
	}
	if err != nil {
		return app.Errorf(app.EINVALID, "The event could not be read.")
	}
	if err := s.bookings.HandlePaymentEvent(c.Request().Context(), ev); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"received": true})
}
