package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/ticket"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// withRole signs up email, gives the account role, and returns its token.
func withRole(t *testing.T, pool *pgxpool.Pool, base, email, role string) string {
	t.Helper()
	token := signUp(t, base, email)
	dbtest.Exec(t, pool, `UPDATE users SET role = $2 WHERE email = $1`, email, role)
	return token
}

// browserWith is a browser signed in with token.
func browserWith(t *testing.T, base, token string) *browser {
	t.Helper()
	b := newBrowser(t, base)
	u, _ := url.Parse(base)
	b.client.Jar.(*cookiejar.Jar).SetCookies(u, []*http.Cookie{{Name: "boxoffice_session", Value: token, Path: "/"}})
	return b
}

// postSeatMap sends a seat-map file to the API.
func postSeatMap(t *testing.T, base, token string, file []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/manage/venues", bytes.NewReader(file))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func getRaw(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// An organiser puts a venue in from a seat-map file and gets the same
// file back; another organiser cannot see it, a fan reaches nothing, and
// someone signed out is asked to sign in.
func TestVenueSeatMapAPI(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	alice := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	bob := withRole(t, pool, ts.URL, "bob@example.com", "organiser")
	root := withRole(t, pool, ts.URL, "root@example.com", "admin")
	fan := signUp(t, ts.URL, "fan@example.com")

	code, created := postSeatMap(t, ts.URL, alice, venue.Example)
	if code != http.StatusCreated || created["capacity"] != float64(258) {
		t.Fatalf("POST the example: %d %v", code, created)
	}
	id := int64(created["id"].(float64))
	code, back := getRaw(t, fmt.Sprintf("%s/api/v1/manage/venues/%d/seatmap", ts.URL, id), alice)
	var want, got any
	json.Unmarshal(venue.Example, &want)
	json.Unmarshal(back, &got)
	if code != 200 || fmt.Sprint(want) != fmt.Sprint(got) {
		t.Errorf("the seat map back: %d\n%s", code, back)
	}
	// Bob sees none of it; the admin sees it; the fan is refused.
	if code, _ := getRaw(t, fmt.Sprintf("%s/api/v1/manage/venues/%d/seatmap", ts.URL, id), bob); code != http.StatusNotFound {
		t.Errorf("another organiser reads the seat map: %d, want 404", code)
	}
	if _, list := api(t, "GET", ts.URL+"/api/v1/manage/venues", bob, nil); len(list["venues"].([]any)) != 0 {
		t.Errorf("another organiser lists %v", list["venues"])
	}
	if code, _ := getRaw(t, fmt.Sprintf("%s/api/v1/manage/venues/%d/seatmap", ts.URL, id), root); code != 200 {
		t.Errorf("an admin reads the seat map: %d", code)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/manage/venues"},
		{"POST", "/api/v1/manage/venues"},
		{"GET", fmt.Sprintf("/api/v1/manage/venues/%d/seatmap", id)},
	} {
		if code, body := api(t, c.method, ts.URL+c.path, fan, map[string]any{}); code != http.StatusForbidden || body["error"].(map[string]any)["code"] != "not_an_organiser" {
			t.Errorf("a fan: %s %s = %d %v, want 403 not_an_organiser", c.method, c.path, code, body)
		}
		if code, _ := api(t, c.method, ts.URL+c.path, "", map[string]any{}); code != http.StatusUnauthorized {
			t.Errorf("signed out: %s %s = %d, want 401", c.method, c.path, code)
		}
	}

	// A bad file: 400 with every problem, nothing stored.
	bad := bytes.Replace(venue.Example, []byte(`"x": 170, "y": 250`), []byte(`"x": 470, "y": 250`), 1)
	bad = bytes.Replace(bad, []byte(`"The Lantern Rooms"`), []byte(`"The Lantern Rooms 2"`), 1)
	code, body := postSeatMap(t, ts.URL, alice, bad)
	e, _ := body["error"].(map[string]any)
	if code != http.StatusBadRequest || e["code"] != "invalid_seatmap" || !strings.Contains(fmt.Sprint(e["problems"]), `row "B", seat 4 is at (470, 250)`) {
		t.Errorf("a seat off the map: %d %v", code, body)
	}
	// The same venue twice: a clear conflict.
	if code, body := postSeatMap(t, ts.URL, alice, venue.Example); code != http.StatusConflict {
		t.Errorf("the same venue again: %d %v", code, body)
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM venues`); n != 1 {
		t.Errorf("%d venues after one good file and two refused", n)
	}
}

// The pages: a fan finds nothing, an organiser uploads a file (a bad one
// comes back with its problems), sees the map and its log, and downloads
// the file again.
func TestVenuePages(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	fan := browserWith(t, ts.URL, signUp(t, ts.URL, "fan@example.com"))
	for _, path := range []string{"/manage", "/manage/venues/new", "/manage/venues/1"} {
		if res, _ := fan.get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("a fan gets %s: %d, want 404", path, res.StatusCode)
		}
	}
	if res, _ := newBrowser(t, ts.URL).get("/manage"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("signed out, /manage: %d to %q, want the log-in page", res.StatusCode, res.Header.Get("Location"))
	}

	org := browserWith(t, ts.URL, withRole(t, pool, ts.URL, "alice@example.com", "organiser"))
	_, home := org.get("/manage")
	if home.Find(`[data-testid="no-venues"]`).Length() != 1 {
		t.Error("a new organiser's box office does not say they have no venues")
	}
	_, form := org.get("/manage/venues/new")
	csrf := form.Find(`input[name="_csrf"]`).AttrOr("value", "")
	upload := func(file []byte) (*http.Response, *goquery.Document) {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("_csrf", csrf)
		part, _ := w.CreateFormFile("file", "venue.json")
		part.Write(file)
		w.Close()
		req, _ := http.NewRequest("POST", ts.URL+"/manage/venues", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		res, err := org.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode == http.StatusSeeOther {
			return org.get(res.Header.Get("Location"))
		}
		doc, _ := goquery.NewDocumentFromReader(res.Body)
		return res, doc
	}
	bad := bytes.Replace(venue.Example, []byte(`"capacity": 250`), []byte(`"capacity": 0`), 1)
	res, page := upload(bad)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page.Find(`[data-testid="seatmap-problems"]`).Text(), `Section 1 ("Floor") is standing: give its capacity`) {
		t.Errorf("a bad file: %d, problems %q", res.StatusCode, page.Find(`[data-testid="seatmap-problems"]`).Text())
	}
	res, page = upload(venue.Example)
	if res.StatusCode != 200 || page.Find(`[data-testid="manage-venue"] h1`).Text() != "The Lantern Rooms" {
		t.Fatalf("after a good file: %d %q", res.StatusCode, page.Find("h1").Text())
	}
	if n := page.Find(`[data-testid="plan-seats"] circle`).Length(); n != 8 {
		t.Errorf("the map shows %d seats, want 8", n)
	}
	if !strings.Contains(page.Find(`[data-testid="audit-log"]`).Text(), "venue.create") {
		t.Error("the venue's log does not show its creation")
	}
	link, _ := page.Find(`[data-testid="seatmap-download"]`).Attr("href")
	res, err := org.client.Get(ts.URL + link)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if _, err := venue.Parse(file); err != nil || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("the downloaded file: %v, %q", err, res.Header.Get("Content-Disposition"))
	}
	// Without the form token: refused.
	req, _ := http.NewRequest("POST", ts.URL+"/manage/venues", strings.NewReader(url.Values{"seatmap": {string(venue.Example)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := org.client.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a venue posted without the form token: %v %v", res.StatusCode, err)
	}
	// The schema and the example are public documentation.
	for _, path := range []string{"/docs/seatmap.schema.json", "/docs/seatmap-example.json"} {
		if res, _ := newBrowser(t, ts.URL).get(path); res.StatusCode != 200 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
}

// An organiser creates an event from the API as a draft fans cannot see,
// publishes it, and changes a price; another organiser and a fan reach
// none of it.
func TestEventAPI(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	alice := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	bob := withRole(t, pool, ts.URL, "bob@example.com", "organiser")
	fan := signUp(t, ts.URL, "fan@example.com")
	_, created := postSeatMap(t, ts.URL, alice, venue.Example)
	venueID := created["id"]
	draft := map[string]any{"venue_id": venueID, "name": "Lantern Sessions", "type": "concert",
		"performers": []map[string]string{{"name": "The Wicks", "kind": "band", "role": "headliner"}},
		"starts_at":  "2099-05-01T20:00", "prices": []map[string]any{{"zone": "Balcony", "price": 2200, "sections": []string{"Balcony"}}}}
	code, ev := api(t, "POST", ts.URL+"/api/v1/manage/events", alice, draft)
	if code != http.StatusCreated || ev["status"] != "draft" || ev["currency"] != "GBP" || ev["timezone"] != "Europe/London" {
		t.Fatalf("create: %d %v", code, ev)
	}
	id := int64(ev["id"].(float64))
	if code, _ := api(t, "GET", fmt.Sprintf("%s/api/v1/events/%d", ts.URL, id), fan, nil); code != http.StatusNotFound {
		t.Errorf("a fan reads a draft: %d, want 404", code)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", fmt.Sprintf("/api/v1/manage/events/%d", id)},
		{"PUT", fmt.Sprintf("/api/v1/manage/events/%d", id)},
		{"POST", fmt.Sprintf("/api/v1/manage/events/%d/publish", id)},
	} {
		if code, _ := api(t, c.method, ts.URL+c.path, bob, draft); code != http.StatusNotFound {
			t.Errorf("another organiser: %s %s = %d, want 404", c.method, c.path, code)
		}
		if code, _ := api(t, c.method, ts.URL+c.path, fan, draft); code != http.StatusForbidden {
			t.Errorf("a fan: %s %s = %d, want 403", c.method, c.path, code)
		}
	}
	code, pub := api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/publish", ts.URL, id), alice, nil)
	if code != 200 || pub["tickets"] != float64(8) {
		t.Fatalf("publish: %d %v", code, pub)
	}
	code, public := api(t, "GET", fmt.Sprintf("%s/api/v1/events/%d", ts.URL, id), fan, nil)
	if code != 200 || public["name"] != "Lantern Sessions" {
		t.Errorf("a fan reads it once published: %d %v", code, public)
	}
	if public["min_price"] != float64(2200) {
		t.Errorf("the fans' price before the change: %v", public["min_price"])
	}
	draft["prices"] = []map[string]any{{"zone": "Balcony", "price": 2500, "sections": []string{"Balcony"}}}
	if code, ev := api(t, "PUT", fmt.Sprintf("%s/api/v1/manage/events/%d", ts.URL, id), alice, draft); code != 200 || ev["prices"].([]any)[0].(map[string]any)["price"] != float64(2500) {
		t.Errorf("a new price: %d %v", code, ev)
	}
	// The live model the fans' pages read from reloads with the new price.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, public = api(t, "GET", fmt.Sprintf("%s/api/v1/events/%d", ts.URL, id), fan, nil)
		if public["min_price"] == float64(2500) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fans' price after the change: %v, want 2500", public["min_price"])
		}
	}
	draft["starts_at"] = "yesterday"
	if code, ev := api(t, "PUT", fmt.Sprintf("%s/api/v1/manage/events/%d", ts.URL, id), alice, draft); code != 400 || ev["error"].(map[string]any)["field"] != "starts_at" {
		t.Errorf("a bad start: %d %v", code, ev)
	}
	_, list := api(t, "GET", ts.URL+"/api/v1/manage/events", alice, nil)
	if events := list["events"].([]any); len(events) != 1 || events[0].(map[string]any)["available"] != float64(8) {
		t.Errorf("alice's events: %v", list)
	}
}

// The forms: a venue first, then the event with two prices; a mistake
// comes back with what to fix; publishing puts it on the fans' side.
func TestEventForms(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	token := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	_, created := postSeatMap(t, ts.URL, token, venue.Example)
	org := browserWith(t, ts.URL, token)
	_, pick := org.get("/manage/events/new")
	if pick.Find(`[data-testid="event-venue"] option`).Length() != 1 {
		t.Fatal("the venue list does not offer the organiser's venue")
	}
	_, form := org.get(fmt.Sprintf("/manage/events/new?venue=%v", created["id"]))
	values := url.Values{"name": {"Lantern Late"}, "type": {"comedy"}, "starts_at": {"2099-06-01T21:00"},
		"performer_name": {"Jo Ray", "", ""}, "performer_kind": {"comedian", "artist", "artist"}, "performer_role": {"headliner", "support", "support"},
		"section": {"Floor", "Balcony"}, "price": {"", "12.50"}, "zone": {"", "Seats"}}
	bad := url.Values{}
	for k, v := range values {
		bad[k] = v
	}
	bad["price"] = []string{"", "twelve"}
	res, page := org.submit(form, `form[action="/manage/events"]`, bad)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page.Find(`[data-testid="form-problem"]`).Text(), `The price of Balcony is "twelve"`) {
		t.Errorf("a bad price: %d %q", res.StatusCode, page.Find(`[data-testid="form-problem"]`).Text())
	}
	if page.Find(`[data-testid="event-name"]`).AttrOr("value", "") != "Lantern Late" {
		t.Error("the refused form lost what was typed")
	}
	res, page = org.submit(form, `form[action="/manage/events"]`, values)
	if res.StatusCode != 200 || page.Find(`[data-testid="event-status"]`).Text() != "Draft: fans cannot see it" ||
		!strings.Contains(page.Find(`[data-testid="event-prices"]`).Text(), "Seats (Balcony): £12.50") {
		t.Fatalf("after saving: %d %q %q", res.StatusCode, page.Find(`[data-testid="event-status"]`).Text(), page.Find(`[data-testid="event-prices"]`).Text())
	}
	res, page = org.submit(page, `form[action$="/publish"]`, nil)
	link, _ := page.Find(`[data-testid="event-public"]`).Attr("href")
	if res.StatusCode != 200 || link == "" {
		t.Fatalf("publish: %d", res.StatusCode)
	}
	if res, fanPage := newBrowser(t, ts.URL).get(link); res.StatusCode != 200 || !strings.Contains(fanPage.Find("h1").Text(), "Lantern Late") {
		t.Errorf("the fans' page: %d %q", res.StatusCode, fanPage.Find("h1").Text())
	}
	_, home := org.get("/manage")
	if !strings.Contains(home.Find(`[data-testid="events"]`).Text(), "Lantern Late") {
		t.Error("the box office does not list the event")
	}
}

// The sales page counts what fans bought, and the attendee list names
// them (a name that looks like a formula is kept from spreadsheets).
func TestSalesAndAttendees(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	token := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	_, created := postSeatMap(t, ts.URL, token, venue.Example)
	_, ev := api(t, "POST", ts.URL+"/api/v1/manage/events", token, map[string]any{"venue_id": created["id"], "name": "Sold Night",
		"type": "concert", "starts_at": "2099-05-01T20:00", "prices": []map[string]any{{"price": 2000, "sections": []string{"Balcony"}}}})
	id := int64(ev["id"].(float64))
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/publish", ts.URL, id), token, nil)
	fan := signUp(t, ts.URL, "fan@example.com")
	dbtest.Exec(t, pool, `UPDATE users SET name = '=HYPERLINK("x")' WHERE email = 'fan@example.com'`)
	tickets := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE event_id = $1 ORDER BY id LIMIT 3`, id)
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", fan, map[string]any{"ticket_ids": tickets[:2]})
	if code, paid := api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%v/pay", ts.URL, held["id"]), fan, map[string]string{"payment_method": "pm_card_visa"}); code != 200 {
		t.Fatalf("pay: %d %v", code, paid)
	}
	api(t, "POST", ts.URL+"/api/v1/bookings", fan, map[string]any{"ticket_ids": tickets[2:3]}) // held, not paid

	code, sales := api(t, "GET", fmt.Sprintf("%s/api/v1/manage/events/%d/sales", ts.URL, id), token, nil)
	if code != 200 || sales["sold"] != float64(2) || sales["held"] != float64(1) || sales["available"] != float64(5) || sales["revenue"] != float64(4000) {
		t.Errorf("sales: %d %v", code, sales)
	}
	if over := sales["sold_over_time"].([]any); len(over) != 24 || over[23].(map[string]any)["sold"] != float64(2) || over[0].(map[string]any)["sold"] != float64(0) {
		t.Errorf("sold over time: %v", over)
	}
	org := browserWith(t, ts.URL, token)
	_, page := org.get(fmt.Sprintf("/manage/events/%d", id))
	if page.Find(`[data-testid="sold"]`).Text() != "2" || page.Find(`[data-testid="revenue"]`).Text() != "£40.00" || page.Find(`[data-testid="sales-chart"] rect`).Length() != 24 {
		t.Errorf("the sales panel: sold %q, revenue %q, %d bars", page.Find(`[data-testid="sold"]`).Text(),
			page.Find(`[data-testid="revenue"]`).Text(), page.Find(`[data-testid="sales-chart"] rect`).Length())
	}
	res, err := org.client.Get(fmt.Sprintf("%s/manage/events/%d/attendees.csv", ts.URL, id))
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(res.Body)
	res.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "booking,name,email,section,row,seat,price,currency,confirmed_at") ||
		!strings.Contains(lines[1], `"'=HYPERLINK(""x"")",fan@example.com,Balcony,A,1,2000,GBP,`) {
		t.Errorf("attendees:\n%s", csv)
	}
	stranger := browserWith(t, ts.URL, withRole(t, pool, ts.URL, "bob@example.com", "organiser"))
	for _, path := range []string{"/manage/events/%d", "/manage/events/%d/attendees.csv", "/manage/events/%d/sales"} {
		if res, _ := stranger.get(fmt.Sprintf(path, id)); res.StatusCode != http.StatusNotFound {
			t.Errorf("another organiser: %s = %d", fmt.Sprintf(path, id), res.StatusCode)
		}
	}
}

