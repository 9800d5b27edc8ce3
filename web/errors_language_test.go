package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

// getIn is get with the fan's browser asking for lang.
func getIn(t *testing.T, lang, url string) (*http.Response, *goquery.Document) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Language", lang)
	res, err := http.DefaultClient.Do(req)
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

// Error pages speak the fan's language; the JSON API keeps its English.
func TestErrorPagesInTheFansLanguage(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t), func(c *web.SiteConfig) { c.SearchRate = web.Rate{PerMinute: 6, Burst: 1} })

	for lang, want := range map[string][2]string{
		"en":    {"Page not found", "There is no page at this address."},
		"es":    {"Página no encontrada", "No hay ninguna página en esta dirección."},
		"ja":    {"ページが見つかりません", "このアドレスにはページがありません。"},
		"pt-BR": {"Página não encontrada", "Não há nenhuma página neste endereço."},
	} {
		res, doc := getIn(t, lang, ts.URL+"/no/such/page")
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d", lang, res.StatusCode)
		}
		if h, m := doc.Find(`[data-testid="error"] h1`).Text(), doc.Find(`[data-testid="error-message"]`).Text(); h != want[0] || m != want[1] {
			t.Errorf("%s: 404 page says %q, %q; want %q, %q", lang, h, m, want[0], want[1])
		}
	}
	// An app error: English keeps its own words, others say it by its code.
	for lang, want := range map[string]string{
		"en": "There is no event 999999. It may have been removed.",
		"de": "Wir konnten nicht finden, was du suchst. Vielleicht wurde es entfernt.",
	} {
		if _, doc := getIn(t, lang, ts.URL+"/event/999999"); doc.Find(`[data-testid="error-message"]`).Text() != want {
			t.Errorf("%s: missing event page says %q, want %q", lang, doc.Find(`[data-testid="error-message"]`).Text(), want)
		}
	}

	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/events/999999", nil)
	req.Header.Set("Accept-Language", "es")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Code != "not_found" || body.Error.Message != "There is no event 999999. It may have been removed." {
		t.Errorf("API error in Spanish: %+v; want it as it was", body.Error)
	}

	// A form refused before the request had its language still speaks it.
	req, _ = http.NewRequest("POST", ts.URL+"/logout", nil)
	req.Header.Set("Accept-Language", "es")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if msg := doc.Find(`[data-testid="error-message"]`).Text(); res.StatusCode != http.StatusForbidden || !strings.HasPrefix(msg, "No hemos podido verificar este formulario") {
		t.Errorf("cross-site form in Spanish: %d %q", res.StatusCode, msg)
	}

	// Going too fast, in Japanese, with how long to wait.
	getIn(t, "ja", ts.URL+"/search?q=jazz")
	res, doc = getIn(t, "ja", ts.URL+"/search?q=jazz")
	if msg := doc.Find(`[data-testid="error-message"]`).Text(); res.StatusCode != http.StatusTooManyRequests ||
		msg != "検索の頻度が上限を超えています。10秒待ってからもう一度お試しください。" {
		t.Errorf("rate limited in Japanese: %d %q", res.StatusCode, msg)
	}
}

// A search the page cannot run says what to fix in the fan's language.
func TestSearchPageBadInputInTheFansLanguage(t *testing.T) {
	t.Parallel()
	ts := newServer(t, dbtest.New(t))
	res, doc := getIn(t, "de", ts.URL+"/search?from=2027-02-01&to=2027-01-01&q=jazz")
	msg := doc.Find(`[data-testid="search-error"]`)
	if res.StatusCode != http.StatusBadRequest || msg.AttrOr("data-param", "") != "from" || !strings.HasPrefix(msg.Text(), "Prüfe die Daten") {
		t.Errorf("bad dates in German: %d %q about %q", res.StatusCode, msg.Text(), msg.AttrOr("data-param", ""))
	}
	if h := doc.Find(`#results-heading`).Text(); h != "Prüfe deine Suche" {
		t.Errorf("heading %q", h)
	}
}
