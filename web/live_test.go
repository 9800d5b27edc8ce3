package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

// sse is one Server-Sent Event as a client reads it.
type sse struct {
	ID, Event, Raw string
	Data           struct {
		Version int64 `json:"version"`
		Tickets []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"tickets"`
	}
}

// statuses is the event's tickets as ticket id → status.
func (e sse) statuses() map[int64]string {
	out := map[int64]string{}
	for _, t := range e.Data.Tickets {
		out[t.ID] = t.Status
	}
	return out
}

// stream follows url's Server-Sent Events until the test ends.
type stream struct {
	t      *testing.T
	res    *http.Response
	events chan sse
}

func openStream(t *testing.T, url, lastEventID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &stream{t: t, res: res, events: make(chan sse, 100)}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		return s
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("stream Content-Type %q", ct)
	}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		var e sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.Event != "" {
					s.events <- e
				}
				e = sse{}
			case strings.HasPrefix(line, "id: "):
				e.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.Raw = line[6:]
				if err := json.Unmarshal([]byte(line[6:]), &e.Data); err != nil {
					e.Event = "unreadable: " + err.Error()
				}
			}
		}
	}()
	return s
}

// next waits for the stream's next event.
func (s *stream) next() sse {
	s.t.Helper()
	select {
	case e, ok := <-s.events:
		if !ok {
			s.t.Fatal("the stream ended")
		}
		return e
	case <-time.After(10 * time.Second):
		s.t.Fatal("no stream event within 10 s")
	}
	return sse{}
}

func TestStreamFollowsSeats(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	eventID, tickets := smallEvent(t, pool, 6)
	ts := newServer(t, pool, func(c *web.SiteConfig) { c.StreamsPerAddress = 3 })
	url := fmt.Sprintf("%s/api/v1/events/%d/stream", ts.URL, eventID)
	token := signUp(t, ts.URL, "fan@example.com")

	s := openStream(t, url, "")
	first := s.next()
	if first.Event != "snapshot" || first.ID != "0" || len(first.Data.Tickets) != 6 || first.statuses()[tickets[0]] != "available" {
		t.Fatalf("first event = %+v, want a snapshot of 6 available tickets at version 0", first)
	}

	code, booking := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:2]})
	if code != http.StatusCreated {
		t.Fatalf("hold = %d %v", code, booking)
	}
	held := s.next()
	if held.Event != "seats" || held.ID != "1" || held.Data.Version != 1 || len(held.Data.Tickets) != 2 ||
		held.statuses()[tickets[0]] != "reserved" || held.statuses()[tickets[1]] != "reserved" {
		t.Fatalf("after a hold: %+v, want tickets %v reserved at version 1", held, tickets[:2])
	}
	if code, _ := api(t, "DELETE", fmt.Sprintf("%s/api/v1/bookings/%v", ts.URL, booking["id"]), token, nil); code != http.StatusOK {
		t.Fatalf("cancel = %d", code)
	}
	freed := s.next()
	if freed.ID != "2" || freed.statuses()[tickets[0]] != "available" || freed.statuses()[tickets[1]] != "available" {
		t.Fatalf("after cancelling: %+v", freed)
	}

	// A client that saw version 1 gets what it missed, not a snapshot.
	resumed := openStream(t, url, "1").next()
	if resumed.Event != "seats" || resumed.ID != "2" || len(resumed.Data.Tickets) != 2 || resumed.statuses()[tickets[1]] != "available" {
		t.Errorf("resumed from 1: %+v, want the 2 freed tickets at version 2", resumed)
	}
	// One from a version the server does not know starts afresh.
	if again := openStream(t, url, "999").next(); again.Event != "snapshot" || again.ID != "2" || len(again.Data.Tickets) != 6 {
		t.Errorf("resumed from an unknown version: %+v, want a snapshot", again)
	}

	// Past the per-address cap: a 429 that says what to do.
	over := openStream(t, url, "")
	if over.res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a fourth stream from one address = %d, want 429", over.res.StatusCode)
	}
	for _, bad := range []string{"?section=abc", "?section=99"} {
		if code, body := getJSON(t, url+bad); code != http.StatusBadRequest {
			t.Errorf("stream%s = %d %v, want 400", bad, code, body)
		}
	}
	if code, _ := getJSON(t, fmt.Sprintf("%s/api/v1/events/999/stream", ts.URL)); code != http.StatusNotFound {
		t.Errorf("stream of an unknown event = %d, want 404", code)
	}
}

func TestStreamShowsHoldsRunningOut(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	eventID, tickets := smallEvent(t, pool, 3)
	ts := newServer(t, pool)
	s := openStream(t, fmt.Sprintf("%s/api/v1/events/%d/stream?section=1", ts.URL, eventID), "")
	if first := s.next(); first.Event != "snapshot" {
		t.Fatalf("first event %q", first.Event)
	}
	// A hold that ends in a second, and no sweeper: the stream says so by itself.
	hold(t, pool, eventID, time.Now().Add(time.Second), tickets[0])
	if e := s.next(); e.statuses()[tickets[0]] != "reserved" {
		t.Fatalf("held: %+v", e)
	}
	if e := s.next(); e.statuses()[tickets[0]] != "available" {
		t.Fatalf("after the hold ran out: %+v", e)
	}
}

// TestTwoServersSeeEachOthersHolds runs two Boxoffice servers on one
// database, each with its own pool, as two processes would.
func TestTwoServersSeeEachOthersHolds(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t, true)
	var servers [2]string
	for i := range servers {
		pool, err := db.NewPool(context.Background(), url, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		if i == 0 {
			smallEvent(t, pool, 8)
		}
		servers[i] = newServer(t, pool).URL
	}
	a, b := servers[0], servers[1]
	tickets := func(base string) map[int64]string {
		code, body := getJSON(t, base+"/api/v1/events/1/tickets")
		if code != http.StatusOK {
			t.Fatalf("tickets = %d %v", code, body)
		}
		out := map[int64]string{}
		for _, x := range body["tickets"].([]any) {
			m := x.(map[string]any)
			out[int64(m["id"].(float64))] = m["status"].(string)
		}
		return out
	}
	before := tickets(b) // B has the event in memory now
	s := openStream(t, b+"/api/v1/events/1/stream", "")
	s.next()

	token := signUp(t, a, "fan@example.com")
	var ids []int64
	for id := range before {
		if len(ids) < 3 {
			ids = append(ids, id)
		}
	}
	held := time.Now()
	if code, body := api(t, "POST", a+"/api/v1/bookings", token, map[string]any{"ticket_ids": ids}); code != http.StatusCreated {
		t.Fatalf("hold through A = %d %v", code, body)
	}
	e := s.next()
	for _, id := range ids {
		if e.statuses()[id] != "reserved" {
			t.Fatalf("B's stream after A's hold: %+v", e)
		}
	}
	seen := time.Since(held)
	for id, status := range tickets(b) {
		want := "available"
		if id == ids[0] || id == ids[1] || id == ids[2] {
			want = "reserved"
		}
		if status != want {
			t.Errorf("B lists ticket %d %s, want %s", id, status, want)
		}
	}
	t.Logf("a hold through A reached B's stream %s after it was made", seen.Round(time.Millisecond))
}

func TestBestAvailable(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	eventID, tickets := smallEvent(t, pool, 10)
	ts := newServer(t, pool)
	token := signUp(t, ts.URL, "fan@example.com")
	post := func(body map[string]any) (int, map[string]any) {
		return api(t, "POST", ts.URL+"/api/v1/bookings", token, body)
	}

	// One row of ten seats facing the stage: two together are the middle two.
	code, b := post(map[string]any{"event_id": eventID, "quantity": 2})
	if code != http.StatusCreated {
		t.Fatalf("best 2 = %d %v", code, b)
	}
	if got := toIDs(b["ticket_ids"]); len(got) != 2 || got[0] != tickets[4] || got[1] != tickets[5] {
		t.Errorf("best 2 of an empty row: %v, want the middle seats %v", got, tickets[4:6])
	}
	for _, bad := range []map[string]any{
		{"event_id": eventID, "quantity": 0},
		{"event_id": eventID, "quantity": 9},
		{"event_id": eventID, "quantity": 2, "ticket_ids": []int64{tickets[0]}},
		{"event_id": eventID, "quantity": 2, "section_id": 99},
		{"event_id": eventID, "quantity": 2, "max_price": -1},
		{"quantity": 2},
	} {
		if code, body := post(bad); code != http.StatusBadRequest {
			t.Errorf("%v = %d %v, want 400", bad, code, body)
		}
	}
	if code, body := post(map[string]any{"event_id": 999, "quantity": 2}); code != http.StatusNotFound {
		t.Errorf("best available at an unknown event = %d %v", code, body)
	}
	// Four free on each side: five together do not fit, nor anything at £10.
	for _, none := range []map[string]any{
		{"event_id": eventID, "quantity": 5},
		{"event_id": eventID, "quantity": 1, "max_price": 1000},
	} {
		code, body := post(none)
		e, _ := body["error"].(map[string]any)
		if code != http.StatusConflict || e["code"] != "no_seats_together" || e["message"] == "" {
			t.Errorf("%v = %d %v, want 409 no_seats_together with a message", none, code, body)
		}
	}

	// The event page offers the same as a form.
	fan := newBrowser(t, ts.URL)
	_, page := fan.get(fmt.Sprintf("/event/%d", eventID))
	if page.Find(`[data-testid="together-form"] select[name="quantity"] option`).Length() != 8 {
		t.Error("the best-available form does not offer 1 to 8 seats")
	}
	res, doc := fan.submit(page, `form[data-testid="together-form"]`, url.Values{"quantity": {"3"}})
	if res.Request.URL.Path != "/login" {
		t.Fatalf("best available signed out went to %s", res.Request.URL)
	}
	_, signup := fan.get(doc.Find(`[data-testid="to-signup"]`).AttrOr("href", ""))
	_, page = fan.submit(signup, `form[data-testid="auth-form"]`, url.Values{
		"email": {"form@example.com"}, "password": {"correct horse battery"}, "name": {"Jo Fan"}})
	res, checkout := fan.submit(page, `form[data-testid="together-form"]`, url.Values{"quantity": {"3"}})
	if !strings.HasPrefix(res.Request.URL.Path, "/bookings/") || checkout.Find(`[data-testid="booked-seat"]`).Length() != 3 {
		t.Fatalf("best 3 in the form went to %s", res.Request.URL)
	}
	res, again := fan.submit(page, `form[data-testid="together-form"]`, url.Values{"quantity": {"5"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(again.Find(`[data-testid="map-message"]`).Text(), "no 5 seats together") {
		t.Errorf("best 5 with none left together: %d %q", res.StatusCode, again.Find(`[data-testid="map-message"]`).Text())
	}
}

// TestCountsFollowHoldsRunningOut checks that seats left, counted once per
// change of the live model, still go back up when a hold runs out with no
// change heard (no sweeper here).
func TestCountsFollowHoldsRunningOut(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	eventID, tickets := smallEvent(t, pool, 3)
	ts := newServer(t, pool)
	available := func() int {
		code, body := getJSON(t, fmt.Sprintf("%s/api/v1/events/%d", ts.URL, eventID))
		if code != http.StatusOK {
			t.Fatalf("event JSON = %d", code)
		}
		return int(body["available"].(float64))
	}
	if n := available(); n != 3 {
		t.Fatalf("available before the hold: %d", n)
	}
	hold(t, pool, eventID, time.Now().Add(time.Second), tickets[0])
	for _, want := range []int{2, 3} {
		deadline := time.Now().Add(10 * time.Second)
		for available() != want {
			if time.Now().After(deadline) {
				t.Fatalf("available never became %d", want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestStreamOfCounts follows an event's section counts (?counts=1), as a
// large venue's section overview does.
func TestStreamOfCounts(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	eventID, tickets := smallEvent(t, pool, 6)
	ts := newServer(t, pool)
	url := fmt.Sprintf("%s/api/v1/events/%d/stream?counts=1", ts.URL, eventID)
	type counts struct {
		Version   int64
		Available int
		Sections  []struct{ ID, Available, Total int64 }
	}
	s := openStream(t, url, "")
	read := func() (string, counts) {
		t.Helper()
		e := s.next()
		var c counts
		if err := json.Unmarshal([]byte(e.Raw), &c); err != nil {
			t.Fatalf("counts message %q: %v", e.Raw, err)
		}
		return e.Event, c
	}
	if name, c := read(); name != "counts" || c.Available != 6 || len(c.Sections) != 1 || c.Sections[0].Available != 6 || c.Sections[0].Total != 6 {
		t.Fatalf("first counts: %s %+v", name, c)
	}
	hold(t, pool, eventID, time.Now().Add(time.Hour), tickets[0], tickets[1])
	if _, c := read(); c.Available != 4 || len(c.Sections) != 1 || c.Sections[0].Available != 4 {
		t.Fatalf("after a hold of two: %+v", c)
	}
	for _, bad := range []string{url + "&section=1", url[:len(url)-1] + "yes"} {
		if code, body := getJSON(t, bad); code != http.StatusBadRequest {
			t.Errorf("%s = %d %v, want 400", bad, code, body)
		}
	}
}
