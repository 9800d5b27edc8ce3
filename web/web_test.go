package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// demoServer serves the demo catalogue, seeded once for the tests that
// only read it.
func demoServer(t *testing.T) *httptest.Server {
	t.Helper()
	pool := dbtest.Shared(t, "demo", func(ctx context.Context, pool *pgxpool.Pool) error {
		_, _, err := seed.Demo(ctx, pool, time.Now())
		return err
	})
	return newServer(t, pool)
}

func newServer(t testing.TB, pool *pgxpool.Pool, opts ...func(*web.SiteConfig)) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(newSite(t, pool, opts...))
	t.Cleanup(ts.Close)
	return ts
}

// newSite wires the site on pool as main does (web.NewSite), with the
// demo processor and the default booking rules, changed by opts.
func newSite(t testing.TB, pool *pgxpool.Pool, opts ...func(*web.SiteConfig)) *web.Site {
	t.Helper()
	cfg := web.SiteConfig{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	site, err := web.NewSite(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	// The change feed runs as in main; the sweeper and the monitor only
	// where a test starts them.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); site.Feed.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return site
}

func get(t *testing.T, url string) (*http.Response, *goquery.Document) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, doc
}

func TestHomeListsUpcomingEvents(t *testing.T) {
	t.Parallel()
	ts := demoServer(t)
	res, doc := get(t, ts.URL+"/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", res.StatusCode)
	}
	cards := doc.Find(`[data-testid="event-card"]`)
	if cards.Length() < 10 {
		t.Fatalf("home lists %d events, want a page of them", cards.Length())
	}
	first := cards.First()
	if name := strings.TrimSpace(first.Find(`[data-testid="event-name"]`).Text()); name == "" {
		t.Error("first card has no event name")
	}
	href, _ := first.Find("a").Attr("href")
	if !strings.HasPrefix(href, "/event/") {
		t.Errorf("card links to %q, want /event/…", href)
	}
	if doc.Find(`[data-testid="sold-out"]`).Length() == 0 && !strings.Contains(doc.Text(), "From ") {
		t.Error("cards show neither a price nor sold out")
	}
	if doc.Find(`form[action="/search"] input[name="q"]`).Length() != 1 {
		t.Error("no search box in the header")
	}
	// Fans browse by type and city, and can see every event.
	comedy := doc.Find(`[data-testid="browse-types"] a[data-value="comedy"]`)
	if href, _ := comedy.Attr("href"); href != "/search?type=comedy" || !strings.Contains(comedy.Text(), "12 events") {
		t.Errorf("comedy tile %q links to %q", comedy.Text(), href)
	}
	if href, _ := doc.Find(`[data-testid="browse-cities"] a[data-value="London"]`).Attr("href"); href != "/search?location=London" {
		t.Errorf("London links to %q", href)
	}
	if all := doc.Find(`[data-testid="see-all"]`); all.AttrOr("href", "") != "/search" || !strings.Contains(all.Text(), " events") {
		t.Errorf("see all: %q", all.Text())
	}
}

func TestHomeWithoutEvents(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t))
	res, doc := get(t, ts.URL+"/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", res.StatusCode)
	}
	if doc.Find(`[data-testid="no-events"]`).Length() != 1 {
		t.Error("an empty catalogue does not say so")
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t))

	res, doc := get(t, ts.URL+"/no/such/page")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("HTML 404: status %d", res.StatusCode)
	}
	if msg := doc.Find(`[data-testid="error-message"]`).Text(); msg == "" {
		t.Error("HTML 404 page has no message")
	}

	res, err := http.Get(ts.URL + "/api/v1/no-such-thing")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("JSON 404 body: %v", err)
	}
	if res.StatusCode != http.StatusNotFound || body.Error.Code != "not_found" || body.Error.Message == "" {
		t.Errorf("JSON 404 = %d %+v", res.StatusCode, body)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s = %d, want 200", path, res.StatusCode)
		}
	}

	pool.Close() // the database goes away
	res, err := http.Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz without a database = %d, want 503", res.StatusCode)
	}
	res, err = http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("/healthz without a database = %d, want 200 (the process is up)", res.StatusCode)
	}
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t))
	_, doc := get(t, ts.URL+"/no-such-page")
	href, ok := doc.Find(`link[rel="stylesheet"]`).Attr("href")
	if !ok || !strings.Contains(href, "?v=") {
		t.Fatalf("stylesheet link %q carries no version", href)
	}
	res, err := http.Get(ts.URL + href)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("versioned stylesheet Cache-Control = %q", res.Header.Get("Cache-Control"))
	}
	for _, path := range []string{"/static/../main.go", "/static/%2e%2e/go.mod", "/static/", "/static/nope.css"} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	for _, c := range []struct {
		name   string
		stripe bool
	}{{"demo", false}, {"stripe", true}} {
		ts := newServer(t, pool, func(cfg *web.SiteConfig) {
			if c.stripe {
				cfg.StripePublishableKey = "pk_test_x"
			}
		})
		res, err := http.Get(ts.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", c.name, csp, want)
			}
		}
		if strings.Contains(csp, "js.stripe.com") != c.stripe {
			t.Errorf("%s: CSP %q allows Stripe: %v, want %v", c.name, csp, !c.stripe, c.stripe)
		}
		if strings.Contains(csp, "'unsafe-inline'") && !strings.Contains(csp, "style-src-attr 'unsafe-inline'") {
			t.Errorf("%s: CSP allows inline code: %q", c.name, csp)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", c.name, h, got, want)
			}
		}
	}
}

// checkInvariant asserts the booking invariant (DESIGN §4) on every event.
func checkInvariant(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	counts, err := booking.CheckInvariant(context.Background(), pool, dbtest.IDs(t, pool, `SELECT id FROM events`))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range booking.Checks {
		if counts[name] != 0 {
			t.Errorf("booking invariant broken: %s (%d)", name, counts[name])
		}
	}
}
