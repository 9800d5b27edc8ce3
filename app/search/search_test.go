package search_test

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/live"
	"github.com/boxoffice/boxoffice/app/search"
	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// The demo catalogue is seeded as of seedDay; searches run a day later.
var (
	seedDay = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	now     = seedDay.Add(24 * time.Hour)
)

func demo(t *testing.T) *pgxpool.Pool {
	return dbtest.Shared(t, "demo", func(ctx context.Context, pool *pgxpool.Pool) error {
		_, _, err := seed.Demo(ctx, pool, seedDay)
		return err
	})
}

func service(pool *pgxpool.Pool) *search.Service {
	clock := func() time.Time { return now }
	return search.NewService(pool, event.NewService(pool, live.New(pool, live.Config{}, clock, slog.New(slog.DiscardHandler)), clock), clock)
}

// find runs a search given as URL parameters.
func find(t *testing.T, s *search.Service, params string) *search.Result {
	t.Helper()
	v, err := url.ParseQuery(params)
	if err != nil {
		t.Fatal(err)
	}
	q, err := search.ParseQuery(v)
	if err != nil {
		t.Fatalf("%s: %v", params, err)
	}
	r, err := s.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", params, err)
	}
	return r
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func names(r *search.Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.Name)
	}
	return out
}

func TestSearchWithoutCriteriaListsUpcomingByDate(t *testing.T) {
	t.Parallel()
	pool := demo(t)
	r := find(t, service(pool), "per_page=100")
	if want := count(t, pool, `SELECT count(*) FROM events WHERE starts_at > $1`, now); r.Total != want {
		t.Errorf("total %d, want %d upcoming events", r.Total, want)
	}
	if len(r.Hits) != min(r.Total, 100) {
		t.Errorf("%d hits on a page of 100 with %d in all", len(r.Hits), r.Total)
	}
	for i := 1; i < len(r.Hits); i++ {
		if r.Hits[i].StartsAt.Before(r.Hits[i-1].StartsAt) {
			t.Fatalf("not in date order at %d: %v before %v", i, r.Hits[i-1].StartsAt, r.Hits[i].StartsAt)
		}
	}
	for _, h := range r.Hits {
		if !h.StartsAt.After(now) || len(h.Performers) == 0 || h.VenueName == "" || h.Currency == "" {
			t.Fatalf("hit %+v: past, or missing its line-up, venue or currency", h)
		}
	}
}

