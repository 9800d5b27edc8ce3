package web_test

// Tests for what a security review and an outside attack found: each
// failed before its fix.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

// elementProcessor is the demo processor made to look like Stripe: fans
// pay in the browser with a client secret. It counts the calls that would
// go to Stripe.
type elementProcessor struct {
	*payment.Demo
	mu    sync.Mutex
	calls map[string]int
}

func newElementProcessor() *elementProcessor {
	return &elementProcessor{Demo: payment.NewDemo(), calls: map[string]int{}}
}

func (p *elementProcessor) count(call string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[call]++
}

func (p *elementProcessor) called(call string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[call]
}

// elementServer is a site whose checkout shows Stripe's Payment Element,
// paid through p.
func elementServer(t *testing.T, pool *pgxpool.Pool) (*httptest.Server, *elementProcessor) {
	pays := newElementProcessor()
	return newServer(t, pool, func(c *web.SiteConfig) {
		c.Payments = pays
		c.StripePublishableKey = "pk_test_boxoffice"
	}), pays
}

func (p *elementProcessor) Name() string    { return "stripe" }
func (p *elementProcessor) InBrowser() bool { return true }

func (p *elementProcessor) CreateIntent(ctx context.Context, r payment.Request) (payment.Intent, error) {
	p.count("create")
	in, err := p.Demo.CreateIntent(ctx, r)
	in.Provider, in.ClientSecret = "stripe", in.ID+"_secret_x"
	return in, err
}

func (p *elementProcessor) GetIntent(ctx context.Context, id string) (payment.Intent, error) {
	p.count("get")
	in, err := p.Demo.GetIntent(ctx, id)
	in.Provider, in.ClientSecret = "stripe", in.ID+"_secret_x"
	return in, err
}

func (p *elementProcessor) Charge(ctx context.Context, r payment.Request) (payment.Receipt, error) {
	rec, err := p.Demo.Charge(ctx, r)
	rec.Provider = "stripe"
	return rec, err
}

func TestLoginSendsOnlyToThisSite(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t))
	signUp(t, ts.URL, "fan@example.com")
	for next, want := range map[string]string{
		"/\t/evil.example":               "/",
		"/\n/evil.example":               "/",
		"/\\evil.example":                "/",
		"\\/evil.example":                "/",
		"//evil.example":                 "/",
		" //evil.example":                "/",
		"https://evil.example/":          "/",
		"/\x00/evil.example":             "/",
		"javascript:alert(1)":            "/",
		"/event/3/sections/7?select=1,2": "/event/3/sections/7?select=1,2",
		"/bookings/12":                   "/bookings/12",
	} {
		fan := newBrowser(t, ts.URL)
		_, form := fan.get("/login?next=" + url.QueryEscape(next))
		if got := form.Find(`input[name="next"]`).AttrOr("value", ""); got != want {
			t.Errorf("next %q: the form carries %q, want %q", next, got, want)
		}
		// A forged form sending next straight: the answer goes to want.
		data := url.Values{"email": {"fan@example.com"}, "password": {"correct horse battery"}, "next": {next},
			"_csrf": {form.Find(`input[name="_csrf"]`).AttrOr("value", "")}}
		res, err := fan.client.PostForm(ts.URL+"/login", data)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != want {
			t.Errorf("next %q: log-in answers %d Location %q, want %q", next, res.StatusCode, loc, want)
		}
	}
}

// With Stripe's live keys, checkout says nothing of test mode and offers
// no test cards; in test mode it does.
func TestLiveKeysShowNoTestTexts(t *testing.T) {
	t.Parallel()
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("live %v", live), func(t *testing.T) {
			t.Parallel()
			pool := dbtest.New(t)
			ts := newServer(t, pool, func(c *web.SiteConfig) {
				c.Payments = newElementProcessor()
				c.StripeSecretKey, c.StripePublishableKey, c.StripeWebhookSecret = "sk_test_boxoffice", "pk_test_boxoffice", "whsec_boxoffice"
				if live {
					c.StripeSecretKey, c.StripePublishableKey = "sk_live_boxoffice", "pk_live_boxoffice"
				}
			})
			eventID, tickets := smallEvent(t, pool, 3)
			fan := newBrowser(t, ts.URL)
			_, form := fan.get("/signup")
			fan.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"live@example.com"}, "password": {"correct horse battery"}})
			_, page := fan.get(fmt.Sprintf("/event/%d", eventID))
			_, checkout := fan.submit(page, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[0])}})
			if checkout.Find(`[data-testid="stripe-form"]`).Length() != 1 {
				t.Fatalf("no Payment Element: %s", pageText(checkout))
			}
			text := strings.ToLower(pageText(checkout))
			testTexts := strings.Contains(text, "test mode") || strings.Contains(text, "no real money") ||
				checkout.Find(`[data-testid="pay-form"]`).Length() > 0 || strings.Contains(text, "4242")
			if testTexts == live {
				t.Errorf("test texts and test cards shown: %v, want %v", testTexts, !live)
			}
		})
	}
}

