package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"
)

// Progress reports how far a synthetic load has come.
type Progress struct {
	Events, Total, Tickets int
}

// syntheticBatch is how many events one transaction loads: large enough for
// COPY to pay off, small enough that a crash loses little and progress moves.
const syntheticBatch = 2000

// Synthetic adds n generated events for benchmarks, in small venues of
// 60 to 250 seats all over the world, with generated performers. Each batch
// of events commits with its performers and tickets, so an interrupted load
// leaves whole events only. progress is called after each batch.
func Synthetic(ctx context.Context, pool *pgxpool.Pool, n int, now time.Time, progress func(Progress)) (Stats, error) {
	var stats Stats
	g, err := newGenerator(ctx, pool, n, now)
	if err != nil {
		return stats, fmt.Errorf("synthetic catalogue: %w", err)
	}
	stats.add(g.base)

	// Two loaders keep PostgreSQL busy while Go builds the next batch.
	var mu sync.Mutex
	done := Progress{Total: n}
	batches := make(chan int)
	eg, loading := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(batches)
		for start := 0; start < n; start += syntheticBatch {
			select {
			case batches <- start:
			case <-loading.Done():
				return loading.Err()
			}
		}
		return nil
	})
	for range 2 {
		eg.Go(func() error {
			for start := range batches {
				c := g.events(start, min(syntheticBatch, n-start))
				if err := pgx.BeginFunc(loading, pool, func(tx pgx.Tx) error { return c.write(loading, tx) }); err != nil {
					return fmt.Errorf("load events %d to %d: %w", start+1, start+len(c.events), err)
				}
				mu.Lock()
				stats.add(c.stats())
				done.Events += len(c.events)
				done.Tickets += len(c.tickets)
				if progress != nil {
					progress(done)
				}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return stats, fmt.Errorf("synthetic catalogue: %w", err)
	}
	return stats, analyze(ctx, pool)
}

// generator builds synthetic events over venues and performers it created
// first. Event i is a pure function of i, so batches can be built in any
// order by any goroutine.
type generator struct {
	venues     []*builtVenue
	performers []synthPerformer
	firstEvent int64
	seed       uint64
	today      time.Time
	base       Stats
}

type synthPerformer struct {
	id         int64
	name, kind string
	genre      string
}

func newGenerator(ctx context.Context, pool *pgxpool.Pool, n int, now time.Time) (*generator, error) {
	g := &generator{today: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		next, err := reserveIDs(ctx, tx, "venues", "sections", "seats", "performers", "events")
		if err != nil {
			return err
		}
		taken, err := existingNames(ctx, tx)
		if err != nil {
			return err
		}
		// A second load gets other names: the seed follows the ids.
		g.seed = uint64(next.performer)
		rng := rand.New(rand.NewPCG(g.seed, 7))
		b := &builder{next: next, rng: rng, venues: map[string]*builtVenue{}, perfID: map[string]int64{}}
		for i := range clampInt(n/50, 20, 5000) {
			g.venues = append(g.venues, b.addVenue(synthVenue(rng, i, taken)))
		}
		for i := range clampInt(n/8, 60, 50000) {
			// The first ten cover every kind, so there are always two teams
			// to play each other.
			r := rng.IntN(100)
			if i < 10 {
				r = i * 10
			}
			p := newSynthPerformer(rng, r, taken)
			g.performers = append(g.performers, synthPerformer{id: b.addPerformer(p.performerSpec), name: p.name, kind: p.kind, genre: p.genre})
		}
		g.firstEvent = b.next.event
		b.next.event += int64(n) // claimed now, loaded batch by batch
		if err := claimIDs(ctx, tx, b.next); err != nil {
			return err
		}
		g.base = b.c.stats()
		return b.c.write(ctx, tx)
	})
	return g, err
}

func existingNames(ctx context.Context, tx pgx.Tx) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `SELECT 'v:' || name || '/' || city FROM venues UNION ALL SELECT 'p:' || name || '/' || kind FROM performers`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	taken := make(map[string]bool, len(names))
	for _, n := range names {
		taken[n] = true
	}
	return taken, nil
}

