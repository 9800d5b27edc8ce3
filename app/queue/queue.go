// Package queue is the waiting room of hot on-sales (migration 00017).
//
// Fans join an event's room with one row each: joining locks nothing
// another join waits on. One process at a time, the admitter (chosen with
// a PostgreSQL advisory lock held on its own connection, so that another
// takes over when it dies), gives places and admits fans: at the open,
// everyone who joined before it gets a place in a uniformly random order;
// after it, places follow arrival. Fans are admitted at Config.Rate a
// minute, each for a shopping window; booking checks admission in its
// hold transaction. Everything is rows, so a restart loses no place.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
)

// States of a fan's place.
const (
	StateWaiting  = "waiting"
	StateAdmitted = "admitted"
	StateExpired  = "expired" // the window ended, or the fan bought: join again to shop again
)

// Config tunes the room; zero values take the defaults.
type Config struct {
	Rate        float64       // fans admitted per minute per event (default 300); where 'auto' starts
	Window      time.Duration // how long an admitted fan may shop (default 10 minutes)
	OpensBefore time.Duration // how long before the on-sale fans may join (default 30 minutes)
	Tick        time.Duration // how often the admitter works (default 250 ms)
	// Shoppers caps the fans admitted and still shopping (window open, not
	// bought) per event; a window that ends or a purchase lets the next
	// one in. Default: a full window's worth at the rate.
	Shoppers int
	// Budget is the hold path's p99 that rooms in 'auto' admit to (default
	// 100 ms): their rate falls while holds are slower and climbs while
	// they are well inside it.
	Budget time.Duration
}

func (c *Config) defaults() {
	if c.Rate <= 0 {
		c.Rate = 300
	}
	if c.Window <= 0 {
		c.Window = 10 * time.Minute
	}
	if c.OpensBefore <= 0 {
		c.OpensBefore = 30 * time.Minute
	}
	if c.Tick <= 0 {
		c.Tick = 250 * time.Millisecond
	}
	if c.Budget <= 0 {
		c.Budget = 100 * time.Millisecond
	}
	if c.Shoppers <= 0 {
		c.Shoppers = max(int(c.Rate*c.Window.Minutes()), 1)
	}
}

// Place is a fan's place in an event's room, as the API shows it.
type Place struct {
	EventID       int64
	State         string
	Position      int64 // 0 until places are given (at the open, or just after joining)
	Ahead         int64 // fans before this one still waiting
	EstimatedWait time.Duration
	AdmittedUntil *time.Time
	OnSaleAt      *time.Time
	// SeatsLeft is how many seats are on sale now (held ones may come
	// back), so that fans far back can tell when an event has sold out.
	SeatsLeft int
}

// Service joins fans and tells them where they stand.
type Service struct {
	pool    *pgxpool.Pool
	session *pgxpool.Pool // for the admitter's lock (WithSession)
	cfg     Config
	now     func() time.Time
	log     *slog.Logger
	meter   Meter // this process's recent holds
	joins   joins // joins waiting to be written together
}

// New returns the room on pool.
func New(pool *pgxpool.Pool, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	cfg.defaults()
	return &Service{pool: pool, session: pool, cfg: cfg, now: now, log: log}
}

// WithSession makes the admitter take its lock on session, a pool whose
// connections are sessions of their own (not a transaction-pooling
// PgBouncer's): the lock lives as long as the session that took it.
func (s *Service) WithSession(session *pgxpool.Pool) *Service {
	s.session = session
	return s
}

// Config is the room's settings, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// roomOf tells why event id has no room open to join: it does not exist,
// is not on sale, queues nobody, or opens its room later; nil if it is open.
func (s *Service) roomOf(ctx context.Context, id int64) error {
	var mode string
	var onSaleAt *time.Time
	var onSale bool
	now := s.now()
	err := s.pool.QueryRow(ctx, `SELECT queue, on_sale_at, status = 'on_sale' AND starts_at > $2 FROM events WHERE id = $1`, id, now).
		Scan(&mode, &onSaleAt, &onSale)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return app.Errorf(app.ENOTFOUND, "There is no event %d.", id)
	case err != nil:
		return fmt.Errorf("read event %d's room: %w", id, err)
	case !onSale:
		return &app.Error{Code: app.ECONFLICT, Reason: "not_on_sale", Message: "This event is not on sale: it was cancelled or has started."}
	case mode == "off":
		return &app.Error{Code: app.ECONFLICT, Reason: "no_queue", Message: "This event has no waiting room: choose your seats on its page."}
	case onSaleAt != nil && now.Before(onSaleAt.Add(-s.cfg.OpensBefore)):
		opens := onSaleAt.Add(-s.cfg.OpensBefore)
		return &app.Error{Code: app.ECONFLICT, Reason: "queue_not_open",
			Message: "The waiting room opens at " + opens.UTC().Format("15:04 MST on 2 January 2006") + ", " +
				s.cfg.OpensBefore.String() + " before tickets go on sale.",
			Detail: map[string]any{"opens_at": opens.UTC().Format(time.RFC3339)}}
	}
	return nil
}

