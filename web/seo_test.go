package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

// seoDemo is a demo catalogue of the SEO tests' own, which they change
// (a cancellation, a draft, a past event, odd names), each on events of
// its own.
func seoDemo(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return dbtest.Shared(t, "seo-demo", func(ctx context.Context, pool *pgxpool.Pool) error {
		_, _, err := seed.Demo(ctx, pool, time.Now())
		return err
	})
}

// jsonLD reads the schema.org Event of an event page.
func jsonLD(t *testing.T, doc *goquery.Document) map[string]any {
	t.Helper()
	scripts := doc.Find(`head script[type="application/ld+json"]`)
	if scripts.Length() != 1 {
		t.Fatalf("%d JSON-LD scripts in the head, want 1", scripts.Length())
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(scripts.Text()), &out); err != nil {
		t.Fatalf("JSON-LD does not parse: %v\n%s", err, scripts.Text())
	}
	return out
}

// field reads a dotted path of nested objects ("location.address.addressLocality").
func field(v map[string]any, path string) any {
	var cur any = v
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func str(v map[string]any, path string) string {
	s, _ := field(v, path).(string)
	return s
}

func meta(doc *goquery.Document, attr, name string) string {
	return doc.Find(fmt.Sprintf(`head meta[%s=%q]`, attr, name)).AttrOr("content", "")
}

func getPage(t *testing.T, url string, header ...string) (*http.Response, *goquery.Document, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, res.StatusCode)
	}
	return res, doc, string(body)
}

