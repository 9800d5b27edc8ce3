// Package search finds events by keywords, performer, place, dates and
// type: PostgreSQL full-text search over a weighted document per event,
// trigram matching for misspelt names, and facet counts for the filters.
//
// It owns the event_search and search_words tables (kept current by
// triggers, see migration 00005) and reads the catalogue and tickets.
package search

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/cache"
	"github.com/boxoffice/boxoffice/app/event"
)

// Hit is one event found: its card, with the names on the bill.
type Hit struct {
	event.Summary
	Performers []string
}

// Facet is one value of a filter with how many events it would leave.
type Facet struct {
	Value string
	Count int
}

// Result is one page of a search.
type Result struct {
	Query Query
	Total int
	// Approximate says Total is estimated from a sample: past CountExactly
	// matches, and only when the type chosen (if any) has that many.
	Approximate bool
	// FacetsApproximate says the type counts are estimated, so that a
	// type with none in the sample may still have a few events.
	FacetsApproximate bool
	Hits              []Hit
	More              bool    // there are hits after these
	Types             []Facet // per event type, ignoring the type filter
	Cities            []Facet // the cities with most events in the results
	Ran               string  // the keywords actually searched, when Query.Text was corrected
	Asked             *Query  // the query as the fan asked it, when Query is what its words were read as, or Ran corrected it
	Suggest           string  // a corrected spelling worth offering, when nothing matched
}

// Pages is how many pages the results fill, as far as a fan can page. An
// estimated total may be a little off, so then the pages end where the
// hits do.
func (r *Result) Pages() int {
	if r.Query.PerPage == 0 {
		return 0
	}
	n := (min(r.Total, MaxOffset) + r.Query.PerPage - 1) / r.Query.PerPage
	if r.Approximate {
		switch {
		case r.More:
			n = max(n, r.Query.Page+1)
		case len(r.Hits) > 0:
			n = r.Query.Page
		}
		n = min(n, (MaxOffset+r.Query.PerPage-1)/r.Query.PerPage)
	}
	return n
}

// Stock tells what is left of events, for their cards (app/event does).
type Stock interface {
	Stock(ctx context.Context, ids []int64) (map[int64]event.Stock, error)
}

// Service searches events.
type Service struct {
	read   func() *pgxpool.Pool // where searches go (ReadingFrom)
	now    func() time.Time
	stock  Stock
	facets *cache.Cache[facetsKey, facetCounts]
	vocab  *vocabCache
}

// FacetTTL is how long facet counts (and totals) are reused across the
// pages of a search and by other fans asking the same: counting a broad
// search's matches costs far more than finding one page of them.
const FacetTTL = 30 * time.Second

// NewService returns a search service on pool; stock counts what is left
// of the events found; now is the clock.
func NewService(pool *pgxpool.Pool, stock Stock, now func() time.Time) *Service {
	read := func() *pgxpool.Pool { return pool }
	return &Service{read: read, now: now, stock: stock, facets: cache.New[facetsKey, facetCounts](FacetTTL, 5000, now),
		vocab: &vocabCache{read: read, now: now, log: slog.Default()}}
}

// ReadingFrom sends s's searches where read says (a read replica within
// its lag, else the primary).
func (s *Service) ReadingFrom(read func() *pgxpool.Pool) *Service {
	s.read = read
	s.vocab.read = read
	return s
}

// WithLog sends s's warnings (a failed reload of the catalogue's names) to
// log rather than the default logger.
func (s *Service) WithLog(log *slog.Logger) *Service {
	s.vocab.log = log
	return s
}

// SharingNames makes s use the catalogue's names that with has loaded, so
// that a benchmark's fresh services (nothing cached) measure searching,
// not loading names, which a process does once.
func (s *Service) SharingNames(with *Service) *Service {
	s.vocab = with.vocab
	return s
}

