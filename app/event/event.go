// Package event is the catalogue: venues, their sections and seats,
// performers, and the events that bring them together. It answers what fans
// look at before they book.
package event

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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
}

// SoldOut reports whether no ticket is left.
func (s Summary) SoldOut() bool { return s.Available == 0 }

// LocalStart is the start time in the venue's zone.
func (s Summary) LocalStart() time.Time { return inZone(s.StartsAt, s.Timezone) }

func inZone(t time.Time, zone string) time.Time {
	if loc, err := time.LoadLocation(zone); err == nil {
		return t.In(loc)
	}
	return t.UTC()
}

// Service reads the catalogue.
type Service struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewService returns a catalogue service on pool. now is the clock (time.Now
// outside tests).
func NewService(pool *pgxpool.Pool, now func() time.Time) *Service {
	return &Service{pool: pool, now: now}
}

// ListUpcoming returns the next events that have not started, soonest first.
func (s *Service) ListUpcoming(ctx context.Context, limit int) ([]Summary, error) {
	return listUpcoming(ctx, s.pool, s.now(), limit)
}
