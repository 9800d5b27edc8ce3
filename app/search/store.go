package search

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/event"
)

// filter builds a WHERE clause over event_search es with its arguments.
type filter struct {
	args []any
	tsq  string // the keywords as a text search query, when there are some
}

func (f *filter) arg(v any) string {
	f.args = append(f.args, v)
	return "$" + strconv.Itoa(len(f.args))
}

// nameMatches scores how well names in col match what a fan typed ($1),
// both folded: similarity catches a misspelt whole name, word_similarity a
// fragment of one ("aurora" in "Aurora Vale"). It keeps the best: all
// near-exact matches if there are any, else those close to the best.
// The columns are the stored, folded forms (name_folded, city_folded).
func nameMatches(table string, cols ...string) string {
	var score, cand []string
	for _, c := range cols {
		score = append(score, fmt.Sprintf("similarity(%[1]s, typed.f), word_similarity(typed.f, %[1]s)", c))
		cand = append(cand, fmt.Sprintf("%[1]s %% typed.f OR typed.f <%% %[1]s", c))
	}
	return `WITH typed AS MATERIALIZED (SELECT search_fold($1) AS f),
		scored AS (
			SELECT id, greatest(` + strings.Join(score, ", ") + `) AS score
			FROM ` + table + `, typed WHERE ` + strings.Join(cand, " OR ") + `)
		SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM scored
		WHERE score >= greatest(0.45, (SELECT max(score) FROM scored) - 0.1)`
}

var (
	performerMatches = nameMatches("performers", "name_folded")
	venueMatches     = nameMatches("venues", "city_folded", "name_folded")
)

// matches are the performers and venues a query's name filters match.
type matches struct {
	performers, venues []int64
}

// resolveNames finds what q's performer and location filters name.
func resolveNames(ctx context.Context, pool *pgxpool.Pool, q Query) (matches, error) {
	var m matches
	if q.Performer == "" && q.Location == "" {
		return m, nil
	}
	batch := &pgx.Batch{}
	// Candidates must reach keepBest's floor, so let the trigram index
	// prune at it rather than at its looser default (0.3): a batch runs as
	// one transaction, so these settings hold for its queries only.
	batch.Queue(`SELECT set_config('pg_trgm.similarity_threshold', '0.45', true),
		set_config('pg_trgm.word_similarity_threshold', '0.45', true)`)
	if q.Performer != "" {
		batch.Queue(performerMatches, q.Performer).QueryRow(func(row pgx.Row) error { return row.Scan(&m.performers) })
	}
	if q.Location != "" {
		batch.Queue(venueMatches, q.Location).QueryRow(func(row pgx.Row) error { return row.Scan(&m.venues) })
	}
	if err := pool.SendBatch(ctx, batch).Close(); err != nil {
		return m, fmt.Errorf("match names: %w", err)
	}
	return m, nil
}

// where returns the conditions of q over event_search es. Type and
// location conditions are returned apart, for the facets to count without
// them.
func (f *filter) where(q Query, m matches, now time.Time) (base, typ, loc string) {
	conds := []string{"es.status = 'on_sale'"}
	if q.Text != "" {
		f.tsq = "websearch_to_tsquery('boxoffice', " + f.arg(q.Text) + ")"
		// A query of stop words only ("the") has no lexemes: it filters nothing.
		conds = append(conds, "(numnode("+f.tsq+") = 0 OR es.doc @@ "+f.tsq+")")
	}
	if q.From.IsZero() {
		conds = append(conds, "es.starts_at > "+f.arg(now))
	} else {
		conds = append(conds, "es.local_date >= "+f.arg(q.From))
	}
	if !q.To.IsZero() {
		conds = append(conds, "es.local_date <= "+f.arg(q.To))
	}
	if q.Performer != "" {
		conds = append(conds, "es.event_id IN (SELECT ep.event_id FROM event_performers ep WHERE ep.performer_id = ANY ("+f.arg(m.performers)+"))")
	}
	typ, loc = "true", "true"
	if q.Type != "" {
		typ = "es.type = " + f.arg(q.Type)
	}
	if q.Location != "" {
		loc = "es.venue_id = ANY (" + f.arg(m.venues) + ")"
	}
	return strings.Join(conds, " AND "), typ, loc
}

