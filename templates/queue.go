package templates

import (
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

func fansAhead(n int64) string {
	if n == 1 {
		return "fan ahead of you"
	}
	return "fans ahead of you"
}

// waitText is a wait as people say it: "less than a minute", "12 minutes".
func waitText(d time.Duration) string {
	switch m := int(d.Round(time.Minute) / time.Minute); {
	case d < time.Minute:
		return "less than a minute"
	case m == 1:
		return "a minute"
	case m < 120:
		return strconv.Itoa(m) + " minutes"
	default:
		return duration(d)
	}
}

// secondsUntil is whole seconds from now to t, rounded up: a countdown
// that reaches zero only once t has come on the server's clock.
func secondsUntil(t, now time.Time) int {
	return int(math.Ceil(t.Sub(now).Seconds()))
}
