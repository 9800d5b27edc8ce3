// Package event is the catalogue: venues, their sections and seats,
// performers, and the events that bring them together, with what is left to
// buy. It answers what fans look at before they book.
//
// Tickets are written only by the booking module; this package reads them
// to show availability.
package event

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/cache"
	"github.com/boxoffice/boxoffice/app/live"
)

// Types of event, as fans filter them.
const (
	TypeConcert = "concert"
	TypeSports  = "sports"
	TypeTheater = "theater"
	TypeComedy  = "comedy"
	TypeFamily  = "family"
)

// Types lists every event type in display order.
var Types = []string{TypeConcert, TypeSports, TypeTheater, TypeComedy, TypeFamily}

// Ticket states as fans see them. A hold whose time has run out reads
// StatusAvailable everywhere (DESIGN §4).
const (
	StatusAvailable = live.StatusAvailable
	StatusReserved  = live.StatusReserved
	StatusSold      = live.StatusSold
)

// Point is a position on a venue's seat map.
type Point struct{ X, Y float64 }

// Venue is where an event happens, with its map canvas.
type Venue struct {
	ID         int64
	Name       string
	Address    string
	City       string
	Region     string
	Country    string
	Timezone   string
	Capacity   int
	MapWidth   int
	MapHeight  int
	Stage      []Point
	StageLabel string
}

// Performer is an artist, band, team, comedian or company on an event's bill.
type Performer struct {
	ID   int64
	Name string
	Kind string
	Role string // headliner, support, home, away
	Bio  string
}

// Section is a block of seats with its outline on the venue map.
type Section struct {
	ID       int64
	Name     string
	Level    string
	Position int
	Outline  []Point
	// Standing is a general-admission area: its places are sold by
	// quantity, up to Capacity, and have no seats on the map.
	Standing bool
	Capacity int
}

// Event is everything about an event that rarely changes: safe to cache
// for a short while. What is left to buy comes from Availability.
type Event struct {
	ID          int64
	Name        string
	Type        string
	Description string
	StartsAt    time.Time
	EndsAt      *time.Time
	DoorsAt     *time.Time
	Timezone    string
	Currency    string
	Status      string
	OnSaleAt    *time.Time // nil: on sale now
	Queue       string     // the waiting room: off, always or auto
	Venue       Venue
	Performers  []Performer
	Sections    []Section
	OtherDates  []Summary // the same show's next other performances, without stock
}

// RunningTime is how long the event lasts, or 0 when its end is unknown.
func (e *Event) RunningTime() time.Duration {
	if e.EndsAt == nil {
		return 0
	}
	return e.EndsAt.Sub(e.StartsAt)
}

// Location is the venue's time zone (UTC if it is unknown).
func (e *Event) Location() *time.Location { return location(e.Timezone) }

// Section returns the event's section id, or nil.
func (e *Event) Section(id int64) *Section {
	for i := range e.Sections {
		if e.Sections[i].ID == id {
			return &e.Sections[i]
		}
	}
	return nil
}

// SectionAvailability is what is left in one section, live.
type SectionAvailability struct {
	SectionID int64
	Available int
	Reserved  int
	Sold      int
	Total     int
	MinPrice  int64 // of the available tickets; of all when none is left
	MaxPrice  int64
	Lowest    int64 // of all its tickets, whatever their state: what the section costs
}

// Availability is what is left of an event, per section and in total.
type Availability struct {
	Sections  map[int64]SectionAvailability
	Available int
	Total     int
	MinPrice  int64
	MaxPrice  int64
	Prices    []int64 // every price its tickets have, lowest first
}

// Seat is one ticket of an event with its place on the map.
type Seat struct {
	TicketID  int64
	SeatID    int64
	SectionID int64
	Row       string
	Number    int
	X, Y      float64
	Price     int64
	Status    string
}

// Stock is what is left of an event, as a card shows it.
type Stock struct {
	Available int   // tickets on sale now
	MinPrice  int64 // lowest price among them; 0 when sold out
}

