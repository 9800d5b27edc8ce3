package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// A page's language is the fan's choice, else their browser's, else (on
// a venue's pages) the venue's country's, else English.
func TestLanguageComesFromChoiceThenBrowserThenVenue(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	eventID, _ := smallEvent(t, pool, 4)
	if _, err := pool.Exec(t.Context(), `UPDATE venues SET country = 'ES' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	event := fmt.Sprintf("%s/event/%d", ts.URL, eventID)
	pageLang := func(req *http.Request) (string, *http.Response) {
		t.Helper()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		doc, err := goquery.NewDocumentFromReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return doc.Find("html").AttrOr("lang", ""), res
	}
	ask := func(target, acceptLanguage, cookie string) *http.Request {
		req, _ := http.NewRequest("GET", target, nil)
		if acceptLanguage != "" {
			req.Header.Set("Accept-Language", acceptLanguage)
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "lang", Value: cookie})
		}
		return req
	}
	for _, c := range []struct {
		what, url, accept, cookie, want string
	}{
		{"a Spanish venue to a fan who asks for nothing", event, "", "", "es"},
		{"the home page to a fan who asks for nothing", ts.URL + "/", "", "", "en"},
		{"a browser asking for German", event, "de-DE,de;q=0.9", "", "de"},
		{"a browser asking for a language not spoken", event, "fr-FR", "", "es"},
		{"a fan's remembered choice over their browser's", event, "de", "ja", "ja"},
		{"a choice in the address over the remembered one", event + "?lang=pt-BR", "de", "ja", "pt-BR"},
		{"a remembered choice no longer spoken", event, "de", "xx", "de"},
	} {
		if got, _ := pageLang(ask(c.url, c.accept, c.cookie)); got != c.want {
			t.Errorf("%s: %s, want %s", c.what, got, c.want)
		}
	}
	// The switcher's choice is remembered.
	_, res := pageLang(ask(ts.URL+"/?lang=ja", "", ""))
	var remembered string
	for _, ck := range res.Cookies() {
		if ck.Name == "lang" {
			remembered = ck.Value
		}
	}
	if remembered != "ja" {
		t.Errorf("choosing Japanese left the cookie %q", remembered)
	}
	// The API's messages stay English whatever the fan's language.
	req := ask(ts.URL+"/api/v1/events/999999", "es", "es")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Error struct{ Message string } `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusNotFound || !strings.HasPrefix(body.Error.Message, "There is no event") {
		t.Errorf("API asked in Spanish: %d %q %v", res.StatusCode, body.Error.Message, err)
	}
}

// Signing in on another device, whose browser speaks another language,
// does not move a fan's mail out of the language they chose.
func TestSigningInElsewhereKeepsTheFansLanguage(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := httptest.NewServer(newSite(t, pool))
	t.Cleanup(ts.Close)
	stored := func() string {
		var code string
		dbtest.QueryRow(t, pool, `SELECT language FROM users WHERE email = 'kei@example.com'`).Scan(&code)
		return code
	}
	phone := newBrowser(t, ts.URL)
	phone.get("/?lang=ja")
	_, form := phone.get("/signup")
	phone.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"kei@example.com"}, "password": {"correct horse battery"}, "name": {"Kei"}})
	if got := stored(); got != "ja" {
		t.Fatalf("signed up in Japanese: %q", got)
	}
	laptop := newBrowser(t, ts.URL) // no choice made; Go's client sends no Accept-Language
	_, form = laptop.get("/login")
	laptop.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"kei@example.com"}, "password": {"correct horse battery"}})
	if got := stored(); got != "ja" {
		t.Errorf("after signing in elsewhere: %q, want ja", got)
	}
	laptop.get("/account/bookings?lang=de")
	if got := stored(); got != "de" {
		t.Errorf("after choosing German while signed in: %q", got)
	}
}

