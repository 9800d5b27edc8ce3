package event

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/live"
)

// summaryColumns are what listSummaries scans, from events e and venues v.
const summaryColumns = `e.id, e.name, e.type, e.starts_at, e.timezone,
	v.id AS venue_id, v.name AS venue_name, v.city, v.country, e.currency,
	0::bigint AS min_price, 0 AS available, e.status`

// listSummaries lists the events on sale that start after $1 and meet
// cond (which may use $3… for args), soonest first, at most $2.
func listSummaries(ctx context.Context, pool *pgxpool.Pool, now time.Time, limit int, cond string, args ...any) ([]Summary, error) {
	rows, err := pool.Query(ctx, `
		SELECT `+summaryColumns+`
		FROM events e
		JOIN venues v ON v.id = e.venue_id
		WHERE e.starts_at > $1 AND e.status = 'on_sale' AND `+cond+`
		ORDER BY e.starts_at, e.id
		LIMIT $2`, append([]any{now, limit}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByName[Summary])
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return events, nil
}

// countStock gives what is on sale of each event in ids, from the counts
// the tickets' triggers keep (migration 00015): a hold that has run out
// counts once the sweeper has freed it.
func countStock(ctx context.Context, pool *pgxpool.Pool, ids []int64) (map[int64]Stock, error) {
	rows, err := pool.Query(ctx, `
		SELECT event_id, sum(available)::int, coalesce(min(price) FILTER (WHERE available > 0), 0)
		FROM ticket_stock
		WHERE event_id = ANY ($1)
		GROUP BY event_id`, ids)
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
func findEvent(ctx context.Context, pool *pgxpool.Pool, id int64, now time.Time) (*Event, error) {
	batch := &pgx.Batch{}
	var e Event
	var stage pgtype.Polygon
	batch.Queue(`
		SELECT e.id, e.name, e.type, e.description, e.starts_at, e.ends_at, e.doors_at, e.timezone, e.currency, e.status,
		       e.on_sale_at, e.queue,
		       v.id, v.name, v.address, v.city, v.region, v.country, v.timezone, v.capacity,
		       v.map_width, v.map_height, v.stage, v.stage_label
		FROM events e JOIN venues v ON v.id = e.venue_id
		WHERE e.id = $1 AND e.status <> 'draft'`, id).QueryRow(func(row pgx.Row) error {
		return row.Scan(&e.ID, &e.Name, &e.Type, &e.Description, &e.StartsAt, &e.EndsAt, &e.DoorsAt, &e.Timezone, &e.Currency, &e.Status,
			&e.OnSaleAt, &e.Queue,
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
	// The same show's other performances (by name, as organisers give them).
	batch.Queue(`
		SELECT `+summaryColumns+`
		FROM events e JOIN venues v ON v.id = e.venue_id
		WHERE e.name = (SELECT name FROM events WHERE id = $1) AND e.id <> $1
		  AND e.status = 'on_sale' AND e.starts_at > $2
		ORDER BY e.starts_at, e.id
		LIMIT $3`, id, now, MaxOtherDates).Query(func(rows pgx.Rows) error {
		var err error
		e.OtherDates, err = pgx.CollectRows(rows, pgx.RowToStructByName[Summary])
		return err
	})
	batch.Queue(sectionsOf+` WHERE s.venue_id = (SELECT venue_id FROM events WHERE id = $1) ORDER BY s.position`, id).Query(func(rows pgx.Rows) error {
		var err error
		e.Sections, err = collectSections(rows)
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

// MaxOtherDates is how many other performances an event page lists.
const MaxOtherDates = 12

// venueColumns are a venue's, from venues v, in Venue's order.
const venueColumns = `v.id, v.name, v.address, v.city, v.region, v.country, v.timezone, v.capacity,
	v.map_width, v.map_height, v.stage, v.stage_label`

// sectionsOf selects sections s for collectSections.
const sectionsOf = `SELECT s.id, s.name, s.level, s.position, s.outline, s.kind = 'standing', coalesce(s.capacity, 0) FROM sections s`

func collectSections(rows pgx.Rows) ([]Section, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Section, error) {
		var s Section
		var outline pgtype.Polygon
		err := row.Scan(&s.ID, &s.Name, &s.Level, &s.Position, &outline, &s.Standing, &s.Capacity)
		s.Outline = points(outline)
		return s, err
	})
}

// findVenue loads a venue with its sections.
func findVenue(ctx context.Context, pool *pgxpool.Pool, id int64) (*Venue, []Section, error) {
	var v Venue
	var stage pgtype.Polygon
	var sections []Section
	batch := &pgx.Batch{}
	batch.Queue(`SELECT `+venueColumns+` FROM venues v WHERE v.id = $1`, id).QueryRow(func(row pgx.Row) error {
		return row.Scan(&v.ID, &v.Name, &v.Address, &v.City, &v.Region, &v.Country, &v.Timezone, &v.Capacity,
			&v.MapWidth, &v.MapHeight, &stage, &v.StageLabel)
	})
	batch.Queue(sectionsOf+` WHERE s.venue_id = $1 ORDER BY s.position`, id).Query(func(rows pgx.Rows) error {
		var err error
		sections, err = collectSections(rows)
		return err
	})
	if err := pool.SendBatch(ctx, batch).Close(); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, app.Errorf(app.ENOTFOUND, "There is no venue %d.", id)
		}
		return nil, nil, fmt.Errorf("find venue %d: %w", id, err)
	}
	v.Stage = points(stage)
	return &v, sections, nil
}

// findPerformer loads a performer.
func findPerformer(ctx context.Context, pool *pgxpool.Pool, id int64) (*Performer, error) {
	var p Performer
	err := pool.QueryRow(ctx, `SELECT id, name, kind, '', bio FROM performers WHERE id = $1`, id).Scan(&p.ID, &p.Name, &p.Kind, &p.Role, &p.Bio)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "There is no performer %d.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find performer %d: %w", id, err)
	}
	return &p, nil
}

func points(p pgtype.Polygon) []Point {
	out := make([]Point, len(p.P))
	for i, v := range p.P {
		out[i] = Point{v.X, v.Y}
	}
	return out
}

// availabilityOf counts an event's tickets per section at now (Unix ms),
// and says until when the count holds: its version, and the end of the
// next hold to run out (0: none).
func availabilityOf(m *live.Event, now int64) (a *Availability, version, until int64) {
	a = &Availability{Sections: map[int64]SectionAvailability{}}
	var minAll, maxAll, last int64
	m.Read(func(v int64, tickets []live.Ticket) {
		version = v
		// Tickets come a section at a time: count one, then file it.
		for i := 0; i < len(tickets); {
			sec := SectionAvailability{SectionID: tickets[i].SectionID}
			var minAvail, maxAvail, minSec, maxSec int64
			for ; i < len(tickets) && tickets[i].SectionID == sec.SectionID; i++ {
				t := &tickets[i]
				sec.Total++
				if sec.Total == 1 || t.Price < minSec { // a free seat is a price too
					minSec = t.Price
				}
				maxSec = max(maxSec, t.Price)
				if len(a.Prices) == 0 || t.Price != last && !slices.Contains(a.Prices, t.Price) {
					a.Prices = append(a.Prices, t.Price)
				}
				last = t.Price
				switch {
				case t.Held(now):
					sec.Reserved++
					if until == 0 || t.Until() < until {
						until = t.Until()
					}
				case t.Status(now) == StatusSold:
					sec.Sold++
				default:
					sec.Available++
					if minAvail == 0 || t.Price < minAvail {
						minAvail = t.Price
					}
					maxAvail = max(maxAvail, t.Price)
				}
			}
			sec.MinPrice, sec.MaxPrice = minSec, maxSec
			sec.Lowest = minSec
			if sec.Available > 0 {
				sec.MinPrice, sec.MaxPrice = minAvail, maxAvail
				if a.MinPrice == 0 || minAvail < a.MinPrice {
					a.MinPrice = minAvail
				}
				a.MaxPrice = max(a.MaxPrice, maxAvail)
			}
			if minAll == 0 || minSec < minAll {
				minAll = minSec
			}
			maxAll = max(maxAll, maxSec)
			a.Sections[sec.SectionID] = sec
			a.Total += sec.Total
			a.Available += sec.Available
		}
	})
	if a.Available == 0 { // sold out: show what tickets cost
		a.MinPrice, a.MaxPrice = minAll, maxAll
	}
	slices.Sort(a.Prices)
	return a, version, until
}

// seatsOf lists an event's tickets (of sectionID, or all when 0) at now
// (Unix ms), placed with the venue's seat positions, in map order
// (section, then seat: rows front to back, seats along them), with the
// model's version and the end of the next hold among them to run out.
func seatsOf(m *live.Event, sectionID int64, now int64, places map[int64]place) (out []Seat, version, until int64, err error) {
	m.ReadSection(sectionID, func(v int64, tickets []live.Ticket) {
		version = v
		out = make([]Seat, 0, len(tickets))
		for _, t := range tickets {
			if t.Held(now) && (until == 0 || t.Until() < until) {
				until = t.Until()
			}
			if t.SeatID == 0 {
				continue // a standing place: counted, not drawn
			}
			p, ok := places[t.SeatID]
			if !ok {
				err = fmt.Errorf("ticket %d: seat %d is not in the event's venue", t.ID, t.SeatID)
				return
			}
			out = append(out, Seat{TicketID: t.ID, SeatID: t.SeatID, SectionID: t.SectionID, Row: p.row, Number: p.number,
				X: p.x, Y: p.y, Price: t.Price, Status: t.Status(now)})
		}
	})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("seats of event %d: %w", m.ID(), err)
	}
	return out, version, until, nil
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