// facetsKey identifies the facets (and total) of a query: all but paging.
type facetsKey struct {
	q Query
}

type facetCounts struct {
	types, cities []Facet
	total         int
}

// pageQuery is the SQL for one page of hits.
func pageQuery(q Query, m matches, now time.Time) (string, []any) {
	f := &filter{}
	base, typ, loc := f.where(q, m, now)
	order := "es.starts_at, es.event_id"
	rank := "0::real"
	if f.tsq != "" {
		// Weights D, C, B, A: the name matters most, then performers, place, description.
		rank = "ts_rank('{0.1, 0.3, 0.6, 1.0}', es.doc, " + f.tsq + ")"
		order = "rank DESC, " + order
	}
	limit, offset := f.arg(q.PerPage), f.arg(q.Offset())
	return `
		WITH page AS (
			SELECT es.event_id, ` + rank + ` AS rank, es.starts_at
			FROM event_search es
			WHERE ` + base + ` AND ` + typ + ` AND ` + loc + `
			ORDER BY ` + order + `
			LIMIT ` + limit + ` OFFSET ` + offset + `
		)
		SELECT e.id, e.name, e.type, e.starts_at, e.timezone, v.id, v.name, v.city, v.country, e.currency,
		       coalesce(pf.names, '{}')
		FROM page
		JOIN events e ON e.id = page.event_id
		JOIN venues v ON v.id = e.venue_id
		LEFT JOIN LATERAL (
			SELECT array_agg(p.name ORDER BY ep.billing, p.name) AS names
			FROM event_performers ep JOIN performers p ON p.id = ep.performer_id
			WHERE ep.event_id = e.id
		) pf ON true
		ORDER BY page.rank DESC, page.starts_at, e.id`, f.args
}

// facetQuery is the SQL that counts both facets in one scan: per type as
// if no type were chosen (so the fan can switch), per city within the
// search.
func facetQuery(q Query, m matches, now time.Time) (string, []any) {
	f := &filter{}
	base, typ, loc := f.where(q, m, now)
	return `
		SELECT es.type, es.city, count(*)::int, count(*) FILTER (WHERE ` + typ + `)::int
		FROM event_search es
		WHERE ` + base + ` AND ` + loc + `
		GROUP BY GROUPING SETS ((es.type), (es.city))`, f.args
}

// Explain returns PostgreSQL's plans for the queries that search q runs,
// so that operators (and the benchmark) can check which indexes it uses.
func (s *Service) Explain(ctx context.Context, q Query) ([]string, error) {
	m, err := resolveNames(ctx, s.pool, q)
	if err != nil {
		return nil, err
	}
	var plans []string
	for _, query := range []func(Query, matches, time.Time) (string, []any){pageQuery, facetQuery} {
		sql, args := query(q, m, s.now())
		rows, err := s.pool.Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			return nil, fmt.Errorf("explain: %w", err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("explain: %w", err)
		}
		plans = append(plans, strings.Join(lines, "\n"))
	}
	return plans, nil
}

