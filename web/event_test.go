package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// eventAt returns the id of the first event in a venue of about capacity
// seats (the demo has one hall of 2,040 and stadiums over 40,000).
func eventAt(t *testing.T, pool *pgxpool.Pool, minSeats, maxSeats int) int64 {
	t.Helper()
	var id int64
	dbtest.QueryRow(t, pool, `
		SELECT e.id FROM events e JOIN venues v ON v.id = e.venue_id
		WHERE v.capacity BETWEEN $1 AND $2 ORDER BY e.starts_at, e.id LIMIT 1`, minSeats, maxSeats).Scan(&id)
	return id
}

// availableSQL counts tickets a fan can buy now: a hold that ran out counts.
const availableSQL = `SELECT count(*) FROM tickets WHERE event_id = $1
	AND (status = 'available' OR (status = 'reserved' AND reserved_until <= now()))`

// hold puts tickets on hold until until, as a pending booking would.
func hold(t *testing.T, pool *pgxpool.Pool, eventID int64, until time.Time, ticketIDs ...int64) {
	t.Helper()
	var userID, bookingID int64
	email := fmt.Sprintf("holder%d@example.com", time.Now().UnixNano())
	dbtest.QueryRow(t, pool, `INSERT INTO users (email, name) VALUES ($1, 'Holder') RETURNING id`, email).Scan(&userID)
	dbtest.QueryRow(t, pool, `INSERT INTO bookings (user_id, event_id, total, currency, expires_at)
		SELECT $1, $2, 0, currency, $3 FROM events WHERE id = $2 RETURNING id`, userID, eventID, until).Scan(&bookingID)
	tag, err := pool.Exec(context.Background(), `UPDATE tickets SET status = 'reserved', booking_id = $1, reserved_until = $2
		WHERE id = ANY($3) AND status = 'available'`, bookingID, until, ticketIDs)
	if err != nil || tag.RowsAffected() != int64(len(ticketIDs)) {
		t.Fatalf("hold %v: %v (%d rows)", ticketIDs, err, tag.RowsAffected())
	}
}