// unique returns name, or name with a number after it, not yet in taken.
func unique(taken map[string]bool, prefix, name, scope string) string {
	candidate := name
	for i := 2; taken[prefix+candidate+"/"+scope]; i++ {
		candidate = fmt.Sprintf("%s %d", name, i)
	}
	taken[prefix+candidate+"/"+scope] = true
	return candidate
}

type synthCity struct{ name, region, country, timezone, currency string }

var synthCities = []synthCity{
	{"New York", "NY", "US", "America/New_York", "USD"}, {"Los Angeles", "CA", "US", "America/Los_Angeles", "USD"},
	{"Chicago", "IL", "US", "America/Chicago", "USD"}, {"Houston", "TX", "US", "America/Chicago", "USD"},
	{"Phoenix", "AZ", "US", "America/Phoenix", "USD"}, {"Philadelphia", "PA", "US", "America/New_York", "USD"},
	{"San Antonio", "TX", "US", "America/Chicago", "USD"}, {"San Diego", "CA", "US", "America/Los_Angeles", "USD"},
	{"Dallas", "TX", "US", "America/Chicago", "USD"}, {"Austin", "TX", "US", "America/Chicago", "USD"},
	{"Nashville", "TN", "US", "America/Chicago", "USD"}, {"Seattle", "WA", "US", "America/Los_Angeles", "USD"},
	{"Denver", "CO", "US", "America/Denver", "USD"}, {"Boston", "MA", "US", "America/New_York", "USD"},
	{"Atlanta", "GA", "US", "America/New_York", "USD"}, {"Miami", "FL", "US", "America/New_York", "USD"},
	{"New Orleans", "LA", "US", "America/Chicago", "USD"}, {"Minneapolis", "MN", "US", "America/Chicago", "USD"},
	{"Portland", "OR", "US", "America/Los_Angeles", "USD"}, {"Las Vegas", "NV", "US", "America/Los_Angeles", "USD"},
	{"Detroit", "MI", "US", "America/Detroit", "USD"}, {"San Francisco", "CA", "US", "America/Los_Angeles", "USD"},
	{"Toronto", "ON", "CA", "America/Toronto", "CAD"}, {"Montreal", "QC", "CA", "America/Toronto", "CAD"},
	{"Vancouver", "BC", "CA", "America/Vancouver", "CAD"}, {"Calgary", "AB", "CA", "America/Edmonton", "CAD"},
	{"London", "England", "GB", "Europe/London", "GBP"}, {"Manchester", "England", "GB", "Europe/London", "GBP"},
	{"Glasgow", "Scotland", "GB", "Europe/London", "GBP"}, {"Birmingham", "England", "GB", "Europe/London", "GBP"},
	{"Liverpool", "England", "GB", "Europe/London", "GBP"}, {"Dublin", "Leinster", "IE", "Europe/Dublin", "EUR"},
	{"Paris", "Île-de-France", "FR", "Europe/Paris", "EUR"}, {"Lyon", "Auvergne-Rhône-Alpes", "FR", "Europe/Paris", "EUR"},
	{"Marseille", "Provence", "FR", "Europe/Paris", "EUR"}, {"Berlin", "Berlin", "DE", "Europe/Berlin", "EUR"},
	{"Hamburg", "Hamburg", "DE", "Europe/Berlin", "EUR"}, {"Munich", "Bavaria", "DE", "Europe/Berlin", "EUR"},
	{"Cologne", "North Rhine-Westphalia", "DE", "Europe/Berlin", "EUR"}, {"Amsterdam", "North Holland", "NL", "Europe/Amsterdam", "EUR"},
	{"Rotterdam", "South Holland", "NL", "Europe/Amsterdam", "EUR"}, {"Brussels", "Brussels", "BE", "Europe/Brussels", "EUR"},
	{"Madrid", "Madrid", "ES", "Europe/Madrid", "EUR"}, {"Barcelona", "Catalonia", "ES", "Europe/Madrid", "EUR"},
	{"Valencia", "Valencia", "ES", "Europe/Madrid", "EUR"}, {"Lisbon", "Lisbon", "PT", "Europe/Lisbon", "EUR"},
	{"Porto", "Porto", "PT", "Europe/Lisbon", "EUR"}, {"Rome", "Lazio", "IT", "Europe/Rome", "EUR"},
	{"Milan", "Lombardy", "IT", "Europe/Rome", "EUR"}, {"Naples", "Campania", "IT", "Europe/Rome", "EUR"},
	{"Vienna", "Vienna", "AT", "Europe/Vienna", "EUR"}, {"Stockholm", "Stockholm", "SE", "Europe/Stockholm", "EUR"},
	{"Copenhagen", "Capital Region", "DK", "Europe/Copenhagen", "EUR"}, {"Oslo", "Oslo", "NO", "Europe/Oslo", "EUR"},
	{"Helsinki", "Uusimaa", "FI", "Europe/Helsinki", "EUR"}, {"Prague", "Prague", "CZ", "Europe/Prague", "EUR"},
	{"Warsaw", "Masovia", "PL", "Europe/Warsaw", "EUR"}, {"Zürich", "Zürich", "CH", "Europe/Zurich", "EUR"},
	{"Sydney", "NSW", "AU", "Australia/Sydney", "AUD"}, {"Melbourne", "VIC", "AU", "Australia/Melbourne", "AUD"},
	{"Brisbane", "QLD", "AU", "Australia/Brisbane", "AUD"}, {"Perth", "WA", "AU", "Australia/Perth", "AUD"},
	{"Tokyo", "Tokyo", "JP", "Asia/Tokyo", "JPY"}, {"Osaka", "Osaka", "JP", "Asia/Tokyo", "JPY"},
	{"Mexico City", "CDMX", "MX", "America/Mexico_City", "MXN"}, {"Guadalajara", "Jalisco", "MX", "America/Mexico_City", "MXN"},
	{"São Paulo", "SP", "BR", "America/Sao_Paulo", "BRL"}, {"Rio de Janeiro", "RJ", "BR", "America/Sao_Paulo", "BRL"},
}