// placeColumns read a fan's place ($3 is now) from queue_entries q,
// events e and queue_state st, for placeRow.scan.
const placeColumns = `
	q.position, q.arrival, q.admitted_at, q.admitted_until, q.left_at, e.on_sale_at,
	e.status = 'on_sale' AND e.starts_at > $3,
	coalesce(st.placed, 0), coalesce(st.admitted, 0), coalesce(st.drawn, false), coalesce(st.joined, 0), st.rate,
	(SELECT coalesce(sum(available), 0)::int FROM ticket_stock WHERE event_id = q.event_id)`

// placeSQL reads one fan's place: $1 event, $2 fan, $3 now.
const placeSQL = `SELECT ` + placeColumns + `
	FROM queue_entries q
	JOIN events e ON e.id = q.event_id
	LEFT JOIN queue_state st ON st.event_id = q.event_id
	WHERE q.event_id = $1 AND q.user_id = $2`

// Place is where fan userID stands in event id's room: ENOTFOUND when they
// have not joined.
func (s *Service) Place(ctx context.Context, id, userID int64) (*Place, error) {
	now := s.now()
	var r placeRow
	if err := r.scan(s.pool.QueryRow(ctx, placeSQL, id, userID, now), id); err != nil {
		return nil, err
	}
	return s.place(ctx, &r, id, now)
}

// placeRow is placeSQL's row.
type placeRow struct {
	position                  *int64
	admittedAt, until, leftAt *time.Time
	onSaleAt                  *time.Time
	selling, drawn            bool
	arrival, placed, admitted int64
	joined                    int64
	rate                      *float64
	seatsLeft                 int
}

func (r *placeRow) scan(row pgx.Row, id int64) error {
	err := r.scanFrom(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotInQueue
	}
	if err != nil {
		return fmt.Errorf("read a place in event %d's room: %w", id, err)
	}
	return nil
}

// scanFrom scans placeColumns, after the columns that go in first.
func (r *placeRow) scanFrom(row pgx.Row, first ...any) error {
	return row.Scan(append(first, &r.position, &r.arrival, &r.admittedAt, &r.until, &r.leftAt, &r.onSaleAt, &r.selling,
		&r.placed, &r.admitted, &r.drawn, &r.joined, &r.rate, &r.seatsLeft)...)
}

var errNotInQueue = &app.Error{Code: app.ENOTFOUND, Reason: "not_in_queue", Message: "You are not in this event's waiting room: join it first."}

// place makes a fan's Place of their row.
func (s *Service) place(ctx context.Context, r *placeRow, id int64, now time.Time) (*Place, error) {
	p := &Place{EventID: id, AdmittedUntil: r.until, OnSaleAt: r.onSaleAt, SeatsLeft: r.seatsLeft}
	position, admittedAt, leftAt, arrival, placed, admitted := r.position, r.admittedAt, r.leftAt, r.arrival, r.placed, r.admitted
	switch {
	case leftAt != nil || admittedAt != nil && !p.AdmittedUntil.After(now):
		p.State = StateExpired
		return p, nil
	case admittedAt != nil:
		p.State = StateAdmitted
		if position != nil {
			p.Position = *position
		}
		return p, nil
	}
	p.State = StateWaiting
	switch {
	case position != nil:
		p.Position = *position
		p.Ahead = max(*position-admitted-1, 0)
	case p.OnSaleAt != nil && !r.drawn:
		// Before the open nobody has a place yet: everyone who joined by
		// then is drawn at random when it opens. Ahead is the others in
		// the room, as the admitter last counted them (a count per look
		// would cost a flood of joins dearly).
		p.Ahead = max(r.joined-1, 0)
	default:
		// Joined a moment ago: the admitter gives the place within a tick.
		var unplaced int64
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM queue_entries WHERE event_id = $1 AND position IS NULL AND arrival < $2`,
			id, arrival).Scan(&unplaced); err != nil {
			return nil, fmt.Errorf("count a room: %w", err)
		}
		p.Ahead = max(placed-admitted, 0) + unplaced
	}
	perMinute := s.cfg.Rate
	if r.rate != nil {
		perMinute = *r.rate // an 'auto' room's rate of the moment
	}
	p.EstimatedWait = time.Duration(math.Ceil(float64(p.Ahead)/perMinute*60)) * time.Second
	if p.OnSaleAt != nil && p.OnSaleAt.After(now) {
		p.EstimatedWait += p.OnSaleAt.Sub(now).Round(time.Second)
	}
	return p, nil
}
