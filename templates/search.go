package templates

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
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
// Chicago with Marcus Bell matching “tall”". Each language puts the parts
// in its own order (search.understood.frame); a part left out is empty.
func understood(ctx context.Context, q search.Query) string {
	l := lang(ctx)
	what := l.T("search.understood.events")
	if q.Type != "" {
		what = l.T("search.understood_type." + q.Type)
	}
	var where, who, matching string
	if q.Location != "" {
		where = l.T("search.understood.where", "Location", q.Location)
	}
	if q.Performer != "" {
		who = l.T("search.understood.who", "Performer", q.Performer)
	}
	if q.Text != "" {
		matching = l.T("search.understood.matching", "Text", q.Text)
	}
	return l.T("search.understood.frame", "What", what, "Where", where, "Who", who, "Matching", matching)
}

func sortLabel(ctx context.Context, s string) string {
	switch s {
	case search.SortDate:
		return tr(ctx, "search.sort_date")
	case search.SortPrice:
		return tr(ctx, "search.sort_price")
	}
	return tr(ctx, "search.sort_relevance")
}

// choice is an option of a select.
type choice struct {
	Value, Label string
	Selected     bool
}

// priceChoices are the price ceilings offered, in each event's currency:
// minor units in the URL, as in the JSON search.
func priceChoices(ctx context.Context, current string) []choice {
	out := []choice{{"", tr(ctx, "search.any_price"), current == ""}}
	found := current == ""
	for _, p := range []int64{2500, 5000, 10000, 20000} {
		v := strconv.FormatInt(p, 10)
		out = append(out, choice{v, tr(ctx, "search.up_to", "Price", number(ctx, int(p/100))), current == v})
		found = found || current == v
	}
	if !found {
		if n, err := strconv.ParseInt(current, 10, 64); err == nil {
			out = append(out, choice{current, tr(ctx, "search.up_to", "Price", figure(ctx, n)), true})
		}
	}
	return out
}

// figure writes a price in minor units in no currency (each event's own),
// the page's language's way: "1,234.50", "1.234,50".
func figure(ctx context.Context, minor int64) string {
	l := lang(ctx)
	return l.Int(int(minor/100)) + l.T("format.decimal") + fmt.Sprintf("%02d", minor%100)
}

// when is a quick choice of dates.
type when struct {
	Label    string
	From, To time.Time
}

// whenChoices are this weekend (today if it is one) and the next 30 days.
func whenChoices(ctx context.Context, today time.Time) []when {
	sat := today.AddDate(0, 0, (int(time.Saturday)-int(today.Weekday())+7)%7)
	if today.Weekday() == time.Sunday {
		sat = today.AddDate(0, 0, -1)
	}
	return []when{
		{tr(ctx, "search.this_weekend"), maxTime(sat, today), sat.AddDate(0, 0, 1)},
		{tr(ctx, "search.next_30_days"), today, today.AddDate(0, 0, 29)},
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

// activeFilters are q's filters as chips. The dates are days, not
// instants: written as they are, in no zone.
func activeFilters(ctx context.Context, q search.Query) []chip {
	var out []chip
	if q.Performer != "" {
		out = append(out, chip{tr(ctx, "search.chip_performer", "Name", q.Performer), with(q, func(q *search.Query) { q.Performer = "" })})
	}
	if q.Location != "" {
		out = append(out, chip{tr(ctx, "search.chip_place", "Name", q.Location), with(q, func(q *search.Query) { q.Location = "" })})
	}
	if q.Type != "" {
		out = append(out, chip{tr(ctx, "search.chip_type", "Name", typeLabel(ctx, q.Type)), with(q, func(q *search.Query) { q.Type = "" })})
	}
	if !q.From.IsZero() {
		out = append(out, chip{tr(ctx, "search.from_date", "Date", lang(ctx).Date(q.From, time.UTC)), with(q, func(q *search.Query) { q.From = time.Time{} })})
	}
	if !q.To.IsZero() {
		out = append(out, chip{tr(ctx, "search.to_date", "Date", lang(ctx).Date(q.To, time.UTC)), with(q, func(q *search.Query) { q.To = time.Time{} })})
	}
	if q.MinPrice > 0 {
		out = append(out, chip{tr(ctx, "search.from_price", "Price", figure(ctx, q.MinPrice)), with(q, func(q *search.Query) { q.MinPrice = 0 })})
	}
	if q.MaxPrice > 0 {
		out = append(out, chip{tr(ctx, "search.up_to", "Price", figure(ctx, q.MaxPrice)), with(q, func(q *search.Query) { q.MaxPrice = 0 })})
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

func searchTitle(ctx context.Context, v SearchView) string {
	if q := v.Raw.Get("q"); q != "" {
		return tr(ctx, "search.title_query", "Query", q)
	}
	return tr(ctx, "search.title")
}

func resultCount(ctx context.Context, r *search.Result) string {
	switch {
	case r.Total == 0:
		return tr(ctx, "search.no_events")
	case r.Approximate:
		return trn(ctx, "search.result_count_about", r.Total)
	}
	return trn(ctx, "search.result_count", r.Total)
}

// facetCount is a facet's count as shown: an estimate that found none of
// a type says nothing rather than a 0 that may be wrong.
func facetCount(ctx context.Context, r *search.Result, f search.Facet) string {
	if f.Count == 0 && r.FacetsApproximate {
		return tr(ctx, "search.facet_few")
	}
	return number(ctx, f.Count)
}