// Search runs q. Words of q.Text that name a type, city, venue or
// performer act as that filter (see understand.go) when that finds
// events; Result.Query is then the query run and Result.Asked the fan's. When keywords match nothing it corrects their spelling against
// the names in the catalogue and, if that finds events, returns those,
// saying so in Ran. Verbatim queries are taken as typed.
func (s *Service) Search(ctx context.Context, q Query) (*Result, error) {
	now := s.now()
	vocab, err := s.vocab.get(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.understood(ctx, vocab, q, now)
	if err != nil || r.Total > 0 || q.Text == "" || q.Verbatim {
		return r, err
	}
	corrected, err := correct(ctx, s.read(), vocab, q.Text)
	if err != nil || corrected == "" {
		return r, err
	}
	q2 := q
	q2.Text, q2.Page = corrected, 1
	r2, err := s.understood(ctx, vocab, q2, now)
	if err != nil {
		return nil, err
	}
	if r2.Total == 0 {
		return r, nil
	}
	if q.Page > 1 { // the corrected results start over; offer them instead
		r.Suggest = corrected
		return r, nil
	}
	if r2.Asked == nil {
		r2.Query = q
	}
	r2.Ran, r2.Asked = corrected, &q
	return r2, nil
}

// understood runs q as understood, or as typed when that finds nothing.
func (s *Service) understood(ctx context.Context, vocab *vocabulary, q Query, now time.Time) (*Result, error) {
	if u, ok := vocab.understand(q); ok {
		r, err := s.run(ctx, u, now)
		if err != nil || r.Total > 0 {
			if r != nil {
				r.Asked = &q
			}
			return r, err
		}
	}
	return s.run(ctx, q, now)
}

// words are the parts of a query that spelling correction looks at.
var words = regexp.MustCompile(`[\p{L}\p{N}]+`)

// correct returns text with each word that appears in no name replaced by
// the most similar word that does, or "" when nothing changes. Words the
// vocabulary knows are never corrected: a type or a city is more likely
// what the fan meant than a name that looks like it.
func correct(ctx context.Context, pool *pgxpool.Pool, vocab *vocabulary, text string) (string, error) {
	found := words.FindAllStringIndex(text, 20)
	if len(found) == 0 {
		return "", nil
	}
	list, asked := make([]string, len(found)), make([]string, len(found))
	typos := map[int]string{} // misspelt type words
	for i, f := range found {
		list[i] = text[f[0]:f[1]]
		if vocab.known(list[i]) {
			continue // an empty word is too short to correct
		}
		if t := closeType(list[i]); t != "" {
			typos[i] = t
		} else {
			asked[i] = list[i]
		}
	}
	fixes, err := similarWords(ctx, pool, asked)
	if err != nil {
		return "", err
	}
	if len(typos) > 0 {
		// A word in some name is meant as typed ("james" is not "games").
		named, err := catalogueWords(ctx, pool, list)
		if err != nil {
			return "", err
		}
		for i, t := range typos {
			if !named[i] {
				fixes[i] = t
			}
		}
	}
	if len(fixes) == 0 {
		return "", nil
	}
	var b strings.Builder
	last := 0
	for i, f := range found {
		b.WriteString(text[last:f[0]])
		if fix, ok := fixes[i]; ok {
			b.WriteString(fix)
		} else {
			b.WriteString(list[i])
		}
		last = f[1]
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// catalogueWords tells which of words appear in some name, by index.
func catalogueWords(ctx context.Context, pool *pgxpool.Pool, words []string) (map[int]bool, error) {
	rows, err := pool.Query(ctx, `
		SELECT w.i::int FROM unnest($1::text[]) WITH ORDINALITY AS w(input, i)
		WHERE EXISTS (SELECT 1 FROM search_words sw WHERE sw.word = search_fold(w.input))`, words)
	if err != nil {
		return nil, fmt.Errorf("look up words: %w", err)
	}
	named := map[int]bool{}
	var i int
	if _, err := pgx.ForEachRow(rows, []any{&i}, func() error { named[i-1] = true; return nil }); err != nil {
		return nil, fmt.Errorf("look up words: %w", err)
	}
	return named, nil
}
