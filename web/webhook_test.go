package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

func TestStripeWebhook(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool, func(c *web.SiteConfig) {
		c.StripeSecretKey, c.StripeWebhookSecret = "sk_test_x", "whsec_boxoffice"
		c.Payments = newElementProcessor()
	})
	_, tickets := smallEvent(t, pool, 5)
	token := signUp(t, ts.URL, "hooked@example.com")
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:2]})
	id := int64(held["id"].(float64))
	intent := strings.TrimSuffix(held["payment"].(map[string]any)["client_secret"].(string), "_secret_x")

	succeeded := func(event, intent string, amount int) []byte {
		return []byte(fmt.Sprintf(`{"id":%q,"object":"event","api_version":"2023-10-16","type":"payment_intent.succeeded",
		"data":{"object":{"id":%q,"object":"payment_intent","status":"succeeded","amount":%d,"currency":"gbp","metadata":{"booking_id":"%d"}}}}`,
			event, intent, amount, id))
	}
	payload := succeeded("evt_web_1", intent, 5000)
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

	// A payment that names the booking in its metadata but is not the
	// booking's own intent, or not its total, confirms nothing.
	for i, other := range [][]byte{succeeded("evt_web_other", "pi_someone_elses", 5000), succeeded("evt_web_cheap", intent, 50)} {
		s := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: other, Secret: "whsec_boxoffice", Timestamp: time.Now()})
		if code := post(s.Payload, s.Header); code != http.StatusOK {
			t.Errorf("another payment's webhook %d: %d, want 200 (received, ignored)", i, code)
		}
	}
	if _, b := api(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", ts.URL, id), token, nil); b["status"] != "pending" {
		t.Fatalf("another payment confirmed the booking: %v", b["status"])
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

func TestCheckoutWithPaymentElement(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts, pays := elementServer(t, pool)
	eventID, tickets := smallEvent(t, pool, 5)
	fan := newBrowser(t, ts.URL)
	_, form := fan.get("/signup")
	fan.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"element@example.com"}, "password": {"correct horse battery"}})
	_, page := fan.get(fmt.Sprintf("/event/%d", eventID))
	res, checkout := fan.submit(page, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[0])}})
	element := checkout.Find(`[data-testid="stripe-form"]`)
	if element.AttrOr("data-key", "") != "pk_test_boxoffice" || !strings.HasSuffix(element.AttrOr("data-secret", ""), "_secret_x") ||
		!strings.HasSuffix(element.AttrOr("data-return", ""), res.Request.URL.Path) {
		t.Fatalf("checkout's Payment Element: key %q secret %q return %q", element.AttrOr("data-key", ""), element.AttrOr("data-secret", ""), element.AttrOr("data-return", ""))
	}
	bookingID := strings.TrimPrefix(res.Request.URL.Path, "/bookings/")

	// Stripe sends the fan back before the money is there: still pending.
	returned := func(status string) *goquery.Document {
		t.Helper()
		r, _ := fan.get(res.Request.URL.Path + "?payment_intent=pi_" + bookingID + "&redirect_status=" + status)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != res.Request.URL.Path {
			t.Fatalf("the return from Stripe answers %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		_, doc := fan.get(r.Header.Get("Location"))
		return doc
	}
	back := returned("processing")
	if back.Find(`[data-testid="booking"]`).AttrOr("data-status", "") != "pending" {
		t.Fatal("an unpaid return confirmed the booking")
	}
	// The fan pays in the Payment Element and Stripe sends them back: a
	// moment after the unpaid return, so only a fresh look sees it.
	in, _ := pays.GetIntent(context.Background(), strings.TrimSuffix(element.AttrOr("data-secret", ""), "_secret_x"))
	if _, err := pays.Demo.Charge(context.Background(), payment.Request{Intent: in.ID, Method: "pm_card_visa", Amount: in.Amount, Currency: in.Currency}); err != nil {
		t.Fatal(err)
	}
	back = returned("succeeded")
	if back.Find(`[data-testid="confirmed"]`).Length() != 1 {
		t.Fatalf("a paid return does not confirm: %s", back.Find("main").Text())
	}
}
