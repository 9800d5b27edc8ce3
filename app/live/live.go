// Package live keeps what is left of each event in memory, current from
// PostgreSQL's change feed, for every page and stream that shows
// availability.
//
// Every statement that changes tickets publishes what changed with
// pg_notify in its own transaction (migration 00013), with the event's
// next version. One connection per process listens; each event in use has
// a model of all its tickets, loaded on first use and kept current from
// the notifications. A model reloads from PostgreSQL when it sees a gap in
// versions, when the listener reconnects, and when it has heard nothing
// for Config.Quiet and the database's version differs. PostgreSQL stays
// the only truth for holds and sales: the model only shows them.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Ticket states as fans see them.
const (
	StatusAvailable = "available"
	StatusReserved  = "reserved"
	StatusSold      = "sold"
)

// Config tunes a feed; zero values take the defaults.
type Config struct {
	// Quiet is how long a model may hear nothing before it checks the
	// database's version (default 30 s).
	Quiet time.Duration
	// Idle is how long an unread model without streams stays loaded
	// (default 10 minutes).
	Idle time.Duration
	// MaxTickets bounds the tickets kept in memory across models (default
	// 2,000,000, about 100 MB); past it the least recently read go first.
	MaxTickets int
	// Reads, when set, gives a read replica to load models from (the
	// primary when none is usable): a replica's snapshot is used only when
	// it has every change the primary had when the load began.
	Reads func() *pgxpool.Pool
	// Session, when set, is where the listener connects: LISTEN needs a
	// session of its own, which a transaction-pooling PgBouncer in front
	// of the pool does not give. Nil: the pool's server.
	Session *pgxpool.Pool
}

// Feed is the process's listener and its models.
type Feed struct {
	pool *pgxpool.Pool
	now  func() time.Time
	log  *slog.Logger
	cfg  Config

	mu        sync.Mutex
	models    map[int64]*entry
	hooks     []func(eventID int64)
	resync    chan struct{} // the listener (re)connected
	started   bool
	listening atomic.Bool
}

// entry is a model being loaded or loaded.
type entry struct {
	ready chan struct{} // closed when the first load ends
	event *Event
	err   error
}

// New returns a feed on pool. Run listens; until it does, models are
// loaded and checked against the database but not kept current.
func New(pool *pgxpool.Pool, cfg Config, now func() time.Time, log *slog.Logger) *Feed {
	if cfg.Quiet == 0 {
		cfg.Quiet = 30 * time.Second
	}
	if cfg.Idle == 0 {
		cfg.Idle = 10 * time.Minute
	}
	if cfg.MaxTickets == 0 {
		cfg.MaxTickets = 2_000_000
	}
	return &Feed{pool: pool, now: now, log: log, cfg: cfg, models: map[int64]*entry{}, resync: make(chan struct{}, 1)}
}

// OnChange calls fn with the event of every change heard, loaded or not
// (short caches drop their entry). Call it before Run.
func (f *Feed) OnChange(fn func(eventID int64)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks = append(f.hooks, fn)
}

// Event returns the model of event id, loading it on first use. The event
// must exist (an unknown id is an empty model).
func (f *Feed) Event(ctx context.Context, id int64) (*Event, error) {
	en := f.entry(id, true)
	select {
	case <-en.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if en.err != nil {
		return nil, en.err
	}
	return en.event, nil
}

// Watch is Event for a stream that follows the model: it stays loaded (and
// current) until unwatch is called.
func (f *Feed) Watch(ctx context.Context, id int64) (e *Event, unwatch func(), err error) {
	for {
		if e, err = f.Event(ctx, id); err != nil {
			return nil, nil, err
		}
		f.mu.Lock()
		if en, ok := f.models[id]; ok && en.event == e { // not let go of meanwhile
			unwatch = e.watch()
			f.mu.Unlock()
			return e, unwatch, nil
		}
		f.mu.Unlock()
	}
}

// entry returns event id's entry, marked used; with create it makes and
// starts loading one when there is none (else it may return nil).
func (f *Feed) entry(id int64, create bool) *entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	en, ok := f.models[id]
	if !ok && !create {
		return nil
	}
	if !ok {
		e := newEvent(id)
		e.reload = true // notices heard while it loads wait for the load
		en = &entry{ready: make(chan struct{}), event: e}
		f.models[id] = en
		go f.firstLoad(en)
	}
	en.event.mu.Lock()
	en.event.used = f.now()
	en.event.mu.Unlock()
	return en
}

// firstLoad loads a new model, whoever asked first may have gone since:
// the load is the process's, not that request's.
func (f *Feed) firstLoad(en *entry) {
	defer close(en.ready)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := en.event
	if en.err = f.load(ctx, e); en.err != nil {
		f.mu.Lock()
		delete(f.models, e.id)
		f.mu.Unlock()
		return
	}
	if !e.reloaded() { // what was heard meanwhile left a gap
		f.reloadLater(e)
	}
}

// Loaded returns the model of event id if it is loaded, without loading
// it or waiting for a load.
func (f *Feed) Loaded(id int64) *Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	if en, ok := f.models[id]; ok {
		select {
		case <-en.ready:
			if en.err == nil {
				return en.event
			}
		default:
		}
	}
	return nil
}