// Summary is an event as a card shows it: enough to decide to open it.
type Summary struct {
	ID        int64
	Name      string
	Type      string
	StartsAt  time.Time
	Timezone  string // the venue's IANA zone; StartsAt is shown in it
	VenueID   int64
	VenueName string
	City      string
	Country   string
	Currency  string
	MinPrice  int64 // lowest price of an available ticket, minor units; 0 when sold out
	Available int   // tickets on sale now
	Status    string
}

// Cancelled reports whether the event was cancelled.
func (s Summary) Cancelled() bool { return s.Status == "cancelled" }

// SoldOut reports whether no ticket is left.
func (s Summary) SoldOut() bool { return s.Available == 0 }

// LocalStart is the start time in the venue's zone.
func (s Summary) LocalStart() time.Time { return s.StartsAt.In(location(s.Timezone)) }

// locations keeps the zones loaded: time.LoadLocation reads and parses
// the zone file each time, and every card and page asks.
var locations sync.Map // zone name → *time.Location

func location(zone string) *time.Location {
	if loc, ok := locations.Load(zone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return time.UTC
	}
	locations.Store(zone, loc)
	return loc
}

// Service reads the catalogue. What is left to buy comes from the live
// models of package live, which the change feed keeps current.
type Service struct {
	pool   *pgxpool.Pool
	read   func() *pgxpool.Pool // where catalogue reads go (ReadingFrom)
	feed   *live.Feed
	now    func() time.Time
	stock  *cache.Cache[int64, Stock]
	counts *cache.Cache[int64, counted] // per event, as long as its model is unchanged
	seats  *cache.Cache[seatsKey, listed]
	cache  *cache.Cache[int64, *Event]
	places *cache.Cache[int64, map[int64]place] // per venue: seat id → place
}

// WholeListLimit is the largest event whose tickets Tickets lists in one
// answer; a larger one is listed a section at a time, so that nobody can
// make the site serialise a stadium over and over.
const WholeListLimit = 2500

// place is where a seat is: its labels and map position, which never
// change for a venue.
type place struct {
	row    string
	number int
	x, y   float64
}

// StockTTL is how stale the seats-left count and lowest price on the card
// of an event nobody has open may be: events in use are read from their
// live model, the others are counted in PostgreSQL and the count kept
// until the feed reports a change or a hold may have run out.
const StockTTL = 5 * time.Second

// detailsTTL is how long event details stay cached: an edit to an event
// shows within this time.
const detailsTTL = 30 * time.Second

// NewService returns a catalogue service on pool whose availability comes
// from feed. now is the clock (time.Now outside tests).
func NewService(pool *pgxpool.Pool, feed *live.Feed, now func() time.Time) *Service {
	s := &Service{
		pool:   pool,
		read:   func() *pgxpool.Pool { return pool },
		feed:   feed,
		now:    now,
		stock:  cache.New[int64, Stock](StockTTL, 20000, now),
		counts: cache.New[int64, counted](time.Hour, 5000, now),
		seats:  cache.New[seatsKey, listed](time.Hour, 2000, now),
		cache:  cache.New[int64, *Event](detailsTTL, 2000, now),
		places: cache.New[int64, map[int64]place](10*time.Minute, 200, now),
	}
	feed.OnChange(s.stock.Delete)
	return s
}

// ReadingFrom sends s's reads of the catalogue where read says (a read
// replica within its lag, else the primary): they may be a few seconds
// behind. What is left to buy still comes from the live models.
func (s *Service) ReadingFrom(read func() *pgxpool.Pool) *Service {
	s.read = read
	return s
}

// ListUpcoming returns the next events that have not started, soonest first.
func (s *Service) ListUpcoming(ctx context.Context, limit int) ([]Summary, error) {
	events, err := listSummaries(ctx, s.read(), s.now(), limit, "true")
	if err != nil {
		return nil, err
	}
	return s.withStock(ctx, events)
}