// A Spanish fan who loses a seat to another fan is told which, in Spanish.
func TestSeatTakenSaidInTheFansLanguage(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := httptest.NewServer(newSite(t, pool))
	t.Cleanup(ts.Close)
	eventID, tickets := smallEvent(t, pool, 4)
	other := signUp(t, ts.URL, "other@example.com")
	if code, body := api(t, "POST", ts.URL+"/api/v1/bookings", other, map[string]any{"ticket_ids": []int64{tickets[0]}}); code != http.StatusCreated {
		t.Fatalf("the other fan's hold: %d %v", code, body)
	}
	ana := newBrowser(t, ts.URL)
	ana.get("/?lang=es")
	_, form := ana.get("/signup")
	ana.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"ana@example.com"}, "password": {"correct horse battery"}, "name": {"Ana"}})
	_, page := ana.get(fmt.Sprintf("/event/%d", eventID))
	_, again := ana.submit(page, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[0]), fmt.Sprint(tickets[1])}})
	msg := again.Find(`[data-testid="map-message"]`).Text()
	if !strings.Contains(msg, "otra persona acaba de quedarse con") || !strings.Contains(msg, "fila A, asiento 1") {
		t.Errorf("the map says %q, want the seat taken named in Spanish", msg)
	}
}

// No page shows a message's ID where its words should be, in any
// language: a template asking for a message the catalogs do not have.
func TestPagesShowNoMessageIDs(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := httptest.NewServer(newSite(t, pool))
	t.Cleanup(ts.Close)
	eventID, tickets := smallEvent(t, pool, 6)
	// An ID a template asks for, found in no catalog, is shown as it is:
	// "event.seats_lefft". Its first part is one of the catalogs' areas.
	areas := map[string]bool{}
	for _, id := range locale.Default().IDs() {
		areas[id[:strings.Index(id, ".")]] = true
	}
	for i, l := range locale.Default().Langs() {
		fan := newBrowser(t, ts.URL)
		fan.get("/?lang=" + l.Code)
		pages := map[string]*goquery.Document{}
		for _, path := range []string{"/", fmt.Sprintf("/event/%d", eventID), "/venue/1", "/search?q=test", "/search?q=zzzzqqq", "/signup", "/login", "/password/forgot", "/no/such/page"} {
			_, pages[path] = fan.get(path)
		}
		_, form := fan.get("/signup")
		fan.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {l.Code + "@example.com"}, "password": {"correct horse battery"}, "name": {"Fan"}})
		_, page := fan.get(fmt.Sprintf("/event/%d", eventID))
		_, pages["checkout"] = fan.submit(page, `form[data-testid="seat-form"]`, url.Values{"ticket_ids": {fmt.Sprint(tickets[i])}})
		if pages["checkout"].Find(`form[data-testid="pay-form"]`).Length() == 0 {
			t.Fatalf("%s: no checkout: %s", l.Code, pages["checkout"].Find("main").Text())
		}
		_, pages["confirmation"] = fan.submit(pages["checkout"], `form[data-testid="pay-form"]`, url.Values{"payment_method": {"pm_card_visa"}})
		_, pages["my bookings"] = fan.get("/account/bookings")
		for path, doc := range pages {
			for _, said := range wordsOf(doc) {
				if looksLikeID.MatchString(said) && areas[said[:strings.Index(said, ".")]] {
					t.Errorf("%s %s shows the message ID %q", l.Code, path, said)
				}
			}
		}
	}
}

var looksLikeID = regexp.MustCompile(`^[a-z_]+(\.[a-z0-9_]+)+$`)

// wordsOf lists what a page says: its text, and the attributes a person
// reads or hears.
func wordsOf(doc *goquery.Document) []string {
	var out []string
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, n := range s.Nodes {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.TextNode && strings.TrimSpace(c.Data) != "" {
					out = append(out, strings.TrimSpace(c.Data))
				}
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "aria-label", "title", "alt", "placeholder", "content", "value", "label":
					out = append(out, strings.TrimSpace(a.Val))
				}
			}
		}
	})
	return out
}
