package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	h := newSite(t, pool)
	monitor := h.Monitor
	ts, metrics := httptest.NewServer(h), httptest.NewServer(h.MetricsHandler())
	t.Cleanup(ts.Close)
	t.Cleanup(metrics.Close)
	_, tickets := smallEvent(t, pool, 4)
	token := signUp(t, ts.URL, "metrics@example.com")
	api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:2]})

	scrape := func() string {
		res, err := http.Get(metrics.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("/metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		return string(b)
	}
	first := scrape()
	if strings.Contains(first, "boxoffice_invariant_violations{") {
		t.Error("violation figures shown before the monitor has run")
	}
	// The hold a moment ago: the waiting room's auto rooms steer by these.
	for _, want := range []string{"boxoffice_recent_holds 1", "boxoffice_recent_hold_p99_seconds "} {
		if !strings.Contains(first, want) {
			t.Errorf("/metrics just after a hold lacks %q", want)
		}
	}
	if _, err := monitor.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A double sale written behind the booking code's back.
	if _, err := pool.Exec(context.Background(), `
		WITH b AS (INSERT INTO bookings (user_id, event_id, status, total, currency, expires_at, confirmed_at)
			SELECT id, 1, 'confirmed', 2500, 'GBP', now(), now() FROM users LIMIT 1 RETURNING id)
		INSERT INTO booking_tickets (booking_id, ticket_id, price) SELECT id, $1, 2500 FROM b`, tickets[0]); err != nil {
		t.Fatal(err)
	}
	healthy := scrape()
	if _, err := monitor.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := scrape()
	for _, want := range []string{
		`boxoffice_invariant_violations{check="sold_ticket_not_confirmed"} 0`,
		`boxoffice_http_requests_total{code="201"} 3`, // sign up, log in, hold
		"boxoffice_invariant_runs_total 1",
		"boxoffice_invariant_events_checked 1",
		"go_goroutines ",
		`boxoffice_db_connections{state="max"} `,
		"boxoffice_db_acquires_total ",
	} {
		if !strings.Contains(healthy, want) {
			t.Errorf("/metrics after one healthy run lacks %q", want)
		}
	}
	for _, want := range []string{
		`boxoffice_invariant_violations{check="ticket_in_two_live_bookings"} 1`,
		"boxoffice_invariant_runs_total 2",
	} {
		if !strings.Contains(after, want) {
			t.Errorf("/metrics after a double sale lacks %q", want)
		}
	}
}