// An organiser refunds part of a booking and then the rest: the seats go
// back on sale only with the rest. Cancelling the event refunds everyone
// and tells fans; nobody but the event's organiser may do either.
func TestRefundsAndCancel(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	token := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	bob := withRole(t, pool, ts.URL, "bob@example.com", "organiser")
	_, created := postSeatMap(t, ts.URL, token, venue.Example)
	_, ev := api(t, "POST", ts.URL+"/api/v1/manage/events", token, map[string]any{"venue_id": created["id"], "name": "Refund Night",
		"type": "concert", "starts_at": "2099-05-01T20:00", "prices": []map[string]any{{"price": 2000, "sections": []string{"Balcony"}}}})
	id := int64(ev["id"].(float64))
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/publish", ts.URL, id), token, nil)
	tickets := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE event_id = $1 ORDER BY id`, id)
	buy := func(email string, ids []int64) int64 {
		t.Helper()
		fan := signUp(t, ts.URL, email)
		_, held := api(t, "POST", ts.URL+"/api/v1/bookings", fan, map[string]any{"ticket_ids": ids})
		if code, paid := api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%v/pay", ts.URL, held["id"]), fan, map[string]string{"payment_method": "pm_card_visa"}); code != 200 {
			t.Fatalf("pay: %d %v", code, paid)
		}
		return int64(held["id"].(float64))
	}
	first := buy("one@example.com", tickets[:2])
	second := buy("two@example.com", tickets[2:4])

	// The box office finds a booking by a ticket's code, as printed.
	var confirmedAt time.Time
	dbtest.QueryRow(t, pool, `SELECT confirmed_at FROM bookings WHERE id = $1`, second).Scan(&confirmedAt)
	ticketCode := booking.TicketCode(second, tickets[3], confirmedAt)
	if _, found := api(t, "GET", fmt.Sprintf("%s/api/v1/manage/events/%d/bookings?q=%s", ts.URL, id, strings.ToLower(ticketCode)), token, nil); len(found["bookings"].([]any)) != 1 ||
		found["bookings"].([]any)[0].(map[string]any)["id"] != float64(second) {
		t.Errorf("finding booking %d by its ticket's code %s: %v", second, ticketCode, found)
	}
	refund := func(token string, booking int64, body any) (int, map[string]any) {
		return api(t, "POST", fmt.Sprintf("%s/api/v1/manage/bookings/%d/refund", ts.URL, booking), token, body)
	}
	if code, _ := refund(bob, first, map[string]int{"amount": 500}); code != http.StatusNotFound {
		t.Errorf("another organiser refunds: %d, want 404", code)
	}
	if code, b := refund(token, first, map[string]int{"amount": 500}); code != 200 || b["status"] != "confirmed" || b["refunded"] != float64(500) {
		t.Errorf("a part refund: %d %v", code, b)
	}
	if code, b := refund(token, first, map[string]int{"amount": 9999}); code != http.StatusBadRequest || b["error"].(map[string]any)["left"] != float64(3500) {
		t.Errorf("too much: %d %v", code, b)
	}
	// The rest, from the page: the form finds the booking by the fan's email.
	org := browserWith(t, ts.URL, token)
	_, page := org.get(fmt.Sprintf("/manage/events/%d?q=one@", id))
	if page.Find(`[data-testid="bookings"] tbody tr`).Length() != 1 {
		t.Fatalf("searching one@ finds %d bookings", page.Find(`[data-testid="bookings"] tbody tr`).Length())
	}
	res, page := org.submit(page, `form.refund-form`, url.Values{"amount": {""}})
	if res.StatusCode != 200 || page.Find(`[data-testid="booking-refunded"]`).Text() != "£40.00" {
		t.Errorf("the rest from the page: %d, refunded %q", res.StatusCode, page.Find(`[data-testid="booking-refunded"]`).Text())
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM tickets WHERE event_id = $1 AND status = 'available'`, id); n != 6 {
		t.Errorf("%d seats on sale after a full refund, want 6", n)
	}

	// Cancel: the second booking is refunded, fans are told, holds refused.
	code, out := api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/cancel", ts.URL, id), token, nil)
	if code != 200 || out["refunded"] != float64(1) || out["settled"] != true {
		t.Fatalf("cancel: %d %v", code, out)
	}
	var status string
	dbtest.QueryRow(t, pool, `SELECT status FROM bookings WHERE id = $1`, second).Scan(&status)
	if status != "refunded" {
		t.Errorf("the second booking is %s after the cancel", status)
	}
	if _, fanPage := newBrowser(t, ts.URL).get(fmt.Sprintf("/event/%d", id)); fanPage.Find(`[data-testid="event-cancelled"]`).Length() != 1 {
		t.Error("the fans' page does not say the event is cancelled")
	}
	if _, found := newBrowser(t, ts.URL).get("/search?q=Refund+Night"); found.Find(`[data-testid="cancelled"]`).Length() != 1 {
		t.Error("search does not show the event as cancelled")
	}
	late := signUp(t, ts.URL, "late@example.com")

	if code, _ := api(t, "POST", ts.URL+"/api/v1/bookings", late, map[string]any{"ticket_ids": tickets[4:5]}); code < 400 || code >= 500 {
		t.Errorf("holding a seat of a cancelled event: %d", code)
	}
	if code, _ := api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/cancel", ts.URL, id), token, nil); code != 200 {
		t.Errorf("cancelling again: %d, want 200 (nothing more to do)", code)
	}
	var logged int
	dbtest.QueryRow(t, pool, `SELECT count(*) FROM audit_log WHERE event_id = $1 AND action IN ('booking.refund', 'event.cancel')`, id).Scan(&logged)
	if logged != 4 { // two refunds of the first, the second's, the cancel
		t.Errorf("%d refunds and cancels in the audit log, want 4", logged)
	}
}

