package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/mail"
	"github.com/boxoffice/boxoffice/app/mail/mailtest"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// Paying sends the fan their tickets: the booking, a printable code for
// each ticket and the event for their calendar, as one message written
// in the payment's own transaction.
func TestConfirmationMail(t *testing.T) {
	t.Parallel()
	pit := mailtest.Start(t, 0)
	pool := dbtest.New(t)
	site := newSite(t, pool)
	ts := httptest.NewServer(site)
	t.Cleanup(ts.Close)
	_, tickets := smallEvent(t, pool, 4)
	token := signUp(t, ts.URL, "fan@example.com")
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:2]})
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("%d messages before paying", n)
	}
	api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%v/pay", ts.URL, held["id"]), token, map[string]string{"payment_method": "pm_card_visa"})
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM outbox WHERE kind = 'confirmation' AND to_addr = 'fan@example.com'`); n != 1 {
		t.Fatalf("%d confirmations written with the payment, want 1", n)
	}
	smtp, err := mail.ParseSMTP(mailtest.SMTPURL(pit.SMTPPort))
	if err != nil {
		t.Fatal(err)
	}
	sender := mail.NewSender(pool, smtp, time.Now, slog.New(slog.DiscardHandler))
	sender.Render = site.Mail.Render
	if n, err := sender.SendDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("send: %d %v", n, err)
	}
	list := pit.Messages(t)
	if len(list) != 1 || !strings.HasPrefix(list[0].Subject, "Your tickets: ") {
		t.Fatalf("arrived: %+v", list)
	}
	msg := pit.Message(t, list[0].ID)
	var names []string
	for _, a := range msg.Attachments {
		names = append(names, a.FileName)
	}
	want := fmt.Sprintf("event.ics ticket-%d.png ticket-%d.png", tickets[0], tickets[1])
	if !strings.Contains(msg.Text, "Stalls, row A, seat 1") || !strings.Contains(msg.HTML, "Open your tickets") || strings.Join(names, " ") != want {
		t.Errorf("the message: text %q, HTML has the link %v, attachments %v (want %s)", msg.Text, strings.Contains(msg.HTML, "Open your tickets"), names, want)
	}
}

// Money given back is told: a part refund, then the rest when the event
// is cancelled, each in a message written with the refund.
func TestRefundAndCancellationMail(t *testing.T) {
	t.Parallel()
	pit := mailtest.Start(t, 0)
	pool := dbtest.New(t)
	site := newSite(t, pool)
	ts := httptest.NewServer(site)
	t.Cleanup(ts.Close)
	org := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	_, created := postSeatMap(t, ts.URL, org, venue.Example)
	_, ev := api(t, "POST", ts.URL+"/api/v1/manage/events", org, map[string]any{"venue_id": created["id"], "name": "Rain Night",
		"type": "concert", "starts_at": "2099-05-01T20:00", "prices": []map[string]any{{"price": 2000, "sections": []string{"Balcony"}}}})
	eventID := int64(ev["id"].(float64))
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/publish", ts.URL, eventID), org, nil)
	tickets := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE event_id = $1 ORDER BY id LIMIT 2`, eventID)
	fan := signUp(t, ts.URL, "fan@example.com")
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", fan, map[string]any{"ticket_ids": tickets})
	api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%v/pay", ts.URL, held["id"]), fan, map[string]string{"payment_method": "pm_card_visa"})
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/bookings/%v/refund", ts.URL, held["id"]), org, map[string]int{"amount": 500})
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/cancel", ts.URL, eventID), org, nil)
	var kinds string
	dbtest.QueryRow(t, pool, `SELECT string_agg(kind || ':' || (payload->>'amount'), ',' ORDER BY id) FROM outbox WHERE kind <> 'confirmation'`).Scan(&kinds)
	if kinds != "refund:500,cancelled:3500" {
		t.Errorf("messages written: %s, want refund:500,cancelled:3500", kinds)
	}
	smtp, _ := mail.ParseSMTP(mailtest.SMTPURL(pit.SMTPPort))
	sender := mail.NewSender(pool, smtp, time.Now, slog.New(slog.DiscardHandler))
	sender.Render = site.Mail.Render
	if n, err := sender.SendDue(context.Background()); err != nil || n != 3 {
		t.Fatalf("send: %d %v", n, err)
	}
	var subjects []string
	for _, m := range pit.Messages(t) {
		subjects = append(subjects, m.Subject)
	}
	got := strings.Join(subjects, " | ")
	// The confirmation had not left when the booking was refunded in
	// full: it is not sent, since it would promise tickets no longer good.
	if got != "Cancelled: Rain Night (refunded) | Your refund: Rain Night" {
		t.Errorf("arrived %q, want the refund and the cancellation only", got)
	}
}

