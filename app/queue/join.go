package queue

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/boxoffice/boxoffice/app"
)

// Joins that arrive together go into the room together: whoever finds
// no batch being written writes the pending joins itself, as one insert
// and one read of the places (one round trip and one commit for up to
// joinBatch fans), and hands each fan their row. A flood of fans at an
// open thus costs a few hundred statements, not one each; a lone fan
// waits for nobody.
const (
	joinBatch   = 500
	joinWriters = 4 // batches written at once, each on its own connection
)

type joins struct {
	mu      sync.Mutex
	pending []*joinReq
	writers int
}

type joinReq struct {
	eventID, userID int64
	at              time.Time
	done            chan joinResult // buffered: the writer never waits on it
}

type joinResult struct {
	row placeRow
	err error
}

// Join puts fan userID in event id's room and returns their place. Joining
// again returns the same place, unless the last one is over (the window
// ended, or they bought): then they go to the back of the line.
func (s *Service) Join(ctx context.Context, id, userID int64) (*Place, error) {
	req := &joinReq{eventID: id, userID: userID, at: s.now(), done: make(chan joinResult, 1)}
	s.joins.mu.Lock()
	s.joins.pending = append(s.joins.pending, req)
	write := s.joins.writers < joinWriters
	if write {
		s.joins.writers++
	}
	s.joins.mu.Unlock()
	if write {
		// The batches are everyone's: one fan giving up must not fail them.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		s.writeJoins(wctx)
		cancel()
	}
	var res joinResult
	select {
	case res = <-req.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	err := res.err
	if err == nil && !res.row.selling || app.ErrorCode(err) == app.ENOTFOUND {
		// Refused: say why (no such event, not on sale, no room, not open yet).
		if err := s.roomOf(ctx, id); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, fmt.Errorf("join event %d's room: %w", id, err)
	}
	return s.place(ctx, &res.row, id, s.now())
}

// writeJoins writes batches of pending joins until none are left.
func (s *Service) writeJoins(ctx context.Context) {
	for {
		s.joins.mu.Lock()
		n := min(len(s.joins.pending), joinBatch)
		if n == 0 {
			s.joins.writers--
			s.joins.mu.Unlock()
			return
		}
		batch := s.joins.pending[:n:n]
		s.joins.pending = s.joins.pending[n:]
		s.joins.mu.Unlock()
		t0 := time.Now()
		s.writeBatch(ctx, batch)
		if os.Getenv("JOINDEBUG") != "" {
			fmt.Fprintln(os.Stderr, "batch", len(batch), time.Since(t0))
		}
	}
}

// writeBatch inserts a batch of joins and reads their places back.
func (s *Service) writeBatch(ctx context.Context, batch []*joinReq) {
	var events, users []int64
	var ats []time.Time
	seen := map[key]bool{} // one fan twice in a batch (two tabs): one row, one update
	for _, r := range batch {
		if k := (key{r.eventID, r.userID}); !seen[k] {
			seen[k] = true
			events, users, ats = append(events, r.eventID), append(users, r.userID), append(ats, r.at)
		}
	}
	var b pgx.Batch
	// A random draw for the order at the open; a new arrival number when a
	// fan whose place is over joins again. Only an event selling, with a
	// room, whose room is open takes anyone: roomOf says why not.
	b.Queue(`
		INSERT INTO queue_entries AS q (event_id, user_id, joined_at, draw)
		SELECT e.id, j.user_id, j.at, (random() * 9.2e18)::bigint
		FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS j(event_id, user_id, at)
		JOIN events e ON e.id = j.event_id
		WHERE e.queue <> 'off' AND e.status = 'on_sale' AND e.starts_at > j.at
		  AND (e.on_sale_at IS NULL OR e.on_sale_at <= j.at + make_interval(secs => $4))
		ORDER BY j.event_id, hashint8(j.user_id), j.user_id -- one order for every batch: no two lock each other's rows crosswise
		ON CONFLICT (event_id, user_id) DO UPDATE
		SET joined_at = EXCLUDED.joined_at, draw = EXCLUDED.draw, arrival = nextval('queue_arrivals'),
		    position = NULL, admitted_at = NULL, admitted_until = NULL, left_at = NULL
		WHERE q.left_at IS NOT NULL OR q.admitted_until <= EXCLUDED.joined_at`,
		events, users, ats, s.cfg.OpensBefore.Seconds())
	// The fans' rows, event by event (a batch is nearly always one event):
	// by the primary key, whatever the planner guesses of the arrays.
	byEvent := map[int64][]int64{}
	var order []int64
	for i, e := range events {
		if byEvent[e] == nil {
			order = append(order, e)
		}
		byEvent[e] = append(byEvent[e], users[i])
	}
	for _, e := range order {
		b.Queue(`SELECT q.event_id, q.user_id, `+placeColumns+`
			FROM queue_entries q
			JOIN events e ON e.id = q.event_id
			LEFT JOIN queue_state st ON st.event_id = q.event_id
			WHERE q.event_id = $1 AND q.user_id = ANY($2)`, e, byEvent[e], s.now())
	}
	rows := map[key]placeRow{}
	// Batches written at once lock rows in one order (above); should the
	// database still find a deadlock (a rejoin beside the admitter's
	// round), the batch is simply written again.
	var err error
	for try := 0; try < 3; try++ {
		clear(rows)
		if err = s.sendBatch(ctx, &b, order, rows); !isDeadlock(err) {
			break
		}
	}
	for _, r := range batch {
		res := joinResult{err: err}
		if err == nil {
			row, ok := rows[key{r.eventID, r.userID}]
			res.row = row
			if !ok {
				res.err = errNotInQueue
			}
		}
		r.done <- res
	}
}

type key struct{ event, user int64 }

// sendBatch runs a batch of joins and reads the places it gives.
func (s *Service) sendBatch(ctx context.Context, b *pgx.Batch, order []int64, rows map[key]placeRow) error {
	results := s.pool.SendBatch(ctx, b)
	defer results.Close()
	if _, err := results.Exec(); err != nil {
		return err
	}
	for range order {
		got, err := results.Query()
		if err != nil {
			return err
		}
		for got.Next() {
			var k key
			var r placeRow
			if err := r.scanFrom(got, &k.event, &k.user); err != nil {
				got.Close()
				return err
			}
			rows[k] = r
		}
		if got.Close(); got.Err() != nil {
			return got.Err()
		}
	}
	return nil
}

func isDeadlock(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40P01"
}
