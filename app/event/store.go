package event

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// availableTicket is the SQL condition for a ticket that can be bought now:
// a hold that has run out counts as available (DESIGN §4), whether or not
// the sweeper has tidied it yet. $1 is now.
const availableTicket = `(t.status = 'available' OR (t.status = 'reserved' AND t.reserved_until <= $1))`

// ticketStatus is a ticket's status as fans see it. $1 is now.
const ticketStatus = `CASE WHEN t.status = 'reserved' AND t.reserved_until <= $1 THEN 'available' ELSE t.status END`

func listUpcoming(ctx context.Context, pool *pgxpool.Pool, now time.Time, limit int) ([]Summary, error) {
	rows, err := pool.Query(ctx, `
		SELECT e.id, e.name, e.type, e.starts_at, e.timezone,
		       v.id AS venue_id, v.name AS venue_name, v.city, v.country, e.currency,
		       0::bigint AS min_price, 0 AS available
		FROM events e
		JOIN venues v ON v.id = e.venue_id
		WHERE e.starts_at > $1 AND e.status = 'on_sale'
		ORDER BY e.starts_at, e.id
		LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("list upcoming events: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByName[Summary])
	if err != nil {
		return nil, fmt.Errorf("list upcoming events: %w", err)
	}
	return events, nil
}

// countStock counts the tickets on sale of each event in ids, from the
// (event, section, status) index.
func countStock(ctx context.Context, pool *pgxpool.Pool, ids []int64, now time.Time) (map[int64]Stock, error) {
	rows, err := pool.Query(ctx, `
		SELECT t.event_id, count(*)::int, min(t.price)
		FROM tickets t
		WHERE t.event_id = ANY ($2) AND `+availableTicket+`
		GROUP BY t.event_id`, now, ids)
	if err != nil {
		return nil, fmt.Errorf("count stock: %w", err)
	}
	out := make(map[int64]Stock, len(ids))
	var id int64
	var st Stock
	_, err = pgx.ForEachRow(rows, []any{&id, &st.Available, &st.MinPrice}, func() error {
		out[id] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count stock: %w", err)
	}
	return out, nil
}

// findEvent loads an event with its venue, performers and sections in one
// round trip.
func findEvent(ctx context.Context, pool *pgxpool.Pool, id int64) (*Event, error) {
	batch := &pgx.Batch{}
	var e Event
	var stage pgtype.Polygon
	batch.Queue(`
		SELECT e.id, e.name, e.type, e.description, e.starts_at, e.ends_at, e.doors_at, e.timezone, e.currency, e.status,
		       v.id, v.name, v.address, v.city, v.region, v.country, v.timezone, v.capacity,
		       v.map_width, v.map_height, v.stage, v.stage_label
		FROM events e JOIN venues v ON v.id = e.venue_id
		WHERE e.id = $1`, id).QueryRow(func(row pgx.Row) error {
		return row.Scan(&e.ID, &e.Name, &e.Type, &e.Description, &e.StartsAt, &e.EndsAt, &e.DoorsAt, &e.Timezone, &e.Currency, &e.Status,
			&e.Venue.ID, &e.Venue.Name, &e.Venue.Address, &e.Venue.City, &e.Venue.Region, &e.Venue.Country, &e.Venue.Timezone, &e.Venue.Capacity,
			&e.Venue.MapWidth, &e.Venue.MapHeight, &stage, &e.Venue.StageLabel)
	})
	batch.Queue(`
		SELECT p.id, p.name, p.kind, ep.role, p.bio
		FROM event_performers ep JOIN performers p ON p.id = ep.performer_id
		WHERE ep.event_id = $1
		ORDER BY ep.billing, p.name`, id).Query(func(rows pgx.Rows) error {
		var err error
		e.Performers, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Performer])
		return err
	})
	batch.Queue(`
		SELECT s.id, s.name, s.level, s.position, s.outline
		FROM sections s JOIN events e ON e.venue_id = s.venue_id
		WHERE e.id = $1
		ORDER BY s.position`, id).Query(func(rows pgx.Rows) error {
		var err error
		e.Sections, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Section, error) {
			var s Section
			var outline pgtype.Polygon
			err := row.Scan(&s.ID, &s.Name, &s.Level, &s.Position, &outline)
			s.Outline = points(outline)
			return s, err
		})
		return err
	})
	if err := pool.SendBatch(ctx, batch).Close(); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, notFound(id)
		}
		return nil, fmt.Errorf("find event %d: %w", id, err)
	}
	e.Venue.Stage = points(stage)
	return &e, nil
}

func points(p pgtype.Polygon) []Point {
	out := make([]Point, len(p.P))
	for i, v := range p.P {
		out[i] = Point{v.X, v.Y}
	}
	return out
}

// availability counts an event's tickets per section with a scan of the
// (event, section, status) index that carries price and hold expiry.
func availability(ctx context.Context, pool *pgxpool.Pool, id int64, now time.Time) (*Availability, error) {
	rows, err := pool.Query(ctx, `
		SELECT t.section_id,
		       count(*) FILTER (WHERE `+availableTicket+`)::int,
		       count(*) FILTER (WHERE t.status = 'reserved' AND t.reserved_until > $1)::int,
		       count(*) FILTER (WHERE t.status = 'sold')::int,
		       count(*)::int,
		       coalesce(min(t.price) FILTER (WHERE `+availableTicket+`), min(t.price)),
		       coalesce(max(t.price) FILTER (WHERE `+availableTicket+`), max(t.price))
		FROM tickets t
		WHERE t.event_id = $2
		GROUP BY t.section_id`, now, id)
	if err != nil {
		return nil, fmt.Errorf("availability of event %d: %w", id, err)
	}
	sections, err := pgx.CollectRows(rows, pgx.RowToStructByPos[SectionAvailability])
	if err != nil {
		return nil, fmt.Errorf("availability of event %d: %w", id, err)
	}
	a := &Availability{Sections: make(map[int64]SectionAvailability, len(sections))}
	var minAll, maxAll int64
	for _, s := range sections {
		a.Sections[s.SectionID] = s
		a.Total += s.Total
		a.Available += s.Available
		if minAll == 0 || s.MinPrice < minAll {
			minAll = s.MinPrice
		}
		maxAll = max(maxAll, s.MaxPrice)
		if s.Available == 0 {
			continue
		}
		if a.MinPrice == 0 || s.MinPrice < a.MinPrice {
			a.MinPrice = s.MinPrice
		}
		a.MaxPrice = max(a.MaxPrice, s.MaxPrice)
	}
	if a.Available == 0 { // sold out: show what tickets cost
		a.MinPrice, a.MaxPrice = minAll, maxAll
	}
	return a, nil
}

// seats reads an event's tickets from the index alone and places them with
// the venue's seat positions.
// statusCondition selects tickets that fans see in a status ($1 is now).
var statusCondition = map[string]string{
	"":              "",
	StatusAvailable: " AND " + availableTicket,
	StatusReserved:  " AND t.status = 'reserved' AND t.reserved_until > $1",
	StatusSold:      " AND t.status = 'sold'",
}

func seats(ctx context.Context, pool *pgxpool.Pool, id, sectionID int64, status string, now time.Time, places map[int64]place) ([]Seat, error) {
	query := `SELECT t.id, t.seat_id, t.section_id, t.price, ` + ticketStatus + ` FROM tickets t WHERE t.event_id = $2` + statusCondition[status]
	var rows pgx.Rows
	var err error
	if sectionID == 0 {
		rows, err = pool.Query(ctx, query, now, id)
	} else {
		// A query of its own, so that its plan always uses the section.
		rows, err = pool.Query(ctx, query+` AND t.section_id = $3`, now, id, sectionID)
	}
	if err != nil {
		return nil, fmt.Errorf("seats of event %d: %w", id, err)
	}
	var out []Seat
	var s Seat
	_, err = pgx.ForEachRow(rows, []any{&s.TicketID, &s.SeatID, &s.SectionID, &s.Price, &s.Status}, func() error {
		p, ok := places[s.SeatID]
		if !ok {
			return fmt.Errorf("ticket %d: seat %d is not in the event's venue", s.TicketID, s.SeatID)
		}
		s.Row, s.Number, s.X, s.Y = p.row, p.number, p.x, p.y
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seats of event %d: %w", id, err)
	}
	// Map order: section, then seat (rows front to back, seats along them).
	slices.SortFunc(out, func(a, b Seat) int {
		return cmp.Or(cmp.Compare(a.SectionID, b.SectionID), cmp.Compare(a.SeatID, b.SeatID))
	})
	return out, nil
}

// venuePlaces loads the position of every seat of a venue.
func venuePlaces(ctx context.Context, pool *pgxpool.Pool, venueID int64) (map[int64]place, error) {
	rows, err := pool.Query(ctx, `
		SELECT st.id, st.row_label, st.seat_number, st.x, st.y
		FROM seats st JOIN sections s ON s.id = st.section_id
		WHERE s.venue_id = $1`, venueID)
	if err != nil {
		return nil, fmt.Errorf("seats of venue %d: %w", venueID, err)
	}
	places := map[int64]place{}
	var id int64
	var p place
	_, err = pgx.ForEachRow(rows, []any{&id, &p.row, &p.number, &p.x, &p.y}, func() error {
		places[id] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seats of venue %d: %w", venueID, err)
	}
	return places, nil
}
