package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/db/dbtest"
)

// A fan meets a queued on-sale through the API: holding without a turn
// is 403 queue_required naming the room; joining gives a place; the
// admitter lets them in; then they hold. Joining again keeps the place.
func TestWaitingRoomOverHTTP(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	site := newSite(t, pool)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); site.Queue.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	ts := httptest.NewServer(site)
	t.Cleanup(ts.Close)
	eventID, tickets := smallEvent(t, pool, 10)
	if _, err := pool.Exec(context.Background(), `UPDATE events SET queue = 'always'`); err != nil {
		t.Fatal(err)
	}
	token := signUp(t, ts.URL, "queued@example.com")
	base := fmt.Sprintf("%s/api/v1/events/%d", ts.URL, eventID)

	if code, ev := api(t, "GET", base, "", nil); code != http.StatusOK || ev["queue"] != "always" || ev["on_sale_at"] != nil {
		t.Errorf("event JSON: %d queue %v on_sale_at %v", code, ev["queue"], ev["on_sale_at"])
	}
	code, body := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:2]})
	if code != http.StatusForbidden || errCode(body) != "queue_required" {
		t.Fatalf("holding without a turn: %d %v", code, body)
	}
	if code, _ := api(t, "GET", base+"/queue", "", nil); code != http.StatusUnauthorized {
		t.Errorf("a place without signing in: %d", code)
	}
	if code, body := api(t, "GET", base+"/queue", token, nil); code != http.StatusNotFound || errCode(body) != "not_in_queue" {
		t.Errorf("a place before joining: %d %v", code, body)
	}
	code, place := api(t, "POST", base+"/queue", token, nil)
	if code != http.StatusOK {
		t.Fatalf("join: %d %v", code, place)
	}
	if place["seats_left"] != float64(10) {
		t.Errorf("a place says %v seats left of 10", place["seats_left"])
	}
	for _, k := range []string{"state", "position", "ahead", "estimated_wait_s", "admitted_until"} {
		if _, ok := place[k]; !ok {
			t.Errorf("a place has no %q: %v", k, place)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for place["state"] != "admitted" {
		if time.Now().After(deadline) {
			t.Fatalf("not admitted: %v", place)
		}
		time.Sleep(50 * time.Millisecond)
		_, place = api(t, "GET", base+"/queue", token, nil)
	}
	if until, _ := place["admitted_until"].(string); until == "" || place["position"] != float64(1) {
		t.Errorf("admitted place: %v", place)
	}
	if _, again := api(t, "POST", base+"/queue", token, nil); again["position"] != place["position"] || again["state"] != "admitted" {
		t.Errorf("joining again: %v, was %v", again, place)
	}
	if code, body := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:2]}); code != http.StatusCreated {
		t.Fatalf("holding after admission: %d %v", code, body)
	}
}

// On the page: an event that goes on sale later shows when, with a
// countdown and the room's button; joining leads to a page that follows
// the fan's place by itself.
func TestWaitingRoomPages(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	eventID, tickets := smallEvent(t, pool, 10)
	if _, err := pool.Exec(context.Background(), `UPDATE events SET queue = 'always', on_sale_at = now() + interval '10 minutes'`); err != nil {
		t.Fatal(err)
	}
	fan := newBrowser(t, ts.URL)
	_, form := fan.get("/signup")
	fan.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"room@example.com"}, "password": {"correct horse battery"}})
	_, page := fan.get(fmt.Sprintf("/event/%d", eventID))
	if page.Find(`[data-testid="countdown"]`).Length() != 1 || page.Find(`[data-testid="room-join"]`).Length() != 1 {
		t.Fatalf("before the on-sale the page has no countdown or no way into the room: %q", pageText(page))
	}
	res, doc := fan.submit(page, `[data-testid="room"] form`, nil)
	if res.StatusCode != http.StatusOK || doc.Find(`[data-testid="queue"]`).AttrOr("data-state", "") != "waiting" {
		t.Fatalf("after joining: %d %q", res.StatusCode, pageText(doc))
	}
	if !strings.Contains(doc.Find(`[data-testid="queue-draw"]`).Text(), "random order") || res.Header.Get("Retry-After") == "" {
		t.Errorf("before the open the room does not explain the draw, or does not say when to look again")
	}
	if refresh := doc.Find(`noscript`).Text(); !strings.Contains(refresh, `http-equiv="refresh"`) {
		t.Error("without script the page would not follow the place")
	}
	// Holding before the on-sale says when it is, at the venue's time
	// (London's), not UTC.
	res, doc = fan.submit(page, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[0])}})
	if msg := doc.Find(`[data-testid="map-message"]`).Text(); res.StatusCode != http.StatusForbidden || !strings.Contains(msg, "go on sale at") ||
		!strings.Contains(msg, "GMT") && !strings.Contains(msg, "BST") {
		t.Errorf("holding before the on-sale: %d %q", res.StatusCode, msg)
	}
}

// errCode is the code of an API error answer.
func errCode(body map[string]any) any {
	e, _ := body["error"].(map[string]any)
	return e["code"]
}
