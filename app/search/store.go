package search

import (
	"cmp"
	"context"
	"fmt"
	"math"
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
	// Cancelled events stay findable, marked, so that a fan looking for
	// one learns what happened; drafts are the organisers' alone.
	conds := []string{"es.status IN ('on_sale', 'cancelled')"}
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
	if q.MinPrice > 0 || q.MaxPrice > 0 {
		maxPrice := q.MaxPrice
		if maxPrice == 0 {
			maxPrice = math.MaxInt64
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM ticket_stock s WHERE s.event_id = es.event_id AND s.available > 0 AND s.price BETWEEN "+
			f.arg(q.MinPrice)+" AND "+f.arg(maxPrice)+")")
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
	types, cities     []Facet
	matches           int  // ignoring the type filter
	total             int  // with it
	approximate       bool // the total is estimated from a sample
	facetsApproximate bool // and so are the type counts
}

// pageQuery is the SQL for one page of hits, in q's order.
func pageQuery(q Query, m matches, now time.Time) (string, []any) {
	f := &filter{}
	base, typ, loc := f.where(q, m, now)
	rank, price := "0::real", "0::bigint"
	if f.tsq != "" && (q.Sort == "" || q.Sort == SortRelevance) {
		// Weights D, C, B, A: the name matters most, then performers, place, description.
		rank = "ts_rank('{0.1, 0.3, 0.6, 1.0}', es.doc, " + f.tsq + ")"
	}
	if q.Sort == SortPrice {
		price = "(SELECT min(s.price) FROM ticket_stock s WHERE s.event_id = es.event_id AND s.available > 0)"
	}
	order := func(t string) string {
		return t + ".rank DESC, " + t + ".price NULLS LAST, " + t + ".starts_at, " + t + ".event_id"
	}
	limit, offset := f.arg(q.PerPage+1), f.arg(q.Offset()) // one more: is there a next page?
	return `
		WITH page AS (
			SELECT * FROM (
				SELECT es.event_id, ` + rank + ` AS rank, ` + price + ` AS price, es.starts_at
				FROM event_search es
				WHERE ` + base + ` AND ` + typ + ` AND ` + loc + `
			) m
			ORDER BY ` + order("m") + `
			LIMIT ` + limit + ` OFFSET ` + offset + `
		)
		SELECT e.id, e.name, e.type, e.starts_at, e.timezone, v.id, v.name, v.city, v.country, e.currency, e.status,
		       coalesce(pf.names, '{}')
		FROM page
		JOIN events e ON e.id = page.event_id
		JOIN venues v ON v.id = e.venue_id
		LEFT JOIN LATERAL (
			SELECT array_agg(p.name ORDER BY ep.billing, p.name) AS names
			FROM event_performers ep JOIN performers p ON p.id = ep.performer_id
			WHERE ep.event_id = e.id
		) pf ON true
		ORDER BY ` + order("page"), f.args
}

// CountExactly is how many matches a search counts one by one. Past it the
// total and the facets are estimated from a sample, so that a broad search
// costs about what a narrow one does.
const CountExactly = 1000

// Samples are taken from the 1,024 buckets of migration 00014: first one
// event in 256, then, if that finds too few, a fraction expected to find at
// least minSample (a standard error of about 8%), at most one in four.
const (
	firstSample = 4
	lastSample  = 256
	minSample   = 150
)

// facetQuery is the SQL that counts both facets in one scan: per type as
// if no type were chosen (so the fan can switch), per city within the
// search. With limit it counts at most that many matches; with sample
// below 1,024 only the events in that many of the 1,024 sample buckets;
// with typed only the events of the type chosen.
func facetQuery(q Query, m matches, now time.Time, limit, sample int, typed bool) (string, []any) {
	f := &filter{}
	base, typ, loc := f.where(q, m, now)
	if typed {
		base += " AND " + typ
	}
	if sample < 1024 {
		base += " AND es.sample < " + f.arg(sample)
	}
	last := ""
	if limit > 0 {
		last = " LIMIT " + f.arg(limit)
	}
	return `
		WITH found AS MATERIALIZED (
			SELECT es.type, es.city FROM event_search es
			WHERE ` + base + ` AND ` + loc + last + `
		)
		SELECT es.type, es.city, count(*)::int, count(*) FILTER (WHERE ` + typ + `)::int
		FROM found es
		GROUP BY GROUPING SETS ((es.type), (es.city))`, f.args
}

// queueFacets adds the facet query to batch, collecting into counts.
func queueFacets(batch *pgx.Batch, counts *facetCounts, sql string, args []any) {
	batch.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		var typ, city *string
		var all, byType int
		_, err := pgx.ForEachRow(rows, []any{&typ, &city, &all, &byType}, func() error {
			switch {
			case typ != nil:
				counts.matches += all
				if all > 0 {
					counts.types = append(counts.types, Facet{*typ, all})
				}
			case city != nil && byType > 0:
				counts.cities = append(counts.cities, Facet{*city, byType})
			}
			return nil
		})
		return err
	})
}

