package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/search"
	"github.com/boxoffice/boxoffice/templates"
)

// handleSearch is the results page. A query it cannot run is answered 400
// with the message on the search page itself, the form filled in as typed.
func (s *Server) handleSearch(c echo.Context) error {
	raw := c.QueryParams()
	q, err := search.ParseQuery(raw)
	if err != nil {
		var param string
		if e, ok := errors.AsType[*app.Error](err); ok {
			param, _ = e.Detail["parameter"].(string)
		}
		if l := lang(c); !speaksEnglish(l) {
			// The search's own message names the parameter in English
			// ("per_page must be…"); other languages name the field at fault.
			err = localize(err, searchProblem(l, param))
		}
		return showAgain(err, func(msg string) templ.Component {
			return templates.Search(templates.SearchView{Raw: raw, Error: msg, Param: param, Today: s.today()})
		})
	}
	r, err := s.search.Search(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return ok(c, templates.Search(templates.SearchView{Raw: raw, Result: r, Today: s.today()}))
}

type searchJSON struct {
	Total      int                       `json:"total"`
	Approx     bool                      `json:"approximate,omitempty"` // total estimated: past search.CountExactly matches
	Page       int                       `json:"page"`
	PerPage    int                       `json:"per_page"`
	Results    []searchHitJSON           `json:"results"`
	Facets     map[string]map[string]int `json:"facets"`
	Understood *understoodJSON           `json:"understood,omitempty"`   // the filters read from q, when it named some
	Corrected  string                    `json:"corrected,omitempty"`    // the keywords searched instead of q
	DidYouMean string                    `json:"did_you_mean,omitempty"` // a spelling worth offering
}

// understoodJSON is the search run when words of q named a type, place or
// performer: those filters, and the words left as keywords.
type understoodJSON struct {
	Q         string `json:"q"`
	Type      string `json:"type,omitempty"`
	Location  string `json:"location,omitempty"`
	Performer string `json:"performer,omitempty"`
}

type searchHitJSON struct {
	ID         int64        `json:"id"`
	Name       string       `json:"name"`
	Type       string       `json:"type"`
	StartsAt   string       `json:"starts_at"`
	Venue      hitVenueJSON `json:"venue"`
	Performers []string     `json:"performers"`
	MinPrice   int64        `json:"min_price"`
	Currency   string       `json:"currency"`
	Available  int          `json:"available"`
}

type hitVenueJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	City string `json:"city"`
}

func (s *Server) handleAPISearch(c echo.Context) error {
	q, err := search.ParseQuery(c.QueryParams())
	if err != nil {
		return err
	}
	r, err := s.search.Search(c.Request().Context(), q)
	if err != nil {
		return err
	}
	out := searchJSON{
		Total: r.Total, Approx: r.Approximate, Page: q.Page, PerPage: q.PerPage,
		Results:    make([]searchHitJSON, len(r.Hits)),
		Facets:     map[string]map[string]int{"type": {}, "city": {}},
		Corrected:  r.Ran,
		DidYouMean: r.Suggest,
	}
	if r.Asked != nil && (r.Query.Type != r.Asked.Type || r.Query.Location != r.Asked.Location || r.Query.Performer != r.Asked.Performer) {
		u := r.Query
		out.Understood = &understoodJSON{Q: u.Text, Type: u.Type, Location: u.Location, Performer: u.Performer}
	}
	for i, h := range r.Hits {
		out.Results[i] = searchHitJSON{
			ID: h.ID, Name: h.Name, Type: h.Type, StartsAt: rfc3339(h.StartsAt),
			Venue:      hitVenueJSON{ID: h.VenueID, Name: h.VenueName, City: h.City},
			Performers: h.Performers, MinPrice: h.MinPrice, Currency: h.Currency, Available: h.Available,
		}
	}
	for _, f := range r.Types {
		out.Facets["type"][f.Value] = f.Count
	}
	for _, f := range r.Cities {
		out.Facets["city"][f.Value] = f.Count
	}
	return c.JSON(http.StatusOK, out)
}

// searchProblem says what to fix in a search whose parameter param is
// wrong, in l (search.problem.*).
func searchProblem(l *locale.Lang, param string) string {
	if m, ok := known(l, "search.problem."+param, "Max", l.Int(search.MaxTextLength)); ok && param != "" {
		return m
	}
	return l.T("search.problem.unknown")
}

// today is the date quick date choices count from.
func (s *Server) today() time.Time {
	y, m, d := s.now().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
