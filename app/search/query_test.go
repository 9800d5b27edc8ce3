package search_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/search"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	q, err := search.ParseQuery(url.Values{
		"q": {"  taylor   swift\t"}, "performer": {"Aurora"}, "location": {"chicago"}, "type": {"Concert"},
		"from": {"2026-12-01"}, "to": {"2026-12-31"}, "page": {"3"}, "per_page": {"50"},
		"min_price": {"1000"}, "max_price": {"5000"}, "sort": {"Price"}, "verbatim": {"1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := search.Query{Text: "taylor swift", Performer: "Aurora", Location: "chicago", Type: "concert",
		From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), Page: 3, PerPage: 50,
		MinPrice: 1000, MaxPrice: 5000, Sort: search.SortPrice, Verbatim: true}
	if q != want {
		t.Errorf("ParseQuery = %+v, want %+v", q, want)
	}
	if q.Offset() != 100 {
		t.Errorf("Offset = %d, want 100", q.Offset())
	}
	if got := q.Values().Encode(); got != "from=2026-12-01&location=chicago&max_price=5000&min_price=1000&page=3&per_page=50&performer=Aurora&q=taylor+swift&sort=price&to=2026-12-31&type=concert&verbatim=1" {
		t.Errorf("Values = %s", got)
	}

	empty, err := search.ParseQuery(url.Values{})
	if err != nil || !empty.Empty() || empty.Page != 1 || empty.PerPage != search.DefaultPerPage {
		t.Errorf("no parameters: %+v, %v", empty, err)
	}
}

func TestParseQueryRejects(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		params url.Values
		param  string // the parameter the error must name
	}{
		{"unparseable date", url.Values{"from": {"next friday"}}, "from"},
		{"date without zero padding", url.Values{"to": {"2026-1-5"}}, "to"},
		{"impossible date", url.Values{"from": {"2026-02-30"}}, "from"},
		{"from after to", url.Values{"from": {"2027-01-02"}, "to": {"2027-01-01"}}, "from"},
		{"unknown type", url.Values{"type": {"opera"}}, "type"},
		{"per_page over the limit", url.Values{"per_page": {"101"}}, "per_page"},
		{"per_page zero", url.Values{"per_page": {"0"}}, "per_page"},
		{"negative page", url.Values{"page": {"-1"}}, "page"},
		{"page not a number", url.Values{"page": {"two"}}, "page"},
		{"page too deep", url.Values{"page": {"501"}, "per_page": {"20"}}, "page"},
		{"q too long", url.Values{"q": {strings.Repeat("é", 201)}}, "q"},
		{"performer too long", url.Values{"performer": {strings.Repeat("a", 201)}}, "performer"},
		{"q not UTF-8", url.Values{"q": {"\xff\xfe"}}, "q"},
		{"unknown sort", url.Values{"sort": {"cheapest"}}, "sort"},
		{"negative price", url.Values{"max_price": {"-5"}}, "max_price"},
		{"price in pounds", url.Values{"min_price": {"12.50"}}, "min_price"},
		{"min_price above max_price", url.Values{"min_price": {"5000"}, "max_price": {"2000"}}, "min_price"},
		{"verbatim not a flag", url.Values{"verbatim": {"yes please"}}, "verbatim"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := search.ParseQuery(c.params)
			var e *app.Error
			if !errors.As(err, &e) || e.Code != app.EINVALID {
				t.Fatalf("err = %v, want an invalid-input error", err)
			}
			if e.Detail["parameter"] != c.param || !strings.Contains(e.Message, c.param) {
				t.Errorf("error %q (parameter %v) does not name %s", e.Message, e.Detail["parameter"], c.param)
			}
		})
	}
}

func TestParseQueryTreatsInputAsText(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`"quoted" -minus`, `\`, `100% _under_`, `'; DROP TABLE events; --`, `<script>alert(1)</script>`, "🎸 rock", "a\x00b\x07c"} {
		q, err := search.ParseQuery(url.Values{"q": {in}})
		if err != nil {
			t.Errorf("q=%q: %v", in, err)
		}
		if strings.ContainsAny(q.Text, "\x00\x07") {
			t.Errorf("q=%q keeps control characters: %q", in, q.Text)
		}
	}
	if q, _ := search.ParseQuery(url.Values{"q": {"200 chars " + strings.Repeat("x", 190)}}); len(q.Text) != 200 {
		t.Errorf("a 200-character q is refused or cut: %d", len(q.Text))
	}
}
