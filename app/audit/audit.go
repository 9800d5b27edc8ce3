// Package audit is the log of management actions: who did what, when,
// to which venue or event, with the state before and after. An entry is
// written in the transaction of the change it records, so that one never
// stands without the other.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Actor is who manages: the account, and whether it may manage every
// venue and event (an admin) or only its own (an organiser).
type Actor struct {
	UserID int64 // 0: the command line
	Admin  bool
}

// Owns tells whether the actor may manage a thing owned by owner (nil:
// the house's, which only admins manage).
func (a Actor) Owns(owner *int64) bool { return a.Admin || owner != nil && *owner == a.UserID }

// Entry is one action.
type Entry struct {
	At      time.Time
	UserID  int64  // 0: the command line
	By      string // who, as the log shows them (read only)
	Action  string // venue.create, user.role, event.publish, booking.refund, …
	VenueID int64  // 0: none
	EventID int64  // 0: none
	Subject string // the thing, in words: "venue 3", "fan@example.com"
	Before  any    // as JSON; nil: nothing before (a creation)
	After   any    // nil: nothing after (a removal)
}

// Execer is a transaction or a connection to write an entry on.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Write adds e to the log, on tx (the change's own transaction).
func Write(ctx context.Context, tx Execer, e Entry) error {
	before, err := encode(e.Before)
	if err != nil {
		return err
	}
	after, err := encode(e.After)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (user_id, action, venue_id, event_id, subject, before, after)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)`, null(e.UserID), e.Action, null(e.VenueID), null(e.EventID), e.Subject, before, after)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Of lists the latest entries about a venue or an event (one of the ids
// set), newest first.
func Of(ctx context.Context, pool *pgxpool.Pool, venueID, eventID int64, limit int) ([]Entry, error) {
	rows, err := pool.Query(ctx, `
		SELECT a.at, coalesce(a.user_id, 0), coalesce(u.email, 'the command line'), a.action,
		       coalesce(a.venue_id, 0), coalesce(a.event_id, 0), a.subject, a.before, a.after
		FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
		WHERE ($1 <> 0 AND a.venue_id = $1) OR ($2 <> 0 AND a.event_id = $2)
		ORDER BY a.at DESC, a.id DESC LIMIT $3`, venueID, eventID, limit)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		var before, after []byte
		err := r.Scan(&e.At, &e.UserID, &e.By, &e.Action, &e.VenueID, &e.EventID, &e.Subject, &before, &after)
		if err == nil && before != nil {
			e.Before = json.RawMessage(before)
		}
		if err == nil && after != nil {
			e.After = json.RawMessage(after)
		}
		return e, err
	})
}

// encode is v as JSON text (nil for nil), which the insert casts to
// jsonb: text goes through a transaction-pooling PgBouncer with pgx's
// exec mode, where bytes would arrive as bytea.
func encode(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

func null(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
