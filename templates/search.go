package templates

import (
	"net/url"
	"time"

	"github.com/boxoffice/boxoffice/app/search"
)

// SearchView is the search page: the results, or why the query was refused.
type SearchView struct {
	Raw    url.Values     // the parameters as typed, to put back in the form
	Result *search.Result // nil when the query was refused
	Error  string         // what is wrong with the query
	Param  string         // the parameter Error is about
}

// searchURL is the search page for q.
func searchURL(q search.Query) string {
	v := q.Values()
	if len(v) == 0 {
		return "/search"
	}
	return "/search?" + v.Encode()
}

// with returns q changed by f, back on its first page.
func with(q search.Query, f func(*search.Query)) string {
	q.Page = 1
	f(&q)
	return searchURL(q)
}

func pageURL(q search.Query, page int) string {
	q.Page = page
	return searchURL(q)
}

// chip is an active filter with the link that removes it.
type chip struct {
	Label, Remove string
}

func activeFilters(q search.Query) []chip {
	var out []chip
	if q.Performer != "" {
		out = append(out, chip{"Performer: " + q.Performer, with(q, func(q *search.Query) { q.Performer = "" })})
	}
	if q.Location != "" {
		out = append(out, chip{"Place: " + q.Location, with(q, func(q *search.Query) { q.Location = "" })})
	}
	if q.Type != "" {
		out = append(out, chip{"Type: " + q.Type, with(q, func(q *search.Query) { q.Type = "" })})
	}
	if !q.From.IsZero() {
		out = append(out, chip{"From " + q.From.Format("Jan 2, 2006"), with(q, func(q *search.Query) { q.From = time.Time{} })})
	}
	if !q.To.IsZero() {
		out = append(out, chip{"To " + q.To.Format("Jan 2, 2006"), with(q, func(q *search.Query) { q.To = time.Time{} })})
	}
	return out
}

// pageWindow is the page numbers to offer around the current one.
func pageWindow(current, last int) []int {
	lo, hi := max(1, current-2), min(last, current+2)
	var out []int
	for p := lo; p <= hi; p++ {
		out = append(out, p)
	}
	return out
}

func searchTitle(v SearchView) string {
	if q := v.Raw.Get("q"); q != "" {
		return "Search: " + q
	}
	return "Find events"
}

func resultCount(r *search.Result) string {
	switch r.Total {
	case 0:
		return "No events"
	case 1:
		return "1 event"
	}
	if r.Approximate {
		return "About " + thousands(r.Total) + " events"
	}
	return thousands(r.Total) + " events"
}

// facetCount is a facet's count as shown: an estimate that found none of
// a type says nothing rather than a 0 that may be wrong.
func facetCount(r *search.Result, f search.Facet) string {
	if f.Count == 0 && r.FacetsApproximate {
		return "few"
	}
	return thousands(f.Count)
}