// MaxListed is how many upcoming events a performer's or venue's page lists.
const MaxListed = 50

// FindPerformer returns a performer with their next events.
func (s *Service) FindPerformer(ctx context.Context, id int64) (*Performer, []Summary, error) {
	p, err := findPerformer(ctx, s.read(), id)
	if err != nil {
		return nil, nil, err
	}
	events, err := listSummaries(ctx, s.read(), s.now(), MaxListed,
		"e.id IN (SELECT ep.event_id FROM event_performers ep WHERE ep.performer_id = $3)", id)
	if err != nil {
		return nil, nil, err
	}
	events, err = s.withStock(ctx, events)
	return p, events, err
}

// FindVenue returns a venue with its sections and next events.
func (s *Service) FindVenue(ctx context.Context, id int64) (*Venue, []Section, []Summary, error) {
	v, sections, err := findVenue(ctx, s.read(), id)
	if err != nil {
		return nil, nil, nil, err
	}
	events, err := listSummaries(ctx, s.read(), s.now(), MaxListed, "e.venue_id = $3", id)
	if err != nil {
		return nil, nil, nil, err
	}
	events, err = s.withStock(ctx, events)
	return v, sections, events, err
}

// withStock fills in what is left of each event.
func (s *Service) withStock(ctx context.Context, events []Summary) ([]Summary, error) {
	ids := make([]int64, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	stock, err := s.Stock(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range events {
		events[i].Available, events[i].MinPrice = stock[events[i].ID].Available, stock[events[i].ID].MinPrice
	}
	return events, nil
}

// Stock returns what is left of each event in ids: from the live model of
// events in use, else counted at most StockTTL ago.
func (s *Service) Stock(ctx context.Context, ids []int64) (map[int64]Stock, error) {
	out := make(map[int64]Stock, len(ids))
	var missing []int64
	now := s.now().UnixMilli()
	for _, id := range ids {
		if m := s.feed.Loaded(id); m != nil {
			out[id] = stockOf(s.availability(m, now))
		} else if st, ok := s.stock.Get(id); ok {
			out[id] = st
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	fresh, err := countStock(ctx, s.read(), missing)
	if err != nil {
		return nil, err
	}
	for _, id := range missing {
		out[id] = fresh[id]
		s.stock.Put(id, fresh[id])
	}
	return out, nil
}

// counted is an event's availability as counted, with until when it holds.
type counted struct {
	a              *Availability
	version, until int64 // until: Unix ms, 0 for as long as the version
}

// availability counts what is left of model m at now, or gives the count
// made before if nothing has changed since: neither the version nor a hold
// that has run out.
func (s *Service) availability(m *live.Event, now int64) *Availability {
	if c, ok := s.counts.Get(m.ID()); ok && c.version == m.Version() && (c.until == 0 || now < c.until) {
		return c.a
	}
	a, version, until := availabilityOf(m, now)
	s.counts.Put(m.ID(), counted{a, version, until})
	return a
}

func stockOf(a *Availability) Stock {
	if a.Available == 0 {
		return Stock{}
	}
	return Stock{Available: a.Available, MinPrice: a.MinPrice}
}

// FindEventByID returns the event with its venue, performers and sections.
// The result is shared: callers must not modify it.
func (s *Service) FindEventByID(ctx context.Context, id int64) (*Event, error) {
	if e, ok := s.cache.Get(id); ok {
		return e, nil
	}
	// A replica may not have an event just published yet: what it does
	// not find (or cannot read) is asked of the primary, so that the
	// organiser, the booking and the mail that follow find it.
	read := s.read()
	e, err := findEvent(ctx, read, id, s.now())
	if err != nil && read != s.pool {
		e, err = findEvent(ctx, s.pool, id, s.now())
	}
	if err != nil {
		return nil, err
	}
	s.cache.Put(id, e)
	return e, nil
}

// Live returns the live model of event id, which must exist.
func (s *Service) Live(ctx context.Context, id int64) (*live.Event, error) {
	if _, err := s.FindEventByID(ctx, id); err != nil {
		return nil, err
	}
	return s.feed.Event(ctx, id)
}

// Follow is Live for a stream: the model stays loaded and current until
// unfollow is called.
func (s *Service) Follow(ctx context.Context, id int64) (m *live.Event, unfollow func(), err error) {
	if _, err := s.FindEventByID(ctx, id); err != nil {
		return nil, nil, err
	}
	return s.feed.Watch(ctx, id)
}

// Availability counts what is left of event id, per section, from its
// live model.
func (s *Service) Availability(ctx context.Context, id int64) (*Availability, error) {
	m, err := s.Live(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.availability(m, s.now().UnixMilli()), nil
}

// Seats returns the tickets of event id with their seats, in sectionID only
// when it is not 0, in map order. The list is shared (kept until the event
// changes): callers must not modify it.
func (s *Service) Seats(ctx context.Context, id, sectionID int64) ([]Seat, error) {
	return s.seatsIn(ctx, id, sectionID, "")
}

// seatsIn is Seats in one status ("" for all), read from the live model.
func (s *Service) seatsIn(ctx context.Context, id, sectionID int64, status string) ([]Seat, error) {
	e, err := s.FindEventByID(ctx, id)
	if err != nil {
		return nil, err
	}
	places, ok := s.places.Get(e.Venue.ID)
	if !ok {
		if places, err = venuePlaces(ctx, s.read(), e.Venue.ID); err != nil {
			return nil, err
		}
		s.places.Put(e.Venue.ID, places)
	}
	m, err := s.feed.Event(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now().UnixMilli()
	key := seatsKey{id, sectionID}
	l, ok := s.seats.Get(key)
	if !ok || l.version != m.Version() || (l.until != 0 && now >= l.until) {
		if l.seats, l.version, l.until, err = seatsOf(m, sectionID, now, places); err != nil {
			return nil, err
		}
		s.seats.Put(key, l)
	}
	if status == "" {
		return l.seats, nil
	}
	var out []Seat
	for _, st := range l.seats {
		if st.Status == status {
			out = append(out, st)
		}
	}
	return out, nil
}

// seatsKey names a seat list: an event's, or one section's of it.
type seatsKey struct{ event, section int64 }

// listed is a seat list with until when it holds, as counted is for
// availability.
type listed struct {
	seats          []Seat
	version, until int64
}

// Tickets returns event id's tickets filtered by section (0: all, for
// events of at most WholeListLimit seats) and status ("": all), for the
// JSON API, from the live model.
func (s *Service) Tickets(ctx context.Context, id, sectionID int64, status string) ([]Seat, error) {
	switch status {
	case "", StatusAvailable, StatusReserved, StatusSold:
	default:
		return nil, app.Errorf(app.EINVALID, "status must be available, reserved or sold, not %q", status)
	}
	e, err := s.FindEventByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := e.CheckListing(sectionID); err != nil {
		return nil, err
	}
	return s.seatsIn(ctx, id, sectionID, status)
}

// CheckListing says why the event's tickets cannot be listed (or followed)
// for sectionID (0: all), or nil: the section must be the event's, and an
// event above WholeListLimit seats goes a section at a time.
func (e *Event) CheckListing(sectionID int64) error {
	switch {
	case sectionID != 0 && e.Section(sectionID) == nil:
		return app.Errorf(app.EINVALID, "section %d is not a section of event %d", sectionID, e.ID)
	case sectionID == 0 && e.Venue.Capacity > WholeListLimit:
		return app.Errorf(app.EINVALID, "Event %d has %d seats: ask for one section at a time with ?section=ID (GET /api/v1/events/%d lists its sections).",
			e.ID, e.Venue.Capacity, e.ID)
	}
	return nil
}

func notFound(id int64) error {
	return &app.Error{Code: app.ENOTFOUND, Message: fmt.Sprintf("There is no event %d. It may have been removed.", id)}
}
