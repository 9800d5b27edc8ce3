package queue

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// admitterLock is the advisory lock whose holder admits fans.
const admitterLock = 7002

// Run admits fans until ctx ends: it waits to become the admitter (one
// process per database) and then works every Config.Tick. It holds the
// lock on a connection of its own and does its work on it, so that if that
// connection dies, so does its claim, and another process takes over.
func (s *Service) Run(ctx context.Context) {
	var reporter sync.WaitGroup
	reporter.Go(func() { s.report(ctx) }) // every process times its holds for whichever admits
	defer reporter.Wait()
	for ctx.Err() == nil {
		if err := s.lead(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("queue: the admitter stopped; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

// lead takes the admitter's lock if it is free and admits while it holds it.
func (s *Service) lead(ctx context.Context) error {
	pooled, err := s.session.Acquire(ctx)
	if err != nil {
		return err
	}
	var got bool
	if err := pooled.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, admitterLock).Scan(&got); err != nil || !got {
		pooled.Release()
		return err
	}
	// The lock lives as long as the session: the connection that won it
	// is taken from the pool for good, and closed at the end.
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	s.log.Info("queue: this process admits fans")
	tick := time.NewTicker(s.cfg.Tick)
	defer tick.Stop()
	for {
		if err := s.Tick(ctx, conn); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Tick does one round of the admitter's work on every room that needs it:
// draws the places of those who joined before the open, gives places to
// later arrivals in order, and admits at the rate. Each room's round is
// one transaction under its state row's lock, so that two admitters (a
// lost lock, a test) still admit each place once.
func (s *Service) Tick(ctx context.Context, conn *pgx.Conn) error {
	now := s.now()
	rows, err := conn.Query(ctx, `
		SELECT id FROM events
		WHERE queue <> 'off' AND status = 'on_sale' AND starts_at > $1
		  AND (on_sale_at IS NULL OR on_sale_at <= $1
		       OR EXISTS (SELECT 1 FROM queue_entries q WHERE q.event_id = events.id))`, now)
	if err != nil {
		return fmt.Errorf("find rooms: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("find rooms: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	load, err := s.readLoad(ctx, conn, now)
	if err != nil {
		return err
	}
	for _, id := range ids {
		// One room's trouble is that room's: the others go on.
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return s.round(ctx, tx, id, now, load) }); err != nil {
			if conn.IsClosed() || ctx.Err() != nil {
				return fmt.Errorf("event %d's room: %w", id, err)
			}
			s.log.Error("queue: a room's round failed", "event", id, "err", err)
		}
	}
	return nil
}

// round is one room's work at now.
func (s *Service) round(ctx context.Context, tx pgx.Tx, id int64, now time.Time, load Load) error {
	if _, err := tx.Exec(ctx, `INSERT INTO queue_state (event_id, ticked_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, now); err != nil {
		return err
	}
	var onSaleAt, ticked, ratedAt *time.Time
	var mode string
	var drawn, engaged bool
	var placed, admitted int64
	var credit float64
	rate := s.cfg.Rate
	err := tx.QueryRow(ctx, `
		SELECT e.on_sale_at, e.queue, st.drawn, st.engaged, st.placed, st.admitted, st.credit, st.ticked_at,
		       coalesce(st.rate, $2), st.rated_at
		FROM queue_state st JOIN events e ON e.id = st.event_id
		WHERE st.event_id = $1
		FOR UPDATE OF st`, id, rate).Scan(&onSaleAt, &mode, &drawn, &engaged, &placed, &admitted, &credit, &ticked, &rate, &ratedAt)
	if err != nil {
		return err
	}
	if onSaleAt != nil && now.Before(*onSaleAt) {
		// Fans wait for the open, unplaced; they see how many wait with
		// them, counted here rather than at every look.
		_, err := tx.Exec(ctx, `UPDATE queue_state SET joined = (SELECT count(*) FROM queue_entries WHERE event_id = $1), ticked_at = $2
			WHERE event_id = $1`, id, now)
		return err
	}
	if !drawn && onSaleAt != nil {
		// The open: everyone who joined before it, in a random order.
		tag, err := tx.Exec(ctx, `
			UPDATE queue_entries q SET position = $3 + d.n
			FROM (SELECT user_id, row_number() OVER (ORDER BY draw, user_id) AS n
			      FROM queue_entries WHERE event_id = $1 AND position IS NULL AND joined_at < $2) d
			WHERE q.event_id = $1 AND q.user_id = d.user_id`, id, *onSaleAt, placed)
		if err != nil {
			return err
		}
		placed += tag.RowsAffected()
	}
	// Later arrivals, in order, after the last place given (read from the
	// places themselves, so that a place gone meanwhile leaves no clash).
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM queue_entries WHERE event_id = $1`, id).Scan(&placed); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `
		UPDATE queue_entries q SET position = $2 + d.n
		FROM (SELECT user_id, row_number() OVER (ORDER BY arrival) AS n
		      FROM queue_entries WHERE event_id = $1 AND position IS NULL ORDER BY arrival LIMIT 50000) d
		WHERE q.event_id = $1 AND q.user_id = d.user_id`, id, placed)
	if err != nil {
		return err
	}
	placed += tag.RowsAffected()

	// Admit at the rate: what is due since the last round, never saving up
	// more than a second's worth while nobody waits.
	if ticked != nil && onSaleAt != nil && ticked.Before(*onSaleAt) {
		ticked = onSaleAt // nothing is due for the time before the open
	}
	if mode == "auto" {
		rate, ratedAt = s.steer(rate, ratedAt, load, placed > admitted, now)
		if engaged, err = s.rush(ctx, tx, id, now, placed-admitted, engaged, rate, load); err != nil {
			return err
		}
	} else {
		rate, ratedAt = s.cfg.Rate, nil // a fixed rate: a room turned from 'auto' forgets its own
	}
	if ticked != nil && now.After(*ticked) {
		credit += rate / 60 * now.Sub(*ticked).Seconds()
	}
	n := min(int64(math.Floor(credit)), placed-admitted)
	open := mode == "auto" && !engaged
	if open {
		n = placed - admitted // the room is off: let everyone in, owing nothing
	}
	if n > 0 {
		// No more shoppers at once than the cap: a window that ends or a
		// purchase makes room.
		var shopping int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM queue_entries
			WHERE event_id = $1 AND admitted_at IS NOT NULL AND left_at IS NULL AND admitted_until > $2`, id, now).Scan(&shopping); err != nil {
			return err
		}
		n = min(n, max(int64(s.cfg.Shoppers)-shopping, 0))
	}
	if n > 0 {
		if _, err := tx.Exec(ctx, `
			UPDATE queue_entries SET admitted_at = $3, admitted_until = $4
			WHERE event_id = $1 AND position > $2 AND position <= $2 + $5 AND admitted_at IS NULL`,
			id, admitted, now, now.Add(s.cfg.Window), n); err != nil {
			return err
		}
		admitted += n
		if !open {
			credit -= float64(n)
		}
	}
	// Never save up more than a second's worth (while nobody waits, or the
	// shoppers are at their cap), nor owe.
	credit = max(min(credit, max(rate/60, 1)), 0)
	_, err = tx.Exec(ctx, `
		UPDATE queue_state SET drawn = $2, placed = $3, admitted = $4, credit = $5, engaged = $6, ticked_at = $7,
		       rate = $8, rated_at = $9
		WHERE event_id = $1`, id, drawn || onSaleAt != nil, placed, admitted, credit, engaged, now, rate, ratedAt)
	return err
}

// rush tells whether an 'auto' room is on: it engages when more fans
// came than the room would admit in a minute at its rate (those who held
// seats on the event in the last minute and those waiting, such as the
// crowd drawn at an open), or when the hold path is over its budget; it
// lets go once nobody waits, the holds have calmed to half that, and the
// hold path is inside its budget.
func (s *Service) rush(ctx context.Context, tx pgx.Tx, id int64, now time.Time, waiting int64, engaged bool, rate float64, load Load) (bool, error) {
	var fans float64
	if err := tx.QueryRow(ctx, `SELECT count(DISTINCT user_id) FROM bookings WHERE event_id = $1 AND created_at > $2`,
		id, now.Add(-time.Minute)).Scan(&fans); err != nil {
		return engaged, err
	}
	switch {
	case fans+float64(waiting) > rate || load.slow(s.cfg.Budget):
		return true, nil
	case engaged && waiting == 0 && fans < rate/2:
		return false, nil
	}
	return engaged, nil
}