var (
	venueWords  = []string{"Lantern", "Velvet", "Copper", "Echo", "Harbor", "Union", "Orpheum", "Majestic", "Paradise", "Roxy", "Empire", "Bluebird", "Foundry", "Granary", "Mercury", "Starlight", "Riverside", "Electric", "Crown", "Gaslight"}
	venueKinds  = []string{"Hall", "Theatre", "Room", "Club", "Ballroom", "Music Hall", "Playhouse", "Lounge", "Opera House", "Social Club"}
	adjectives  = []string{"Midnight", "Electric", "Silver", "Wild", "Golden", "Hollow", "Neon", "Velvet", "Crimson", "Northern", "Broken", "Lucky", "Quiet", "Restless", "Paper", "Iron", "Cosmic", "Lonesome", "Burning", "Glass"}
	nouns       = []string{"Foxes", "Rivers", "Echoes", "Wolves", "Lanterns", "Ghosts", "Horses", "Satellites", "Pilots", "Sparrows", "Tides", "Kings", "Orchids", "Arrows", "Comets", "Shadows", "Giants", "Waves", "Bandits", "Hearts"}
	givenNames  = []string{"Ava", "Noah", "Mia", "Leo", "Zara", "Mateo", "Aisha", "Kenji", "Lucía", "Oscar", "Priya", "Jonas", "Chloé", "Tariq", "Ingrid", "Diego", "Hana", "Samuel", "Freya", "Kwame", "Elena", "Rafael", "Nadia", "Theo", "Maya", "Ezra", "Lila", "Omar", "Greta", "Felix"}
	familyNames = []string{"Nguyen", "Garcia", "Smith", "Okafor", "Müller", "Tanaka", "Rossi", "Dubois", "Silva", "Kowalski", "Johansson", "Patel", "O'Brien", "Haddad", "Kim", "Novak", "Moreau", "Costa", "Larsen", "Reyes", "Bennett", "Fischer", "Ito", "Mensah", "Quinn"}
	mascots     = []string{"Falcons", "Bears", "Mariners", "Rangers", "Storm", "United", "Rovers", "Wanderers", "Titans", "Hawks", "Lynx", "Royals"}
	genres      = []string{"indie rock", "jazz", "hip hop", "country", "electronic", "folk", "soul", "heavy metal", "pop", "blues", "reggae", "punk", "classical", "latin", "r&b"}
	sports      = []string{"basketball", "ice hockey", "football", "volleyball", "handball", "rugby"}
	showWords   = []string{"Dream", "Garden", "Storm", "Mirror", "Lantern", "Voyage", "Secret", "Winter", "Carnival", "Orchard", "Tempest", "Circus", "Lighthouse", "Masquerade", "Parade"}
)

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func synthVenue(rng *rand.Rand, i int, taken map[string]bool) venueSpec {
	city := synthCities[i%len(synthCities)]
	name := unique(taken, "v:", "The "+pick(rng, venueWords)+" "+pick(rng, venueKinds), city.name)
	rows, perRow := 5+rng.IntN(8), 10+rng.IntN(10)
	balcony := rng.IntN(2) == 0
	return venueSpec{
		key: fmt.Sprint("synthetic-", i), name: name,
		address: fmt.Sprintf("%d %s Street", 1+rng.IntN(400), pick(rng, venueWords)),
		city:    city.name, region: city.region, country: city.country, timezone: city.timezone, currency: city.currency,
		plan: func() *layout { return smallLayout(rows, perRow, balcony) },
	}
}