func TestBearerTokensCanBeRevoked(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t))
	token := signUp(t, ts.URL, "app@example.com")
	_, login := api(t, "POST", ts.URL+"/api/v1/sessions", "", map[string]string{"email": "app@example.com", "password": "correct horse battery"})
	other, _ := login["token"].(string)
	if code, _ := api(t, "GET", ts.URL+"/api/v1/bookings", token, nil); code != http.StatusOK {
		t.Fatalf("the token does not work: %d", code)
	}
	if code, body := api(t, "DELETE", ts.URL+"/api/v1/sessions", token, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE /api/v1/sessions = %d %v", code, body)
	}
	if code, body := api(t, "GET", ts.URL+"/api/v1/bookings", token, nil); code != http.StatusUnauthorized {
		t.Errorf("a revoked token still works: %d %v", code, body)
	}
	if code, _ := api(t, "GET", ts.URL+"/api/v1/bookings", other, nil); code != http.StatusOK {
		t.Errorf("revoking one token ended the account's other session: %d", code)
	}
	if code, _ := api(t, "DELETE", ts.URL+"/api/v1/sessions", "", nil); code != http.StatusUnauthorized {
		t.Errorf("DELETE /api/v1/sessions without a token = %d, want 401", code)
	}
}

// A post that a browser says came from another origin of the same site (a
// sibling subdomain) is refused, even with a token that matches its cookie.
func TestCSRFRefusesSameSitePosts(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t))
	signUp(t, ts.URL, "fan@example.com")
	fan := newBrowser(t, ts.URL)
	_, form := fan.get("/login") // no Sec-Fetch-Site: a token in a cookie
	token := form.Find(`input[name="_csrf"]`).AttrOr("value", "")
	post := func(site string) int {
		body := url.Values{"_csrf": {token}, "email": {"fan@example.com"}, "password": {"correct horse battery"}}
		req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", site)
		res, err := fan.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for site, want := range map[string]int{"same-site": http.StatusForbidden, "cross-site": http.StatusForbidden, "same-origin": http.StatusSeeOther} {
		if got := post(site); got != want {
			t.Errorf("Sec-Fetch-Site: %s with a matching token = %d, want %d", site, got, want)
		}
	}
}

// /readyz says the database is unavailable, not why; /metrics is not on
// the site's own port but on a handler main serves elsewhere.
func TestOperatorEndpointsSayLittle(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	h := newSite(t, pool)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	res, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the site's port = %d, want 404", res.StatusCode)
	}
	metrics := httptest.NewServer(h.MetricsHandler())
	t.Cleanup(metrics.Close)
	res, err = http.Get(metrics.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "boxoffice_http_requests_total") {
		t.Errorf("/metrics on its own address = %d:\n%.300s", res.StatusCode, body)
	}

	pool.Close()
	res, err = http.Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"database unavailable"`) ||
		strings.Contains(string(body), "pool") || strings.Contains(string(body), "dial") {
		t.Errorf("/readyz without a database = %d %s", res.StatusCode, body)
	}
}

func TestSignupsAreLimitedPerAddress(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	// Each signUp is a sign-up and a log-in: two password hashes.
	ts := newServer(t, pool, func(c *web.SiteConfig) { c.SignupRate = web.Rate{PerMinute: 4, Burst: 4} })
	signUp(t, ts.URL, "one@example.com")
	signUp(t, ts.URL, "two@example.com")
	for _, c := range []struct{ path, body string }{
		{"/api/v1/users", `{"email":"three@example.com","password":"correct horse battery"}`},
		{"/api/v1/sessions", `{"email":"one@example.com","password":"correct horse battery"}`},
	} {
		req, _ := http.NewRequest("POST", ts.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Errorf("POST %s past the limit = %d (Retry-After %q), want 429", c.path, res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM users`); n != 2 {
		t.Errorf("%d accounts", n)
	}
}