func TestJSONLDOfAnEventPage(t *testing.T) {
	t.Parallel()
	pool := seoDemo(t)
	ts := newServer(t, pool)
	id := eventAt(t, pool, 1800, 2500)
	var name, venue, city, country, currency string
	var starts time.Time
	var tz string
	dbtest.QueryRow(t, pool, `SELECT e.name, v.name, v.city, v.country, e.currency, e.starts_at, e.timezone
		FROM events e JOIN venues v ON v.id = e.venue_id WHERE e.id = $1`, id).Scan(&name, &venue, &city, &country, &currency, &starts, &tz)

	_, doc, _ := getPage(t, fmt.Sprintf("%s/event/%d", ts.URL, id), "Accept-Language", "en")
	ld := jsonLD(t, doc)
	// What Google requires of an event, and what it recommends.
	for path, want := range map[string]string{
		"@context": "https://schema.org", "@type": "Event", "name": name,
		"eventStatus":                      "https://schema.org/EventScheduled",
		"eventAttendanceMode":              "https://schema.org/OfflineEventAttendanceMode",
		"location.@type":                   "Place",
		"location.name":                    venue,
		"location.address.@type":           "PostalAddress",
		"location.address.addressLocality": city,
		"location.address.addressCountry":  country,
		"offers.@type":                     "AggregateOffer",
		"offers.priceCurrency":             currency,
		"offers.url":                       ts.URL + fmt.Sprintf("/event/%d", id),
	} {
		if got := str(ld, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	for _, path := range []string{"location.address.streetAddress", "description", "image", "offers.lowPrice", "offers.highPrice", "offers.availability"} {
		if str(ld, path) == "" {
			t.Errorf("JSON-LD lacks %s", path)
		}
	}
	loc, _ := time.LoadLocation(tz)
	if got, want := str(ld, "startDate"), starts.In(loc).Format("2006-01-02T15:04:05-07:00"); got != want {
		t.Errorf("startDate = %q, want %q (the venue's offset)", got, want)
	}
	if a := str(ld, "offers.availability"); a != "https://schema.org/InStock" && a != "https://schema.org/LimitedAvailability" {
		t.Errorf("availability of an event on sale: %q", a)
	}
	if lo := str(ld, "offers.lowPrice"); !strings.Contains(lo, ".") || strings.Contains(lo, ",") {
		t.Errorf("lowPrice %q is not a decimal in major units", lo)
	}
	performers, _ := ld["performer"].([]any)
	if len(performers) == 0 {
		t.Fatal("JSON-LD has no performer")
	}
	for _, p := range performers {
		p := p.(map[string]any)
		switch p["@type"] {
		case "Person", "PerformingGroup", "SportsTeam":
		default:
			t.Errorf("performer %v has type %v", p["name"], p["@type"])
		}
		if p["name"] == "" {
			t.Errorf("performer without a name: %v", p)
		}
	}
	if img := str(ld, "image"); !strings.HasPrefix(img, ts.URL+"/") {
		t.Errorf("image %q is not an absolute address on the site", img)
	}
}

func TestJSONLDOfCancelledAndSoldOutEvents(t *testing.T) {
	t.Parallel()
	pool := seoDemo(t)
	ts := newServer(t, pool)

	var cancelled int64
	dbtest.QueryRow(t, pool, `SELECT e.id FROM events e JOIN venues v ON v.id = e.venue_id
		WHERE v.capacity BETWEEN 8000 AND 25000 AND e.status = 'on_sale' ORDER BY e.starts_at DESC, e.id LIMIT 1`).Scan(&cancelled)
	dbtest.Exec(t, pool, `UPDATE events SET status = 'cancelled', updated_at = now() WHERE id = $1`, cancelled)
	_, doc, _ := getPage(t, fmt.Sprintf("%s/event/%d", ts.URL, cancelled))
	ld := jsonLD(t, doc)
	if got := str(ld, "eventStatus"); got != "https://schema.org/EventCancelled" {
		t.Errorf("cancelled event: eventStatus %q", got)
	}
	if str(ld, "startDate") == "" {
		t.Error("a cancelled event keeps its date")
	}

	var soldOut int64
	dbtest.QueryRow(t, pool, `SELECT event_id FROM tickets t JOIN events e ON e.id = t.event_id WHERE e.status = 'on_sale'
		GROUP BY event_id HAVING count(*) FILTER (WHERE t.status <> 'sold') = 0 ORDER BY event_id LIMIT 1`).Scan(&soldOut)
	_, doc, _ = getPage(t, fmt.Sprintf("%s/event/%d", ts.URL, soldOut))
	ld = jsonLD(t, doc)
	if got := str(ld, "offers.availability"); got != "https://schema.org/SoldOut" {
		t.Errorf("sold-out event: availability %q", got)
	}
	if got := str(ld, "eventStatus"); got != "https://schema.org/EventScheduled" {
		t.Errorf("sold-out event: eventStatus %q", got)
	}
}

// A name cannot close the JSON-LD's script element: encoding/json writes
// < > & escaped.
func TestJSONLDKeepsNamesInside(t *testing.T) {
	t.Parallel()
	pool := seoDemo(t)
	ts := newServer(t, pool)
	id := eventAt(t, pool, 40000, 100000)
	hostile := `Rock </script><script>alert(1)</script> & "Roll"`
	dbtest.Exec(t, pool, `UPDATE events SET name = $2 WHERE id = $1`, id, hostile)
	_, doc, body := getPage(t, fmt.Sprintf("%s/event/%d", ts.URL, id))
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("the event's name broke out of its element")
	}
	if got := str(jsonLD(t, doc), "name"); got != hostile {
		t.Errorf("name = %q, want %q", got, hostile)
	}
	if got := meta(doc, "property", "og:title"); !strings.Contains(got, hostile) {
		t.Errorf("og:title = %q", got)
	}
}

func TestOGTagsAndImage(t *testing.T) {
	t.Parallel()
	pool := seoDemo(t)
	ts := newServer(t, pool)
	id := eventAt(t, pool, 1800, 2500)
	page := fmt.Sprintf("%s/event/%d", ts.URL, id)
	_, doc, _ := getPage(t, page, "Accept-Language", "en")

	for _, tag := range [][2]string{{"property", "og:title"}, {"property", "og:description"}, {"property", "og:locale"},
		{"property", "og:type"}, {"name", "twitter:title"}, {"name", "twitter:description"}, {"property", "og:image:alt"}} {
		if meta(doc, tag[0], tag[1]) == "" {
			t.Errorf("no %s", tag[1])
		}
	}
	if got := meta(doc, "property", "og:url"); got != page {
		t.Errorf("og:url = %q, want %q", got, page)
	}
	if got := doc.Find(`head link[rel="canonical"]`).AttrOr("href", ""); got != page {
		t.Errorf("canonical = %q, want %q", got, page)
	}
	if got := meta(doc, "name", "twitter:card"); got != "summary_large_image" {
		t.Errorf("twitter:card = %q", got)
	}
	if w, h := meta(doc, "property", "og:image:width"), meta(doc, "property", "og:image:height"); w != "1200" || h != "630" {
		t.Errorf("og:image is %s×%s", w, h)
	}
	if got := meta(doc, "property", "og:locale"); got != "en_US" {
		t.Errorf("og:locale = %q", got)
	}
	// The meta description: "Tickets for X at Venue, City, on <date>. From <price>."
	desc := doc.Find(`head meta[name="description"]`)
	if desc.Length() != 1 || !strings.HasPrefix(desc.AttrOr("content", ""), "Tickets for ") || !strings.Contains(desc.AttrOr("content", ""), ". From ") {
		t.Errorf("meta description %q", desc.AttrOr("content", ""))
	}

	image := meta(doc, "property", "og:image")
	if !strings.HasPrefix(image, ts.URL+"/") {
		t.Fatalf("og:image %q is not absolute", image)
	}
	if tw := meta(doc, "name", "twitter:image"); tw != image {
		t.Errorf("twitter:image %q, og:image %q", tw, image)
	}
	res, err := http.Get(image)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET %s = %d %s", image, res.StatusCode, res.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("og:image is no PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 630 {
		t.Errorf("og:image is %d×%d, want 1200×630", b.Dx(), b.Dy())
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=3600" {
		t.Errorf("Cache-Control %q", cc)
	}
	if res.Header.Get("Set-Cookie") != "" || strings.Contains(res.Header.Get("Vary"), "Cookie") {
		t.Errorf("a public picture sets cookies or varies by them: %q, %q", res.Header.Get("Set-Cookie"), res.Header.Get("Vary"))
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req, _ := http.NewRequest("GET", image, nil)
	req.Header.Set("If-None-Match", etag)
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("GET with If-None-Match = %d, want 304", again.StatusCode)
	}

	// A stadium's, and a Japanese venue's (whose names the font may lack).
	for _, sql := range []string{
		`SELECT e.id FROM events e JOIN venues v ON v.id = e.venue_id WHERE v.capacity >= 40000 ORDER BY e.starts_at DESC LIMIT 1`,
		`SELECT e.id FROM events e JOIN venues v ON v.id = e.venue_id WHERE v.country = 'JP' ORDER BY e.starts_at LIMIT 1`,
	} {
		var other int64
		dbtest.QueryRow(t, pool, sql).Scan(&other)
		for _, hl := range []string{"", "?hl=ja", "?hl=de"} {
			res, err := http.Get(fmt.Sprintf("%s/event/%d/og.png%s", ts.URL, other, hl))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(res.Body)
			res.Body.Close()
			if err != nil || img.Bounds().Dx() != 1200 {
				t.Errorf("event %d%s: %d, %v", other, hl, res.StatusCode, err)
			}
		}
	}

	// Drafts have no picture.
	var draft int64
	dbtest.QueryRow(t, pool, `INSERT INTO events (venue_id, name, type, starts_at, timezone, currency, status)
		SELECT venue_id, 'Secret draft', type, starts_at, timezone, currency, 'draft' FROM events WHERE id = $1 RETURNING id`, id).Scan(&draft)
	if res, err := http.Get(fmt.Sprintf("%s/event/%d/og.png", ts.URL, draft)); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("a draft's picture: %v %v", res.StatusCode, err)
	}
}

