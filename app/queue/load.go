package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// A room in 'auto' admits as many fans as keep the hold path inside its
// latency budget (Config.Budget). Every process times its holds (the web
// layer calls ObserveHold with each hold request's time in the handler),
// keeps the last few seconds in a Meter, and reports their count and 99th
// percentile to queue_load each second; the admitter reads the freshest
// reports and steers each auto room's rate by the slowest process.

const (
	meterSlots   = 5  // seconds of holds a report covers
	meterBuckets = 64 // bucket i holds times up to 1 ms × 1.2^i: 1 ms to 97 s
	// loadSample is how many holds a report needs before its p99 can
	// slow a room: a handful of holds is no percentile.
	loadSample = 10
)

// Meter keeps the times of one process's recent holds: a ring of
// one-second histograms.
type Meter struct {
	mu    sync.Mutex
	slots [meterSlots]meterSlot
}

type meterSlot struct {
	sec    int64
	counts [meterBuckets]uint32
}

func bucketOf(d time.Duration) int {
	ms := float64(d) / float64(time.Millisecond)
	if ms <= 1 {
		return 0
	}
	return min(int(math.Ceil(math.Log(ms)/math.Log(1.2))), meterBuckets-1)
}

func bucketBound(i int) time.Duration {
	return time.Duration(math.Pow(1.2, float64(i)) * float64(time.Millisecond))
}

// Observe records a hold that took d, at.
func (m *Meter) Observe(at time.Time, d time.Duration) {
	sec := at.Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &m.slots[sec%meterSlots]
	if s.sec != sec {
		*s = meterSlot{sec: sec}
	}
	s.counts[bucketOf(d)]++
}

// Summary is the count and 99th percentile (to the top of its bucket,
// within 20%) of the holds in the meterSlots seconds up to now.
func (m *Meter) Summary(now time.Time) (holds int, p99 time.Duration) {
	var counts [meterBuckets]uint32
	m.mu.Lock()
	for _, s := range m.slots {
		if s.sec > now.Unix()-meterSlots && s.sec <= now.Unix() {
			for i, n := range s.counts {
				counts[i] += n
			}
		}
	}
	m.mu.Unlock()
	for _, n := range counts {
		holds += int(n)
	}
	if holds == 0 {
		return 0, 0
	}
	rank, seen := int(math.Ceil(0.99*float64(holds))), 0
	for i, n := range counts {
		if seen += int(n); seen >= rank {
			return holds, bucketBound(i)
		}
	}
	return holds, bucketBound(meterBuckets - 1)
}

// ObserveHold records a hold request that took d in this process.
func (s *Service) ObserveHold(d time.Duration) { s.meter.Observe(time.Now(), d) }

// RecentHolds is how many holds this process answered in the last few
// seconds, and their 99th percentile.
func (s *Service) RecentHolds() (int, time.Duration) { return s.meter.Summary(time.Now()) }

// report runs in every process: each second it writes this process's
// recent holds to queue_load, for whichever process admits.
func (s *Service) report(ctx context.Context) {
	var id [8]byte
	rand.Read(id[:])
	instance := hex.EncodeToString(id[:])
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	quiet := true // nothing to say since the last report said nothing
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		holds, p99 := s.meter.Summary(time.Now())
		if holds == 0 && quiet {
			continue
		}
		quiet = holds == 0
		if _, err := s.pool.Exec(ctx, `
			INSERT INTO queue_load (instance, seen_at, holds, p99_ms) VALUES ($1, $2, $3, $4)
			ON CONFLICT (instance) DO UPDATE SET seen_at = EXCLUDED.seen_at, holds = EXCLUDED.holds, p99_ms = EXCLUDED.p99_ms`,
			instance, s.now(), holds, float64(p99)/float64(time.Millisecond)); err != nil && ctx.Err() == nil {
			s.log.Warn("queue: cannot report the hold path's latency", "err", err)
		}
	}
}

// Load is the hold path as the processes last reported it.
type Load struct {
	Holds int           // holds in the last few seconds, all processes
	P99   time.Duration // the slowest process's p99, among those with loadSample holds or more
}

// slow tells whether the hold path is over budget.
func (l Load) slow(budget time.Duration) bool { return l.P99 > budget }

// readLoad reads the reports of the last few seconds.
func (s *Service) readLoad(ctx context.Context, conn *pgx.Conn, now time.Time) (Load, error) {
	var l Load
	var ms float64
	err := conn.QueryRow(ctx, `SELECT coalesce(sum(holds), 0), coalesce(max(p99_ms) FILTER (WHERE holds >= $2), 0)
		FROM queue_load WHERE seen_at > $1`, now.Add(-3*time.Second), loadSample).Scan(&l.Holds, &ms)
	if err != nil {
		return l, fmt.Errorf("read the hold path's latency: %w", err)
	}
	l.P99 = time.Duration(ms * float64(time.Millisecond))
	return l, nil
}

// steer moves an auto room's rate toward what the hold path can take, at
// most once a second: down by a fifth while its p99 is over the budget,
// up by a tenth of the configured rate while it is under half the budget
// and fans wait. The rate stays between a tenth and ten times the
// configured one.
func (s *Service) steer(rate float64, ratedAt *time.Time, load Load, waiting bool, now time.Time) (float64, *time.Time) {
	if ratedAt != nil && now.Sub(*ratedAt) < time.Second {
		return rate, ratedAt
	}
	floor, ceiling := max(s.cfg.Rate/10, 1), s.cfg.Rate*10
	switch {
	case load.slow(s.cfg.Budget):
		rate = max(rate*0.8, floor)
	case waiting && load.P99 < s.cfg.Budget/2:
		rate = min(rate+s.cfg.Rate/10, ceiling)
	default:
		return rate, ratedAt
	}
	return rate, &now
}
