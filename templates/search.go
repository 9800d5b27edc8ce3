package templates

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/boxoffice/boxoffice/app/search"
)

// SearchView is the search page: the results, or why the query was refused.
type SearchView struct {
	Raw    url.Values     // the parameters as typed, to put back in the form
	Result *search.Result // nil when the query was refused
	Error  string         // what is wrong with the query
	Param  string         // the parameter Error is about
	Today  time.Time      // the date the quick date choices count from
}

// asTyped is the search for the fan's own words, read as words only.
func asTyped(r *search.Result) string {
	q := *r.Asked
	q.Verbatim, q.Page = true, 1
	return searchURL(q)
}

// understood says in words what a query searches: "comedy events in
// Chicago by Marcus Bell matching “tall”".
func understood(q search.Query) string {
	s := "events"
	if q.Type != "" {
		s = strings.ToLower(typeLabel(context.Background(), q.Type)) + " events"
	}
	if q.Location != "" {
		s += " in " + q.Location
	}
	if q.Performer != "" {
		s += " with " + q.Performer
	}
	if q.Text != "" {
		s += " matching “" + q.Text + "”"
	}
	return s
}

func sortLabel(s string) string {
	switch s {
	case search.SortDate:
		return "Date"
	case search.SortPrice:
		return "Lowest price"
	}
	return "Best match"
}

// choice is an option of a select.
type choice struct {
	Value, Label string
	Selected     bool
}

// priceChoices are the price ceilings offered, in each event's currency:
// minor units in the URL, as in the JSON search.
func priceChoices(current string) []choice {
	out := []choice{{"", "Any price", current == ""}}
	found := current == ""
	for _, p := range []string{"2500", "5000", "10000", "20000"} {
		out = append(out, choice{p, "Up to " + p[:len(p)-2], current == p})
		found = found || current == p
	}
	if !found {
		if n, err := strconv.ParseInt(current, 10, 64); err == nil {
			out = append(out, choice{current, "Up to " + figure(n), true})
		}
	}
	return out
}

// figure writes a price in minor units in no currency: each event's own.
func figure(minor int64) string {
	return fmt.Sprintf("%d.%02d", minor/100, minor%100)
}

// when is a quick choice of dates.
type when struct {
	Label    string
	From, To time.Time
}

// whenChoices are this weekend (today if it is one) and the next 30 days.
func whenChoices(today time.Time) []when {
	sat := today.AddDate(0, 0, (int(time.Saturday)-int(today.Weekday())+7)%7)
	if today.Weekday() == time.Sunday {
		sat = today.AddDate(0, 0, -1)
	}
	return []when{
		{"This weekend", maxTime(sat, today), sat.AddDate(0, 0, 1)},
		{"Next 30 days", today, today.AddDate(0, 0, 29)},
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// whenURL is the search raw with w's dates, back on the first page.
func whenURL(raw url.Values, w when) string {
	v := url.Values{}
	for k, vals := range raw {
		if k != "page" {
			v[k] = vals
		}
	}
	v.Set("from", w.From.Format(time.DateOnly))
	v.Set("to", w.To.Format(time.DateOnly))
	return "/search?" + v.Encode()
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
		out = append(out, chip{"Type: " + typeLabel(context.Background(), q.Type), with(q, func(q *search.Query) { q.Type = "" })})
	}
	if !q.From.IsZero() {
		out = append(out, chip{"From " + q.From.Format("Mon 2 Jan 2006"), with(q, func(q *search.Query) { q.From = time.Time{} })})
	}
	if !q.To.IsZero() {
		out = append(out, chip{"To " + q.To.Format("Mon 2 Jan 2006"), with(q, func(q *search.Query) { q.To = time.Time{} })})
	}
	if q.MinPrice > 0 {
		out = append(out, chip{"From " + figure(q.MinPrice), with(q, func(q *search.Query) { q.MinPrice = 0 })})
	}
	if q.MaxPrice > 0 {
		out = append(out, chip{"Up to " + figure(q.MaxPrice), with(q, func(q *search.Query) { q.MaxPrice = 0 })})
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
