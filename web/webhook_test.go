package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

func TestStripeWebhook(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	stripe := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_x", WebhookSecret: "whsec_boxoffice"})
	ts := newServer(t, pool, func(c *web.Config) { c.Webhooks = stripe })
	_, tickets := smallEvent(t, pool, 5)
	token := signUp(t, ts.URL, "hooked@example.com")
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:2]})
	id := int64(held["id"].(float64))

	payload := []byte(fmt.Sprintf(`{"id":"evt_web_1","object":"event","api_version":"2023-10-16","type":"payment_intent.succeeded",
		"data":{"object":{"id":"pi_web","object":"payment_intent","status":"succeeded","metadata":{"booking_id":"%d"}}}}`, id))
	post := func(body []byte, signature string) int {
		req, _ := http.NewRequest("POST", ts.URL+"/webhooks/stripe", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", signature)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	forged := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_attacker", Timestamp: time.Now()})
	if code := post(forged.Payload, forged.Header); code != http.StatusBadRequest {
		t.Errorf("forged signature: %d, want 400", code)
	}
	if _, b := api(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", ts.URL, id), token, nil); b["status"] != "pending" {
		t.Fatalf("a forged webhook changed the booking: %v", b["status"])
	}

	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_boxoffice", Timestamp: time.Now()})
	for i := range 3 {
		if code := post(signed.Payload, signed.Header); code != http.StatusOK {
			t.Fatalf("delivery %d: %d", i+1, code)
		}
	}
	_, b := api(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", ts.URL, id), token, nil)
	if b["status"] != "confirmed" || b["payment"].(map[string]any)["provider"] != "stripe" {
		t.Errorf("after the webhook: %v", b)
	}
	// Without Stripe configured there is no webhook to call.
	plain := newServer(t, pool)
	req, _ := http.NewRequest("POST", plain.URL+"/webhooks/stripe", bytes.NewReader(signed.Payload))
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != http.StatusNotFound {
		t.Errorf("webhook without Stripe: %d", res.StatusCode)
	}
}
