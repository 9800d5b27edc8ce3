package search

import (
	"context"
	"fmt"
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

// nameMatch scores how well a name matches what a fan typed (both folded):
// similarity catches misspellings of the whole name, word_similarity a
// fragment of it ("aurora" in "Aurora Vale").
func nameMatch(col, typed string) string {
	return fmt.Sprintf("greatest(similarity(search_fold(%[1]s), search_fold(%[2]s)), word_similarity(search_fold(%[2]s), search_fold(%[1]s)))", col, typed)
}

// nameCandidates is the indexable condition for nameMatch.
func nameCandidates(col, typed string) string {
	return fmt.Sprintf("(search_fold(%[1]s) %% search_fold(%[2]s) OR search_fold(%[2]s) <%% search_fold(%[1]s))", col, typed)
}

// keepBest keeps the best matches: all near-exact ones if there are any,
// else those close to the best score.
const keepBest = `score >= greatest(0.45, (SELECT max(score) FROM scored) - 0.1)`

// where returns the conditions of q, leaving out the filters named in skip
// (a facet counts as if its own filter were not set).
func (f *filter) where(q Query, now time.Time, skip ...string) string {
	conds := []string{"es.status = 'on_sale'"}
	add := func(name, cond string) {
		if !contains(skip, name) {
			conds = append(conds, cond)
		}
	}
	if q.Text != "" {
		f.tsq = "websearch_to_tsquery('boxoffice', " + f.arg(q.Text) + ")"
		// A query of stop words only ("the") has no lexemes: it filters nothing.
		add("text", "(numnode("+f.tsq+") = 0 OR es.doc @@ "+f.tsq+")")
	}
	if q.From.IsZero() {
		conds = append(conds, "es.starts_at > "+f.arg(now))
	} else {
		conds = append(conds, "es.local_date >= "+f.arg(q.From))
	}
	if !q.To.IsZero() {
		conds = append(conds, "es.local_date <= "+f.arg(q.To))
	}
	if q.Type != "" && !contains(skip, "type") {
		add("type", "es.type = "+f.arg(q.Type))
	}
	if q.Performer != "" {
		p := f.arg(q.Performer)
		add("performer", `es.event_id IN (
			SELECT ep.event_id FROM event_performers ep WHERE ep.performer_id IN (
				WITH scored AS (
					SELECT id, `+nameMatch("name", p)+` AS score
					FROM performers WHERE `+nameCandidates("name", p)+`)
				SELECT id FROM scored WHERE `+keepBest+`))`)
	}
	if q.Location != "" && !contains(skip, "location") {
		l := f.arg(q.Location)
		add("location", `es.venue_id IN (
			WITH scored AS (
				SELECT id, greatest(`+nameMatch("city", l)+`, `+nameMatch("name", l)+`) AS score
				FROM venues WHERE `+nameCandidates("city", l)+` OR `+nameCandidates("name", l)+`)
			SELECT id FROM scored WHERE `+keepBest+`)`)
	}
	return strings.Join(conds, " AND ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// run executes one search: the page of hits and both facets, in one round
// trip.
func run(ctx context.Context, pool *pgxpool.Pool, q Query, now time.Time) (*Result, error) {
	r := &Result{Query: q, Hits: []Hit{}}
	page := &filter{}
	where := page.where(q, now)
	order := "es.starts_at, es.event_id"
	rank := "0::real"
	if page.tsq != "" {
		// Weights D, C, B, A: the name matters most, then performers, place, description.
		rank = "ts_rank_cd('{0.1, 0.3, 0.6, 1.0}', es.doc, " + page.tsq + ")"
		order = "rank DESC, " + order
	}
	nowArg, limit, offset := page.arg(now), page.arg(q.PerPage), page.arg(q.Offset())

	batch := &pgx.Batch{}
	batch.Queue(`
		WITH page AS (
			SELECT es.event_id, `+rank+` AS rank, es.starts_at
			FROM event_search es
			WHERE `+where+`
			ORDER BY `+order+`
			LIMIT `+limit+` OFFSET `+offset+`
		)
		SELECT e.id, e.name, e.type, e.starts_at, e.timezone, v.id, v.name, v.city, v.country, e.currency,
		       coalesce(a.min_price, 0), coalesce(a.available, 0), coalesce(pf.names, '{}')
		FROM page
		JOIN events e ON e.id = page.event_id
		JOIN venues v ON v.id = e.venue_id
		LEFT JOIN LATERAL (
			SELECT min(t.price) AS min_price, count(*)::int AS available
			FROM tickets t
			WHERE t.event_id = e.id AND (t.status = 'available' OR (t.status = 'reserved' AND t.reserved_until <= `+nowArg+`))
		) a ON true
		LEFT JOIN LATERAL (
			SELECT array_agg(p.name ORDER BY ep.billing, p.name) AS names
			FROM event_performers ep JOIN performers p ON p.id = ep.performer_id
			WHERE ep.event_id = e.id
		) pf ON true
		ORDER BY page.rank DESC, page.starts_at, e.id`, page.args...).Query(func(rows pgx.Rows) error {
		var h Hit
		_, err := pgx.ForEachRow(rows, []any{&h.ID, &h.Name, &h.Type, &h.StartsAt, &h.Timezone, &h.VenueID, &h.VenueName,
			&h.City, &h.Country, &h.Currency, &h.MinPrice, &h.Available, &h.Performers}, func() error {
			r.Hits = append(r.Hits, h)
			h = Hit{}
			return nil
		})
		return err
	})
	types := &filter{}
	batch.Queue(`SELECT es.type, count(*)::int FROM event_search es WHERE `+types.where(q, now, "type")+` GROUP BY es.type`,
		types.args...).Query(func(rows pgx.Rows) error {
		var err error
		r.Types, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Facet])
		return err
	})
	cities := &filter{}
	batch.Queue(`SELECT es.city, count(*)::int AS n FROM event_search es WHERE `+cities.where(q, now, "location")+`
		GROUP BY es.city ORDER BY n DESC, es.city LIMIT 12`,
		cities.args...).Query(func(rows pgx.Rows) error {
		var err error
		r.Cities, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Facet])
		return err
	})
	if err := pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("search %+v: %w", q, err)
	}
	r.Types = orderTypes(r.Types)
	for _, t := range r.Types {
		if q.Type == "" || t.Value == q.Type {
			r.Total += t.Count
		}
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
