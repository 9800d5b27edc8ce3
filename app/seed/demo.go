package seed

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lockKey serialises seeds across processes (several instances starting on
// one empty database seed it once).
const lockKey = 0x5eed_b0c5

// Demo writes the demo catalogue into a database that has no venues yet and
// reports whether it did. The catalogue is the same for the same day: dates
// are spread over the six months after today.
func Demo(ctx context.Context, pool *pgxpool.Pool, now time.Time) (Stats, bool, error) {
	var stats Stats
	seeded := false
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
			return err
		}
		var empty bool
		if err := tx.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM venues)").Scan(&empty); err != nil {
			return err
		}
		if !empty {
			return nil
		}
		next, err := reserveIDs(ctx, tx, "venues", "sections", "seats", "performers", "events", "event_performers", "users", "bookings")
		if err != nil {
			return err
		}
		c, next, err := buildDemo(next, now)
		if err != nil {
			return err
		}
		if err := claimIDs(ctx, tx, next); err != nil {
			return err
		}
		// The database is empty and nobody uses it yet: load in bulk.
		err = withoutChecks(ctx, tx, []string{"seats", "event_performers", "bookings", "tickets", "booking_tickets"}, func() error {
			return c.write(ctx, tx)
		})
		if err != nil {
			return err
		}
		stats, seeded = c.stats(), true
		return nil
	})
	if err != nil {
		return Stats{}, false, fmt.Errorf("seed demo catalogue: %w", err)
	}
	if seeded {
		if err := analyze(ctx, pool); err != nil {
			return stats, seeded, err
		}
	}
	return stats, seeded, nil
}

// loadedTables are the tables a bulk load fills.
var loadedTables = []string{"venues", "sections", "seats", "performers", "events", "event_performers",
	"users", "bookings", "tickets", "booking_tickets", "event_search"}

// analyze gathers the planner's statistics on the tables a bulk load
// filled. Without them, until autovacuum gets there, PostgreSQL guesses:
// right after a first start it planned loading one booking's tickets as a
// parallel query, and the first on-sale ran twelve times slower than one a
// few minutes later.
func analyze(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, "ANALYZE "+strings.Join(loadedTables, ", ")); err != nil {
		return fmt.Errorf("gather statistics after loading: %w", err)
	}
	return nil
}

// builtVenue is a venue's rows with its plan, for placing events in it.
type builtVenue struct {
	spec   venueSpec
	id     int64
	plan   *layout
	secIDs []int64
	seatID [][]int64 // per section, per seat
}

type builder struct {
	c      catalog
	next   nextIDs
	rng    *rand.Rand
	venues map[string]*builtVenue
	perfID map[string]int64
	users  []int64
	today  time.Time // midnight UTC of the seed day
	now    time.Time
	booked map[string]bool // venue key + day: one event a day per venue
}

// buildDemo returns the demo catalogue with ids from next on, and the ids
// after it.
func buildDemo(next nextIDs, now time.Time) (*catalog, nextIDs, error) {
	b := &builder{
		next:   next,
		rng:    rand.New(rand.NewPCG(2026, 1127)),
		venues: map[string]*builtVenue{},
		perfID: map[string]int64{},
		now:    now,
		today:  time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC),
		booked: map[string]bool{},
	}
	for _, v := range demoVenues {
		b.addVenue(v)
	}
	for _, p := range demoPerformers {
		b.addPerformer(p)
	}
	b.addFans(40)
	for _, e := range demoEngagements {
		if err := b.addEngagement(e); err != nil {
			return nil, next, err
		}
	}
	return &b.c, b.next, nil
}

