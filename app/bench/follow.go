package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// seatView is a buyer's picture of one section: the layout read once from
// the tickets JSON, the statuses kept current by the event's stream, as
// the seat map page does.
type seatView struct {
	mu      sync.Mutex
	tickets []ticket
	index   map[int64]int
	changed chan struct{} // closed (and replaced) at each stream message
}

// follow reads a section's tickets once and follows its stream until stop
// is called. Without a stream (refused, or an older Boxoffice) the view
// only learns from the buyer's own 409s.
func (c *client) follow(ctx context.Context, eventID, section int64) (v *seatView, stop func(), err error) {
	var list struct{ Tickets []ticket }
	if _, err := c.call(ctx, "tickets json", "GET", fmt.Sprintf("/api/v1/events/%d/tickets?section=%d", eventID, section), nil, &list); err != nil {
		return nil, nil, err
	}
	v = &seatView{tickets: list.Tickets, index: make(map[int64]int, len(list.Tickets)), changed: make(chan struct{})}
	for i, t := range list.Tickets {
		v.index[t.ID] = i
	}
	sctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(sctx, "GET", fmt.Sprintf("%s/api/v1/events/%d/stream?section=%d", c.base, eventID, section), nil)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	res, err := c.stream.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		if err == nil {
			res.Body.Close()
			c.stats.addStreamRefused()
		}
		return v, cancel, nil
	}
	snapshot := make(chan struct{})
	var once sync.Once
	go func() {
		defer res.Body.Close()
		defer once.Do(func() { close(snapshot) })
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var msg struct {
				Tickets []struct {
					ID     int64
					Status string
				}
			}
			if json.Unmarshal([]byte(data), &msg) != nil {
				continue
			}
			v.mu.Lock()
			for _, t := range msg.Tickets {
				if i, ok := v.index[t.ID]; ok {
					v.tickets[i].Status = t.Status
				}
			}
			close(v.changed)
			v.changed = make(chan struct{})
			v.mu.Unlock()
			once.Do(func() { close(snapshot) })
		}
	}()
	select { // the first message brings the map up to date
	case <-snapshot:
	case <-time.After(5 * time.Second):
	case <-ctx.Done():
	}
	return v, cancel, nil
}

// free lists the seats the view shows available.
func (v *seatView) free() []ticket {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []ticket
	for _, t := range v.tickets {
		if t.Status == "available" {
			out = append(out, t)
		}
	}
	return out
}

// taken marks seats a 409 named, before the stream says so, and gives
// the channel that the stream's next message closes.
func (v *seatView) taken(ids []int64) <-chan struct{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, id := range ids {
		if i, ok := v.index[id]; ok {
			v.tickets[i].Status = "reserved"
		}
	}
	return v.changed
}
