package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

// flakyStripe is Stripe's PaymentIntent API on a bad day. In "error" mode
// it answers 500 and does nothing; in "slow" mode it does what it is asked
// and answers too late for anyone to hear; in "lose-charge" mode only
// confirmations (charges) are slow; "up" is a good day. Like Stripe it
// answers a repeated idempotency key with what the first request made.
type flakyStripe struct {
	mu      sync.Mutex
	mode    string
	intents map[string]map[string]any // by id
	replies map[string][]byte         // by idempotency key
	keys    map[string]int            // requests seen per idempotency key
	charges int                       // intents that went from unpaid to paid
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
	confirm := strings.HasSuffix(r.URL.Path, "/confirm")
	body, replayed := f.replies[key]
	if !replayed {
		r.ParseForm()
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/payment_intents/"), "/confirm")
		switch {
		case r.Method == "POST" && r.URL.Path == "/v1/payment_intents":
			id = fmt.Sprintf("pi_flaky_%d", len(f.intents)+1)
			amount, _ := strconv.ParseInt(r.Form.Get("amount"), 10, 64)
			f.intents[id] = map[string]any{"id": id, "object": "payment_intent", "status": "requires_payment_method",
				"amount": amount, "currency": r.Form.Get("currency"),
				"client_secret": id + "_secret", "metadata": map[string]string{"booking_id": r.Form.Get("metadata[booking_id]")}}
		case confirm && f.intents[id]["status"] == "requires_payment_method":
			f.intents[id]["status"] = "succeeded"
			f.charges++
		}
		body, _ = json.Marshal(f.intents[id])
		if key != "" {
			f.replies[key] = body
		}
	}
	f.mu.Unlock()
	if mode == "slow" || (mode == "lose-charge" && confirm) {
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
// never reached us is confirmed by the next look at the booking or by
// Stripe's webhook.
func TestPaymentsThatGoWrong(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	flaky := &flakyStripe{mode: "error", intents: map[string]map[string]any{}, replies: map[string][]byte{}, keys: map[string]int{}}
	processor := httptest.NewServer(flaky)
	t.Cleanup(processor.Close)
	stripe := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_x", WebhookSecret: "whsec_boxoffice", APIURL: processor.URL, Timeout: 300 * time.Millisecond})
	ts := newServer(t, pool, func(c *web.SiteConfig) {
		c.Payments = stripe // with a short timeout
		c.StripeSecretKey, c.StripeWebhookSecret = "sk_test_x", "whsec_boxoffice"
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
		reserved := dbtest.Int(t, pool, `SELECT count(*) FROM tickets WHERE booking_id = $1 AND status = 'reserved'`, id)
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

	status := func(id string) string {
		t.Helper()
		var s string
		dbtest.QueryRow(t, pool, `SELECT status FROM bookings WHERE id = $1`, id).Scan(&s)
		return s
	}

	first := hold(tickets[:2])
	code, body := pay(first)
	unavailable("Stripe answering 500", code, body)
	stillHeld("after Stripe's 500s", first)

	flaky.set("slow")
	code, body = pay(first)
	unavailable("Stripe too slow to answer", code, body)
	stillHeld("after Stripe was too slow", first)

	flaky.set("lose-charge")
	code, body = pay(first)
	unavailable("a charge whose answer was lost", code, body)

	flaky.set("up")
	if code, body := pay(first); code != http.StatusOK || body["status"] != "confirmed" {
		t.Fatalf("paying again once Stripe is back: %d %v", code, body)
	}
	flaky.mu.Lock()
	charges, confirms := flaky.charges, 0
	for key, n := range flaky.keys {
		if strings.HasPrefix(key, "boxoffice-pay-") && strings.HasSuffix(key, "-pm_card_visa") {
			confirms += n
		}
	}
	flaky.mu.Unlock()
	if charges != 1 || confirms < 1 {
		t.Errorf("%d charges from %d confirmations (requests: %v); want 1 charge", charges, confirms, flaky.keys)
	}

	// A charge whose answer was lost is confirmed by the fan's next look
	// at the booking, without a webhook...
	flaky.set("lose-charge")
	second := hold(tickets[2:4])
	code, body = pay(second)
	unavailable("second booking, answer lost", code, body)
	if code, b := api(t, "GET", ts.URL+"/api/v1/bookings/"+second, token, nil); code != http.StatusOK || b["status"] != "confirmed" {
		t.Errorf("the next look at a booking paid while we were not listening: %d %v", code, b["status"])
	}

	// ...or by Stripe's webhook, if that comes first.
	third := hold(tickets[4:6])
	code, body = pay(third)
	unavailable("third booking, answer lost", code, body)
	if s := status(third); s != "pending" {
		t.Fatalf("before the webhook: %s", s)
	}
	flaky.mu.Lock()
	var intent string
	for id, in := range flaky.intents {
		if in["metadata"].(map[string]string)["booking_id"] == third {
			intent = id
		}
	}
	charges = flaky.charges
	flaky.mu.Unlock()
	payload := []byte(fmt.Sprintf(`{"id":"evt_flaky","object":"event","api_version":"2023-10-16","type":"payment_intent.succeeded",
		"data":{"object":{"id":%q,"object":"payment_intent","status":"succeeded","amount":5000,"currency":"gbp","metadata":{"booking_id":%q}}}}`, intent, third))
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_boxoffice", Timestamp: time.Now()})
	req, _ := http.NewRequest("POST", ts.URL+"/webhooks/stripe", bytes.NewReader(signed.Payload))
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if s := status(third); res.StatusCode != 200 || s != "confirmed" {
		t.Errorf("after the webhook (%d): %s", res.StatusCode, s)
	}
	if charges != 3 {
		t.Errorf("%d charges for three bookings", charges)
	}
	checkInvariant(t, pool)
}