// run executes one search: the page of hits, and the facets unless cached.
func (s *Service) run(ctx context.Context, q Query, now time.Time) (*Result, error) {
	r := &Result{Query: q, Hits: []Hit{}}
	m, err := resolveNames(ctx, s.pool, q)
	if err != nil {
		return nil, err
	}
	if (q.Performer != "" && len(m.performers) == 0) || (q.Location != "" && len(m.venues) == 0) {
		r.Types = orderTypes(nil)
		return r, nil // a name that matches nothing: nothing to look up
	}

	batch := &pgx.Batch{}
	pageSQL, pageArgs := pageQuery(q, m, now)
	batch.Queue(pageSQL, pageArgs...).Query(func(rows pgx.Rows) error {
		var h Hit
		_, err := pgx.ForEachRow(rows, []any{&h.ID, &h.Name, &h.Type, &h.StartsAt, &h.Timezone, &h.VenueID, &h.VenueName,
			&h.City, &h.Country, &h.Currency, &h.Performers}, func() error {
			r.Hits = append(r.Hits, h)
			h = Hit{}
			return nil
		})
		return err
	})

	key := facetsKey{q: q}
	key.q.Page, key.q.PerPage = 0, 0
	counts, cached := s.facets.Get(key)
	if !cached {
		facetSQL, facetArgs := facetQuery(q, m, now)
		batch.Queue(facetSQL, facetArgs...).Query(func(rows pgx.Rows) error {
			var typ, city *string
			var byType, byCity int
			_, err := pgx.ForEachRow(rows, []any{&typ, &city, &byType, &byCity}, func() error {
				switch {
				case typ != nil && byType > 0:
					counts.types = append(counts.types, Facet{*typ, byType})
				case city != nil && byCity > 0:
					counts.cities = append(counts.cities, Facet{*city, byCity})
				}
				return nil
			})
			return err
		})
	}
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("search %+v: %w", q, err)
	}
	if !cached {
		counts.types = orderTypes(counts.types)
		slices.SortFunc(counts.cities, func(a, b Facet) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value)) })
		counts.cities = counts.cities[:min(len(counts.cities), 12)]
		for _, t := range counts.types {
			if q.Type == "" || t.Value == q.Type {
				counts.total += t.Count
			}
		}
		s.facets.Put(key, counts)
	}
	r.Types, r.Cities, r.Total = counts.types, counts.cities, counts.total

	ids := make([]int64, len(r.Hits))
	for i, h := range r.Hits {
		ids[i] = h.ID
	}
	stock, err := s.stock.Stock(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range r.Hits {
		st := stock[r.Hits[i].ID]
		r.Hits[i].Available, r.Hits[i].MinPrice = st.Available, st.MinPrice
	}
	return r, nil
}

// orderTypes lists every event type in the usual order, with its count.
func orderTypes(counts []Facet) []Facet {
	out := make([]Facet, 0, len(event.Types))
	for _, t := range event.Types {
		f := Facet{Value: t}
		for _, c := range counts {
			if c.Value == t {
				f.Count = c.Count
			}
		}
		out = append(out, f)
	}
	return out
}

// similarWords returns, for the words in no catalogue name, the closest
// word that is in one, by index in words. Trigrams find candidates fast;
// edit distance picks among them, because a typo is a letter or two off
// ("harbour" is "harbor", not "harbourside").
func similarWords(ctx context.Context, pool *pgxpool.Pool, words []string) (map[int]string, error) {
	rows, err := pool.Query(ctx, `
		SELECT w.i::int, s.word
		FROM unnest($1::text[]) WITH ORDINALITY AS w(input, i)
		CROSS JOIN LATERAL (
			SELECT c.word FROM (
				SELECT sw.word, similarity(sw.word, search_fold(w.input)) AS sim
				FROM search_words sw
				WHERE sw.word % search_fold(w.input)
				ORDER BY sim DESC
				LIMIT 10
			) c
			ORDER BY levenshtein(c.word, search_fold(w.input)), c.sim DESC, c.word
			LIMIT 1
		) s
		WHERE length(w.input) >= 3
		  AND NOT EXISTS (SELECT 1 FROM search_words sw WHERE sw.word = search_fold(w.input))`, words)
	if err != nil {
		return nil, fmt.Errorf("correct spelling: %w", err)
	}
	fixes := map[int]string{}
	var i int
	var word string
	_, err = pgx.ForEachRow(rows, []any{&i, &word}, func() error {
		fixes[i-1] = word
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("correct spelling: %w", err)
	}
	return fixes, nil
}
