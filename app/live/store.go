package live

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// loadTickets reads every ticket of an event with the event's version, in
// one statement and so from one snapshot: the version says exactly which
// changes the tickets include. Map order: section, then seat (standing
// places, which have none, last by id).
func loadTickets(ctx context.Context, pool *pgxpool.Pool, id int64) (int64, []Ticket, error) {
	rows, err := pool.Query(ctx, `
		SELECT coalesce((SELECT version FROM ticket_versions WHERE event_id = $1), 0),
		       t.id, coalesce(t.seat_id, 0), t.section_id, t.price, left(t.status, 1),
		       coalesce((extract(epoch FROM t.reserved_until) * 1000)::bigint, 0)
		FROM tickets t
		WHERE t.event_id = $1
		ORDER BY t.section_id, t.seat_id, t.id`, id)
	if err != nil {
		return 0, nil, fmt.Errorf("load tickets of event %d: %w", id, err)
	}
	var version int64
	var tickets []Ticket
	var t Ticket
	var status string
	_, err = pgx.ForEachRow(rows, []any{&version, &t.ID, &t.SeatID, &t.SectionID, &t.Price, &status, &t.until}, func() error {
		t.status = status[0]
		tickets = append(tickets, t)
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("load tickets of event %d: %w", id, err)
	}
	if len(tickets) == 0 { // no rows, so no version read with them
		if version, err = versionOf(ctx, pool, id); err != nil {
			return 0, nil, err
		}
	}
	return version, tickets, nil
}

// versionOf reads event id's version (0 before its first change).
func versionOf(ctx context.Context, pool *pgxpool.Pool, id int64) (int64, error) {
	var v int64
	err := pool.QueryRow(ctx, `SELECT coalesce((SELECT version FROM ticket_versions WHERE event_id = $1), 0)`, id).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("version of event %d: %w", id, err)
	}
	return v, nil
}

// versionsOf reads the versions of events ids (0 for those never changed).
func versionsOf(ctx context.Context, pool *pgxpool.Pool, ids []int64) (map[int64]int64, error) {
	rows, err := pool.Query(ctx, `SELECT event_id, version FROM ticket_versions WHERE event_id = ANY ($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("versions of events: %w", err)
	}
	out := make(map[int64]int64, len(ids))
	var id, v int64
	_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error {
		out[id] = v
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("versions of events: %w", err)
	}
	return out, nil
}