func (b *builder) addVenue(v venueSpec) *builtVenue {
	plan := v.plan()
	bv := &builtVenue{spec: v, id: b.next.venue, plan: plan}
	b.next.venue++
	b.c.venues = append(b.c.venues, venueRow{
		id: bv.id, name: v.name, address: v.address, city: v.city, region: v.region, country: v.country,
		timezone: v.timezone, stageL: plan.stageLabel, capacity: plan.capacity(),
		width: plan.width, height: plan.height, stage: plan.stage,
	})
	for pos, s := range plan.sections {
		sid := b.next.section
		b.next.section++
		b.c.sections = append(b.c.sections, sectionRow{id: sid, venueID: bv.id, name: s.name, level: s.level, position: pos, outline: s.outline})
		ids := make([]int64, len(s.seats))
		for i, st := range s.seats {
			ids[i] = b.next.seat
			b.next.seat++
			b.c.seats = append(b.c.seats, seatRow{id: ids[i], sectionID: sid, row: st.row, number: st.number, x: float32(st.x), y: float32(st.y)})
		}
		bv.secIDs = append(bv.secIDs, sid)
		bv.seatID = append(bv.seatID, ids)
	}
	b.venues[v.key] = bv
	return bv
}

func (b *builder) addPerformer(p performerSpec) int64 {
	id := b.next.performer
	b.next.performer++
	b.c.performers = append(b.c.performers, performerRow{id: id, name: p.name, kind: p.kind, bio: p.bio})
	b.perfID[p.name] = id
	return id
}

var (
	firstNames = []string{"Ava", "Noah", "Mia", "Liam", "Zoe", "Mateo", "Aisha", "Kenji", "Lucía", "Oliver", "Priya", "Jonas", "Chloé", "Tariq", "Ingrid", "Diego", "Hana", "Samuel", "Freya", "Kwame"}
	lastNames  = []string{"Nguyen", "García", "Smith", "Okafor", "Müller", "Tanaka", "Rossi", "Dubois", "Silva", "Kowalski", "Johansson", "Patel", "O'Brien", "Haddad", "Kim", "Novak"}
)

// addFans creates the accounts that bought the seats already sold. They
// have no password, so nobody can sign in as them.
func (b *builder) addFans(n int) {
	for i := range n {
		first := firstNames[b.rng.IntN(len(firstNames))]
		last := lastNames[b.rng.IntN(len(lastNames))]
		id := b.next.user
		b.next.user++
		b.c.users = append(b.c.users, userRow{
			id: id, email: fmt.Sprintf("fan%02d@example.com", i+1), name: first + " " + last,
			createdAt: b.today.AddDate(0, 0, -30-b.rng.IntN(300)),
		})
		b.users = append(b.users, id)
	}
}

func (b *builder) addEngagement(e engagement) error {
	day := 3 + b.rng.IntN(45)
	for i := range e.dates {
		v := b.venues[e.venues[i%len(e.venues)]]
		if v == nil {
			return fmt.Errorf("engagement %q: unknown venue %q", e.name, e.venues[i%len(e.venues)])
		}
		day = b.freeDay(v.spec.key, day)
		name, performers, roles := e.name, e.performers, e.roles
		if e.typ == "sports" {
			away := e.performers[1+i%(len(e.performers)-1)]
			name = e.performers[0] + " vs " + away
			performers, roles = []string{e.performers[0], away}, []string{"home", "away"}
		}
		if err := b.addEvent(e, v, day, name, performers, roles); err != nil {
			return err
		}
		day += 3 + b.rng.IntN(14)
	}
	return nil
}

// freeDay returns the first day from day on (within the six months) when
// venue has nothing on.
func (b *builder) freeDay(venue string, day int) int {
	for {
		if day > 180 {
			day = 3 + b.rng.IntN(30)
		}
		key := fmt.Sprintf("%s/%d", venue, day)
		if !b.booked[key] {
			b.booked[key] = true
			return day
		}
		day++
	}
}

// durations of each event type: doors before, length after the start.
var durations = map[string]struct{ doors, length time.Duration }{
	"concert": {60 * time.Minute, 150 * time.Minute},
	"sports":  {90 * time.Minute, 135 * time.Minute},
	"theater": {30 * time.Minute, 160 * time.Minute},
	"comedy":  {45 * time.Minute, 90 * time.Minute},
	"family":  {45 * time.Minute, 120 * time.Minute},
}