// A configured base URL is the one every absolute link uses.
func TestSEOUsesTheConfiguredBaseURL(t *testing.T) {
	t.Parallel()
	pool := seoDemo(t)
	ts := newServer(t, pool, func(c *web.SiteConfig) { c.BaseURL = "https://tickets.example.com/" })
	id := eventAt(t, pool, 1800, 2500)
	_, doc, _ := getPage(t, fmt.Sprintf("%s/event/%d", ts.URL, id))
	want := fmt.Sprintf("https://tickets.example.com/event/%d", id)
	if got := meta(doc, "property", "og:url"); got != want {
		t.Errorf("og:url = %q, want %q", got, want)
	}
	if got := meta(doc, "property", "og:image"); !strings.HasPrefix(got, want+"/og.png") {
		t.Errorf("og:image = %q", got)
	}
	if got := str(jsonLD(t, doc), "offers.url"); got != want {
		t.Errorf("offers.url = %q", got)
	}
	res, err := http.Get(ts.URL + "/robots.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "Sitemap: https://tickets.example.com/sitemap.xml") {
		t.Errorf("robots.txt names no sitemap on the base URL:\n%s", body)
	}
}

func TestSitemapListsUpcomingEvents(t *testing.T) {
	t.Parallel()
	pool := seoDemo(t)
	ts := newServer(t, pool)
	var upcoming, venue int64
	dbtest.QueryRow(t, pool, `SELECT id, venue_id FROM events WHERE status = 'on_sale' AND starts_at > now()
		ORDER BY starts_at, id LIMIT 1`).Scan(&upcoming, &venue)
	var draft, past int64
	dbtest.QueryRow(t, pool, `INSERT INTO events (venue_id, name, type, starts_at, timezone, currency, status)
		SELECT venue_id, 'Sitemap draft', type, starts_at, timezone, currency, 'draft' FROM events WHERE id = $1 RETURNING id`, upcoming).Scan(&draft)
	dbtest.QueryRow(t, pool, `INSERT INTO events (venue_id, name, type, starts_at, timezone, currency)
		SELECT venue_id, 'Sitemap past', type, now() - interval '2 days', timezone, currency FROM events WHERE id = $1 RETURNING id`, upcoming).Scan(&past)

	res, err := http.Get(ts.URL + "/sitemap.xml")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("GET /sitemap.xml = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var set struct {
		XMLName xml.Name
		URLs    []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(body, &set); err != nil {
		t.Fatalf("sitemap does not parse: %v", err)
	}
	if set.XMLName.Local != "urlset" || set.XMLName.Space != "http://www.sitemaps.org/schemas/sitemap/0.9" {
		t.Errorf("sitemap root %v", set.XMLName)
	}
	listed := map[string]string{}
	for _, u := range set.URLs {
		listed[u.Loc] = u.LastMod
	}
	eventURL := func(id int64) string { return fmt.Sprintf("%s/event/%d", ts.URL, id) }
	if mod, ok := listed[eventURL(upcoming)]; !ok {
		t.Errorf("the sitemap lacks upcoming event %d", upcoming)
	} else if _, err := time.Parse(time.RFC3339, mod); err != nil {
		t.Errorf("event %d lastmod %q: %v", upcoming, mod, err)
	}
	if _, ok := listed[fmt.Sprintf("%s/venue/%d", ts.URL, venue)]; !ok {
		t.Errorf("the sitemap lacks venue %d", venue)
	}
	if _, ok := listed[ts.URL+"/"]; !ok {
		t.Error("the sitemap lacks the front page")
	}
	for _, id := range []int64{draft, past} {
		if _, ok := listed[eventURL(id)]; ok {
			t.Errorf("the sitemap lists event %d, a draft or past one", id)
		}
	}
	performers := 0
	for loc := range listed {
		if strings.HasPrefix(loc, ts.URL+"/performer/") {
			performers++
		}
	}
	if performers == 0 {
		t.Error("the sitemap lists no performer")
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM events WHERE status = 'on_sale' AND starts_at > now()`); len(listed) < n {
		t.Errorf("%d addresses for %d upcoming events", len(listed), n)
	}
}

// A catalogue with more addresses than one sitemap file may list gets a
// sitemap index whose files list each address once, none more than the
// limit. (Not parallel: it lowers the limit of every server.)
func TestSitemapIndex(t *testing.T) {
	pool := seoDemo(t)
	ts := newServer(t, pool)
	whole := sitemapLocs(t, ts.URL+"/sitemap.xml", "urlset")
	limit := len(whole)/4 + 1
	defer web.SetSitemapLimit(limit)()

	files := sitemapLocs(t, ts.URL+"/sitemap.xml", "sitemapindex")
	if len(files) < 5 {
		t.Fatalf("sitemap index of %d files for %d addresses, %d a file: %v", len(files), len(whole), limit, files)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if !strings.HasPrefix(f, ts.URL+"/sitemap/") {
			t.Fatalf("sitemap file %q", f)
		}
		locs := sitemapLocs(t, f, "urlset")
		if len(locs) == 0 || len(locs) > limit {
			t.Errorf("%s lists %d addresses, limit %d", f, len(locs), limit)
		}
		for _, l := range locs {
			if seen[l] {
				t.Errorf("%s listed twice", l)
			}
			seen[l] = true
		}
	}
	if len(seen) != len(whole) {
		t.Errorf("the index's files list %d addresses, the whole sitemap %d", len(seen), len(whole))
	}
	for _, l := range whole {
		if !seen[l] {
			t.Errorf("the index's files lack %s", l)
		}
	}
	res, err := http.Get(ts.URL + "/sitemap/events-999.xml")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("a sitemap file past the end: %d", res.StatusCode)
	}
}

// sitemapLocs reads the addresses of a sitemap (root urlset) or sitemap
// index (sitemapindex).
func sitemapLocs(t *testing.T, url, root string) []string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		XMLName xml.Name
		Locs    []string `xml:"url>loc"`
		Maps    []string `xml:"sitemap>loc"`
	}
	if err := xml.NewDecoder(res.Body).Decode(&doc); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	if doc.XMLName.Local != root {
		t.Fatalf("GET %s: a %s, want a %s", url, doc.XMLName.Local, root)
	}
	return append(doc.Locs, doc.Maps...)
}

func TestRobotsTxt(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t))
	res, err := http.Get(ts.URL + "/robots.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /robots.txt = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	rules := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if path, ok := strings.CutPrefix(line, "Disallow: "); ok {
			rules[path] = true
		}
	}
	// Checkout is /bookings; the rest are a fan's own or the box office's.
	for _, path := range []string{"/bookings", "/checkout", "/account", "/manage", "/api/", "/login"} {
		if !rules[path] {
			t.Errorf("robots.txt does not disallow %s:\n%s", path, body)
		}
	}
	for _, path := range []string{"/event", "/venue", "/performer", "/", "/search"} {
		if rules[path] {
			t.Errorf("robots.txt keeps crawlers out of the catalogue (%s)", path)
		}
	}
	if !strings.Contains(string(body), "\nSitemap: "+ts.URL+"/sitemap.xml\n") {
		t.Errorf("robots.txt names no sitemap on the request's host:\n%s", body)
	}
}
