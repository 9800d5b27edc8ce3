package templates

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/queue"
)

// QueuePage is a fan's place in an event's waiting room.
type QueuePage struct {
	Event   *event.Event
	Place   *queue.Place
	Refresh int // seconds until the page looks again, as Retry-After says
	Now     time.Time
}

func queueURL(id int64) string { return "/event/" + strconv.FormatInt(id, 10) + "/queue" }

// refreshFor reloads a waiting fan's page; an admitted or expired one stays.
func refreshFor(p QueuePage) int {
	if p.Place.State == queue.StateWaiting {
		return p.Refresh
	}
	return 0
}

// waitText is a wait as people say it: "less than a minute", "12
// minutes", in the page's language (queue.js says it the same way).
func waitText(ctx context.Context, d time.Duration) string {
	switch m := int(d.Round(time.Minute) / time.Minute); {
	case d < time.Minute:
		return tr(ctx, "queue.js.wait_under_minute")
	case m < 120:
		return trn(ctx, "queue.js.wait_minutes", m)
	default:
		return lang(ctx).Duration(d)
	}
}

// secondsUntil is whole seconds from now to t, rounded up: a countdown
// that reaches zero only once t has come on the server's clock.
func secondsUntil(t, now time.Time) int {
	return int(math.Ceil(t.Sub(now).Seconds()))
}
