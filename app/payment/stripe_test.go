package payment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/boxoffice/boxoffice/app/payment"
)

// stripeMock returns the address of a stripe-mock server: STRIPE_MOCK_URL,
// or one started with `go tool stripe-mock`. Without one the test skips,
// except in CI, where it fails.
func stripeMock(t *testing.T) string {
	t.Helper()
	if url := os.Getenv("STRIPE_MOCK_URL"); url != "" {
		return url
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command("go", "tool", "stripe-mock", "-http-addr", addr, "-https-addr", "127.0.0.1:")
	if err := cmd.Start(); err != nil {
		missing(t, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
	}
	missing(t, fmt.Errorf("stripe-mock did not listen on %s", addr))
	return ""
}

func missing(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("stripe-mock is needed: %v", err)
	}
	t.Skipf("no stripe-mock (go tool stripe-mock): %v", err)
}

// TestStripeAgainstStripeMock checks that Stripe accepts our requests as
// its API describes them (stripe-mock validates every parameter) and that
// we read its answers. stripe-mock never charges, so a confirmed intent
// comes back still wanting a payment method: a decline.
func TestStripeAgainstStripeMock(t *testing.T) {
	t.Parallel()
	s := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_boxoffice", APIURL: stripeMock(t)})
	ctx := context.Background()
	_, err := s.Charge(ctx, payment.Request{Reference: "42", Amount: 5000, Currency: "GBP", Method: "pm_card_visa", IdempotencyKey: "boxoffice-booking-42-pm_card_visa"})
	var declined *payment.DeclinedError
	if !errors.As(err, &declined) || declined.Message == "" {
		t.Fatalf("Charge against stripe-mock: %v, want a request it accepts", err)
	}
	if err := s.Refund(ctx, payment.Receipt{Provider: "stripe", ID: "pi_123"}, 1000, "boxoffice-refund-42-1000"); err != nil {
		t.Fatalf("Refund against stripe-mock: %v", err)
	}
}

// fakeStripe answers PaymentIntent creation like Stripe does for its test
// cards, and remembers idempotency keys like Stripe does.
type fakeStripe struct {
	mu    sync.Mutex
	seen  map[string]string // idempotency key → response
	calls int
}

func (f *fakeStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	key := r.Header.Get("Idempotency-Key")
	if body, ok := f.seen[key]; ok {
		w.Write([]byte(body))
		return
	}
	r.ParseForm()
	var body string
	switch {
	case r.URL.Path == "/v1/payment_intents" && r.Form.Get("payment_method") == "pm_card_chargeDeclined":
		w.WriteHeader(http.StatusPaymentRequired)
		w.Write([]byte(`{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined."}}`))
		return
	case r.URL.Path == "/v1/payment_intents":
		amount, _ := strconv.ParseInt(r.Form.Get("amount"), 10, 64)
		status := "succeeded"
		if r.Form.Get("payment_method") == "pm_card_authenticationRequired" {
			status = "requires_action" // 3-D Secure: the fan must approve it
		}
		b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("pi_fake_%d", f.calls), "object": "payment_intent", "status": status,
			"amount": amount, "metadata": map[string]string{"booking_id": r.Form.Get("metadata[booking_id]")}})
		body = string(b)
	default:
		http.NotFound(w, r)
		return
	}
	f.seen[key] = body
	w.Write([]byte(body))
}