// Admins make organisers in the browser; organisers cannot.
func TestAdminMakesOrganisers(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	admin := browserWith(t, ts.URL, withRole(t, pool, ts.URL, "root@example.com", "admin"))
	orgToken := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	fanToken := signUp(t, ts.URL, "newbie@example.com")
	if res, _ := browserWith(t, ts.URL, orgToken).get("/manage/users"); res.StatusCode != http.StatusNotFound {
		t.Errorf("an organiser opens the roles page: %d, want 404", res.StatusCode)
	}
	if code, body := api(t, "PUT", ts.URL+"/api/v1/manage/users/role", orgToken, map[string]string{"email": "newbie@example.com", "role": "admin"}); code != http.StatusForbidden {
		t.Errorf("an organiser makes an admin: %d %v", code, body)
	}
	_, page := admin.get("/manage/users")
	res, page := admin.submit(page, `form[action="/manage/users"]`, url.Values{"email": {"nobody@example.com"}, "role": {"organiser"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page.Find(`[data-testid="form-problem"]`).Text(), "There is no account for nobody@example.com") {
		t.Errorf("a role for a missing account: %d %q", res.StatusCode, page.Find(`[data-testid="form-problem"]`).Text())
	}
	_, page = admin.submit(page, `form[action="/manage/users"]`, url.Values{"email": {"newbie@example.com"}, "role": {"organiser"}})
	if !strings.Contains(page.Find(`[data-testid="staff"]`).Text(), "newbie@example.com") {
		t.Error("the new organiser is not listed")
	}
	if res, _ := browserWith(t, ts.URL, fanToken).get("/manage"); res.StatusCode != 200 {
		t.Errorf("the new organiser opens the box office: %d", res.StatusCode)
	}
}

// formValues is every field of a page's form, as a browser would send it
// (the first option of each select; no button).
func formValues(doc *goquery.Document, selector string) url.Values {
	v := url.Values{}
	form := doc.Find(selector)
	form.Find("input, textarea").Each(func(_ int, in *goquery.Selection) {
		if name, ok := in.Attr("name"); ok && in.AttrOr("type", "") != "file" && in.AttrOr("type", "") != "checkbox" {
			v.Add(name, in.AttrOr("value", in.Text()))
		}
	})
	form.Find("select").Each(func(_ int, sel *goquery.Selection) {
		opt := sel.Find("option[selected]")
		if opt.Length() == 0 {
			opt = sel.Find("option").First()
		}
		v.Add(sel.AttrOr("name", ""), opt.AttrOr("value", ""))
	})
	return v
}

// The builder draws a venue from shapes in a plain form: add a bowl, move
// a block, see the map, fix what is wrong, download the file, save.
func TestVenueBuilder(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	org := browserWith(t, ts.URL, withRole(t, pool, ts.URL, "alice@example.com", "organiser"))
	_, page := org.get("/manage/venues/new")
	press := func(page *goquery.Document, do string, set map[string]string) (*http.Response, *goquery.Document) {
		t.Helper()
		v := formValues(page, `[data-testid="builder"]`)
		for k, val := range set {
			v.Set(k, val)
		}
		v.Set("do", do)
		return org.post("/manage/venues/design", v)
	}
	details := map[string]string{"name": "Shape Hall", "city": "Hull", "country": "gb", "timezone": "Europe/London"}
	_, page = press(page, "add:bowl", details)
	if n := page.Find(`[data-testid="shape"]`).Length(); n != 2 {
		t.Fatalf("after adding a bowl: %d shapes", n)
	}
	x := func(page *goquery.Document) string {
		return page.Find(`[data-testid="shape"]`).First().Find(`input[name="x"]`).AttrOr("value", "")
	}
	before := x(page)
	_, page = press(page, "move:20:0:0", nil)
	if before != "300" || x(page) != "320" {
		t.Errorf("moving the block right: x %s → %s, want 300 → 320", before, x(page))
	}
	// The bowl moved down to y 750 spills off the 1,000 × 800 map: the
	// problem is named, and saving is refused.
	v := formValues(page, `[data-testid="builder"]`)
	v.Set("do", "save")
	ys := v["y"]
	ys[1] = "750"
	v["y"] = ys
	res, bad := org.post("/manage/venues/design", v)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Find(`[data-testid="seatmap-problems"]`).Text(), "outside the map") {
		t.Errorf("saving a bowl off the map: %d %q", res.StatusCode, bad.Find(`[data-testid="seatmap-problems"]`).Text())
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM venues`); n != 0 {
		t.Fatalf("%d venues saved from a refused design", n)
	}
	if n := page.Find(`[data-testid="plan-seats"] circle`).Length(); n != 6*16+8*5*8 {
		t.Errorf("the preview draws %d seats, want %d", n, 6*16+8*5*8)
	}
	v = formValues(page, `[data-testid="builder"]`)
	v.Set("do", "download")
	res, err := org.client.PostForm(ts.URL+"/manage/venues/design", v)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if m, err := venue.Parse(file); err != nil || m.Venue.Country != "GB" || len(m.Sections) != 9 {
		t.Errorf("the downloaded file: %v", err)
	}
	_, saved := press(page, "save", nil)
	if saved.Find(`[data-testid="manage-venue"] h1`).Text() != "Shape Hall" || saved.Find(`[data-testid="venue-capacity"]`).Text() != "416 places" {
		t.Errorf("after saving: %q, %q", saved.Find("h1").Text(), saved.Find(`[data-testid="venue-capacity"]`).Text())
	}
}

// A standing floor is priced and published like seats, and fans buy
// places in it by quantity, on the page and through the API.
func TestStandingSoldByQuantity(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	token := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	_, created := postSeatMap(t, ts.URL, token, venue.Example)
	_, ev := api(t, "POST", ts.URL+"/api/v1/manage/events", token, map[string]any{"venue_id": created["id"], "name": "Floor Night",
		"type": "concert", "starts_at": "2099-05-01T20:00", "prices": []map[string]any{
			{"zone": "Floor", "price": 1500, "sections": []string{"Floor"}}, {"zone": "Seats", "price": 2200, "sections": []string{"Balcony"}}}})
	id := int64(ev["id"].(float64))
	if _, pub := api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/publish", ts.URL, id), token, nil); pub["tickets"] != float64(258) {
		t.Fatalf("publish: %v, want 250 places and 8 seats", pub)
	}
	fan := browserWith(t, ts.URL, signUp(t, ts.URL, "fan@example.com"))
	_, page := fan.get(fmt.Sprintf("/event/%d", id))
	if left := page.Find(`[data-testid="standing-left"]`).Text(); left != "250" {
		t.Fatalf("the floor shows %q places left", left)
	}
	_, booked := fan.submit(page, `form[data-testid="standing-form"]`, url.Values{"quantity": {"2"}})
	if got := booked.Text(); strings.Count(got, "Floor, standing") != 2 {
		t.Errorf("the booking page does not list two standing places:\n%s", got)
	}
	floor := dbtest.Int(t, pool, `SELECT id FROM sections WHERE name = 'Floor'`)
	code, held := api(t, "POST", ts.URL+"/api/v1/bookings", signUp(t, ts.URL, "app@example.com"), map[string]any{"event_id": id, "section_id": floor, "quantity": 3})
	if code != http.StatusCreated || len(held["tickets"].([]any)) != 3 || held["tickets"].([]any)[0].(map[string]any)["standing"] != true {
		t.Errorf("three places through the API: %d %v", code, held)
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM tickets WHERE event_id = $1 AND seat_id IS NULL AND status = 'reserved'`, id); n != 5 {
		t.Errorf("%d standing places held, want 5", n)
	}
}

// Every form of the box office refuses a post without its form token,
// even from a signed-in admin.
func TestManagementFormsNeedTheirToken(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	admin := browserWith(t, ts.URL, withRole(t, pool, ts.URL, "root@example.com", "admin"))
	for _, path := range []string{"/manage/venues", "/manage/venues/design", "/manage/events", "/manage/events/1",
		"/manage/events/1/publish", "/manage/events/1/cancel", "/manage/bookings/1/refund", "/manage/users"} {
		if res, _ := admin.post(path, url.Values{"do": {"save"}, "confirm": {"yes"}, "email": {"root@example.com"}, "role": {"fan"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without the form token: %d, want 403", path, res.StatusCode)
		}
	}
	if role := dbtest.Int(t, pool, `SELECT count(*) FROM users WHERE role = 'admin'`); role != 1 {
		t.Error("a post without the form token changed a role")
	}
}

// A paid booking shows each ticket as the QR code of a code signed for
// the present window, which turns: the page asks for the new codes, or
// reloads itself without script.
func TestTicketQRCodes(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	eventID, tickets := smallEvent(t, pool, 4)
	token := signUp(t, ts.URL, "fan@example.com")
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:2]})
	id := int64(held["id"].(float64))
	fan := browserWith(t, ts.URL, token)
	if _, page := fan.get(fmt.Sprintf("/bookings/%d", id)); page.Find(`[data-testid="ticket-qr"]`).Length() != 0 {
		t.Error("an unpaid hold shows ticket codes")
	}
	api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", ts.URL, id), token, map[string]string{"payment_method": "pm_card_visa"})
	keys, err := ticket.Load(context.Background(), pool, "")
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ { // a turn of the window between the page and the check: look again
		window := ticket.WindowAt(time.Now())
		res, page := fan.get(fmt.Sprintf("/bookings/%d", id))
		qr := page.Find(`[data-testid="ticket-qr"]`)
		want, _ := ticket.QRSVG(keys.Code(tickets[0], id, eventID, window), "")
		got, _ := qr.First().Html()
		if qr.Length() != 2 {
			t.Fatalf("%d QR codes on a paid booking of 2 tickets", qr.Length())
		}
		if ticket.WindowAt(time.Now()) != window && attempt < 3 {
			continue
		}
		pathOf := func(svg string) string { // the modules, however the markup is written
			i := strings.Index(svg, ` d="`)
			return svg[i : i+strings.Index(svg[i+4:], `"`)+4]
		}
		if pathOf(got) != pathOf(want) {
			t.Errorf("the first ticket's QR code is not the code signed for this window")
		}
		if html, _ := page.Html(); res.StatusCode != 200 || !strings.Contains(html, `http-equiv="refresh"`) {
			t.Error("without script the page does not reload itself at the turn")
		}
		break
	}
	res, err := fan.client.Get(fmt.Sprintf("%s/bookings/%d/codes", ts.URL, id))
	if err != nil {
		t.Fatal(err)
	}
	var codes struct {
		Codes map[string]string `json:"codes"`
		Next  int               `json:"next_s"`
	}
	json.NewDecoder(res.Body).Decode(&codes)
	res.Body.Close()
	if len(codes.Codes) != 2 || codes.Next < 1 || codes.Next > 30 {
		t.Errorf("the codes of the moment: %d codes, next in %d s", len(codes.Codes), codes.Next)
	}
	if res, _ := newBrowser(t, ts.URL).get(fmt.Sprintf("/bookings/%d/codes", id)); res.StatusCode == 200 {
		t.Error("a stranger reads the codes")
	}
}
