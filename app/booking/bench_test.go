package booking_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHolds measures holds per second on one 40,000-seat event with
// 32 concurrent buyers, most of them after the best 2,000 seats, as at a
// hot on-sale. One iteration is one hold attempt of 1 to 4 seats.
//
//	go test ./app/booking -run '^$' -bench Holds -benchtime 4000x
func BenchmarkHolds(b *testing.B) {
	const seats, buyers = 40_000, 400
	f := newFixture(b, seats, buyers)
	ctx := context.Background()
	var mu sync.Mutex
	var lat []time.Duration
	var held, conflicts, failed atomic.Int64
	var next atomic.Int64
	b.SetParallelism(16) // 32 buyers at once on 2 cores
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(uint64(next.Add(1)), 1))
		var mine []time.Duration
		for pb.Next() {
			n := 1 + rng.IntN(4)
			span := seats
			if rng.IntN(10) < 7 {
				span = 2000
			}
			first := rng.IntN(span - n)
			ids := f.tickets[first : first+n] // side by side, as fans pick
			fan := f.fans[rng.IntN(len(f.fans))]
			t0 := time.Now()
			_, err := f.svc.HoldTickets(ctx, fan, ids)
			mine = append(mine, time.Since(t0))
			switch code(err) {
			case "":
				held.Add(1)
			case "tickets_unavailable":
				conflicts.Add(1)
			default:
				failed.Add(1)
				b.Error(err)
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	took := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(held.Load())/took.Seconds(), "holds/s")
	b.ReportMetric(float64(conflicts.Load())/took.Seconds(), "conflicts/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	checkInvariant(b, f.pool)
}