// estimateFacets replaces counts, which stopped at CountExactly, with
// estimates from a sample. A type chosen may still have few enough events
// to count: then its total and cities are exact.
func (s *Service) estimateFacets(ctx context.Context, q Query, m matches, now time.Time) (facetCounts, error) {
	var est, typed facetCounts
	sample := firstSample
	batch := &pgx.Batch{}
	sql, args := facetQuery(q, m, now, 0, sample, false)
	queueFacets(batch, &est, sql, args)
	if q.Type != "" {
		sql, args = facetQuery(q, m, now, CountExactly+1, 1024, true)
		queueFacets(batch, &typed, sql, args)
	}
	if err := s.read().SendBatch(ctx, batch).Close(); err != nil {
		return est, fmt.Errorf("estimate facets %+v: %w", q, err)
	}
	if est.matches < minSample {
		for sample < lastSample && est.matches*sample < minSample*firstSample {
			sample *= 4
		}
		est = facetCounts{}
		batch = &pgx.Batch{}
		sql, args = facetQuery(q, m, now, 0, sample, false)
		queueFacets(batch, &est, sql, args)
		if err := s.read().SendBatch(ctx, batch).Close(); err != nil {
			return est, fmt.Errorf("estimate facets %+v: %w", q, err)
		}
	}
	est.scale(1024/sample, CountExactly+1)
	switch {
	case q.Type == "":
		est.total = est.matches
	case typed.matches > CountExactly:
		est.total = max(est.count(q.Type), CountExactly+1)
	default:
		est.total, est.cities, est.approximate = typed.matches, typed.cities, false
		est.types = slices.DeleteFunc(est.types, func(f Facet) bool { return f.Value == q.Type })
		if typed.matches > 0 {
			est.types = append(est.types, Facet{q.Type, typed.matches})
		}
	}
	return est, nil
}

// count is the matches of type t.
func (c *facetCounts) count(t string) int {
	for _, f := range c.types {
		if f.Value == t {
			return f.Count
		}
	}
	return 0
}

// scale turns counts in a sample of one event in by into estimates, none
// of them claiming more precision than the sample has, and a total of at
// least floor (the matches already counted).
func (c *facetCounts) scale(by, floor int) {
	c.approximate, c.facetsApproximate = true, true
	for _, list := range [][]Facet{c.types, c.cities} {
		for i := range list {
			list[i].Count = roughly(list[i].Count * by)
		}
	}
	c.matches = max(roughly(c.matches*by), floor)
}

// roughly rounds n to two significant figures: 12,345 is 12,000.
func roughly(n int) int {
	unit := 1
	for n/unit >= 100 {
		unit *= 10
	}
	return (n + unit/2) / unit * unit
}

// Explain returns PostgreSQL's plans for the queries that search q runs,
// so that operators (and the benchmark) can check which indexes it uses.
func (s *Service) Explain(ctx context.Context, q Query) ([]string, error) {
	vocab, err := s.vocab.get(ctx)
	if err != nil {
		return nil, err
	}
	if u, ok := vocab.understand(q); ok {
		q = u
	}
	m, err := resolveNames(ctx, s.read(), q)
	if err != nil {
		return nil, err
	}
	var plans []string
	exact := func(q Query, m matches, now time.Time) (string, []any) {
		return facetQuery(q, m, now, CountExactly+1, 1024, false)
	}
	sampled := func(q Query, m matches, now time.Time) (string, []any) {
		return facetQuery(q, m, now, 0, firstSample, false)
	}
	for _, query := range []func(Query, matches, time.Time) (string, []any){pageQuery, exact, sampled} {
		sql, args := query(q, m, s.now())
		rows, err := s.read().Query(ctx, "EXPLAIN "+sql, args...)
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
	m, err := resolveNames(ctx, s.read(), q)
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
			&h.City, &h.Country, &h.Currency, &h.Status, &h.Performers}, func() error {
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
		facetSQL, facetArgs := facetQuery(q, m, now, CountExactly+1, 1024, false)
		queueFacets(batch, &counts, facetSQL, facetArgs)
	}
	if err := s.read().SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("search %+v: %w", q, err)
	}
	if !cached {
		counts.total = counts.matches
		if q.Type != "" {
			counts.total = counts.count(q.Type)
		}
		if counts.matches > CountExactly {
			if counts, err = s.estimateFacets(ctx, q, m, now); err != nil {
				return nil, err
			}
		}
		counts.types = orderTypes(counts.types)
		slices.SortFunc(counts.cities, func(a, b Facet) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value)) })
		counts.cities = counts.cities[:min(len(counts.cities), 12)]
		s.facets.Put(key, counts)
	}
	if len(r.Hits) > q.PerPage {
		r.Hits, r.More = r.Hits[:q.PerPage], true
	}
	r.Types, r.Cities, r.Total = counts.types, counts.cities, counts.total
	r.Approximate, r.FacetsApproximate = counts.approximate, counts.facetsApproximate

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
