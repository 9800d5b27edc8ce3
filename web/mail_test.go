package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app/mail"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// startMailpit starts a real SMTP server with an HTTP API (mailpit) and
// returns its SMTP URL and its API's address. Without mailpit the test
// skips, except in CI, which installs it.
func startMailpit(t *testing.T) (smtpURL, apiURL string) {
	t.Helper()
	path := os.Getenv("BOXOFFICE_MAILPIT")
	if path == "" {
		var err error
		if path, err = exec.LookPath("mailpit"); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("no mailpit: go install github.com/axllent/mailpit@v1.33.1, or set BOXOFFICE_MAILPIT")
			}
			t.Skip("no mailpit on this machine; skipping")
		}
	}
	port := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	smtpPort, httpPort := port(), port()
	cmd := exec.Command(path, "--smtp", fmt.Sprintf("127.0.0.1:%d", smtpPort), "--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--database", t.TempDir()+"/mailpit.db", "--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--quiet")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	apiURL = fmt.Sprintf("http://127.0.0.1:%d/api/v1", httpPort)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(apiURL + "/messages"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("mailpit did not start")
		}
	}
	return fmt.Sprintf("smtp://127.0.0.1:%d?from=tickets@boxoffice.test&tls=none", smtpPort), apiURL
}

// Paying sends the fan their tickets: the booking, a printable code for
// each ticket and the event for their calendar, as one message written
// in the payment's own transaction.
func TestConfirmationMail(t *testing.T) {
	t.Parallel()
	smtpURL, mailAPI := startMailpit(t)
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
	smtp, err := mail.ParseSMTP(smtpURL)
	if err != nil {
		t.Fatal(err)
	}
	sender := mail.NewSender(pool, smtp, time.Now, slog.New(slog.DiscardHandler))
	sender.Render = site.Mail.Render
	if n, err := sender.SendDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("send: %d %v", n, err)
	}
	res, err := http.Get(mailAPI + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Messages []struct{ ID, Subject string }
	}
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if len(list.Messages) != 1 || !strings.HasPrefix(list.Messages[0].Subject, "Your tickets: ") {
		t.Fatalf("arrived: %+v", list.Messages)
	}
	res, err = http.Get(mailAPI + "/message/" + list.Messages[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Text, HTML  string
		Attachments []struct{ FileName string }
	}
	json.NewDecoder(res.Body).Decode(&msg)
	res.Body.Close()
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
	smtpURL, mailAPI := startMailpit(t)
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
	smtp, _ := mail.ParseSMTP(smtpURL)
	sender := mail.NewSender(pool, smtp, time.Now, slog.New(slog.DiscardHandler))
	sender.Render = site.Mail.Render
	if n, err := sender.SendDue(context.Background()); err != nil || n != 3 {
		t.Fatalf("send: %d %v", n, err)
	}
	res, err := http.Get(mailAPI + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Messages []struct{ Subject, Snippet string }
	}
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	var subjects []string
	for _, m := range list.Messages {
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
	smtpURL, mailAPI := startMailpit(t)
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
	smtp, _ := mail.ParseSMTP(smtpURL)
	sender := mail.NewSender(pool, smtp, time.Now, slog.New(slog.DiscardHandler))
	if n, err := sender.SendDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("send: %d %v", n, err)
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM outbox WHERE text_body LIKE '%token=%'`); n != 0 {
		t.Error("the reset link stayed in the outbox after it was sent")
	}
	res, err := http.Get(mailAPI + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Messages []struct{ ID string } }
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	res, err = http.Get(mailAPI + "/message/" + list.Messages[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct{ Text string }
	json.NewDecoder(res.Body).Decode(&msg)
	res.Body.Close()
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
