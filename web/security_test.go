package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

// sessionOf returns the session cookie a response sets, if any.
func sessionOf(res *http.Response) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == "boxoffice_session" {
			return ck
		}
	}
	return nil
}

// signedIn says whether a request carrying the session token gets to the
// fan's bookings (rather than being sent to log in).
func signedIn(t *testing.T, base, token string) bool {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/account/bookings", nil)
	req.AddCookie(&http.Cookie{Name: "boxoffice_session", Value: token})
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

func TestSessionCookieIsRotatedAtLoginAndEndedAtLogout(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t))
	fan := newBrowser(t, ts.URL)
	_, form := fan.get("/signup")
	csrf := form.Find(`input[name="_csrf"]`).AttrOr("value", "")
	res, err := fan.client.PostForm(ts.URL+"/signup", url.Values{"_csrf": {csrf}, "email": {"fan@example.com"}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	first := sessionOf(res)
	if first == nil {
		t.Fatal("signing up sets no session cookie")
	}
	if !first.HttpOnly || first.SameSite != http.SameSiteLaxMode || first.Path != "/" || first.Secure {
		t.Errorf("session cookie over http: HttpOnly %v SameSite %v Path %q Secure %v", first.HttpOnly, first.SameSite, first.Path, first.Secure)
	}
	if len(first.Value) < 40 {
		t.Errorf("session token %q is short", first.Value)
	}
	if !signedIn(t, ts.URL, first.Value) {
		t.Fatal("the new session does not work")
	}

	// Logging in again, as over HTTPS behind a proxy: a new token, the
	// Secure flag, and the old token is dead.
	req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(url.Values{"_csrf": {csrf}, "email": {"fan@example.com"}, "password": {"correct horse battery"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	res, err = fan.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	second := sessionOf(res)
	if second == nil || second.Value == first.Value {
		t.Fatalf("logging in keeps the session id: %v", second)
	}
	if !second.Secure {
		t.Error("the session cookie over HTTPS is not Secure")
	}
	if signedIn(t, ts.URL, first.Value) {
		t.Error("the session from before logging in still works")
	}
	if !signedIn(t, ts.URL, second.Value) {
		t.Fatal("the new session does not work")
	}

	// Log out (the browser sends the Secure cookie; this test talks plain
	// HTTP, so it is added by hand): the cookie is cleared and the token is
	// dead on the server, even for someone who copied it.
	req, _ = http.NewRequest("POST", ts.URL+"/logout", strings.NewReader(url.Values{"_csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(second)
	res, err = fan.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if cleared := sessionOf(res); res.StatusCode != http.StatusSeeOther || cleared == nil || cleared.MaxAge >= 0 {
		t.Errorf("logging out: %d, cookie %v", res.StatusCode, cleared)
	}
	if signedIn(t, ts.URL, second.Value) {
		t.Error("the session still works after logging out")
	}
}

// Log-in and sign-up answers do not tell whether an email has an account.
func TestNoUserEnumeration(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t))
	signUp(t, ts.URL, "known@example.com")
	message := func(path string, values url.Values) (int, string) {
		fan := newBrowser(t, ts.URL)
		_, form := fan.get(path)
		res, page := fan.submit(form, `form[data-testid="auth-form"]`, values)
		return res.StatusCode, strings.TrimSpace(page.Find(`[role="alert"]`).Text())
	}
	c1, m1 := message("/login", url.Values{"email": {"known@example.com"}, "password": {"not the password"}})
	c2, m2 := message("/login", url.Values{"email": {"unknown@example.com"}, "password": {"not the password"}})
	if c1 != c2 || m1 != m2 || m1 == "" {
		t.Errorf("wrong password: %d %q; unknown email: %d %q", c1, m1, c2, m2)
	}
	code, msg := message("/signup", url.Values{"email": {"known@example.com"}, "password": {"some other password"}})
	if code == http.StatusOK || msg == "" {
		t.Fatalf("signing up with a known email: %d %q", code, msg)
	}
	for _, word := range []string{"exist", "taken", "registered", "already", "in use"} {
		if strings.Contains(strings.ToLower(msg), word) {
			t.Errorf("the sign-up message says the account exists (%q): %q", word, msg)
		}
	}
	code, body := api(t, "POST", ts.URL+"/api/v1/users", "", map[string]string{"email": "known@example.com", "password": "some other password"})
	if m, _ := body["error"].(map[string]any)["message"].(string); code != http.StatusConflict || strings.Contains(strings.ToLower(m), "exist") {
		t.Errorf("API sign-up with a known email: %d %v", code, body)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool, func(c *web.SiteConfig) {
		c.BookingRate = web.Rate{PerMinute: 6, Burst: 2}
		c.SearchRate = web.Rate{PerMinute: 30, Burst: 3}
		c.TrustProxy = true
	})
	_, tickets := smallEvent(t, pool, 10)

	search := func(from, path string) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("X-Forwarded-For", from)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for i := range 3 {
		if res := search("198.51.100.1", "/api/v1/search?q=test"); res.StatusCode != http.StatusOK {
			t.Fatalf("search %d within the burst: %d", i+1, res.StatusCode)
		}
	}
	res := search("198.51.100.1", "/search?q=test")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "2" {
		t.Errorf("search over the limit: %d, Retry-After %q; want 429 and 2", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if res := search("203.0.113.9", "/search?q=test"); res.StatusCode != http.StatusOK {
		t.Errorf("another client is limited too: %d", res.StatusCode)
	}

	// Booking is limited per fan, wherever they connect from; a limited
	// request changes nothing.
	greedy, calm := signUp(t, ts.URL, "greedy@example.com"), signUp(t, ts.URL, "calm@example.com")
	for i := range 2 {
		if code, body := api(t, "POST", ts.URL+"/api/v1/bookings", greedy, map[string]any{"ticket_ids": tickets[i : i+1]}); code != http.StatusCreated {
			t.Fatalf("hold %d: %d %v", i+1, code, body)
		}
	}
	code, body := api(t, "POST", ts.URL+"/api/v1/bookings", greedy, map[string]any{"ticket_ids": tickets[2:3]})
	if e, _ := body["error"].(map[string]any); code != http.StatusTooManyRequests || e["code"] != "rate_limited" || e["retry_after"] != 10.0 {
		t.Errorf("third hold in a burst of 2: %d %v", code, body)
	}
	if n := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE status <> 'available'`); len(n) != 2 {
		t.Errorf("%d tickets taken, want 2", len(n))
	}
	if code, body := api(t, "POST", ts.URL+"/api/v1/bookings", calm, map[string]any{"ticket_ids": tickets[2:3]}); code != http.StatusCreated {
		t.Errorf("another fan from the same address: %d %v", code, body)
	}
}

// Without a trusted proxy in front, X-Forwarded-For is the client's word
// and does not get it a fresh allowance.
func TestRateLimitIgnoresForwardedForByDefault(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t), func(c *web.SiteConfig) { c.SearchRate = web.Rate{PerMinute: 6, Burst: 1} })
	codes := []int{}
	for i := range 3 {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/search?q=jazz", nil)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i+1))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		codes = append(codes, res.StatusCode)
	}
	if codes[0] != 200 || codes[1] != 429 || codes[2] != 429 {
		t.Errorf("searches with made-up addresses: %v, want [200 429 429]", codes)
	}
}

// One fan's booking is nobody else's business: another signed-in fan can
// neither see, pay nor cancel it through the pages.
func TestAnotherFansBookingInHTML(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	_, tickets := smallEvent(t, pool, 4)
	owner := signUp(t, ts.URL, "owner@example.com")
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", owner, map[string]any{"ticket_ids": tickets[:2]})
	id := int64(held["id"].(float64))

	stranger := newBrowser(t, ts.URL)
	_, form := stranger.get("/signup")
	_, home := stranger.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"stranger@example.com"}, "password": {"another long one"}})
	csrf := home.Find(`input[name="_csrf"]`).AttrOr("value", "")
	for _, path := range []string{"/pay", "/cancel"} {
		res, page := stranger.post(fmt.Sprintf("/bookings/%d%s", id, path), url.Values{"_csrf": {csrf}, "payment_method": {"pm_card_visa"}})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("a stranger posting to %s gets %d: %s", path, res.StatusCode, pageText(page))
		}
	}
	var status string
	dbtest.QueryRow(t, pool, `SELECT status FROM bookings WHERE id = $1`, id).Scan(&status)
	if status != "pending" {
		t.Errorf("the owner's booking is %s after a stranger's posts", status)
	}
}

func pageText(doc *goquery.Document) string {
	if doc == nil {
		return ""
	}
	return strings.Join(strings.Fields(doc.Find("main").Text()), " ")
}
