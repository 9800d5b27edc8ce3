package booking_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/booking"
)

// randomHouse is a venue of a few sections of rows at increasing distance
// from the stage at (0, 0), with gaps in the numbering (aisles), random
// prices and random seats taken.
func randomHouse(rng *rand.Rand) []booking.Place {
	var places []booking.Place
	id := int64(1)
	for section := int64(1); section <= int64(1+rng.IntN(3)); section++ {
		for r := range 1 + rng.IntN(6) {
			number := 1
			for range 1 + rng.IntN(14) {
				if rng.IntN(10) == 0 {
					number += 1 + rng.IntN(2) // an aisle
				}
				places = append(places, booking.Place{TicketID: id, SectionID: section, Row: fmt.Sprint("R", r), Number: number,
					X: float64(number) + float64(section)*100, Y: float64(10 + 5*r), Price: int64(1000 * (1 + rng.IntN(3))),
					Free: rng.IntN(3) != 0})
				id++
				number++
			}
		}
	}
	rng.Shuffle(len(places), func(i, j int) { places[i], places[j] = places[j], places[i] })
	return places
}

// blocks lists every block of n free, affordable seats with consecutive
// numbers in one row, and whether each strands a single free seat.
func blocks(places []booking.Place, n int, maxPrice int64) (all [][]booking.Place, strands []bool) {
	rows := map[string][]booking.Place{}
	for _, p := range places {
		k := fmt.Sprint(p.SectionID, "/", p.Row)
		rows[k] = append(rows[k], p)
	}
	for _, row := range rows {
		slices.SortFunc(row, func(a, b booking.Place) int { return cmp.Compare(a.Number, b.Number) })
		byNumber := map[int]booking.Place{}
		for _, p := range row {
			byNumber[p.Number] = p
		}
		free := func(number int) bool { p, ok := byNumber[number]; return ok && p.Free }
		for i := 0; i+n <= len(row); i++ {
			b := row[i : i+n]
			ok := true
			for j, p := range b {
				if !p.Free || (maxPrice != 0 && p.Price > maxPrice) || (j > 0 && p.Number != b[j-1].Number+1) {
					ok = false
				}
			}
			if !ok {
				continue
			}
			first, last := b[0].Number, b[n-1].Number
			lone := (free(first-1) && !free(first-2)) || (free(last+1) && !free(last+2))
			all, strands = append(all, b), append(strands, lone)
		}
	}
	return all, strands
}

// TestBestTogetherProperties checks, over random houses, that the block
// chosen is n free seats side by side within the price, that one exists
// whenever any block does, that it strands a seat only when every block
// would, and that no block without a stranded seat is nearer the stage.
func TestBestTogetherProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 7))
		places := randomHouse(rng)
		n := 1 + rng.IntN(5)
		maxPrice := int64(0)
		if rng.IntN(2) == 0 {
			maxPrice = int64(1000 * (1 + rng.IntN(3)))
		}
		got := booking.BestTogether(places, n, maxPrice, [2]float64{0, 0})
		all, strands := blocks(places, n, maxPrice)
		if got == nil {
			if len(all) > 0 {
				t.Fatalf("seed %d: no block of %d found, but %v fits", seed, n, all[0])
			}
			continue
		}
		if len(got) != n {
			t.Fatalf("seed %d: %d seats, want %d", seed, len(got), n)
		}
		var chosen = -1
		for i, b := range all {
			if b[0].TicketID == got[0].TicketID {
				chosen = i
			}
		}
		if chosen < 0 {
			t.Fatalf("seed %d: %v is not n free, affordable seats side by side in one row", seed, got)
		}
		// A row's distance: from its middle to the stage, as the finder ranks.
		rowDistance := map[string]float64{}
		sums := map[string][3]float64{}
		for _, p := range places {
			k := fmt.Sprint(p.SectionID, "/", p.Row)
			s := sums[k]
			sums[k] = [3]float64{s[0] + p.X, s[1] + p.Y, s[2] + 1}
		}
		for k, s := range sums {
			rowDistance[k] = math.Round(math.Hypot(s[0]/s[2], s[1]/s[2]) * 10)
		}
		distance := func(b []booking.Place) float64 { return rowDistance[fmt.Sprint(b[0].SectionID, "/", b[0].Row)] }
		for i, b := range all {
			if strands[chosen] && !strands[i] {
				t.Fatalf("seed %d: %v strands a seat though %v does not", seed, got, b)
			}
			if strands[chosen] == strands[i] && distance(b) < distance(got) {
				t.Fatalf("seed %d: %v is further from the stage than %v", seed, got, b)
			}
		}
	}
}