func ticketIDs(t *testing.T, pool *pgxpool.Pool, eventID int64, status string, n int) []int64 {
	t.Helper()
	ids := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE event_id = $1 AND status = $2 ORDER BY id LIMIT $3`, eventID, status, n)
	if len(ids) < n {
		t.Fatalf("event %d has %d %s tickets, want %d", eventID, len(ids), status, n)
	}
	return ids
}

func seatControl(doc *goquery.Document, ticketID int64) *goquery.Selection {
	return doc.Find(fmt.Sprintf(`[data-testid="seat-map"] input[name="ticket_ids"][value="%d"]`, ticketID))
}

func TestEventPageShowsEverySeatOfASmallVenue(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	if _, _, err := seed.Demo(context.Background(), pool, time.Now()); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, pool)
	id := eventAt(t, pool, 1800, 2500)

	available := ticketIDs(t, pool, id, "available", 6)
	sold := ticketIDs(t, pool, id, "sold", 1)[0]
	held, expired := available[0:2], available[2:4]
	hold(t, pool, id, time.Now().Add(10*time.Minute), held...)
	hold(t, pool, id, time.Now().Add(-time.Minute), expired...)

	res, doc := get(t, fmt.Sprintf("%s/event/%d", ts.URL, id))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /event/%d = %d", id, res.StatusCode)
	}
	controls := doc.Find(`[data-testid="seat-map"] input[name="ticket_ids"]`)
	if want := dbtest.Int(t, pool, availableSQL, id); controls.Length() != want {
		t.Errorf("%d seat controls, %d tickets available", controls.Length(), want)
	}
	if seatControl(doc, sold).Length() != 0 {
		t.Error("a sold seat can be selected")
	}
	for _, h := range held {
		if seatControl(doc, h).Length() != 0 {
			t.Errorf("held ticket %d can be selected", h)
		}
	}
	for _, e := range expired {
		if seatControl(doc, e).Length() != 1 {
			t.Errorf("ticket %d, whose hold ran out, cannot be selected", e)
		}
	}
	if doc.Find(`[data-testid="seat-map"] i.s-reserved`).Length() != len(held) {
		t.Errorf("%d seats drawn on hold, want %d", doc.Find(`i.s-reserved`).Length(), len(held))
	}
	if n := doc.Find(`[data-testid="seat-map"] i.s-sold`).Length(); n != dbtest.Int(t, pool, `SELECT count(*) FROM tickets WHERE event_id = $1 AND status = 'sold'`, id) {
		t.Errorf("%d seats drawn sold", n)
	}

	// Every control has a name a screen reader can say.
	name := regexp.MustCompile(`^.+, row \w+, seat \d+, \$\d+\.\d\d$`)
	controls.Each(func(_ int, s *goquery.Selection) {
		if label, _ := s.Attr("aria-label"); !name.MatchString(label) {
			t.Fatalf("seat control named %q", label)
		}
	})
	form := doc.Find(`form[data-testid="seat-form"]`)
	if method, _ := form.Attr("method"); method != "post" {
		t.Errorf("seat form method %q", method)
	}
	if action, _ := form.Attr("action"); action != "/bookings" {
		t.Errorf("seat form posts to %q", action)
	}
	left := doc.Find(`[data-testid="seats-left"]`).Text()
	if want := strconv.Itoa(dbtest.Int(t, pool, availableSQL, id)); !regexp.MustCompile(`^` + thousandsRE(want) + ` of `).MatchString(left) {
		t.Errorf("seats left reads %q, want %s of …", left, want)
	}
	for _, testid := range []string{"event-name", "event-when", "event-venue", "price-range", "event-description", "performer"} {
		if doc.Find(`[data-testid="`+testid+`"]`).Length() == 0 {
			t.Errorf("event page lacks %s", testid)
		}
	}
}

// thousandsRE matches n as the page writes it, with thousands separators.
func thousandsRE(n string) string {
	for i := len(n) - 3; i > 0; i -= 3 {
		n = n[:i] + "," + n[i:]
	}
	return n
}

func TestStadiumShowsSectionOverview(t *testing.T) {
	t.Parallel()
	pool := dbtest.Shared(t, "demo", func(ctx context.Context, pool *pgxpool.Pool) error {
		_, _, err := seed.Demo(ctx, pool, time.Now())
		return err
	})
	ts := newServer(t, pool)
	id := eventAt(t, pool, 40000, 100000)

	res, err := http.Get(fmt.Sprintf("%s/event/%d", ts.URL, id))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find(`input[name="ticket_ids"]`).Length() != 0 {
		t.Error("the stadium overview has per-seat controls")
	}
	html, _ := doc.Html()
	if len(html) > 150_000 {
		t.Errorf("stadium overview is %d bytes; it must stay small", len(html))
	}

	rows := doc.Find(`[data-testid="section-row"]`)
	if want := dbtest.Int(t, pool, `SELECT count(*) FROM sections s JOIN events e ON e.venue_id = s.venue_id WHERE e.id = $1`, id); rows.Length() != want {
		t.Fatalf("%d section rows, venue has %d sections", rows.Length(), want)
	}
	if links := doc.Find(`[data-testid="overview"] [data-testid="section-link"]`).Length(); links != rows.Length() {
		t.Errorf("%d sections on the map, %d in the list", links, rows.Length())
	}
	dbCounts := map[string]int{}
	r, err := pool.Query(context.Background(), `
		SELECT section_id::text, count(*) FILTER (WHERE status = 'available' OR (status = 'reserved' AND reserved_until <= now()))
		FROM tickets WHERE event_id = $1 GROUP BY section_id`, id)
	if err != nil {
		t.Fatal(err)
	}
	type sectionCount struct {
		ID        string
		Available int
	}
	counted, err := pgx.CollectRows(r, pgx.RowToStructByPos[sectionCount])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counted {
		dbCounts[c.ID] = c.Available
	}
	rows.Each(func(_ int, row *goquery.Selection) {
		sid, _ := row.Attr("data-section-id")
		got, _ := strconv.Atoi(row.AttrOr("data-available", "-1"))
		if got != dbCounts[sid] {
			t.Errorf("section %s shows %d left, database has %d", sid, got, dbCounts[sid])
		}
	})

	// A section opens to its seats: one control per available ticket.
	sid, _ := rows.First().Attr("data-section-id")
	_, sec := get(t, fmt.Sprintf("%s/event/%d/sections/%s", ts.URL, id, sid))
	if got, want := sec.Find(`[data-testid="seat-map"] input[name="ticket_ids"]`).Length(), dbCounts[sid]; got != want {
		t.Errorf("section page has %d seat controls, section has %d available", got, want)
	}
	if sec.Find(`[data-testid="back-to-overview"]`).Length() != 1 {
		t.Error("section page has no way back to the overview")
	}
}

func TestEventPageNotFound(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	for _, path := range []string{
		"/event/999999", "/event/abc", "/event/-1", "/event/0", "/event/99999999999999999999999",
		"/event/1%27%20OR%201=1", "/event/999999/sections/1", "/event/999999/sections/x",
	} {
		res, doc := get(t, ts.URL+path)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
		if doc.Find(`[data-testid="error-message"]`).Length() != 1 {
			t.Errorf("GET %s: no error page", path)
		}
	}
	for _, path := range []string{"/api/v1/events/999999", "/api/v1/events/abc", "/api/v1/events/999999/tickets"} {
		code, body := getJSON(t, ts.URL+path)
		if code != http.StatusNotFound || body["error"].(map[string]any)["code"] != "not_found" {
			t.Errorf("GET %s = %d %v, want 404 not_found", path, code, body)
		}
	}
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", url, ct)
	}
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode, body
}

func TestEventJSON(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	if _, _, err := seed.Demo(context.Background(), pool, time.Now()); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, pool)
	id := eventAt(t, pool, 1000, 1400)
	available := ticketIDs(t, pool, id, "available", 3)
	hold(t, pool, id, time.Now().Add(10*time.Minute), available[0])
	hold(t, pool, id, time.Now().Add(-time.Minute), available[1])

	code, body := getJSON(t, fmt.Sprintf("%s/api/v1/events/%d", ts.URL, id))
	if code != http.StatusOK {
		t.Fatalf("event JSON = %d %v", code, body)
	}
	var ev struct {
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		Type      string `json:"type"`
		StartsAt  string `json:"starts_at"`
		Timezone  string `json:"timezone"`
		Currency  string `json:"currency"`
		Available int    `json:"available"`
		Total     int    `json:"total"`
		MinPrice  int64  `json:"min_price"`
		MaxPrice  int64  `json:"max_price"`
		Venue     struct {
			ID       int64  `json:"id"`
			Name     string `json:"name"`
			City     string `json:"city"`
			Country  string `json:"country"`
			Capacity int    `json:"capacity"`
		} `json:"venue"`
		Performers []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
			Role string `json:"role"`
			Bio  string `json:"bio"`
		} `json:"performers"`
		Sections []struct {
			ID        int64 `json:"id"`
			Available int   `json:"available"`
			Total     int   `json:"total"`
			MinPrice  int64 `json:"min_price"`
		} `json:"sections"`
	}
	raw, _ := json.Marshal(body)
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"id", "name", "description", "type", "starts_at", "ends_at", "timezone", "venue", "performers", "sections", "available", "total", "min_price", "max_price", "currency"} {
		if _, ok := body[key]; !ok {
			t.Errorf("event JSON lacks %q", key)
		}
	}
	if _, err := time.Parse(time.RFC3339, ev.StartsAt); err != nil {
		t.Errorf("starts_at %q is not RFC 3339", ev.StartsAt)
	}
	if want := dbtest.Int(t, pool, availableSQL, id); ev.Available != want {
		t.Errorf("available = %d, database %d", ev.Available, want)
	}
	if ev.Total != ev.Venue.Capacity || ev.Total == 0 {
		t.Errorf("total %d, venue capacity %d", ev.Total, ev.Venue.Capacity)
	}
	sum := 0
	for _, s := range ev.Sections {
		sum += s.Available
	}
	if sum != ev.Available {
		t.Errorf("sections add up to %d available, event says %d", sum, ev.Available)
	}
	if len(ev.Performers) == 0 || ev.Performers[0].Role == "" || ev.MinPrice <= 0 || ev.MaxPrice < ev.MinPrice || len(ev.Currency) != 3 {
		t.Errorf("event JSON incomplete: %+v", ev)
	}

	// Tickets: the held one reads reserved, the expired hold available.
	statusOf := func(query string) map[float64]string {
		code, body := getJSON(t, fmt.Sprintf("%s/api/v1/events/%d/tickets%s", ts.URL, id, query))
		if code != http.StatusOK {
			t.Fatalf("tickets%s = %d %v", query, code, body)
		}
		out := map[float64]string{}
		for _, tk := range body["tickets"].([]any) {
			m := tk.(map[string]any)
			for _, k := range []string{"id", "section_id", "section", "row", "seat", "price", "currency", "status"} {
				if _, ok := m[k]; !ok {
					t.Fatalf("ticket JSON lacks %q: %v", k, m)
				}
			}
			out[m["id"].(float64)] = m["status"].(string)
		}
		return out
	}
	all := statusOf("")
	if len(all) != ev.Total {
		t.Errorf("%d tickets listed, event has %d", len(all), ev.Total)
	}
	if all[float64(available[0])] != "reserved" || all[float64(available[1])] != "available" {
		t.Errorf("held ticket reads %q, expired hold reads %q", all[float64(available[0])], all[float64(available[1])])
	}
	if got := statusOf("?status=available"); len(got) != ev.Available {
		t.Errorf("status=available lists %d, want %d", len(got), ev.Available)
	}
	if got := statusOf("?status=reserved"); len(got) != 1 {
		t.Errorf("status=reserved lists %d, want 1", len(got))
	}
	section := ev.Sections[0]
	if got := statusOf(fmt.Sprintf("?section=%d", section.ID)); len(got) != section.Total {
		t.Errorf("section=%d lists %d, want %d", section.ID, len(got), section.Total)
	}

	for _, q := range []string{"?status=gone", "?section=abc", "?section=-4", "?section=1"} {
		code, body := getJSON(t, fmt.Sprintf("%s/api/v1/events/%d/tickets%s", ts.URL, id, q))
		if code != http.StatusBadRequest || body["error"].(map[string]any)["code"] != "invalid_request" {
			t.Errorf("tickets%s = %d %v, want 400 invalid_request", q, code, body)
		}
	}
}

// An event page leads on: to the show's other dates, its performers' and
// its venue's pages, which list what else is on; and it says how long the
// show runs.
func TestEventPagesLeadOn(t *testing.T) {
	t.Parallel()
	pool := dbtest.Shared(t, "demo", func(ctx context.Context, pool *pgxpool.Pool) error {
		_, _, err := seed.Demo(ctx, pool, time.Now())
		return err
	})
	ts := newServer(t, pool)
	var id, venueID int64
	var others int
	if err := pool.QueryRow(context.Background(), `
		SELECT e.id, e.venue_id, (SELECT count(*) FROM events o WHERE o.name = e.name AND o.id <> e.id AND o.starts_at > now())
		FROM events e WHERE e.name LIKE 'Cirque Lumina%' AND e.ends_at IS NOT NULL ORDER BY e.starts_at LIMIT 1`).Scan(&id, &venueID, &others); err != nil {
		t.Fatal(err)
	}
	_, doc := get(t, fmt.Sprintf("%s/event/%d", ts.URL, id))
	if n := doc.Find(`[data-testid="other-date"]`).Length(); n != min(others, event.MaxOtherDates) || n == 0 {
		t.Errorf("%d other dates listed, the show has %d", n, others)
	}
	if got := doc.Find(`[data-testid="running-time"]`).Text(); !strings.Contains(got, "Running time") || !strings.Contains(got, " h") {
		t.Errorf("running time %q", got)
	}
	if href := doc.Find(`[data-testid="venue-link"]`).AttrOr("href", ""); href != fmt.Sprintf("/venue/%d", venueID) {
		t.Errorf("venue links to %q", href)
	}
	perf := doc.Find(`[data-testid="performer-link"]`).First()
	if !strings.HasPrefix(perf.AttrOr("href", ""), "/performer/") {
		t.Fatalf("performer links to %q", perf.AttrOr("href", ""))
	}

	res, doc := get(t, ts.URL+perf.AttrOr("href", ""))
	if res.StatusCode != http.StatusOK || !strings.Contains(doc.Find("h1").Text(), strings.TrimSpace(perf.Text())) {
		t.Fatalf("performer page: %d %q", res.StatusCode, doc.Find("h1").Text())
	}
	if n := doc.Find(`[data-testid="event-card"]`).Length(); n < others+1 {
		t.Errorf("performer page lists %d events, the show alone has %d", n, others+1)
	}

	res, doc = get(t, fmt.Sprintf("%s/venue/%d", ts.URL, venueID))
	if res.StatusCode != http.StatusOK || doc.Find(`[data-testid="venue-address"]`).Text() == "" {
		t.Fatalf("venue page: %d, address %q", res.StatusCode, doc.Find(`[data-testid="venue-address"]`).Text())
	}
	if href := doc.Find(`[data-testid="directions"]`).AttrOr("href", ""); !strings.HasPrefix(href, "https://www.openstreetmap.org/search?query=") {
		t.Errorf("directions link %q", href)
	}
	if doc.Find(`[data-testid="venue-plan"] polygon`).Length() < 2 {
		t.Error("venue page has no seating plan")
	}
	if doc.Find(fmt.Sprintf(`[data-testid="event-card"] a[href="/event/%d"]`, id)).Length() != 1 {
		t.Error("venue page does not list the event")
	}

	for _, path := range []string{"/venue/999999", "/performer/999999", "/venue/abc"} {
		if res, _ := get(t, ts.URL+path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
	}
}