// A fan who forgot their password gets a link by e-mail; it works once,
// signs every other device out, and the form tells nobody who has an
// account. The link does not stay in the outbox once sent.
func TestPasswordResetByMail(t *testing.T) {
	t.Parallel()
	pit := mailtest.Start(t, 0)
	pool := dbtest.New(t)
	site := newSite(t, pool)
	ts := httptest.NewServer(site)
	t.Cleanup(ts.Close)
	oldToken := signUp(t, ts.URL, "forgetful@example.com")
	b := newBrowser(t, ts.URL)
	_, page := b.get("/password/forgot")
	_, sent := b.submit(page, `form[data-testid="forgot-form"]`, url.Values{"email": {"forgetful@example.com"}})
	_, nobody := b.submit(page, `form[data-testid="forgot-form"]`, url.Values{"email": {"nobody@example.com"}})
	if sent.Find(`[data-testid="reset-sent"]`).Text() == "" || sent.Find(`[data-testid="reset-sent"]`).Text() != nobody.Find(`[data-testid="reset-sent"]`).Text() {
		t.Error("the answer for an account and for none differ")
	}
	smtp, _ := mail.ParseSMTP(mailtest.SMTPURL(pit.SMTPPort))
	sender := mail.NewSender(pool, smtp, time.Now, slog.New(slog.DiscardHandler))
	if n, err := sender.SendDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("send: %d %v", n, err)
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM outbox WHERE text_body LIKE '%token=%'`); n != 0 {
		t.Error("the reset link stayed in the outbox after it was sent")
	}
	msg := pit.Message(t, pit.Messages(t)[0].ID)
	i := strings.Index(msg.Text, "/password/reset?token=")
	if i < 0 {
		t.Fatalf("no link in %q", msg.Text)
	}
	link := strings.Fields(msg.Text[i:])[0]
	_, form := b.get(link)
	res2, done := b.submit(form, `form[data-testid="reset-form"]`, url.Values{"password": {"a brand new passphrase"}})
	if res2.StatusCode != 200 || done.Find(`[data-testid="form-error"]`).Length() != 0 {
		t.Fatalf("setting the new password: %d %q", res2.StatusCode, done.Find(`[data-testid="form-error"]`).Text())
	}
	if code, _ := api(t, "POST", ts.URL+"/api/v1/sessions", "", map[string]string{"email": "forgetful@example.com", "password": "correct horse battery"}); code != http.StatusUnauthorized {
		t.Errorf("the old password still signs in: %d", code)
	}
	if code, _ := api(t, "POST", ts.URL+"/api/v1/sessions", "", map[string]string{"email": "forgetful@example.com", "password": "a brand new passphrase"}); code != http.StatusCreated {
		t.Errorf("the new password does not sign in: %d", code)
	}
	if code, _ := api(t, "GET", ts.URL+"/api/v1/bookings", oldToken, nil); code != http.StatusUnauthorized {
		t.Errorf("a session from before the reset still works: %d", code)
	}
	_, again := b.get(link)
	_, refused := b.submit(again, `form[data-testid="reset-form"]`, url.Values{"password": {"yet another passphrase"}})
	if !strings.Contains(refused.Find(`[data-testid="form-error"]`).Text(), "expired or was used") {
		t.Errorf("the link used twice: %q", refused.Find(`[data-testid="form-error"]`).Text())
	}
}

// A fan's mail speaks their language: the one they signed up in (here
// chosen with the switcher before), or chose with the switcher while
// signed in. The confirmation's subject, words, money and dates are
// Spanish for a Spanish-speaking fan, and the reset link's message too.
func TestMailInTheFansLanguage(t *testing.T) {
	t.Parallel()
	pit := mailtest.Start(t, 0)
	pool := dbtest.New(t)
	site := newSite(t, pool)
	ts := httptest.NewServer(site)
	t.Cleanup(ts.Close)
	eventID, tickets := smallEvent(t, pool, 4)
	language := func(email string) string {
		var code string
		dbtest.QueryRow(t, pool, `SELECT language FROM users WHERE email = $1`, email).Scan(&code)
		return code
	}
	signUpIn := func(b *browser, email string) {
		_, form := b.get("/signup")
		b.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {email}, "password": {"correct horse battery"}, "name": {"Fan"}})
	}

	ana := newBrowser(t, ts.URL)
	ana.get("/?lang=es")
	signUpIn(ana, "ana@example.com")
	ken := newBrowser(t, ts.URL)
	signUpIn(ken, "ken@example.com")
	if es, en := language("ana@example.com"), language("ken@example.com"); es != "es" || en != "en" {
		t.Errorf("signed up in Spanish: %q; in English: %q", es, en)
	}
	ken.get("/account/bookings?lang=ja")
	if got := language("ken@example.com"); got != "ja" {
		t.Errorf("after choosing Japanese while signed in: %q", got)
	}

	_, page := ana.get(fmt.Sprintf("/event/%d", eventID))
	_, checkout := ana.submit(page, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[0]), fmt.Sprint(tickets[1])}})
	if got := checkout.Find("h1").Text(); got != "Finalizar compra" {
		t.Errorf("checkout's heading in Spanish: %q", got)
	}
	if _, paid := ana.submit(checkout, `form[data-testid="pay-form"]`, url.Values{"payment_method": {"pm_card_visa"}}); paid.Find(`[data-testid="confirmed"]`).Length() != 1 {
		t.Fatalf("not paid: %s", paid.Find("main").Text())
	}
	smtp, _ := mail.ParseSMTP(mailtest.SMTPURL(pit.SMTPPort))
	sender := mail.NewSender(pool, smtp, time.Now, slog.New(slog.DiscardHandler))
	sender.Render = site.Mail.Render
	if n, err := sender.SendDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("send: %d %v", n, err)
	}
	list := pit.Messages(t)
	if len(list) != 1 || list[0].Subject != "Tus entradas: Test Night" {
		t.Fatalf("arrived: %+v, want the confirmation in Spanish", list)
	}
	msg := pit.Message(t, list[0].ID)
	for _, want := range []string{"Ya tienes tus entradas para Test Night.", "Stalls, fila A, asiento 1 (25,00 £)", "importe pagado 50,00 £", "En la puerta, abre tu reserva"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("the text has no %q:\n%s", want, msg.Text)
		}
	}
	var startsAt time.Time
	dbtest.QueryRow(t, pool, `SELECT starts_at FROM events WHERE id = $1`, eventID).Scan(&startsAt)
	london, _ := time.LoadLocation("Europe/London")
	es, _ := locale.Default().Get("es")
	if when := es.DateTime(startsAt, london); !strings.Contains(msg.Text, when) || !strings.Contains(msg.HTML, when) {
		t.Errorf("the date is not %q, in Spanish in the venue's zone:\n%s", when, msg.Text)
	}
	if !strings.Contains(msg.HTML, `lang="es"`) || !strings.Contains(msg.HTML, "Ver tus entradas") || strings.Contains(msg.HTML, "Open your tickets") {
		t.Errorf("the HTML part is not in Spanish:\n%s", msg.HTML)
	}
	if got := pit.Headers(t, list[0].ID)["Content-Language"]; len(got) != 1 || got[0] != "es" {
		t.Errorf("Content-Language %v", got)
	}

	// The reset link goes out in the account's language, whatever the
	// language of the form that asked for it.
	someone := newBrowser(t, ts.URL)
	_, forgot := someone.get("/password/forgot")
	someone.submit(forgot, `form[data-testid="forgot-form"]`, url.Values{"email": {"ana@example.com"}})
	var subject, text string
	dbtest.QueryRow(t, pool, `SELECT subject, text_body FROM outbox WHERE kind = 'password_reset'`).Scan(&subject, &text)
	if subject != "Elige una contraseña nueva" || !strings.HasPrefix(text, "Hola, Fan:") {
		t.Errorf("the reset message: %q %q", subject, text)
	}
}