func TestStripeChargesOnceAndReadsDeclines(t *testing.T) {
	t.Parallel()
	fake := &fakeStripe{seen: map[string]string{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	s := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_x", APIURL: srv.URL})
	ctx := context.Background()
	req := payment.Request{Reference: "7", Amount: 2500, Currency: "EUR", Method: "pm_card_visa", IdempotencyKey: "boxoffice-booking-7-pm_card_visa"}
	first, err := s.Charge(ctx, req)
	if err != nil || first.Provider != "stripe" || !strings.HasPrefix(first.ID, "pi_fake_") {
		t.Fatalf("Charge = %+v, %v", first, err)
	}
	again, err := s.Charge(ctx, req)
	if err != nil || again != first {
		t.Errorf("a retry got %+v, want the first charge %+v", again, first)
	}
	req.Method, req.IdempotencyKey = "pm_card_chargeDeclined", "boxoffice-booking-7-pm_card_chargeDeclined"
	_, err = s.Charge(ctx, req)
	var declined *payment.DeclinedError
	if !errors.As(err, &declined) || declined.Message != "Your card was declined." {
		t.Errorf("declined card: %v", err)
	}
	req.Method, req.IdempotencyKey = "pm_card_authenticationRequired", "boxoffice-booking-7-pm_card_authenticationRequired"
	_, err = s.Charge(ctx, req)
	if !errors.As(err, &declined) || declined.Code != "authentication_required" || !strings.Contains(declined.Message, "booking page") {
		t.Errorf("a card that needs the fan's approval: %v", err)
	}
}

func TestStripeWebhookSignature(t *testing.T) {
	t.Parallel()
	s := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_x", WebhookSecret: "whsec_test"})
	payload := []byte(`{"id":"evt_1","object":"event","api_version":"2023-10-16","type":"payment_intent.succeeded",
		"data":{"object":{"id":"pi_9","object":"payment_intent","status":"succeeded","metadata":{"booking_id":"9"}}}}`)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_test", Timestamp: time.Now()})
	ev, err := s.VerifyEvent(signed.Payload, signed.Header)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "evt_1" || ev.Type != "payment_intent.succeeded" || ev.Payment.ID != "pi_9" || ev.Payment.Provider != "stripe" {
		t.Errorf("event %+v", ev)
	}
	forged := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_other", Timestamp: time.Now()})
	if _, err := s.VerifyEvent(forged.Payload, forged.Header); !errors.Is(err, payment.ErrBadSignature) {
		t.Errorf("a payload signed with another secret: %v", err)
	}
	if _, err := s.VerifyEvent(append(signed.Payload, ' '), signed.Header); !errors.Is(err, payment.ErrBadSignature) {
		t.Errorf("a tampered payload: %v", err)
	}
}

func TestStripeIntentsAgainstStripeMock(t *testing.T) {
	t.Parallel()
	s := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_boxoffice", APIURL: stripeMock(t)})
	ctx := context.Background()
	in, err := s.CreateIntent(ctx, payment.Request{Reference: "42", Amount: 5000, Currency: "GBP", IdempotencyKey: "boxoffice-intent-42"})
	if err != nil || in.ID == "" || in.ClientSecret == "" {
		t.Fatalf("CreateIntent = %+v, %v", in, err)
	}
	got, err := s.GetIntent(ctx, in.ID)
	if err != nil || got.ID == "" || got.Succeeded() {
		t.Fatalf("GetIntent = %+v, %v (stripe-mock never charges)", got, err)
	}
	// Confirming that intent on the server, as PayBooking does: stripe-mock
	// accepts the request and, never charging, answers as for a decline.
	_, err = s.Charge(ctx, payment.Request{Intent: in.ID, Method: "pm_card_visa", IdempotencyKey: "boxoffice-booking-42-pm_card_visa"})
	var declined *payment.DeclinedError
	if !errors.As(err, &declined) {
		t.Fatalf("confirming an intent against stripe-mock: %v, want a request it accepts", err)
	}
	// Cancelling it when its booking ends: a request Stripe accepts.
	if err := s.CancelIntent(ctx, in.ID); err != nil {
		t.Fatalf("CancelIntent against stripe-mock: %v", err)
	}
}

// settledStripe is Stripe for an intent that can no longer be confirmed or
// cancelled: confirming or cancelling it answers
// payment_intent_unexpected_state, and reading it says how it ended.
func settledStripe(t *testing.T, status string) *payment.Stripe {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"This PaymentIntent's status is ` + status + `."}}`))
			return
		}
		w.Write([]byte(`{"id":"pi_settled","object":"payment_intent","status":"` + status + `","amount":5000,"currency":"gbp"}`))
	}))
	t.Cleanup(srv.Close)
	return payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_x", APIURL: srv.URL})
}

// Confirming or cancelling an intent that was paid or cancelled meanwhile
// says which, rather than "cancelled" for both.
func TestStripeIntentsThatSettledMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	req := payment.Request{Intent: "pi_settled", Method: "pm_card_visa", IdempotencyKey: "k"}

	paid := settledStripe(t, "succeeded")
	receipt, err := paid.Charge(ctx, req)
	if err != nil || receipt.ID != "pi_settled" || receipt.Amount != 5000 || receipt.Currency != "GBP" {
		t.Errorf("paying an intent paid meanwhile: %+v, %v; want its receipt", receipt, err)
	}
	if err := paid.CancelIntent(ctx, "pi_settled"); !errors.Is(err, payment.ErrAlreadyPaid) {
		t.Errorf("cancelling a paid intent: %v, want ErrAlreadyPaid", err)
	}

	cancelled := settledStripe(t, "canceled")
	if _, err := cancelled.Charge(ctx, req); !errors.Is(err, payment.ErrCanceled) {
		t.Errorf("paying a cancelled intent: %v, want ErrCanceled", err)
	}
	if err := cancelled.CancelIntent(ctx, "pi_settled"); err != nil {
		t.Errorf("cancelling a cancelled intent: %v, want nil", err)
	}
}