// A stadium's tickets come a section at a time.
func TestLargeEventsListTicketsBySection(t *testing.T) {
	t.Parallel()
	pool := dbtest.Shared(t, "demo", func(ctx context.Context, pool *pgxpool.Pool) error {
		_, _, err := seed.Demo(ctx, pool, time.Now())
		return err
	})
	ts := newServer(t, pool)
	stadium := eventAt(t, pool, 20_000, 100_000)
	code, body := getJSON(t, fmt.Sprintf("%s/api/v1/events/%d/tickets", ts.URL, stadium))
	if msg, _ := body["error"].(map[string]any)["message"].(string); code != http.StatusBadRequest || !strings.Contains(msg, "section") {
		t.Errorf("every ticket of a stadium: %d, message %q", code, msg)
	}
	var section int64
	dbtest.QueryRow(t, pool, `SELECT section_id FROM tickets WHERE event_id = $1 LIMIT 1`, stadium).Scan(&section)
	code, body = getJSON(t, fmt.Sprintf("%s/api/v1/events/%d/tickets?section=%d", ts.URL, stadium, section))
	if list, _ := body["tickets"].([]any); code != http.StatusOK || len(list) == 0 {
		t.Errorf("one section of a stadium: %d, %d tickets", code, len(list))
	}
}

// Looking at bookings costs Stripe little: the list asks nothing, and a
// page reloaded in a hurry asks once.
func TestLookingAtBookingsAsksStripeLittle(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	pays := newElementProcessor()
	ts := newServer(t, pool, func(c *web.SiteConfig) {
		c.Payments, c.StripePublishableKey, c.Now = pays, "pk_test_boxoffice", clock
	})
	_, tickets := smallEvent(t, pool, 5)
	token := signUp(t, ts.URL, "fan@example.com")
	var ids []int64
	for _, id := range tickets[:3] {
		code, b := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": []int64{id}})
		if code != http.StatusCreated {
			t.Fatalf("hold: %d %v", code, b)
		}
		ids = append(ids, int64(b["id"].(float64)))
	}
	before := pays.called("get") + pays.called("create")
	if code, _ := api(t, "GET", ts.URL+"/api/v1/bookings", token, nil); code != http.StatusOK {
		t.Fatal(code)
	}
	fan := newBrowser(t, ts.URL)
	_, form := fan.get("/login")
	fan.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"fan@example.com"}, "password": {"correct horse battery"}})
	if res, _ := fan.get("/account/bookings"); res.StatusCode != http.StatusOK {
		t.Fatal(res.StatusCode)
	}
	if n := pays.called("get") + pays.called("create") - before; n != 0 {
		t.Errorf("listing bookings called Stripe %d times", n)
	}
	before = pays.called("get")
	for range 5 {
		if code, _ := api(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", ts.URL, ids[0]), token, nil); code != http.StatusOK {
			t.Fatal(code)
		}
	}
	if n := pays.called("get") - before; n > 1 {
		t.Errorf("five looks at a booking within seconds asked Stripe %d times", n)
	}
	// Once the answer is a few seconds old, the next look asks again.
	before = pays.called("get")
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	if code, _ := api(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", ts.URL, ids[0]), token, nil); code != http.StatusOK {
		t.Fatal(code)
	}
	if n := pays.called("get") - before; n != 1 {
		t.Errorf("a look once the answer was 10 s old asked Stripe %d times, want 1", n)
	}
}

// A browser that signed in before gets in while others guess the fan's
// password from many addresses; a new browser is asked to wait.
func TestKnownBrowserSignsInDuringGuessing(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t), func(c *web.SiteConfig) { c.TrustProxy = true })
	signUp(t, ts.URL, "fan@example.com")
	login := func(b *browser, from, password string) int {
		t.Helper()
		_, form := b.get("/login")
		body := url.Values{"_csrf": {form.Find(`input[name="_csrf"]`).AttrOr("value", "")}, "email": {"fan@example.com"}, "password": {password}}
		req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		res, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	fan := newBrowser(t, ts.URL)
	if code := login(fan, "203.0.113.9", "correct horse battery"); code != http.StatusSeeOther {
		t.Fatalf("the fan's first sign-in: %d", code)
	}
	for i := range 60 {
		login(newBrowser(t, ts.URL), fmt.Sprintf("198.51.100.%d", i+1), "wrong password")
	}
	if code := login(newBrowser(t, ts.URL), "203.0.113.9", "correct horse battery"); code != http.StatusTooManyRequests {
		t.Errorf("a new browser while the account is being guessed: %d, want 429", code)
	}
	if code := login(fan, "203.0.113.9", "correct horse battery"); code != http.StatusSeeOther {
		t.Errorf("the fan's own browser while the account is being guessed: %d, want 303", code)
	}
}
