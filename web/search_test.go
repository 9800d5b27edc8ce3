package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestSearchPage(t *testing.T) {
	t.Parallel()
	ts := demoServer(t)

	res, doc := get(t, ts.URL+"/search?q=aurora&type=concert")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	cards := doc.Find(`[data-testid="results"] [data-testid="event-card"]`)
	if cards.Length() == 0 || !strings.HasPrefix(strings.TrimSpace(cards.First().Find(`[data-testid="event-name"]`).Text()), "Aurora Vale") {
		t.Fatalf("results for aurora: %d cards, first %q", cards.Length(), cards.First().Text())
	}
	if v, _ := doc.Find(`header form input[name="q"]`).Attr("value"); v != "aurora" {
		t.Errorf("header search box holds %q, want the query", v)
	}
	if !strings.Contains(doc.Find(`[data-testid="result-count"]`).Text(), "event") {
		t.Error("no result count")
	}

	// The active type filter shows, and its × removes it and nothing else.
	remove, ok := doc.Find(`[data-testid="active-filters"] [data-testid="remove-filter"]`).Attr("href")
	if !ok {
		t.Fatal("active type filter not shown")
	}
	if u, _ := url.Parse(remove); u.Query().Get("type") != "" || u.Query().Get("q") != "aurora" {
		t.Errorf("remove link %q", remove)
	}
	// Facets are links that set the filter, with counts.
	facet := doc.Find(`[data-testid="type-facets"] a[data-testid="facet"][data-value="theater"]`)
	href, _ := facet.Attr("href")
	if u, _ := url.Parse(href); u.Query().Get("type") != "theater" || u.Query().Get("q") != "aurora" {
		t.Errorf("theater facet links to %q", href)
	}
	if city := doc.Find(`[data-testid="city-facets"] a[data-testid="facet"]`); city.Length() == 0 {
		t.Error("no city facets")
	} else if href, _ := city.First().Attr("href"); !strings.Contains(href, "location=") {
		t.Errorf("city facet links to %q", href)
	}
}

func TestSearchPageCorrectionsAndEmptyState(t *testing.T) {
	t.Parallel()
	ts := demoServer(t)
	_, doc := get(t, ts.URL+"/search?q=aurura")
	if !strings.Contains(doc.Find(`[data-testid="corrected"]`).Text(), "aurora") {
		t.Error("a corrected query does not say what was searched")
	}
	_, doc = get(t, ts.URL+"/search?q=zzzqqq&type=sports")
	if doc.Find(`[data-testid="no-results"]`).Length() != 1 {
		t.Fatal("no empty state for a search without results")
	}
	if doc.Find(`[data-testid="no-results"] a[href="/search"]`).Length() != 1 {
		t.Error("the empty state offers no way on")
	}
}

func TestSearchPageBadInput(t *testing.T) {
	t.Parallel()
	ts := demoServer(t)
	for _, c := range []struct{ query, param string }{
		{"from=next+week", "from"},
		{"from=2027-02-01&to=2027-01-01", "from"},
		{"type=opera", "type"},
		{"per_page=500", "per_page"},
		{"q=" + strings.Repeat("x", 201), "q"},
	} {
		res, doc := get(t, ts.URL+"/search?"+c.query)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", c.query, res.StatusCode)
		}
		msg := doc.Find(`[data-testid="search-error"]`)
		if p, _ := msg.Attr("data-param"); p != c.param || !strings.Contains(msg.Text(), c.param) {
			t.Errorf("%s: error %q about %q, want one naming %s", c.query, msg.Text(), p, c.param)
		}
		if doc.Find(`[data-testid="filter-form"]`).Length() != 1 {
			t.Errorf("%s: no form to fix the search in", c.query)
		}
	}
	_, doc := get(t, ts.URL+"/search?from=next+week&q=jazz")
	if v, _ := doc.Find(`[data-testid="filter-form"] input[name="q"]`).Attr("value"); v != "jazz" {
		t.Errorf("the form lost the keywords: %q", v)
	}
}

