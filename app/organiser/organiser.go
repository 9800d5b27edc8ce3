// Package organiser is the organisers' side of events: an event starts as
// a draft fans cannot see, with a price per section (or per zone of
// sections); publishing it creates its tickets; editing a published event
// keeps sold tickets as they are. Every change is written to the audit
// log in its own transaction.
package organiser

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/venue"
)

// Service manages organisers' events.
type Service struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewService returns the organisers' service on pool.
func NewService(pool *pgxpool.Pool, now func() time.Time) *Service {
	return &Service{pool: pool, now: now}
}

// Event is what an organiser writes about an event, as the API and the
// form take it. Times are RFC 3339, or a local "2027-03-01T19:30" in the
// event's time zone.
type Event struct {
	VenueID     int64       `json:"venue_id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Type        string      `json:"type"`
	Performers  []Performer `json:"performers"`
	StartsAt    string      `json:"starts_at"`
	EndsAt      string      `json:"ends_at,omitempty"`
	DoorsAt     string      `json:"doors_at,omitempty"`
	Timezone    string      `json:"timezone,omitempty"` // default: the venue's
	Currency    string      `json:"currency,omitempty"` // default: the venue's country's
	Prices      []Price     `json:"prices"`
	OnSaleAt    string      `json:"on_sale_at,omitempty"` // empty: on sale once published
	Queue       string      `json:"queue,omitempty"`      // off (default), always, auto
}

// Performer is one act on the bill, in billing order.
type Performer struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // artist, band, team, comedian, company
	Role string `json:"role"` // headliner, support, home, away
}

// Price is what a zone of sections costs, in minor units.
type Price struct {
	Zone     string   `json:"zone,omitempty"`
	Price    int64    `json:"price"`
	Sections []string `json:"sections"` // by name
}

// Performer kinds and roles, as the catalogue keeps them.
var (
	Kinds = []string{"artist", "band", "team", "comedian", "company"}
	Roles = []string{"headliner", "support", "home", "away"}
)

// Queue modes.
var Queues = []string{"off", "always", "auto"}

// Limits.
const (
	MaxName        = 200
	MaxDescription = 5000
	MaxPrice       = 100_000_000 // minor units: a million in most currencies
	MaxPerformers  = 20
)

// currencies are the defaults by the venue's country.
var currencies = map[string]string{
	"GB": "GBP", "IE": "EUR", "ES": "EUR", "DE": "EUR", "FR": "EUR", "IT": "EUR", "NL": "EUR", "PT": "EUR", "AT": "EUR", "BE": "EUR",
	"US": "USD", "CA": "CAD", "AU": "AUD", "BR": "BRL", "MX": "MXN", "JP": "JPY", "CH": "CHF", "SE": "SEK", "NO": "NOK", "DK": "DKK",
}

// DefaultCurrency is the currency of a venue's country, or "" if unknown.
func DefaultCurrency(country string) string { return currencies[country] }

func invalid(field, format string, args ...any) error {
	return &app.Error{Code: app.EINVALID, Reason: "invalid_event", Message: fmt.Sprintf(format, args...), Detail: map[string]any{"field": field}}
}

// checked is an Event read and checked against its venue.
type checked struct {
	in                      Event
	startsAt                time.Time
	endsAt, doorsAt, onSale *time.Time
	sections                map[int64]zonePrice // priced sections
	timezone, currency      string
}

type zonePrice struct {
	zone  string
	price int64
}

type venueInfo struct {
	owner             *int64
	timezone, country string
	sections          map[string]int64
	standing          map[string]bool
}

// readVenue reads venue id as the actor may use it.
func (s *Service) readVenue(ctx context.Context, q pgx.Tx, by audit.Actor, id int64) (*venueInfo, error) {
	v := &venueInfo{sections: map[string]int64{}}
	err := q.QueryRow(ctx, `SELECT owner_id, timezone, country FROM venues WHERE id = $1`, id).Scan(&v.owner, &v.timezone, &v.country)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !by.Owns(v.owner) {
		return nil, invalid("venue_id", "You have no venue %d: add it first, or choose one of yours.", id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT id, name FROM sections WHERE venue_id = $1`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sid int64
		var name string
		if err := rows.Scan(&sid, &name); err != nil {
			return nil, err
		}
		v.sections[name] = sid
	}
	return v, rows.Err()
}

