package booking

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app"
)

// HoldStanding holds quantity places of a standing section of an event.
// Places are tickets without seats: it picks free ones and holds them as
// HoldTickets holds seats (the same locks, limits and waiting room), so
// that two fans can never get the last place twice. A place another fan
// took between the pick and the hold is picked again, a few times.
func (s *Service) HoldStanding(ctx context.Context, userID, eventID, sectionID int64, quantity int) (*Booking, error) {
	if quantity < 1 || quantity > s.cfg.MaxTickets {
		return nil, app.Errorf(app.EINVALID, "Choose from 1 to %d places.", s.cfg.MaxTickets)
	}
	for range 5 {
		// Candidates among the first free places, shuffled, so that fans
		// holding at once seldom pick the same ones.
		rows, err := s.pool.Query(ctx, `
			SELECT id FROM tickets
			WHERE event_id = $1 AND section_id = $2 AND seat_id IS NULL
			  AND (status = 'available' OR status = 'reserved' AND reserved_until <= $3)
			ORDER BY id LIMIT $4`, eventID, sectionID, s.now(), quantity*8)
		if err != nil {
			return nil, fmt.Errorf("pick standing places: %w", err)
		}
		free, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, fmt.Errorf("pick standing places: %w", err)
		}
		if len(free) < quantity {
			return nil, s.standingShort(ctx, eventID, sectionID, len(free))
		}
		rand.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
		b, err := s.HoldTickets(ctx, userID, free[:quantity])
		var taken *UnavailableError
		if !errors.As(err, &taken) {
			return b, err
		}
	}
	return nil, &app.Error{Code: app.ECONFLICT, Reason: "tickets_unavailable",
		Message: "Other fans are taking these places as you ask: try again in a moment."}
}

// standingShort explains why a standing hold found too few places: the
// section is not standing, not this event's, or has only left.
func (s *Service) standingShort(ctx context.Context, eventID, sectionID int64, left int) error {
	var standing bool
	err := s.pool.QueryRow(ctx, `
		SELECT s.kind = 'standing' FROM sections s JOIN events e ON e.venue_id = s.venue_id
		WHERE e.id = $1 AND s.id = $2`, eventID, sectionID).Scan(&standing)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || err == nil && !standing:
		return app.Errorf(app.EINVALID, "Section %d is not a standing section of event %d: choose seats on the map instead.", sectionID, eventID)
	case err != nil:
		return fmt.Errorf("read section %d: %w", sectionID, err)
	case left == 0:
		return &app.Error{Code: app.ECONFLICT, Reason: "sold_out", Message: "This standing area is sold out.", Detail: map[string]any{"left": 0}}
	}
	places := "places are"
	if left == 1 {
		places = "place is"
	}
	return &app.Error{Code: app.ECONFLICT, Reason: "tickets_unavailable",
		Message: fmt.Sprintf("Only %d %s left in this standing area.", left, places), Detail: map[string]any{"left": left}}
}
