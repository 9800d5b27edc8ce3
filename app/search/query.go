package search

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/event"
)

// Limits on a query.
const (
	MaxTextLength  = 200     // characters in q, performer or location
	DefaultPerPage = 20      //
	MaxPerPage     = 100     //
	MaxOffset      = 10_000  // results that can be paged through
	maxPrice       = 1 << 40 // minor units: no ticket costs more
)

// Query is a search as a fan or an app asks it. The zero Query lists
// upcoming events.
type Query struct {
	Text      string    // q: free keywords, websearch syntax ("quotes", -word, or)
	Performer string    // a performer's or team's name, typos allowed
	Location  string    // a city or venue, typos allowed
	Type      string    // one of event.Types, or ""
	From, To  time.Time // local dates at the venue, inclusive; zero when unset
	// MinPrice and MaxPrice keep events with a ticket on sale in that range
	// (minor units, each event's own currency); zero when unset.
	MinPrice, MaxPrice int64
	Sort               string // one of Sorts; "" is SortRelevance
	Verbatim           bool   // take Text as typed: no filters read from it, no spelling corrected
	Page               int    // from 1
	PerPage            int
}

// How results can be ordered.
const (
	SortRelevance = "relevance" // best match first (soonest without keywords)
	SortDate      = "date"      // soonest first
	SortPrice     = "price"     // cheapest ticket on sale first; sold out last
)

// Sorts lists the orders in the order the page offers them.
var Sorts = []string{SortRelevance, SortDate, SortPrice}

// Offset is how many results come before the page.
func (q Query) Offset() int { return (q.Page - 1) * q.PerPage }

// Empty reports whether q has no criteria at all (paging aside).
func (q Query) Empty() bool {
	return q.Text == "" && q.Performer == "" && q.Location == "" && q.Type == "" && q.From.IsZero() && q.To.IsZero() &&
		q.MinPrice == 0 && q.MaxPrice == 0
}

// Values is q as URL query parameters, leaving out defaults; the pages
// build their links (filters, paging) from it.
func (q Query) Values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", q.Text)
	set("performer", q.Performer)
	set("location", q.Location)
	set("type", q.Type)
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.DateOnly))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.DateOnly))
	}
	if q.MinPrice > 0 {
		v.Set("min_price", strconv.FormatInt(q.MinPrice, 10))
	}
	if q.MaxPrice > 0 {
		v.Set("max_price", strconv.FormatInt(q.MaxPrice, 10))
	}
	if q.Sort != "" && q.Sort != SortRelevance {
		v.Set("sort", q.Sort)
	}
	if q.Verbatim {
		v.Set("verbatim", "1")
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.PerPage != DefaultPerPage && q.PerPage != 0 {
		v.Set("per_page", strconv.Itoa(q.PerPage))
	}
	return v
}

// ParseQuery reads a search from URL query parameters (the same for the
// page and the API). A bad parameter is an app.EINVALID error whose message
// names it and whose Detail["parameter"] is its name.
func ParseQuery(v url.Values) (Query, error) {
	q := Query{Page: 1, PerPage: DefaultPerPage}
	var err error
	if q.Text, err = text(v, "q"); err != nil {
		return q, err
	}
	if q.Performer, err = text(v, "performer"); err != nil {
		return q, err
	}
	if q.Location, err = text(v, "location"); err != nil {
		return q, err
	}
	if t := strings.ToLower(strings.TrimSpace(v.Get("type"))); t != "" {
		if !isType(t) {
			return q, invalid("type", "type must be one of %s; %q is not one", strings.Join(event.Types, ", "), v.Get("type"))
		}
		q.Type = t
	}
	if q.From, err = date(v, "from"); err != nil {
		return q, err
	}
	if q.To, err = date(v, "to"); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		return q, invalid("from", "from (%s) is after to (%s); swap them or change one", q.From.Format(time.DateOnly), q.To.Format(time.DateOnly))
	}
	minPrice, err := number(v, "min_price", 0, 0, maxPrice)
	if err != nil {
		return q, err
	}
	maxPrice, err := number(v, "max_price", 0, 0, maxPrice)
	if err != nil {
		return q, err
	}
	q.MinPrice, q.MaxPrice = int64(minPrice), int64(maxPrice)
	if q.MaxPrice > 0 && q.MinPrice > q.MaxPrice {
		return q, invalid("min_price", "min_price (%d) is above max_price (%d); swap them or change one", q.MinPrice, q.MaxPrice)
	}
	switch s := strings.ToLower(strings.TrimSpace(v.Get("sort"))); s {
	case "", SortRelevance:
	case SortDate, SortPrice:
		q.Sort = s
	default:
		return q, invalid("sort", "sort must be one of %s; %q is not one", strings.Join(Sorts, ", "), v.Get("sort"))
	}
	switch s := strings.ToLower(strings.TrimSpace(v.Get("verbatim"))); s {
	case "", "0", "false":
	case "1", "true":
		q.Verbatim = true
	default:
		return q, invalid("verbatim", "verbatim must be 1 or 0; %q is neither", v.Get("verbatim"))
	}
	if q.Page, err = number(v, "page", 1, 1, 1_000_000); err != nil {
		return q, err
	}
	if q.PerPage, err = number(v, "per_page", DefaultPerPage, 1, MaxPerPage); err != nil {
		return q, err
	}
	if q.Offset() >= MaxOffset {
		return q, invalid("page", "page %d is too deep: only the first %d results can be paged through; narrow the search instead", q.Page, MaxOffset)
	}
	return q, nil
}

func invalid(param, format string, args ...any) error {
	e := app.Errorf(app.EINVALID, format, args...)
	e.Detail = map[string]any{"parameter": param}
	return e
}

// text reads a free-text parameter: valid UTF-8, control characters turned
// into spaces, runs of space folded, at most MaxTextLength characters.
func text(v url.Values, name string) (string, error) {
	raw := v.Get(name)
	if !utf8.ValidString(raw) {
		return "", invalid(name, "%s is not valid text (UTF-8)", name)
	}
	clean := strings.Join(strings.FieldsFunc(raw, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if n := utf8.RuneCountInString(clean); n > MaxTextLength {
		return "", invalid(name, "%s is %d characters long; at most %d are allowed", name, n, MaxTextLength)
	}
	return clean, nil
}

func date(v url.Values, name string) (time.Time, error) {
	raw := strings.TrimSpace(v.Get(name))
	if raw == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(time.DateOnly, raw)
	if err != nil || d.Year() < 1900 || d.Year() > 9999 {
		return time.Time{}, invalid(name, "%s must be a date written YYYY-MM-DD, such as 2026-12-31; %q is not", name, raw)
	}
	return d, nil
}

func number(v url.Values, name string, def, lo, hi int) (int, error) {
	raw := strings.TrimSpace(v.Get(name))
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, invalid(name, "%s must be a whole number from %d to %d; %q is not", name, lo, hi, raw)
	}
	return n, nil
}

func isType(t string) bool {
	for _, known := range event.Types {
		if t == known {
			return true
		}
	}
	return false
}