// check reads in against venue v.
func (s *Service) check(in Event, v *venueInfo) (*checked, error) {
	c := &checked{in: in, sections: map[int64]zonePrice{}}
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	c.in = in
	texts := []string{in.Name, in.Description}
	for _, p := range in.Performers {
		texts = append(texts, p.Name)
	}
	for _, p := range in.Prices {
		texts = append(texts, p.Zone)
		if utf8.RuneCountInString(p.Zone) > MaxName {
			return nil, invalid("prices", "A zone's name can be at most %d characters long.", MaxName)
		}
	}
	for _, t := range texts {
		if !venue.Printable(t) {
			return nil, invalid("name", "%q has characters that cannot be shown (control characters, or bytes that are not UTF-8).", t)
		}
	}
	switch {
	case in.Name == "":
		return nil, invalid("name", "Give the event a name.")
	case utf8.RuneCountInString(in.Name) > MaxName:
		return nil, invalid("name", "The name can be at most %d characters long.", MaxName)
	case utf8.RuneCountInString(in.Description) > MaxDescription:
		return nil, invalid("description", "The description can be at most %d characters long.", MaxDescription)
	case !slices.Contains(event.Types, in.Type):
		return nil, invalid("type", "The type %q is not one fans can search by: give one of %s.", in.Type, strings.Join(event.Types, ", "))
	case len(in.Performers) > MaxPerformers:
		return nil, invalid("performers", "At most %d performers.", MaxPerformers)
	}
	seen := map[string]bool{}
	for i, p := range in.Performers {
		key := strings.ToLower(strings.TrimSpace(p.Name)) + "/" + p.Kind
		switch {
		case strings.TrimSpace(p.Name) == "" || utf8.RuneCountInString(p.Name) > MaxName:
			return nil, invalid("performers", "Performer %d needs a name of at most %d characters.", i+1, MaxName)
		case !slices.Contains(Kinds, p.Kind):
			return nil, invalid("performers", "%s's kind %q is not one of %s.", p.Name, p.Kind, strings.Join(Kinds, ", "))
		case !slices.Contains(Roles, p.Role):
			return nil, invalid("performers", "%s's role %q is not one of %s.", p.Name, p.Role, strings.Join(Roles, ", "))
		case seen[key]:
			return nil, invalid("performers", "%s is on the bill twice.", p.Name)
		}
		seen[key] = true
	}
	c.timezone = cmpOr(in.Timezone, v.timezone)
	loc, err := time.LoadLocation(c.timezone)
	if err != nil || c.timezone == "Local" {
		return nil, invalid("timezone", "The time zone %q is not one: give an IANA name, such as Europe/London.", c.timezone)
	}
	c.currency = cmpOr(in.Currency, currencies[v.country])
	if len(c.currency) != 3 || strings.ToUpper(c.currency) != c.currency {
		return nil, invalid("currency", "Give the currency as three capital letters (ISO 4217), such as GBP or EUR.")
	}
	start, err := parseTime(in.StartsAt, loc)
	if err != nil || start == nil {
		return nil, invalid("starts_at", "Give the start as a date and time, such as 2027-03-01T19:30 (in %s) or with its offset.", c.timezone)
	}
	c.startsAt = *start
	if !c.startsAt.After(s.now()) {
		return nil, invalid("starts_at", "The start is in the past.")
	}
	if c.endsAt, err = parseTime(in.EndsAt, loc); err != nil || c.endsAt != nil && !c.endsAt.After(c.startsAt) {
		return nil, invalid("ends_at", "The end must be a date and time after the start.")
	}
	if c.doorsAt, err = parseTime(in.DoorsAt, loc); err != nil || c.doorsAt != nil && c.doorsAt.After(c.startsAt) {
		return nil, invalid("doors_at", "Doors must open at or before the start.")
	}
	if c.onSale, err = parseTime(in.OnSaleAt, loc); err != nil || c.onSale != nil && !c.onSale.Before(c.startsAt) {
		return nil, invalid("on_sale_at", "Tickets must go on sale before the event starts.")
	}
	if in.Queue == "" {
		c.in.Queue = "off"
	} else if !slices.Contains(Queues, in.Queue) {
		return nil, invalid("queue", "The waiting room is %q: give off, always or auto.", in.Queue)
	}
	if len(in.Prices) == 0 {
		return nil, invalid("prices", "Price at least one section: fans can only buy what has a price.")
	}
	for i, p := range in.Prices {
		zone := cmpOr(strings.TrimSpace(p.Zone), fmt.Sprintf("Price %d", i+1))
		if p.Price < 1 || p.Price > MaxPrice {
			return nil, invalid("prices", "%s: give a price between 1 and %d, in minor units (pence, cents).", zone, MaxPrice)
		}
		if len(p.Sections) == 0 {
			return nil, invalid("prices", "%s: name the sections it covers.", zone)
		}
		for _, name := range p.Sections {
			id, ok := v.sections[name]
			if !ok {
				return nil, invalid("prices", "%s: the venue has no section %q.", zone, name)
			}
			if _, twice := c.sections[id]; twice {
				return nil, invalid("prices", "Section %q has two prices: give each section one.", name)
			}
			c.sections[id] = zonePrice{zone: strings.TrimSpace(p.Zone), price: p.Price}
		}
	}
	return c, nil
}

// parseTime reads RFC 3339, or a local date and time in loc; empty is nil.
func parseTime(s string, loc *time.Location) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return &t, nil
		}
	}
	return nil, fmt.Errorf("not a time: %q", s)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