func TestBestTogetherPrefersTheMiddleOfTheFrontRow(t *testing.T) {
	t.Parallel()
	var places []booking.Place
	for r, row := range []string{"A", "B"} {
		for n := 1; n <= 10; n++ {
			places = append(places, booking.Place{TicketID: int64(r*10 + n), SectionID: 1, Row: row, Number: n,
				X: float64(n), Y: float64(10 + r*5), Price: 1000, Free: true})
		}
	}
	got := booking.BestTogether(places, 2, 0, [2]float64{5.5, 0})
	if len(got) != 2 || got[0].Row != "A" || got[0].Number != 5 || got[1].Number != 6 {
		t.Fatalf("2 seats in an empty house: %+v, want A5 and A6", got)
	}
	// Row A's seats 3 and 8 taken: A4-A5-A6-A7 is the free run in the
	// middle, and a pair in it must not leave A4 or A7 alone; A1-A2 leave
	// nothing stranded but are off-centre: still better than stranding.
	places[2].Free, places[7].Free = false, false
	got = booking.BestTogether(places, 2, 0, [2]float64{5.5, 0})
	if len(got) != 2 || got[0].Row != "A" || !(got[0].Number == 4 && got[1].Number == 5 || got[0].Number == 6 && got[1].Number == 7 ||
		got[0].Number == 1 && got[1].Number == 2 || got[0].Number == 9 && got[1].Number == 10) {
		t.Fatalf("2 seats beside a gap: %+v", got)
	}
}

// placesInDB is an inventory read straight from the database.
type placesInDB struct{ pool *pgxpool.Pool }

func (p placesInDB) Places(ctx context.Context, eventID, section int64) ([]booking.Place, [2]float64, error) {
	rows, err := p.pool.Query(ctx, `
		SELECT t.id, t.section_id, st.row_label, st.seat_number, st.x, st.y, t.price,
		       t.status = 'available' OR t.reserved_until <= now()
		FROM tickets t JOIN seats st ON st.id = t.seat_id
		WHERE t.event_id = $1 AND ($2 = 0 OR t.section_id = $2)`, eventID, section)
	if err != nil {
		return nil, [2]float64{}, err
	}
	defer rows.Close()
	var out []booking.Place
	for rows.Next() {
		var pl booking.Place
		if err := rows.Scan(&pl.TicketID, &pl.SectionID, &pl.Row, &pl.Number, &pl.X, &pl.Y, &pl.Price, &pl.Free); err != nil {
			return nil, [2]float64{}, err
		}
		out = append(out, pl)
	}
	return out, [2]float64{0, 0}, rows.Err()
}

// TestBestTogetherRace has 30 fans ask for 2 seats together at once in a
// row of 40: no seat is held twice, every hold is two neighbours, and
// those who get none are told there are no seats together.
func TestBestTogetherRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 40, 30)
	svc := booking.NewService(f.pool, f.demo, booking.Config{HoldTTL: 10 * 60e9, MaxTickets: 8, Inventory: placesInDB{f.pool}},
		f.clock.now, slog.New(slog.DiscardHandler))
	var mu sync.Mutex
	var held [][]int64
	var refused int
	var wg sync.WaitGroup
	for _, fan := range f.fans {
		wg.Go(func() {
			b, err := svc.HoldTogether(context.Background(), fan, booking.Together{EventID: f.eventID, Quantity: 2})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				held = append(held, b.TicketIDs())
			case isReason(err, "no_seats_together"):
				refused++
			default:
				t.Errorf("fan %d: %v", fan, err)
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, ids := range held {
		slices.Sort(ids)
		if len(ids) != 2 || ids[1] != ids[0]+1 {
			t.Errorf("a hold of %v: not two neighbours", ids)
		}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("seat %d held twice", id)
			}
			seen[id] = true
		}
	}
	if len(held)+refused != 30 || len(held) < 15 {
		t.Errorf("%d holds and %d refusals of 30 fans for 40 seats", len(held), refused)
	}
	t.Logf("30 fans, 40 seats, 2 each: %d held, %d told there were no seats together", len(held), refused)
	checkInvariant(t, f.pool)
}

func isReason(err error, reason string) bool {
	e, ok := errors.AsType[*app.Error](err)
	return ok && e.Reason == reason
}