// load reads event e's tickets and version and puts them in place: from
// a read replica when it has caught up with the primary's version of the
// event (one small read on the primary), else from the primary.
func (f *Feed) load(ctx context.Context, e *Event) error {
	if f.cfg.Reads != nil {
		if replica := f.cfg.Reads(); replica != f.pool {
			if want, err := versionOf(ctx, f.pool, e.id); err == nil {
				// A replica that does not answer must leave the primary
				// time to.
				rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				version, tickets, err := loadTickets(rctx, replica, e.id)
				cancel()
				if err == nil && version >= want {
					e.replace(version, tickets, f.now())
					return nil
				}
			}
		}
	}
	version, tickets, err := loadTickets(ctx, f.pool, e.id)
	if err != nil {
		return err
	}
	e.replace(version, tickets, f.now())
	return nil
}

// Sync waits until the model of event id (if loaded or loading) has every
// change committed before the call: a process shows its own writes at
// once. It gives up after a second, reloading instead; without a listener
// it reloads at once.
func (f *Feed) Sync(ctx context.Context, id int64) error {
	en := f.entry(id, false)
	if en == nil {
		return nil
	}
	select {
	case <-en.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	if en.err != nil {
		return nil
	}
	e := en.event
	if !f.listening.Load() {
		return f.reload(ctx, e)
	}
	want, err := versionOf(ctx, f.pool, id)
	if err != nil {
		return err
	}
	timeout := time.NewTimer(time.Second)
	defer timeout.Stop()
	for {
		changed := e.Changed()
		if e.Version() >= want {
			return nil
		}
		select {
		case <-changed:
		case <-timeout.C:
			return f.reload(ctx, e)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// reload loads e afresh and applies what was heard meanwhile; a gap left
// by those loads again (at most a few times). One reload of an event runs
// at a time: a caller that finds one running waits for it instead. A
// reload that gives up leaves the model to the quiet check, which reloads
// it if it is behind.
func (f *Feed) reload(ctx context.Context, e *Event) error {
	e.mu.Lock()
	if running := e.reloading; running != nil {
		e.mu.Unlock()
		select {
		case <-running:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	done := make(chan struct{})
	e.reloading, e.reload = done, true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.reloading = nil
		e.mu.Unlock()
		close(done)
	}()
	giveUp := func(err error) error {
		e.mu.Lock()
		e.pending, e.reload, e.heard = nil, false, time.Time{}
		e.mu.Unlock()
		return err
	}
	for range 5 {
		if err := f.load(ctx, e); err != nil {
			return giveUp(err)
		}
		if e.reloaded() {
			return nil
		}
		e.mu.Lock()
		e.reload = true
		e.mu.Unlock()
	}
	return giveUp(errors.New("event keeps changing faster than it reloads"))
}

// reloadLater reloads e in the background (after a gap).
func (f *Feed) reloadLater(e *Event) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := f.reload(ctx, e); err != nil {
			f.log.Warn("live: reload failed", "event", e.id, "err", err)
		}
	}()
}

// heard applies one notification.
func (f *Feed) heard(n notice) {
	f.mu.Lock()
	hooks := f.hooks
	f.mu.Unlock()
	for _, fn := range hooks {
		fn(n.Event)
	}
	f.mu.Lock()
	en, ok := f.models[n.Event]
	f.mu.Unlock()
	if !ok { // not in use here
		return
	}
	// A model still loading keeps the notice until its load is in place.
	if !en.event.apply(n, f.now()) {
		f.reloadLater(en.event)
	}
}

// check compares every model that has heard nothing for a while (all of
// them when everything is true) with the database's versions and reloads
// those behind, and lets go of models nobody reads.
func (f *Feed) check(ctx context.Context, everything bool) error {
	now := f.now()
	f.mu.Lock()
	var quiet []*Event
	total := 0
	for id, en := range f.models {
		select {
		case <-en.ready:
		default:
			continue
		}
		if en.err != nil {
			continue
		}
		e := en.event
		e.mu.RLock()
		idle := e.streams == 0 && now.Sub(e.used) > f.cfg.Idle
		stale := everything || now.Sub(e.heard) > f.cfg.Quiet
		total += len(e.tickets)
		e.mu.RUnlock()
		if idle {
			delete(f.models, id)
			continue
		}
		if stale {
			quiet = append(quiet, e)
		}
	}
	if total > f.cfg.MaxTickets {
		f.evictLocked(total)
	}
	f.mu.Unlock()
	if len(quiet) == 0 {
		return nil
	}
	ids := make([]int64, len(quiet))
	for i, e := range quiet {
		ids[i] = e.id
	}
	versions, err := versionsOf(ctx, f.pool, ids)
	if err != nil {
		return err
	}
	for _, e := range quiet {
		e.mu.Lock()
		behind := e.version != versions[e.id]
		e.heard = now
		e.mu.Unlock()
		if behind {
			if err := f.reload(ctx, e); err != nil {
				return fmt.Errorf("reload event %d: %w", e.id, err)
			}
		}
	}
	return nil
}

// evictLocked drops the least recently read models without streams until
// the tickets kept fit the bound. f.mu is held.
func (f *Feed) evictLocked(total int) {
	for total > f.cfg.MaxTickets {
		var oldest *Event
		var oldestUsed time.Time
		var size int
		for _, en := range f.models {
			select {
			case <-en.ready:
			default:
				continue // still loading
			}
			e := en.event
			e.mu.RLock()
			keep := en.err != nil || e.streams > 0 || e.position == nil
			used, n := e.used, len(e.tickets)
			e.mu.RUnlock()
			if !keep && (oldest == nil || used.Before(oldestUsed)) {
				oldest, oldestUsed, size = e, used, n
			}
		}
		if oldest == nil {
			return
		}
		delete(f.models, oldest.id)
		total -= size
	}
}
