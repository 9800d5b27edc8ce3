package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/db/dbtest"
)

// smallEvent makes one event with n seats in a fresh database and returns
// its ticket ids.
func smallEvent(t testing.TB, pool *pgxpool.Pool, n int) (int64, []int64) {
	t.Helper()
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO venues (id, name, address, city, country, timezone, capacity, map_width, map_height)
			VALUES (1, 'Test Hall', '1 Main St', 'Leeds', 'GB', 'Europe/London', $1, 600, 100)`,
		`INSERT INTO sections (id, venue_id, name, position, outline) VALUES (1, 1, 'Stalls', 0, '((0,0),(600,0),(600,100),(0,100))')`,
		`INSERT INTO seats (section_id, row_label, seat_number, x, y) SELECT 1, 'A', s, s * 10, 50 FROM generate_series(1, $1) s`,
		`INSERT INTO events (id, venue_id, name, type, starts_at, timezone, currency)
			VALUES (1, 1, 'Test Night', 'concert', now() + interval '30 days', 'Europe/London', 'GBP')`,
		`INSERT INTO tickets (event_id, seat_id, section_id, price, currency) SELECT 1, id, 1, 2500, 'GBP' FROM seats ORDER BY id`,
	} {
		var args []any
		if strings.Contains(sql, "$1") {
			args = append(args, n)
		}
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	return 1, dbtest.IDs(t, pool, `SELECT id FROM tickets ORDER BY id`)
}

// api calls the JSON API and decodes the answer.
func api(t testing.TB, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	code, out, err := tryAPI(method, url, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return code, out
}

// tryAPI is api for a goroutine of a test's own: it returns the error,
// because only the test's goroutine may stop the test.
func tryAPI(method, url, token string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, nil
}

// signUp makes an account through the API and returns a session token.
func signUp(t testing.TB, base, email string) string {
	t.Helper()
	token, err := trySignUp(base, email)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// trySignUp is signUp for a goroutine of a test's own, like tryAPI.
func trySignUp(base, email string) (string, error) {
	code, body, err := tryAPI("POST", base+"/api/v1/users", "", map[string]string{"email": email, "password": "correct horse battery", "name": "Fan"})
	if err != nil || code != 201 {
		return "", fmt.Errorf("sign up %s: %d %v %v", email, code, body, err)
	}
	code, body, err = tryAPI("POST", base+"/api/v1/sessions", "", map[string]string{"email": email, "password": "correct horse battery"})
	token, _ := body["token"].(string)
	if err != nil || code != 201 || token == "" {
		return "", fmt.Errorf("log in %s: %d %v %v", email, code, body, err)
	}
	return token, nil
}

func toIDs(v any) []int64 {
	var out []int64
	for _, x := range v.([]any) {
		out = append(out, int64(x.(float64)))
	}
	return out
}

// TestNoDoubleBookingOverHTTP races 200 buyers for 50 seats through the
// real handlers, then checks the database.
func TestNoDoubleBookingOverHTTP(t *testing.T) {
	t.Parallel()
	const seats, buyers = 50, 200
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	_, tickets := smallEvent(t, pool, seats)

	tokens := make([]string, buyers)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Go(func() {
			var err error
			if tokens[i], err = trySignUp(ts.URL, fmt.Sprintf("racer%d@example.com", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	type result struct {
		asked []int64
		code  int
		body  map[string]any
	}
	results := make([]result, buyers)
	start := make(chan struct{})
	for i := range buyers {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		var asked []int64
		for _, j := range rng.Perm(seats)[:1+rng.IntN(4)] {
			asked = append(asked, tickets[j])
		}
		wg.Go(func() {
			<-start
			code, body, err := tryAPI("POST", ts.URL+"/api/v1/bookings", tokens[i], map[string]any{"ticket_ids": asked})
			if err != nil {
				t.Errorf("buyer %d holding: %v", i, err)
				return
			}
			if code == 201 && rng.IntN(2) == 0 {
				id := int64(body["id"].(float64))
				if c, b, err := tryAPI("POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", ts.URL, id), tokens[i], map[string]string{"payment_method": "pm_card_visa"}); err != nil || c != 200 {
					t.Errorf("buyer %d paying: %d %v %v", i, c, b, err)
				} else {
					body = b
				}
			}
			results[i] = result{asked, code, body}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	owner := map[int64]int{}
	for i, r := range results {
		switch r.code {
		case 201:
			got := toIDs(r.body["ticket_ids"])
			slices.Sort(got)
			want := slices.Clone(r.asked)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("buyer %d asked for %v and got %v", i, want, got)
			}
			for _, id := range got {
				if prev, ok := owner[id]; ok {
					t.Errorf("ticket %d went to buyers %d and %d", id, prev, i)
				}
				owner[id] = i
			}
		case 409:
			e := r.body["error"].(map[string]any)
			if e["code"] != "tickets_unavailable" {
				t.Errorf("buyer %d: 409 %v", i, e)
			}
			for _, id := range toIDs(e["ticket_ids"]) {
				if !slices.Contains(r.asked, id) {
					t.Errorf("buyer %d told %d was taken; it did not ask for it", i, id)
				}
			}
		default:
			t.Errorf("buyer %d: %d %v", i, r.code, r.body)
		}
	}
	for i, r := range results {
		if r.code != 409 {
			continue
		}
		for _, id := range toIDs(r.body["error"].(map[string]any)["ticket_ids"]) {
			if _, ok := owner[id]; !ok {
				t.Errorf("buyer %d was refused %d, which no buyer got", i, id)
			}
		}
	}
	// The database agrees: each ticket in at most one live booking, every
	// sold one in exactly one confirmed booking.
	bad := dbtest.Int(t, pool, `
		SELECT (SELECT count(*) FROM tickets t LEFT JOIN bookings b ON b.id = t.booking_id
		        WHERE (t.status = 'sold' AND (b.status IS DISTINCT FROM 'confirmed'))
		           OR (t.status = 'reserved' AND b.status IS DISTINCT FROM 'pending'))
		     + (SELECT count(*) FROM (SELECT bt.ticket_id FROM booking_tickets bt JOIN bookings b ON b.id = bt.booking_id
		        WHERE b.status IN ('pending', 'confirmed') GROUP BY bt.ticket_id HAVING count(*) > 1) x)`)
	if bad != 0 {
		t.Errorf("%d rows break the booking invariant", bad)
	}
	if len(owner) == 0 {
		t.Error("nobody got a seat")
	}
}

// browser is a fan with cookies.
type browser struct {
	t      *testing.T
	client *http.Client
	base   string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) get(path string) (*http.Response, *goquery.Document) {
	b.t.Helper()
	res, err := b.client.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	doc, _ := goquery.NewDocumentFromReader(res.Body)
	return res, doc
}

// submit posts a form the page holds (found by selector) with values
// added, as a browser would, following one redirect.
func (b *browser) submit(doc *goquery.Document, selector string, values url.Values) (*http.Response, *goquery.Document) {
	b.t.Helper()
	form := doc.Find(selector)
	if form.Length() == 0 {
		b.t.Fatalf("no form %s on the page", selector)
	}
	data := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		data.Set(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	for k, v := range values {
		data[k] = v
	}
	action, _ := form.Attr("action")
	return b.post(action, data)
}

func (b *browser) post(path string, data url.Values) (*http.Response, *goquery.Document) {
	b.t.Helper()
	res, err := b.client.PostForm(b.base+path, data)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusSeeOther {
		return b.get(res.Header.Get("Location"))
	}
	doc, _ := goquery.NewDocumentFromReader(res.Body)
	return res, doc
}

func TestBookingJourneyInHTML(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	eventID, tickets := smallEvent(t, pool, 20)
	fan := newBrowser(t, ts.URL)

	_, page := fan.get(fmt.Sprintf("/event/%d", eventID))
	pick := url.Values{"ticket_ids": {fmt.Sprint(tickets[4]), fmt.Sprint(tickets[5])}}
	// Not signed in: off to sign up, and back to the same seats ticked.
	res, doc := fan.submit(page, `form[data-testid="seat-form"]`, pick)
	if res.Request.URL.Path != "/login" || doc.Find(`[data-testid="auth-message"]`).Length() == 0 {
		t.Fatalf("holding seats signed out went to %s", res.Request.URL)
	}
	next := res.Request.URL.Query().Get("next")
	_, signup := fan.get(doc.Find(`[data-testid="to-signup"]`).AttrOr("href", ""))
	res, page = fan.submit(signup, `form[data-testid="auth-form"]`, url.Values{
		"email": {"journey@example.com"}, "password": {"correct horse battery"}, "name": {"Jo Fan"}})
	if res.Request.URL.RequestURI() != next {
		t.Fatalf("after signing up the fan is at %s, want %s", res.Request.URL.RequestURI(), next)
	}
	for _, id := range tickets[4:6] {
		if _, ok := seatControl(page, id).Attr("checked"); !ok {
			t.Errorf("seat %d is not ticked after the detour", id)
		}
	}

	// Hold: checkout with the seats, the total and the time left.
	res, checkout := fan.submit(page, `form[data-testid="seat-form"]`, pick)
	if !strings.HasPrefix(res.Request.URL.Path, "/bookings/") {
		t.Fatalf("holding went to %s", res.Request.URL)
	}
	bookingPath := res.Request.URL.Path
	if n := checkout.Find(`[data-testid="booked-seat"]`).Length(); n != 2 {
		t.Errorf("checkout lists %d seats", n)
	}
	if total := checkout.Find(`[data-testid="total"]`).Text(); total != "£50.00" {
		t.Errorf("total %q", total)
	}
	if checkout.Find(`[data-testid="countdown"]`).AttrOr("data-expires", "") == "" || checkout.Find(`[data-testid="demo-notice"]`).Length() == 0 {
		t.Error("checkout has no countdown or no word that the payment is a demo")
	}

	// Someone else now sees those seats taken.
	_, other := newBrowser(t, ts.URL).get(fmt.Sprintf("/event/%d", eventID))
	if seatControl(other, tickets[4]).Length() != 0 {
		t.Error("a held seat is selectable for another fan")
	}

	// A declined card keeps the hold.
	res, again := fan.submit(checkout, `form[data-testid="pay-form"]`, url.Values{"payment_method": {"pm_card_chargeDeclined"}})
	if res.StatusCode != http.StatusPaymentRequired || !strings.Contains(again.Find(`[data-testid="payment-error"]`).Text(), "declined") {
		t.Fatalf("declined card: %d %q", res.StatusCode, again.Find(`[data-testid="payment-error"]`).Text())
	}
	if again.Find(`[data-testid="booking"]`).AttrOr("data-status", "") != "pending" {
		t.Error("a decline lost the hold")
	}
	// A test card number that succeeds.
	_, done := fan.submit(again, `form[data-testid="pay-form"]`, url.Values{"card_number": {"4242 4242 4242 4242"}})
	if done.Find(`[data-testid="confirmed"]`).Length() != 1 || done.Find(`[data-testid="ticket-code"]`).Length() != 2 {
		t.Fatalf("no confirmation with two ticket codes: %s", done.Find("main").Text())
	}
	_, mine := fan.get("/account/bookings")
	if row := mine.Find(`[data-testid="booking-row"]`); row.Length() != 1 || row.AttrOr("data-status", "") != "confirmed" {
		t.Errorf("my bookings: %d rows", row.Length())
	}

	// Another fan cannot see it.
	stranger := newBrowser(t, ts.URL)
	_, form := stranger.get("/signup")
	stranger.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"stranger@example.com"}, "password": {"another long one"}})
	if res, page := stranger.get(bookingPath); res.StatusCode != http.StatusNotFound {
		t.Errorf("a stranger reading the booking gets %d, want 404: %s", res.StatusCode, pageText(page))
	}
}

func TestCancelInHTML(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	eventID, tickets := smallEvent(t, pool, 5)
	fan := newBrowser(t, ts.URL)
	_, form := fan.get("/signup")
	fan.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"c@example.com"}, "password": {"correct horse battery"}})
	_, page := fan.get(fmt.Sprintf("/event/%d", eventID))
	_, checkout := fan.submit(page, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[0])}})
	_, done := fan.submit(checkout, `form.cancel-form`, nil)
	if done.Find(`[data-testid="booking"]`).AttrOr("data-status", "") != "cancelled" {
		t.Fatal("cancel did not cancel")
	}
	_, page = fan.get(fmt.Sprintf("/event/%d", eventID))
	if seatControl(page, tickets[0]).Length() != 1 {
		t.Error("a cancelled booking's seat is not free at once")
	}
}

func TestSeatTakenMeanwhileShowsTheMapAgain(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	eventID, tickets := smallEvent(t, pool, 5)
	a, b := newBrowser(t, ts.URL), newBrowser(t, ts.URL)
	for i, fan := range []*browser{a, b} {
		_, form := fan.get("/signup")
		fan.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {fmt.Sprintf("f%d@example.com", i)}, "password": {"correct horse battery"}})
	}
	_, pageA := a.get(fmt.Sprintf("/event/%d", eventID))
	_, pageB := b.get(fmt.Sprintf("/event/%d", eventID))
	a.submit(pageA, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[1])}})
	res, doc := b.submit(pageB, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[1]), fmt.Sprint(tickets[2])}})
	if res.StatusCode != http.StatusConflict || doc.Find(`[data-testid="map-message"]`).Length() != 1 {
		t.Fatalf("second fan: %d, message %q", res.StatusCode, doc.Find(`[data-testid="map-message"]`).Text())
	}
	if _, ok := seatControl(doc, tickets[2]).Attr("checked"); !ok || seatControl(doc, tickets[1]).Length() != 0 {
		t.Error("the map does not keep the free seat ticked and the taken one unselectable")
	}
	if msg := doc.Find(`[data-testid="map-message"]`).Text(); !strings.Contains(msg, "Stalls, row A, seat 2") || !strings.Contains(msg, "still ticked") {
		t.Errorf("the message does not name the seat taken: %q", msg)
	}
}

// A fan whose booking ended goes back to the map with their seats ticked
// again, those still free, and is told which are not.
func TestEndedBookingTicksItsSeatsAgain(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	eventID, tickets := smallEvent(t, pool, 5)
	a, b := newBrowser(t, ts.URL), newBrowser(t, ts.URL)
	for i, fan := range []*browser{a, b} {
		_, form := fan.get("/signup")
		fan.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {fmt.Sprintf("e%d@example.com", i)}, "password": {"correct horse battery"}})
	}
	_, page := a.get(fmt.Sprintf("/event/%d", eventID))
	_, checkout := a.submit(page, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[0]), fmt.Sprint(tickets[1])}})
	_, ended := a.submit(checkout, `form.cancel-form`, nil)
	_, page = b.get(fmt.Sprintf("/event/%d", eventID))
	b.submit(page, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[0])}})

	back, ok := ended.Find(`[data-testid="back-to-map"]`).Attr("href")
	if !ok {
		t.Fatal("no way back to the map")
	}
	_, again := a.get(back)
	if _, ok := seatControl(again, tickets[1]).Attr("checked"); !ok {
		t.Error("the seat still free is not ticked again")
	}
	if msg := again.Find(`[data-testid="map-message"]`).Text(); !strings.Contains(msg, "Stalls, row A, seat 1") {
		t.Errorf("the seat taken meanwhile is not named: %q", msg)
	}

	// The fan buys the seat still free: "My bookings" shows the tickets
	// first, and the cancelled attempt apart, as nothing charged.
	_, checkout = a.submit(again, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[1])}})
	if _, paid := a.submit(checkout, `form[data-testid="pay-form"]`, url.Values{"payment_method": {"pm_card_visa"}}); paid.Find(`[data-testid="confirmed"]`).Length() != 1 {
		t.Fatal("paying for the seat again did not confirm it")
	}
	_, mine := a.get("/account/bookings")
	groups := mine.Find(`[data-testid^="bookings-"]`)
	if groups.Length() != 2 || groups.First().AttrOr("data-testid", "") != "bookings-upcoming" {
		t.Fatalf("bookings grouped as %d groups, first %q", groups.Length(), groups.First().AttrOr("data-testid", ""))
	}
	if st := groups.First().Find(`[data-testid="booking-row"]`).AttrOr("data-status", ""); st != "confirmed" {
		t.Errorf("first listed is %s, want the confirmed tickets", st)
	}
	amount := mine.Find(`[data-testid="bookings-ended"] [data-testid="booking-amount"]`).Text()
	if !strings.Contains(amount, "nothing charged") || strings.Contains(amount, "£") {
		t.Errorf("the cancelled attempt reads %q", amount)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	eventID, tickets := smallEvent(t, pool, 5)
	fan := newBrowser(t, ts.URL)
	_, form := fan.get("/signup")
	fan.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"x@example.com"}, "password": {"correct horse battery"}})
	fan.get(fmt.Sprintf("/event/%d", eventID))

	data := url.Values{"event_id": {fmt.Sprint(eventID)}, "ticket_ids": {fmt.Sprint(tickets[0])}}
	if res, _ := fan.post("/bookings", data); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusBadRequest {
		t.Errorf("a form without its token: %d", res.StatusCode)
	}
	data.Set("_csrf", "forged")
	if res, _ := fan.post("/bookings", data); res.StatusCode != http.StatusForbidden {
		t.Errorf("a form with a wrong token: %d", res.StatusCode)
	}
	// A browser posting from another site says so; that is refused too.
	req, _ := http.NewRequest("POST", ts.URL+"/bookings", strings.NewReader(data.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res, err := fan.client.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site post: %v %d", err, res.StatusCode)
	}
	if n := dbtest.IDs(t, pool, `SELECT id FROM bookings`); len(n) != 0 {
		t.Errorf("forged posts made %d bookings", len(n))
	}

	// Every form the site has refuses a post without its token, and one
	// made by another site with the right token in hand.
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", signUp(t, ts.URL, "owner@example.com"), map[string]any{"ticket_ids": tickets[1:2]})
	booking := fmt.Sprint(int64(held["id"].(float64)))
	_, page := fan.get("/")
	token := page.Find(`input[name="_csrf"]`).AttrOr("value", "")
	for _, path := range []string{"/signup", "/login", "/logout", "/bookings", "/bookings/" + booking + "/pay", "/bookings/" + booking + "/cancel"} {
		form := url.Values{"email": {"y@example.com"}, "password": {"correct horse battery"}, "ticket_ids": {fmt.Sprint(tickets[2])}, "payment_method": {"pm_card_visa"}}
		if res, _ := fan.post(path, form); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without a token: %d, want 403", path, res.StatusCode)
		}
		form.Set("_csrf", token)
		req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if res, err := fan.client.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s from another site: %v %d, want 403", path, err, res.StatusCode)
		}
	}
	if n := dbtest.IDs(t, pool, `SELECT id FROM users WHERE email = 'y@example.com'`); len(n) != 0 {
		t.Error("a forged sign-up made an account")
	}
	if n := dbtest.IDs(t, pool, `SELECT id FROM bookings WHERE status <> 'pending'`); len(n) != 0 {
		t.Error("a forged post paid or cancelled a booking")
	}
	if _, home := fan.get("/"); home.Find(`form[action="/logout"]`).Length() != 1 {
		t.Error("a forged log-out signed the fan out")
	}
}
