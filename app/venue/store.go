package venue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
)

// Service stores venues and their seat maps.
type Service struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewService returns the venue service on pool.
func NewService(pool *pgxpool.Pool, now func() time.Time) *Service {
	return &Service{pool: pool, now: now}
}

// Actor is who manages (audit.Actor).
type Actor = audit.Actor

// Summary is a venue in a list.
type Summary struct {
	ID       int64
	Name     string
	City     string
	Country  string
	Capacity int
	Sections int
	OwnerID  *int64
}

// Create stores a checked seat map as a new venue owned by the actor, all
// of it or nothing, and writes it to the audit log.
func (s *Service) Create(ctx context.Context, by Actor, m *SeatMap) (int64, error) {
	if err := m.Check(); err != nil {
		return 0, err
	}
	var owner *int64
	if by.UserID != 0 {
		owner = &by.UserID
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v := m.Venue
		var stage pgtype.Polygon
		label := "Stage"
		if m.Stage != nil {
			stage, label = polygon(m.Stage.Outline), m.Stage.Label
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO venues (name, address, city, region, country, timezone, capacity, map_width, map_height, stage, stage_label, owner_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			v.Name, v.Address, v.City, v.Region, v.Country, v.Timezone, m.Capacity(), m.Width, m.Height, stage, label, owner).Scan(&id)
		if err != nil {
			return err
		}
		// Sections in order, then every seat in one copy.
		sectionIDs := make([]int64, len(m.Sections))
		for i, sec := range m.Sections {
			var capacity *int
			if sec.Kind == Standing {
				capacity = &sec.Capacity
			}
			if err := tx.QueryRow(ctx, `
				INSERT INTO sections (venue_id, name, level, position, outline, kind, capacity)
				VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
				id, sec.Name, sec.Level, i, polygon(sec.Outline), sec.Kind, capacity).Scan(&sectionIDs[i]); err != nil {
				return err
			}
		}
		var seats [][]any
		for i, sec := range m.Sections {
			for _, r := range sec.Rows {
				for _, st := range r.Seats {
					seats = append(seats, []any{sectionIDs[i], r.Label, st.Number, st.X, st.Y, st.Accessible, st.RestrictedView})
				}
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seats"},
			[]string{"section_id", "row_label", "seat_number", "x", "y", "accessible", "restricted_view"}, pgx.CopyFromRows(seats)); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{UserID: by.UserID, Action: "venue.create", VenueID: id, Subject: v.Name,
			After: map[string]any{"name": v.Name, "city": v.City, "sections": len(m.Sections), "capacity": m.Capacity()}})
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "venues_name_city_key" {
		return 0, &app.Error{Code: app.ECONFLICT, Reason: "venue_exists",
			Message: fmt.Sprintf("There is already a venue called %q in %s: give this one another name.", m.Venue.Name, m.Venue.City)}
	}
	if err != nil {
		return 0, fmt.Errorf("create venue: %w", err)
	}
	return id, nil
}

// SeatMap exports venue id's layout in the file format: importing it
// again gives the same map.
func (s *Service) SeatMap(ctx context.Context, by Actor, id int64) (*SeatMap, error) {
	if err := s.canManage(ctx, by, id); err != nil {
		return nil, err
	}
	m := &SeatMap{Format: Format}
	var stage pgtype.Polygon
	var label string
	err := s.pool.QueryRow(ctx, `
		SELECT name, address, city, region, country, timezone, map_width, map_height, stage, stage_label
		FROM venues WHERE id = $1`, id).Scan(&m.Venue.Name, &m.Venue.Address, &m.Venue.City, &m.Venue.Region,
		&m.Venue.Country, &m.Venue.Timezone, &m.Width, &m.Height, &stage, &label)
	if err != nil {
		return nil, fmt.Errorf("read venue %d: %w", id, err)
	}
	if stage.Valid {
		m.Stage = &Stage{Label: label, Outline: outline(stage)}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT s.id, s.name, s.level, s.kind, coalesce(s.capacity, 0), s.outline
		FROM sections s WHERE s.venue_id = $1 ORDER BY s.position, s.id`, id)
	if err != nil {
		return nil, fmt.Errorf("read venue %d's sections: %w", id, err)
	}
	index := map[int64]int{}
	for rows.Next() {
		var sid int64
		var sec Section
		var o pgtype.Polygon
		if err := rows.Scan(&sid, &sec.Name, &sec.Level, &sec.Kind, &sec.Capacity, &o); err != nil {
			rows.Close()
			return nil, err
		}
		sec.Outline = outline(o)
		index[sid] = len(m.Sections)
		m.Sections = append(m.Sections, sec)
	}
	if rows.Close(); rows.Err() != nil {
		return nil, fmt.Errorf("read venue %d's sections: %w", id, rows.Err())
	}
	// Seats in the order they were stored, rows in the order of their
	// first seat: the order of the file they came from.
	rows, err = s.pool.Query(ctx, `
		SELECT st.section_id, st.row_label, st.seat_number, st.x, st.y, st.accessible, st.restricted_view
		FROM seats st JOIN sections s ON s.id = st.section_id
		WHERE s.venue_id = $1 ORDER BY st.id`, id)
	if err != nil {
		return nil, fmt.Errorf("read venue %d's seats: %w", id, err)
	}
	defer rows.Close()
	rowIndex := map[int64]map[string]int{}
	for rows.Next() {
		var sid int64
		var label string
		var st Seat
		if err := rows.Scan(&sid, &label, &st.Number, &st.X, &st.Y, &st.Accessible, &st.RestrictedView); err != nil {
			return nil, err
		}
		sec := &m.Sections[index[sid]]
		if rowIndex[sid] == nil {
			rowIndex[sid] = map[string]int{}
		}
		i, ok := rowIndex[sid][label]
		if !ok {
			i = len(sec.Rows)
			rowIndex[sid][label] = i
			sec.Rows = append(sec.Rows, Row{Label: label})
		}
		sec.Rows[i].Seats = append(sec.Rows[i].Seats, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read venue %d's seats: %w", id, err)
	}
	return m, nil
}

// List is the venues the actor manages, by name.
func (s *Service) List(ctx context.Context, by Actor) ([]Summary, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT v.id, v.name, v.city, v.country, v.capacity, (SELECT count(*) FROM sections WHERE venue_id = v.id)::int, v.owner_id
		FROM venues v WHERE $1 OR v.owner_id = $2 ORDER BY v.name, v.id`, by.Admin, by.UserID)
	if err != nil {
		return nil, fmt.Errorf("list venues: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Summary, error) {
		var v Summary
		err := r.Scan(&v.ID, &v.Name, &v.City, &v.Country, &v.Capacity, &v.Sections, &v.OwnerID)
		return v, err
	})
}

// canManage tells whether the actor may manage venue id: an admin any, an
// organiser their own. Another's venue is ENOTFOUND, as a missing one is,
// so that nobody learns what others have.
func (s *Service) canManage(ctx context.Context, by Actor, id int64) error {
	var owner *int64
	err := s.pool.QueryRow(ctx, `SELECT owner_id FROM venues WHERE id = $1`, id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !by.Owns(owner) {
		return app.Errorf(app.ENOTFOUND, "You have no venue %d.", id)
	}
	if err != nil {
		return fmt.Errorf("read venue %d: %w", id, err)
	}
	return nil
}

func polygon(o Outline) pgtype.Polygon {
	p := pgtype.Polygon{Valid: len(o) > 0}
	for _, c := range o {
		p.P = append(p.P, pgtype.Vec2{X: c[0], Y: c[1]})
	}
	return p
}

func outline(p pgtype.Polygon) Outline {
	var o Outline
	for _, v := range p.P {
		o = append(o, [2]float64{v.X, v.Y})
	}
	return o
}

// Pool is the database the venues are in, for the audit log's readers.
func (s *Service) Pool() *pgxpool.Pool { return s.pool }
