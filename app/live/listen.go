package live

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is the PostgreSQL notification channel of the feed.
const Channel = "ticket_changes"

// ListenerName is the listener connection's application_name, as
// pg_stat_activity shows it.
const ListenerName = "boxoffice live"

// notice is one notification: the tickets of event that changed when its
// version became Version.
type notice struct {
	Event   int64
	Version int64
	Tickets []noticeTicket
}

type noticeTicket struct {
	ID     int64
	Status byte
	Until  int64
}

// parseNotice reads a payload {"e":…,"v":…,"t":[[id,"a|r|s",until_ms]…]}.
func parseNotice(payload string) (notice, error) {
	var raw struct {
		E int64
		V int64
		T [][3]json.RawMessage
	}
	if err := json.Unmarshal([]byte(payload), &raw); err != nil {
		return notice{}, fmt.Errorf("read notification %.60q: %w", payload, err)
	}
	n := notice{Event: raw.E, Version: raw.V, Tickets: make([]noticeTicket, len(raw.T))}
	for i, t := range raw.T {
		var status string
		if err := json.Unmarshal(t[0], &n.Tickets[i].ID); err != nil {
			return notice{}, fmt.Errorf("read notification: ticket id: %w", err)
		}
		if err := json.Unmarshal(t[1], &status); err != nil || len(status) != 1 {
			return notice{}, fmt.Errorf("read notification: status %s", t[1])
		}
		if err := json.Unmarshal(t[2], &n.Tickets[i].Until); err != nil {
			return notice{}, fmt.Errorf("read notification: hold end: %w", err)
		}
		n.Tickets[i].Status = status[0]
	}
	return n, nil
}

// Run listens for changes until ctx ends, reconnecting when the
// connection drops; after each (re)connection every model is checked
// against the database, since changes may have been missed. Every Quiet/2
// it checks the models that heard nothing.
func (f *Feed) Run(ctx context.Context) {
	f.mu.Lock()
	if f.started {
		f.mu.Unlock()
		return
	}
	f.started = true
	f.mu.Unlock()

	var checker sync.WaitGroup
	checker.Go(func() { f.checkEvery(ctx) })
	defer checker.Wait()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := f.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = 100 * time.Millisecond
		}
		f.log.Warn("live: change feed lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listen holds one connection that listens, until it fails or ctx ends.
// connected reports whether it got as far as listening.
func (f *Feed) listen(ctx context.Context) (connected bool, err error) {
	from := f.pool
	if f.cfg.Session != nil {
		from = f.cfg.Session
	}
	cfg := from.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return false, err
	}
	f.listening.Store(true)
	defer f.listening.Store(false)
	select { // what was missed while not listening is checked now
	case f.resync <- struct{}{}:
	default:
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		ch, err := parseNotice(n.Payload)
		if err != nil {
			f.log.Error("live: unreadable notification", "err", err)
			continue
		}
		f.heard(ch)
	}
}

// checkEvery runs check on schedule and after each (re)connection.
func (f *Feed) checkEvery(ctx context.Context) {
	tick := time.NewTicker(f.cfg.Quiet / 2)
	defer tick.Stop()
	for {
		everything := false
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-f.resync:
			everything = true
		}
		if err := f.check(ctx, everything); err != nil && ctx.Err() == nil {
			f.log.Warn("live: checking models failed", "err", err)
		}
	}
}
