package event

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The pages search engines are told about (the sitemap): upcoming events
// on sale, and the venues and performers with such an event, whose pages
// list them. Drafts, cancelled and past events are left out.

// Page kinds of the sitemap.
const (
	ListedEvents     = "events"
	ListedVenues     = "venues"
	ListedPerformers = "performers"
)

// Listed is one page of the sitemap: whose (an event's, venue's or
// performer's id) and when what it shows last changed.
type Listed struct {
	ID       int64
	Modified time.Time
}

// ListedCount is how many pages of a kind the sitemap has, and when the
// latest of them changed.
type ListedCount struct {
	Count  int
	Latest time.Time
}

// listedSQL selects id, modified of each kind, for pages that show an
// upcoming event on sale ($1 is now). A venue's or performer's page
// changes when one of its events does.
var listedSQL = map[string]string{
	ListedEvents: `SELECT e.id, e.updated_at AS modified FROM events e
		WHERE e.status = 'on_sale' AND e.starts_at > $1`,
	ListedVenues: `SELECT v.id, greatest(v.created_at, max(e.updated_at)) AS modified
		FROM venues v JOIN events e ON e.venue_id = v.id
		WHERE e.status = 'on_sale' AND e.starts_at > $1
		GROUP BY v.id`,
	ListedPerformers: `SELECT p.id, greatest(p.created_at, max(e.updated_at)) AS modified
		FROM performers p JOIN event_performers ep ON ep.performer_id = p.id JOIN events e ON e.id = ep.event_id
		WHERE e.status = 'on_sale' AND e.starts_at > $1
		GROUP BY p.id`,
}

// ListedCounts counts the sitemap's pages of each kind.
func (s *Service) ListedCounts(ctx context.Context) (map[string]ListedCount, error) {
	out := make(map[string]ListedCount, len(listedSQL))
	batch := &pgx.Batch{}
	for kind, q := range listedSQL {
		batch.Queue(`SELECT count(*)::int, max(modified) FROM (`+q+`) l`, s.now()).QueryRow(func(row pgx.Row) error {
			var c ListedCount
			var latest *time.Time
			if err := row.Scan(&c.Count, &latest); err != nil {
				return err
			}
			if latest != nil {
				c.Latest = *latest
			}
			out[kind] = c
			return nil
		})
	}
	if err := s.read().SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("count sitemap pages: %w", err)
	}
	return out, nil
}

// Listed returns the sitemap's pages of kind, by id, limit of them after
// skipping offset.
func (s *Service) Listed(ctx context.Context, kind string, offset, limit int) ([]Listed, error) {
	q, ok := listedSQL[kind]
	if !ok {
		return nil, fmt.Errorf("sitemap: no page kind %q", kind)
	}
	rows, err := s.read().Query(ctx, q+` ORDER BY 1 LIMIT $2 OFFSET $3`, s.now(), limit, offset)
	if err != nil {
		return nil, fmt.Errorf("list sitemap %s: %w", kind, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Listed])
	if err != nil {
		return nil, fmt.Errorf("list sitemap %s: %w", kind, err)
	}
	return out, nil
}