func (b *builder) addEvent(e engagement, v *builtVenue, day int, name string, performers, roles []string) error {
	loc, err := time.LoadLocation(v.spec.timezone)
	if err != nil {
		return fmt.Errorf("venue %s: %w", v.spec.name, err)
	}
	d := b.today.AddDate(0, 0, day)
	starts := time.Date(d.Year(), d.Month(), d.Day(), e.hour, e.min, 0, 0, loc)
	dur := durations[e.typ]
	id := b.next.event
	b.next.event++
	b.c.events = append(b.c.events, eventRow{
		id: id, venueID: v.id, name: name, typ: e.typ, description: e.description,
		startsAt: starts, endsAt: starts.Add(dur.length), doorsAt: starts.Add(-dur.doors),
		timezone: v.spec.timezone, currency: v.spec.currency, queue: e.queue,
	})
	if e.onSaleIn > 0 {
		at := b.now.Add(e.onSaleIn)
		b.c.events[len(b.c.events)-1].onSaleAt = &at
	}
	for i, p := range performers {
		pid, ok := b.perfID[p]
		if !ok {
			return fmt.Errorf("event %q: unknown performer %q", name, p)
		}
		b.c.eventPerformers = append(b.c.eventPerformers, eventPerformerRow{eventID: id, performerID: pid, role: roles[i], billing: int16(i)})
	}

	popularity := e.popularity
	if popularity < 1 {
		popularity = clamp(popularity+(b.rng.Float64()-0.5)*0.3, 0.02, 0.95)
	}
	base := e.baseUSD * (0.85 + 0.3*b.rng.Float64())
	for si, s := range v.plan.sections {
		price := localPrice(base*tierPrice(s.tier), v.spec.currency)
		sold := 1.0
		switch {
		case e.onSaleIn > 0:
			sold = 0 // not on sale yet
		case popularity < 1:
			sold = clamp(popularity*(1.35-0.25*float64(s.tier))+(b.rng.Float64()-0.5)*0.2, 0, 0.98)
		}
		b.addTickets(id, v, si, price, sold)
	}
	return nil
}

// addTickets puts a section of an event on sale, with about a share sold of
// its seats already sold, in groups of two to four seats side by side, each
// group one fan's booking.
func (b *builder) addTickets(eventID int64, v *builtVenue, si int, price int64, share float64) {
	seats := v.plan.sections[si].seats
	ids := v.seatID[si]
	sectionID := v.secIDs[si]
	currency := v.spec.currency
	// A group of g seats starts at a free seat with probability q, which
	// sells about share of the seats: q*g / (q*g + 1 - q) = share, g ≈ 3.
	q := share / (3 - 2*share)
	for i := 0; i < len(seats); {
		if b.rng.Float64() >= q {
			b.c.tickets = append(b.c.tickets, ticketRow{eventID: eventID, seatID: ids[i], sectionID: sectionID, price: price, currency: currency})
			i++
			continue
		}
		g := 2 + b.rng.IntN(3)
		bookingID := b.next.booking
		b.next.booking++
		n := 0
		for ; n < g && i+n < len(seats) && seats[i+n].row == seats[i].row; n++ {
			b.c.tickets = append(b.c.tickets, ticketRow{eventID: eventID, seatID: ids[i+n], sectionID: sectionID, price: price, currency: currency, bookingID: bookingID})
		}
		b.c.bookings = append(b.c.bookings, bookingRow{
			id: bookingID, userID: b.users[b.rng.IntN(len(b.users))], eventID: eventID,
			total: price * int64(n), currency: currency,
			createdAt: b.now.Add(-time.Duration(1+b.rng.IntN(60*24)) * time.Hour),
		})
		i += n
	}
}

// tierPrice is the share of the best seats' price a tier costs.
func tierPrice(tier int) float64 {
	shares := []float64{1, 0.75, 0.55, 0.42, 0.32}
	if tier >= len(shares) {
		return shares[len(shares)-1]
	}
	return shares[tier]
}

// localPrice converts US dollars to a round price in currency's minor units.
func localPrice(usd float64, currency string) int64 {
	amount := usd * usdRate[currency]
	if currency == "JPY" { // no minor unit; round to 100 yen
		return int64(math.Max(100, math.Round(amount/100)*100))
	}
	whole := math.Max(5, math.Round(amount))
	return int64(whole) * 100
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