// smallLayout is a floor of rows, with a balcony behind it or not.
func smallLayout(rows, perRow int, balcony bool) *layout {
	width := float64(perRow-1)*10 + 80
	l := &layout{width: int(width), stage: rect(width/2-60, 10, width/2+60, 36), stageLabel: "Stage"}
	l.add(block("Floor", "Floor", 0, 40, 60, rows, perRow, 10, 4, 0, rowLabel))
	y := 60 + float64(rows)*10 + 30
	if balcony {
		l.add(block("Balcony", "Balcony", 1, 40, y, 3, perRow, 10, 4, 0, rowLabel))
		y += 30 + 20
	}
	l.height = int(y + 10)
	return l
}

type synthSpec struct {
	performerSpec
	genre string
}

// newSynthPerformer makes a performer; r (0 to 99) chooses the kind.
func newSynthPerformer(rng *rand.Rand, r int, taken map[string]bool) synthSpec {
	var p synthSpec
	person := pick(rng, givenNames) + " " + pick(rng, familyNames)
	switch {
	case r < 35:
		p.kind, p.genre = "band", pick(rng, genres)
		p.name = "The " + pick(rng, adjectives) + " " + pick(rng, nouns)
		p.bio = fmt.Sprintf("%s band known for big choruses and a restless live show.", capitalize(p.genre))
	case r < 60:
		p.kind, p.genre = "artist", pick(rng, genres)
		p.name = person
		p.bio = fmt.Sprintf("%s artist with a devoted following and a new record out this year.", capitalize(p.genre))
	case r < 75:
		p.kind, p.genre = "team", pick(rng, sports)
		p.name = pick(rng, synthCities).name + " " + pick(rng, mascots)
		p.bio = fmt.Sprintf("Professional %s team with a loud home crowd.", p.genre)
	case r < 88:
		p.kind, p.genre = "comedian", "stand-up comedy"
		p.name = person
		p.bio = "Stand-up comedian touring a new hour of material."
	default:
		p.kind, p.genre = "company", "theatre"
		p.name = pick(rng, adjectives) + " " + pick(rng, showWords) + " Company"
		p.bio = "Touring theatre company staging plays, musicals and family shows."
	}
	p.name = unique(taken, "p:", p.name, p.kind)
	return p
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// events builds events start to start+n (their tickets all on sale).
func (g *generator) events(start, n int) *catalog {
	c := &catalog{}
	for i := start; i < start+n; i++ {
		rng := rand.New(rand.NewPCG(g.seed, uint64(i)))
		g.event(c, rng, g.firstEvent+int64(i))
	}
	return c
}

func (g *generator) event(c *catalog, rng *rand.Rand, id int64) {
	v := pick(rng, g.venues)
	p := pick(rng, g.performers)
	var typ, name, description string
	hour, minute := 20, 0
	performers := []eventPerformerRow{{eventID: id, performerID: p.id, role: "headliner"}}
	switch p.kind {
	case "band", "artist":
		typ = "concert"
		name = p.name + pick(rng, []string{" Live", ": World Tour", ": Acoustic Night", " in Concert", ": Album Release Show"})
		description = fmt.Sprintf("An evening of %s with %s at %s in %s.", p.genre, p.name, v.spec.name, v.spec.city)
		if support := pick(rng, g.performers); support.id != p.id && (support.kind == "band" || support.kind == "artist") {
			performers = append(performers, eventPerformerRow{eventID: id, performerID: support.id, role: "support", billing: 1})
			description += " With special guest " + support.name + "."
		}
	case "team":
		typ, hour, minute = "sports", 19, 30
		away := pick(rng, g.performers)
		for away.kind != "team" || away.id == p.id {
			away = pick(rng, g.performers)
		}
		name = p.name + " vs " + away.name
		description = fmt.Sprintf("Regular-season %s: %s host %s.", p.genre, p.name, away.name)
		performers[0].role = "home"
		performers = append(performers, eventPerformerRow{eventID: id, performerID: away.id, role: "away", billing: 1})
	case "comedian":
		typ, hour = "comedy", 21
		name = p.name + ": " + pick(rng, []string{"Live", "Unfiltered", "Overthinking It", "No Notes", "Work in Progress"})
		description = fmt.Sprintf("%s brings a new hour of stand-up comedy to %s.", p.name, v.spec.city)
	default:
		typ, hour = pick(rng, []string{"theater", "family"}), 19
		if typ == "family" {
			hour = 14
		}
		name = "The " + pick(rng, showWords) + " of the " + pick(rng, showWords)
		description = fmt.Sprintf("%s presents a new production for the whole season at %s.", p.name, v.spec.name)
	}
	loc, err := time.LoadLocation(v.spec.timezone)
	if err != nil {
		loc = time.UTC
	}
	d := g.today.AddDate(0, 0, 1+rng.IntN(365))
	starts := time.Date(d.Year(), d.Month(), d.Day(), hour, minute, 0, 0, loc)
	dur := durations[typ]
	c.events = append(c.events, eventRow{
		id: id, venueID: v.id, name: name, typ: typ, description: description,
		startsAt: starts, endsAt: starts.Add(dur.length), doorsAt: starts.Add(-dur.doors),
		timezone: v.spec.timezone, currency: v.spec.currency,
	})
	c.eventPerformers = append(c.eventPerformers, performers...)
	base := 20 + 60*rng.Float64()
	for si, s := range v.plan.sections {
		price := localPrice(base*tierPrice(s.tier), v.spec.currency)
		for j := range s.seats {
			c.tickets = append(c.tickets, ticketRow{eventID: id, seatID: v.seatID[si][j], sectionID: v.secIDs[si], price: price, currency: v.spec.currency})
		}
	}
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }
