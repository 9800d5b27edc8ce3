package search_test

import (
	"errors"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/search"
)

// FuzzParseQuery feeds the search parameters anything a person or a robot
// can type. Parsing must never panic; it either refuses with an invalid-
// input error that names a parameter, or returns a query within the limits
// whose own parameters parse back to the same query.
func FuzzParseQuery(f *testing.F) {
	for _, s := range [][6]string{
		{"taylor swift", "", "", "", "", ""},
		{`"northern lights" -madrid`, "aurora vale", "chicgo", "concert", "2026-12-01", "2026-12-31"},
		{"'; DROP TABLE events; --", "%_\\", "<script>", "opera", "next week", "2026-02-30"},
		{"🎸", "\x00", "\xff\xfe", "SPORTS", "9999-12-31", "0001-01-01"},
		{"", "", "", "", "", "2027-01-01"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], "2", "50")
	}
	f.Fuzz(func(t *testing.T, q, performer, location, typ, from, to, page, perPage string) {
		v := url.Values{"q": {q}, "performer": {performer}, "location": {location}, "type": {typ},
			"from": {from}, "to": {to}, "page": {page}, "per_page": {perPage}}
		got, err := search.ParseQuery(v)
		if err != nil {
			var e *app.Error
			if !errors.As(err, &e) || e.Code != app.EINVALID || e.Detail["parameter"] == "" {
				t.Fatalf("refused without naming a parameter: %v", err)
			}
			return
		}
		for _, s := range []string{got.Text, got.Performer, got.Location} {
			if !utf8.ValidString(s) || utf8.RuneCountInString(s) > search.MaxTextLength {
				t.Fatalf("accepted text out of bounds: %q", s)
			}
		}
		if got.PerPage < 1 || got.PerPage > search.MaxPerPage || got.Page < 1 || got.Offset() >= search.MaxOffset {
			t.Fatalf("accepted paging out of bounds: %+v", got)
		}
		again, err := search.ParseQuery(got.Values())
		if err != nil || again != got {
			t.Fatalf("query %+v does not survive its own parameters: %+v, %v", got, again, err)
		}
	})
}
