package queue_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app/queue"
)

// BenchmarkJoin is a flood of fans joining one room: 32 at once, each
// joining once, with the admitter working beside them. It reports joins a
// second; each join is one insert and one read, and none waits on another.
//
//	go test ./app/queue -run '^$' -bench Join -benchtime 20000x
func BenchmarkJoin(b *testing.B) {
	for _, c := range []struct {
		name  string
		after time.Duration // from the room's creation: the open is at 10 minutes
	}{{"before the open", 0}, {"after the open", 11 * time.Minute}} {
		b.Run(c.name, func(b *testing.B) {
			r := newRoomB(b, b.N)
			r.clock.add(c.after)
			ctx, stop := context.WithCancel(context.Background())
			var admitter sync.WaitGroup
			admitter.Go(func() { r.svc.Run(ctx) })
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range 32 {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(len(r.fans)) {
							return
						}
						if _, err := r.svc.Join(ctx, r.eventID, r.fans[i]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(len(r.fans))/time.Since(start).Seconds(), "joins/s")
			b.StopTimer()
			stop()
			admitter.Wait()
		})
	}
}

func newRoomB(b *testing.B, fans int) *room {
	return newRoom(b, 10, fans, queue.Config{Rate: 600})
}