func TestSearchFilters(t *testing.T) {
	t.Parallel()
	pool := demo(t)
	s := service(pool)
	for _, c := range []struct {
		name, params string
		want         string // SQL counting the events that must be found ($1 is now)
	}{
		{"keyword, in names and venues", "q=aurora", `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id
			WHERE (e.name LIKE 'Aurora Vale%' OR v.name = 'Teatro Aurora') AND e.starts_at > $1`},
		{"performer", "performer=Iron+Harbor", `SELECT count(*) FROM events e JOIN event_performers ep ON ep.event_id = e.id
			JOIN performers p ON p.id = ep.performer_id WHERE p.name = 'Iron Harbor' AND e.starts_at > $1`},
		{"performer misspelt", "performer=Iron+Harbour", `SELECT count(*) FROM events e JOIN event_performers ep ON ep.event_id = e.id
			JOIN performers p ON p.id = ep.performer_id WHERE p.name = 'Iron Harbor' AND e.starts_at > $1`},
		{"performer misspelt, first and last name", "performer=arora+vail", `SELECT count(*) FROM events e JOIN event_performers ep ON ep.event_id = e.id
			JOIN performers p ON p.id = ep.performer_id WHERE p.name = 'Aurora Vale' AND e.starts_at > $1`},
		{"team", "performer=Manchester+Thunder", `SELECT count(*) FROM events WHERE name LIKE '%Manchester Thunder%' AND starts_at > $1`},
		{"city", "location=Chicago", `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id WHERE v.city = 'Chicago' AND e.starts_at > $1`},
		{"city misspelt", "location=chicgo", `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id WHERE v.city = 'Chicago' AND e.starts_at > $1`},
		{"city with accent typed without", "location=sao+paulo", `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id WHERE v.city = 'São Paulo' AND e.starts_at > $1`},
		{"venue", "location=Estadio+Solaris", `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id WHERE v.name = 'Estadio Solaris' AND e.starts_at > $1`},
		{"type", "type=sports", `SELECT count(*) FROM events WHERE type = 'sports' AND starts_at > $1`},
		{"type and city", "type=family&location=Berlin", `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id
			WHERE e.type = 'family' AND v.city = 'Berlin' AND e.starts_at > $1`},
		{"keyword, type and city", "q=tour&type=concert&location=manchester", `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id
			WHERE e.type = 'concert' AND v.city = 'Manchester' AND e.name ILIKE '%tour%' AND e.starts_at > $1`},
		{"keyword and performer", "q=madrid&performer=aurora+vale", `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id
			WHERE e.name LIKE 'Aurora Vale%' AND v.city = 'Madrid' AND e.starts_at > $1`},
		{"phrase and exclusion", `q="northern+lights"+-madrid`, `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id
			WHERE e.name LIKE 'Aurora Vale%' AND v.city <> 'Madrid' AND e.starts_at > $1`},
		{"accent typed without", "q=volei", `SELECT count(*) FROM events WHERE name LIKE '%Vôlei%' AND starts_at > $1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := count(t, pool, c.want, now)
			if want == 0 {
				t.Fatalf("the demo has no event for %s: fix the test", c.params)
			}
			r := find(t, s, c.params+"&per_page=100")
			if r.Total != want || len(r.Hits) != want {
				t.Errorf("%s: total %d, %d hits; want %d: %v", c.params, r.Total, len(r.Hits), want, names(r))
			}
		})
	}
}

func TestSearchByLocalDate(t *testing.T) {
	t.Parallel()
	pool := demo(t)
	s := service(pool)
	// An evening in Chicago starts after midnight UTC: its date is the local one.
	var id int64
	var local, utc time.Time
	err := pool.QueryRow(context.Background(), `
		SELECT e.id, (e.starts_at AT TIME ZONE e.timezone)::date, (e.starts_at AT TIME ZONE 'UTC')::date
		FROM events e JOIN venues v ON v.id = e.venue_id
		WHERE v.city = 'Chicago' AND e.starts_at > $1
		  AND (e.starts_at AT TIME ZONE e.timezone)::date <> (e.starts_at AT TIME ZONE 'UTC')::date
		ORDER BY e.starts_at LIMIT 1`, now).Scan(&id, &local, &utc)
	if err != nil {
		t.Fatal(err)
	}
	has := func(r *search.Result) bool {
		return slices.ContainsFunc(r.Hits, func(h search.Hit) bool { return h.ID == id })
	}
	day := func(d time.Time) string { return d.Format(time.DateOnly) }
	if r := find(t, s, "location=chicago&from="+day(local)+"&to="+day(local)); !has(r) {
		t.Errorf("event %d not found on its local date %s", id, day(local))
	}
	if r := find(t, s, "location=chicago&from="+day(utc)+"&to="+day(utc)); has(r) {
		t.Errorf("event %d found on its UTC date %s", id, day(utc))
	}
	r := find(t, s, "from=2027-01-01&to=2027-01-31&per_page=100")
	want := count(t, pool, `SELECT count(*) FROM events WHERE (starts_at AT TIME ZONE timezone)::date BETWEEN '2027-01-01' AND '2027-01-31'`)
	if r.Total != want {
		t.Errorf("January 2027: %d events, want %d", r.Total, want)
	}
}

func TestSearchRelevance(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	// Four events that mention "velvet thunder": in the name, in the
	// line-up, in the description, and one that only says "velvet".
	exec(t, pool, `INSERT INTO venues (id, name, address, city, country, timezone, capacity, map_width, map_height)
		VALUES (1, 'Corner Hall', '1 Main St', 'Leeds', 'GB', 'Europe/London', 0, 100, 100)`)
	exec(t, pool, `INSERT INTO performers (id, name, kind, bio) VALUES (1, 'Velvet Thunder', 'band', ''), (2, 'Quiet Owls', 'band', '')`)
	exec(t, pool, `INSERT INTO events (id, venue_id, name, type, description, starts_at, timezone, currency) VALUES
		(1, 1, 'An Evening of Jazz', 'concert', 'Tribute night: the songs of Velvet Thunder.', $1::timestamptz + interval '1 day', 'Europe/London', 'GBP'),
		(2, 1, 'Velvet Thunder Live', 'concert', '', $1::timestamptz + interval '2 days', 'Europe/London', 'GBP'),
		(3, 1, 'Quiet Owls and Friends', 'concert', '', $1::timestamptz + interval '3 days', 'Europe/London', 'GBP'),
		(4, 1, 'Velvet Morning', 'concert', '', $1::timestamptz + interval '4 days', 'Europe/London', 'GBP')`, now)
	exec(t, pool, `INSERT INTO event_performers (event_id, performer_id, role, billing) VALUES (2, 1, 'headliner', 0), (3, 2, 'headliner', 0), (3, 1, 'support', 1)`)
	r := find(t, service(pool), "q=velvet+thunder&verbatim=1")
	if got, want := names(r), []string{"Velvet Thunder Live", "Quiet Owls and Friends", "An Evening of Jazz"}; !slices.Equal(got, want) {
		t.Errorf("relevance order %q, want %q", got, want)
	}
	// Read as a fan means it, the band's name is the band: the events on
	// whose bill it is, not the tribute night.
	r = find(t, service(pool), "q=velvet+thunder")
	if got, want := names(r), []string{"Velvet Thunder Live", "Quiet Owls and Friends"}; !slices.Equal(got, want) || r.Query.Performer != "Velvet Thunder" || r.Asked == nil || r.Asked.Text != "velvet thunder" {
		t.Errorf("velvet thunder understood as performer %q: %q, want %q", r.Query.Performer, got, want)
	}
	// Without keywords, by date.
	if got := names(find(t, service(pool), "location=leeds")); got[0] != "An Evening of Jazz" || len(got) != 4 {
		t.Errorf("without keywords: %q, want date order", got)
	}
}

// Fans' own words, as they type them into the box, and what they must
// find: every event of the type, city or performer their words name, and
// the events a person would expect among the first five.
func TestSearchUnderstandsFans(t *testing.T) {
	t.Parallel()
	pool := demo(t)
	s := service(pool)
	upcoming := func(where string) int {
		return count(t, pool, `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id
			WHERE e.status = 'on_sale' AND e.starts_at > $1 AND `+where, now)
	}
	for _, c := range []struct {
		typed string
		where string   // the events it must find, all of them and only them ("" for not checked)
		top   []string // names that must start some of the first five
		ran   string   // the spelling corrected to, if any
	}{
		{typed: "comedy", where: "e.type = 'comedy'"},
		{typed: "sports", where: "e.type = 'sports'"},
		{typed: "family", where: "e.type = 'family'", top: []string{"Cirque Lumina"}},
		{typed: "theater", where: "e.type = 'theater'", top: []string{"The Glass Orchard"}},
		{typed: "theatre in london", where: "e.type = 'theater' AND v.city = 'London'"},
		{typed: "concert chicago", where: "e.type = 'concert' AND v.city = 'Chicago'"},
		{typed: "london", where: "v.city = 'London'"},
		{typed: "family shows in berlin", where: "e.type = 'family' AND v.city = 'Berlin'", top: []string{"Cirque Lumina", "Frozen Fables on Ice"}},
		{typed: "gigs in tokyo", where: "e.type = 'concert' AND v.city = 'Tokyo'", top: []string{"Yuki Tanabe"}},
		{typed: "Sao Paulo", where: "v.city = 'São Paulo'"},
		{typed: "manchester thunder", where: `e.id IN (SELECT ep.event_id FROM event_performers ep JOIN performers p ON p.id = ep.performer_id
			WHERE p.name = 'Manchester Thunder')`},
		{typed: "comdy", where: "e.type = 'comedy'", ran: "comedy"},
		{typed: "stand up comedy", where: "e.type = 'comedy'"},
		{typed: "kids family shows", where: "e.type = 'family'"},
		{typed: "aurora vale", top: []string{"Aurora Vale"}},
		{typed: "jazz", top: []string{"Kasimir Holt Quartet"}},
		{typed: "glass orchard", top: []string{"The Glass Orchard"}},
		{typed: "musical", top: []string{"Moonlit Avenue: The Musical"}}, // a kind of theatre, searched as a word
		{typed: "on ice", top: []string{"Frozen Fables on Ice"}},
		{typed: "lantern club", where: "v.name = 'The Lantern Club'"},
	} {
		r := find(t, s, "per_page=100&q="+url.QueryEscape(c.typed))
		if r.Ran != c.ran {
			t.Errorf("%q ran as %q, want %q", c.typed, r.Ran, c.ran)
		}
		if r.Total == 0 {
			t.Errorf("%q found nothing", c.typed)
			continue
		}
		if c.where != "" {
			want := dbtest.IDs(t, pool, `SELECT e.id FROM events e JOIN venues v ON v.id = e.venue_id
				WHERE e.status = 'on_sale' AND e.starts_at > $1 AND `+c.where+` ORDER BY e.id`, now)
			var got []int64
			for _, h := range r.Hits {
				got = append(got, h.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) || r.Total != upcoming(c.where) {
				t.Errorf("%q found %d events %v, want %v", c.typed, r.Total, got, want)
			}
		}
		top := names(r)[:min(5, len(r.Hits))]
		for _, name := range c.top {
			if !slices.ContainsFunc(top, func(n string) bool { return strings.HasPrefix(n, name) }) {
				t.Errorf("%q: %q not in the first five %q", c.typed, name, top)
			}
		}
	}
	// Verbatim, the words are only words: no comedy event says "comedy".
	if r := find(t, s, "q=comedy&verbatim=1"); r.Total != 0 || r.Ran != "" {
		t.Errorf("comedy verbatim found %d (ran as %q), want the words as typed", r.Total, r.Ran)
	}
}

// Results sort by date or by the cheapest ticket on sale, and filter by
// what a ticket costs.
func TestSearchSortsAndFiltersByPrice(t *testing.T) {
	t.Parallel()
	pool := dbtest.Shared(t, "sold out", func(ctx context.Context, pool *pgxpool.Pool) error {
		if _, _, err := seed.Demo(ctx, pool, seedDay); err != nil {
			return err
		}
		// A comedy night with nothing left on sale.
		_, err := pool.Exec(ctx, `INSERT INTO events (venue_id, name, type, starts_at, timezone, currency)
			SELECT venue_id, 'Sold Out Night', 'comedy', starts_at + interval '1 day', timezone, currency
			FROM events WHERE type = 'comedy' ORDER BY starts_at LIMIT 1`)
		return err
	})
	s := service(pool)
	soldOut := dbtest.IDs(t, pool, `SELECT id FROM events WHERE name = 'Sold Out Night'`)[0]

	r := find(t, s, "type=comedy&sort=price&per_page=100")
	onSale := slices.IndexFunc(r.Hits, func(h search.Hit) bool { return h.MinPrice == 0 })
	if onSale < 2 || !slices.ContainsFunc(r.Hits[onSale:], func(h search.Hit) bool { return h.ID == soldOut }) {
		t.Fatalf("by price, the sold-out event %d is not among the last: %v", soldOut, names(r))
	}
	for i, h := range r.Hits {
		if i > 0 && (i < onSale && h.MinPrice < r.Hits[i-1].MinPrice || i > onSale && h.MinPrice != 0) {
			t.Errorf("by price, %s (from %d) comes after one from %d", h.Name, h.MinPrice, r.Hits[i-1].MinPrice)
		}
	}
	r = find(t, s, "q=tour&sort=date&per_page=100&verbatim=1")
	if len(r.Hits) < 3 || !slices.IsSortedFunc(r.Hits, func(a, b search.Hit) int { return a.StartsAt.Compare(b.StartsAt) }) {
		t.Errorf("tour by date is not in date order: %v", names(r))
	}

	for _, c := range []struct{ params, where string }{
		{"max_price=3000", "price <= 3000"},
		{"min_price=10000", "price >= 10000"},
		{"min_price=2000&max_price=4000&type=concert", "price BETWEEN 2000 AND 4000 AND e.type = 'concert'"},
	} {
		r := find(t, s, c.params+"&per_page=100")
		want := dbtest.IDs(t, pool, `SELECT DISTINCT e.id FROM events e JOIN tickets t ON t.event_id = e.id
			WHERE e.starts_at > $1 AND t.status = 'available' AND `+c.where+` ORDER BY e.id`, now)
		var got []int64
		for _, h := range r.Hits {
			got = append(got, h.ID)
		}
		slices.Sort(got)
		if len(want) == 0 || !slices.Equal(got, want) || r.Total != len(want) {
			t.Errorf("%s: %d events %v, want %v", c.params, r.Total, got, want)
		}
	}
}

func TestSearchCorrectsSpelling(t *testing.T) {
	t.Parallel()
	s := service(demo(t))
	for _, c := range []struct{ typed, ran, name string }{
		{"aurura", "aurora", "Aurora Vale"},
		{"midnite echoes", "midnight echoes", "The Midnight Echoes"},
		{"iron harbour berlin", "iron harbor berlin", "Iron Harbor"},
		{"cirkue lumina", "cirque lumina", "Cirque Lumina"},
	} {
		r := find(t, s, "per_page=100&q="+url.QueryEscape(c.typed))
		if r.Ran != c.ran {
			t.Errorf("%q ran as %q, want %q", c.typed, r.Ran, c.ran)
		}
		if r.Total == 0 || !strings.HasPrefix(r.Hits[0].Name, c.name) {
			t.Errorf("%q found %q", c.typed, names(r))
		}
	}
	if r := find(t, s, "q=zzzqqq+xylophonic"); r.Total != 0 || r.Ran != "" {
		t.Errorf("gibberish found %d events (ran as %q)", r.Total, r.Ran)
	}
}

func TestSearchPaging(t *testing.T) {
	t.Parallel()
	pool := demo(t)
	s := service(pool)
	all := find(t, s, "per_page=100")
	p1, p2 := find(t, s, "per_page=7"), find(t, s, "per_page=7&page=2")
	if p1.Total != all.Total || p2.Total != all.Total {
		t.Errorf("totals differ between pages: %d, %d, %d", all.Total, p1.Total, p2.Total)
	}
	if got, want := append(names(p1), names(p2)...), names(all)[:14]; !slices.Equal(got, want) {
		t.Errorf("pages 1 and 2 of 7 are %q, want the first 14: %q", got, want)
	}
	last := (all.Total + 6) / 7
	if r := find(t, s, "per_page=7&page="+strconv.Itoa(last)); len(r.Hits) != all.Total-(last-1)*7 {
		t.Errorf("last page has %d hits", len(r.Hits))
	}
	if r := find(t, s, "per_page=7&page="+strconv.Itoa(last+1)); len(r.Hits) != 0 || r.Total != all.Total {
		t.Errorf("past the last page: %d hits, total %d", len(r.Hits), r.Total)
	}
	if p1.Pages() != last {
		t.Errorf("Pages = %d, want %d", p1.Pages(), last)
	}
}

func TestSearchFacets(t *testing.T) {
	t.Parallel()
	pool := demo(t)
	s := service(pool)
	r := find(t, s, "type=concert&location=london")
	for _, f := range r.Types {
		// The type facet ignores the type filter, so every type is offered.
		want := count(t, pool, `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id
			WHERE e.type = $2 AND v.city = 'London' AND e.starts_at > $1`, now, f.Value)
		if f.Count != want {
			t.Errorf("type %s: facet %d, database %d", f.Value, f.Count, want)
		}
	}
	if len(r.Types) != 5 {
		t.Errorf("%d type facets, want all 5", len(r.Types))
	}
	for _, f := range r.Cities {
		want := count(t, pool, `SELECT count(*) FROM events e JOIN venues v ON v.id = e.venue_id
			WHERE v.city = $2 AND e.type = 'concert' AND e.starts_at > $1`, now, f.Value)
		if f.Value != "London" {
			t.Errorf("city facet %s outside the location searched", f.Value)
		}
		if f.Count != want {
			t.Errorf("city %s: facet %d, database %d", f.Value, f.Count, want)
		}
	}
	if len(r.Cities) != 1 {
		t.Errorf("city facets %v, want London alone", r.Cities)
	}
	r = find(t, s, "q=tour")
	for _, f := range r.Cities {
		want := count(t, pool, `SELECT count(*) FROM event_search es WHERE es.city = $2 AND es.starts_at > $1
			AND es.doc @@ websearch_to_tsquery('boxoffice', 'tour')`, now, f.Value)
		if f.Count != want {
			t.Errorf("tour in %s: facet %d, database %d", f.Value, f.Count, want)
		}
	}
	if len(r.Cities) < 3 {
		t.Errorf("city facets for tour: %v", r.Cities)
	}
}

// A search matching more events than a fan can page through estimates its
// total and type counts from a sample, so that it costs no more than a
// narrow one; a type chosen within it that has few events is still exact.
func TestBroadSearchesEstimateTheirCounts(t *testing.T) {
	t.Parallel()
	pool := dbtest.Shared(t, "broad", func(ctx context.Context, pool *pgxpool.Pool) error {
		if _, _, err := seed.Demo(ctx, pool, seedDay); err != nil {
			return err
		}
		// 12,000 more concerts, sports and a few comedy nights across the demo venues.
		_, err := pool.Exec(ctx, `
			WITH v AS (SELECT id, timezone, row_number() OVER (ORDER BY id) - 1 AS i, count(*) OVER () AS n FROM venues)
			INSERT INTO events (venue_id, name, type, starts_at, timezone, currency)
			SELECT v.id, 'Harbour Nights ' || g,
			       CASE WHEN g % 100 = 0 THEN 'comedy' WHEN g % 5 = 0 THEN 'sports' ELSE 'concert' END,
			       $1::timestamptz + make_interval(days => 2 + g % 300, hours => g % 12), v.timezone, 'GBP'
			FROM generate_series(1, 12000) g JOIN v ON v.i = g % v.n`, seedDay)
		return err
	})
	s := service(pool)
	actual := func(where string) int {
		return count(t, pool, `SELECT count(*) FROM event_search es WHERE es.status = 'on_sale' AND es.starts_at > $1 AND `+where, now)
	}
	near := func(what string, got, want int) {
		t.Helper()
		if off := float64(got-want) / float64(want); off < -0.25 || off > 0.25 {
			t.Errorf("%s: estimated %d, database %d", what, got, want)
		}
	}

	r := find(t, s, "")
	if !r.Approximate || !r.FacetsApproximate {
		t.Errorf("all %d upcoming events counted exactly, want an estimate", r.Total)
	}
	near("all upcoming", r.Total, actual("true"))
	if r.Total%100 != 0 {
		t.Errorf("estimate %d claims more precision than a sample has", r.Total)
	}
	if len(r.Hits) != search.DefaultPerPage || r.Pages() != search.MaxOffset/search.DefaultPerPage {
		t.Errorf("%d hits, %d pages", len(r.Hits), r.Pages())
	}
	for _, f := range r.Types {
		if f.Value == "concert" || f.Value == "sports" {
			near(f.Value, f.Count, actual("es.type = '"+f.Value+"'"))
		}
	}

	// Comedy is rare among them: its total and cities are counted.
	r = find(t, s, "q=harbour&type=comedy")
	want := actual("es.type = 'comedy' AND es.doc @@ websearch_to_tsquery('boxoffice', 'harbour')")
	if r.Approximate || r.Total != want || want == 0 {
		t.Errorf("harbour comedy: total %d (approximate %v), database %d", r.Total, r.Approximate, want)
	}
	cities := 0
	for _, f := range r.Cities {
		cities += f.Count
	}
	if cities != want && len(r.Cities) < 12 {
		t.Errorf("harbour comedy cities %v add up to %d, want %d", r.Cities, cities, want)
	}
	for _, f := range r.Types {
		if f.Value == "comedy" && f.Count != want {
			t.Errorf("comedy facet %d, database %d", f.Count, want)
		}
	}

	// A few thousand sports events are estimated too, but the pages end
	// where the events do.
	sports := actual("es.type = 'sports'")
	r = find(t, s, "type=sports")
	if !r.Approximate {
		t.Errorf("%d sports events counted exactly", r.Total)
	}
	near("sports", r.Total, sports)
	last := (sports + search.DefaultPerPage - 1) / search.DefaultPerPage
	r = find(t, s, "type=sports&page="+strconv.Itoa(last-1))
	if !r.More || r.Pages() < last {
		t.Errorf("page %d of sports: more %v, %d pages, want %d", last-1, r.More, r.Pages(), last)
	}
	r = find(t, s, "type=sports&page="+strconv.Itoa(last))
	if r.More || r.Pages() != last || len(r.Hits) != sports-(last-1)*search.DefaultPerPage {
		t.Errorf("last page of sports: more %v, %d pages, %d hits", r.More, r.Pages(), len(r.Hits))
	}

	// Fewer matches than search.CountExactly are counted exactly.
	r = find(t, s, "type=comedy")
	if want := actual("es.type = 'comedy'"); r.Approximate || r.Total != want {
		t.Errorf("comedy: total %d (approximate %v), database %d", r.Total, r.Approximate, want)
	}
}

func TestSearchHostileInput(t *testing.T) {
	t.Parallel()
	pool := demo(t)
	s := service(pool)
	before := count(t, pool, `SELECT count(*) FROM events`)
	for _, in := range []string{`'; DROP TABLE events; --`, `%`, `_`, `\`, `\\'`, `"`, `""`, `-`, `!`, `& | !`, `<script>alert(1)</script>`,
		"🎸🎫", "the", "a\x00b", `(((`, `:*`, strings.Repeat("x ", 100)} {
		for _, param := range []string{"q", "performer", "location"} {
			v := url.Values{param: {in}}
			q, err := search.ParseQuery(v)
			if err != nil {
				continue // refused with a message: fine
			}
			if _, err := s.Search(context.Background(), q); err != nil {
				t.Errorf("%s=%q: %v", param, in, err)
			}
		}
	}
	if after := count(t, pool, `SELECT count(*) FROM events`); after != before {
		t.Errorf("events: %d before, %d after", before, after)
	}
	// Only stop words: treated as no keywords.
	if r := find(t, s, "q=the"); r.Total == 0 {
		t.Error(`q="the" finds nothing; it should list upcoming events`)
	}
}

func TestSearchFollowsEdits(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	if _, _, err := seed.Demo(ctx, pool, seedDay); err != nil {
		t.Fatal(err)
	}
	s := service(pool)
	var id int64
	if err := pool.QueryRow(ctx, `SELECT id FROM events WHERE name = 'The Glass Orchard' ORDER BY starts_at LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	found := func(params string) bool {
		return slices.ContainsFunc(find(t, s, params+"&per_page=100").Hits, func(h search.Hit) bool { return h.ID == id })
	}

	if _, err := pool.Exec(ctx, `UPDATE events SET name = 'The Copper Lighthouse' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if !found("q=copper+lighthouse") || found(`q="glass+orchard"`) {
		t.Error("a renamed event is not found by its new name, or still by its old one")
	}

	exec(t, pool, `INSERT INTO performers (id, name, kind, bio) VALUES (9999, 'Zephyrine Okonkwo', 'artist', '')`)
	exec(t, pool, `INSERT INTO event_performers (event_id, performer_id, role, billing) VALUES ($1, 9999, 'support', 5)`, id)
	if !found("q=zephyrine") || !found("performer=Zephyrine+Okonkwo") {
		t.Error("an event is not found by a performer added to it")
	}
	if _, err := pool.Exec(ctx, `UPDATE performers SET name = 'Zephyrine Adebayo' WHERE id = 9999`); err != nil {
		t.Fatal(err)
	}
	if !found("q=adebayo") || found("q=okonkwo") {
		t.Error("a renamed performer's events do not follow the new name")
	}
	if _, err := pool.Exec(ctx, `DELETE FROM event_performers WHERE performer_id = 9999`); err != nil {
		t.Fatal(err)
	}
	if found("q=adebayo") {
		t.Error("an event is still found by a performer taken off its bill")
	}

	if _, err := pool.Exec(ctx, `UPDATE venues SET name = 'Marlowe Playhouse' WHERE id = (SELECT venue_id FROM events WHERE id = $1)`, id); err != nil {
		t.Fatal(err)
	}
	if !found("q=marlowe+playhouse") || !found("location=marlowe+playhouse") {
		t.Error("an event is not found by its venue's new name")
	}

	// A past event is left out unless from reaches back to it.
	if _, err := pool.Exec(ctx, `UPDATE events SET starts_at = $2::timestamptz - interval '2 days', doors_at = NULL, ends_at = NULL WHERE id = $1`, id, now); err != nil {
		t.Fatal(err)
	}
	if found("q=copper+lighthouse") {
		t.Error("a past event is listed")
	}
	if !found("q=copper+lighthouse&from=" + now.AddDate(0, 0, -7).Format(time.DateOnly)) {
		t.Error("a past event is not found with from before it")
	}
}

// A city new to the catalogue is understood within a minute, without any
// search waiting for the names to load again.
func TestSearchLearnsNewPlaces(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	if _, _, err := seed.Demo(ctx, pool, seedDay); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	clock := now
	tick := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	s := search.NewService(pool, event.NewService(pool, live.New(pool, live.Config{}, tick, slog.New(slog.DiscardHandler)), tick), tick)
	if r := find(t, s, "q=comedy+in+reykjavik"); r.Total != 0 {
		t.Fatalf("comedy in Reykjavik before there is any: %d", r.Total)
	}
	exec(t, pool, `INSERT INTO venues (id, name, address, city, country, timezone, capacity, map_width, map_height)
		VALUES (900, 'Harpa Loft', '1 Austurbakki', 'Reykjavík', 'IS', 'Atlantic/Reykjavik', 0, 100, 100)`)
	exec(t, pool, `INSERT INTO events (venue_id, name, type, starts_at, timezone, currency)
		VALUES (900, 'Northern Laughs', 'comedy', $1::timestamptz + interval '3 days', 'Atlantic/Reykjavik', 'ISK')`, now)
	mu.Lock()
	clock = clock.Add(2 * time.Minute)
	mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := find(t, s, "q=comedy+in+reykjavik")
		if r.Total == 1 && r.Query.Location == "Reykjavík" && r.Query.Type == "comedy" && r.Hits[0].Name == "Northern Laughs" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("comedy in reykjavik: %d found, read as %+v", r.Total, r.Query)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