func TestSearchJSON(t *testing.T) {
	t.Parallel()
	ts := demoServer(t)
	code, body := getJSON(t, ts.URL+"/api/v1/search?performer=aurora+vale&per_page=2")
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, body)
	}
	for _, k := range []string{"total", "page", "per_page", "results", "facets"} {
		if _, ok := body[k]; !ok {
			t.Errorf("search JSON lacks %q", k)
		}
	}
	results := body["results"].([]any)
	if len(results) != 2 || body["total"].(float64) < 2 || body["per_page"].(float64) != 2 {
		t.Fatalf("results %d of total %v", len(results), body["total"])
	}
	hit := results[0].(map[string]any)
	for _, k := range []string{"id", "name", "type", "starts_at", "venue", "performers", "min_price", "currency", "available"} {
		if _, ok := hit[k]; !ok {
			t.Errorf("hit lacks %q", k)
		}
	}
	venue := hit["venue"].(map[string]any)
	if venue["name"] == "" || venue["city"] == "" || hit["performers"].([]any)[0] != "Aurora Vale" {
		t.Errorf("hit %v", hit)
	}
	facets := body["facets"].(map[string]any)
	if facets["type"].(map[string]any)["concert"].(float64) != body["total"].(float64) {
		t.Errorf("type facets %v do not add up to total %v", facets["type"], body["total"])
	}

	code, body = getJSON(t, ts.URL+"/api/v1/search?to=31-12-2026")
	e := body["error"].(map[string]any)
	if code != http.StatusBadRequest || e["code"] != "invalid_request" || !strings.Contains(e["message"].(string), "to must be a date") || e["parameter"] != "to" {
		t.Errorf("bad date: %d %v", code, body)
	}
}

// A fan's words name filters, the page says how it read them and offers
// the words as typed; results sort by plain links.
func TestSearchPageReadsFansWords(t *testing.T) {
	t.Parallel()
	ts := demoServer(t)

	_, doc := get(t, ts.URL+"/search?q="+url.QueryEscape("comedy in chicago"))
	if got := doc.Find(`[data-testid="understood"]`).Text(); !strings.Contains(got, "comedy events in Chicago") {
		t.Errorf("understood notice %q", got)
	}
	href, _ := doc.Find(`[data-testid="as-typed"]`).Attr("href")
	if u, _ := url.Parse(href); u.Query().Get("q") != "comedy in chicago" || u.Query().Get("verbatim") != "1" {
		t.Errorf("as-typed link %q", href)
	}
	var chips []string
	doc.Find(`[data-testid="active-filters"] li span`).Each(func(_ int, s *goquery.Selection) { chips = append(chips, s.Text()) })
	if strings.Join(chips, "|") != "Place: Chicago|Type: Comedy" {
		t.Errorf("active filters %q", chips)
	}
	href, _ = doc.Find(`[data-testid="sort"] a[data-value="price"]`).Attr("href")
	if u, _ := url.Parse(href); u.Query().Get("sort") != "price" || u.Query().Get("type") != "comedy" || u.Query().Get("location") != "Chicago" {
		t.Errorf("sort by price links to %q", href)
	}

	// The words as typed find nothing, and say so without correcting them.
	_, doc = get(t, ts.URL+href)
	if doc.Find(`[data-testid="sort"] .current`).AttrOr("data-value", "") != "price" {
		t.Error("sorting by price does not show as chosen")
	}
	_, doc = get(t, ts.URL+"/search?q=comedy+in+chicago&verbatim=1")
	if doc.Find(`[data-testid="no-results"]`).Length() != 1 || doc.Find(`[data-testid="corrected"]`).Length() != 0 {
		t.Error("verbatim words were not taken as typed")
	}

	var body struct {
		Total      int
		Understood struct{ Q, Type, Location, Performer string }
		Results    []struct {
			Type  string
			Venue struct{ City string }
		}
	}
	res, err := http.Get(ts.URL + "/api/v1/search?q=concert+chicago")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Understood.Type != "concert" || body.Understood.Location != "Chicago" || body.Understood.Q != "" || body.Total == 0 {
		t.Errorf("concert chicago understood as %+v, %d results", body.Understood, body.Total)
	}
	for _, r := range body.Results {
		if r.Type != "concert" || r.Venue.City != "Chicago" {
			t.Errorf("concert chicago found a %s in %s", r.Type, r.Venue.City)
		}
	}
}
