package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

// flakyStripe is Stripe's PaymentIntent API on a bad day. In "error" mode
// it answers 500 and charges nothing; in "slow" mode it charges and then
// answers too late for anyone to hear; "up" is a good day. Like Stripe it
// remembers each idempotency key's charge and answers a repeat with it.
type flakyStripe struct {
	mu      sync.Mutex
	mode    string
	intents map[string][]byte // idempotency key → the PaymentIntent made
	charges int               // PaymentIntents made with a card and confirmed
	keys    map[string]int    // requests seen per idempotency key
}

func (f *flakyStripe) set(mode string) { f.mu.Lock(); f.mode = mode; f.mu.Unlock() }

func (f *flakyStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	key, mode := r.Header.Get("Idempotency-Key"), f.mode
	f.keys[key]++
	if mode == "error" {
		f.mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":{"type":"api_error","message":"An unknown error occurred."}}`))
		return
	}
	body, ok := f.intents[key]
	if !ok {
		r.ParseForm()
		status := "requires_payment_method" // made for the fan's app to pay
		if r.Form.Get("confirm") == "true" {
			status = "succeeded"
			f.charges++
		}
		body, _ = json.Marshal(map[string]any{"id": fmt.Sprintf("pi_flaky_%d", len(f.intents)+1), "object": "payment_intent",
			"status": status, "client_secret": "secret", "metadata": map[string]string{"booking_id": r.Form.Get("metadata[booking_id]")}})
		f.intents[key] = body
	}
	f.mu.Unlock()
	if mode == "slow" {
		select { // the answer is lost: the client has given up by then
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		return
	}
	w.Write(body)
}

// TestPaymentsThatGoWrong: the processor errs or answers too late. The fan
// gets a 503 that says the seats are still held, the booking stays pending
// with its seats, paying again charges once, and a payment whose answer
// never reached us is confirmed by Stripe's webhook.
func TestPaymentsThatGoWrong(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	flaky := &flakyStripe{mode: "error", intents: map[string][]byte{}, keys: map[string]int{}}
	processor := httptest.NewServer(flaky)
	t.Cleanup(processor.Close)
	stripe := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_x", WebhookSecret: "whsec_boxoffice", APIURL: processor.URL, Timeout: 300 * time.Millisecond})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ts := newServer(t, pool, func(c *web.Config) {
		c.Bookings = booking.NewService(pool, stripe, booking.Config{HoldTTL: 10 * time.Minute, MaxTickets: 8}, time.Now, quiet)
		c.Webhooks, c.PaymentProvider = stripe, "stripe"
	})
	_, tickets := smallEvent(t, pool, 6)
	token := signUp(t, ts.URL, "unlucky@example.com")
	hold := func(ids []int64) string {
		code, b := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": ids})
		if code != http.StatusCreated {
			t.Fatalf("hold: %d %v", code, b)
		}
		return fmt.Sprint(int64(b["id"].(float64)))
	}
	pay := func(id string) (int, map[string]any) {
		return api(t, "POST", ts.URL+"/api/v1/bookings/"+id+"/pay", token, map[string]string{"payment_method": "pm_card_visa"})
	}
	stillHeld := func(when, id string) {
		t.Helper()
		_, b := api(t, "GET", ts.URL+"/api/v1/bookings/"+id, token, nil)
		var reserved int
		pool.QueryRow(t.Context(), `SELECT count(*) FROM tickets WHERE booking_id = $1 AND status = 'reserved'`, id).Scan(&reserved)
		if b["status"] != "pending" || reserved != 2 {
			t.Errorf("%s: booking %v with %d seats held, want pending with 2", when, b["status"], reserved)
		}
	}
	unavailable := func(when string, code int, body map[string]any) {
		t.Helper()
		msg, _ := body["error"].(map[string]any)["message"].(string)
		if code != http.StatusServiceUnavailable || msg == "" {
			t.Errorf("%s: %d %v, want 503 with a message", when, code, body)
		}
	}

	first := hold(tickets[:2])
	code, body := pay(first)
	unavailable("Stripe answering 500", code, body)
	stillHeld("after Stripe's 500s", first)

	flaky.set("slow")
	code, body = pay(first)
	unavailable("Stripe too slow to answer", code, body)
	stillHeld("after a charge whose answer was lost", first)

	flaky.set("up")
	if code, body := pay(first); code != http.StatusOK || body["status"] != "confirmed" {
		t.Fatalf("paying again once Stripe is back: %d %v", code, body)
	}
	key := "boxoffice-booking-" + first + "-pm_card_visa"
	flaky.mu.Lock()
	charges, attempts := flaky.charges, flaky.keys[key]
	flaky.mu.Unlock()
	if charges != 1 || attempts < 3 {
		t.Errorf("%d charges from %d requests with key %s (keys seen: %v); want 1 charge", charges, attempts, key, flaky.keys)
	}

	// A charge that went through while we were not listening: Stripe's
	// webhook confirms it without the fan doing anything.
	second := hold(tickets[2:4])
	flaky.set("slow")
	code, body = pay(second)
	unavailable("second booking, Stripe too slow", code, body)
	stillHeld("before the webhook", second)
	flaky.mu.Lock()
	intent := flaky.intents["boxoffice-booking-"+second+"-pm_card_visa"]
	flaky.mu.Unlock()
	var pi map[string]any
	json.Unmarshal(intent, &pi)
	payload := []byte(fmt.Sprintf(`{"id":"evt_flaky","object":"event","api_version":"2023-10-16","type":"payment_intent.succeeded",
		"data":{"object":{"id":%q,"object":"payment_intent","status":"succeeded","metadata":{"booking_id":%q}}}}`, pi["id"], second))
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_boxoffice", Timestamp: time.Now()})
	req, _ := http.NewRequest("POST", ts.URL+"/webhooks/stripe", bytes.NewReader(signed.Payload))
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if _, b := api(t, "GET", ts.URL+"/api/v1/bookings/"+second, token, nil); res.StatusCode != 200 || b["status"] != "confirmed" {
		t.Errorf("after the webhook (%d): %v", res.StatusCode, b["status"])
	}
	checkInvariant(t, pool)
}
