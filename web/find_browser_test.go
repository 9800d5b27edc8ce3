package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/boxoffice/boxoffice/app/queue"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/web"
)

// TestBrowserFindByWordsAndSort has a fan type plain words into the search
// box ("concerts in chicago"): the page reads them as a type and a city, and
// sorting by price puts the cheapest first.
func TestBrowserFindByWordsAndSort(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	base, _ := journeyServer(t)
	ctx := tab(t, 1280, 900, true)
	run(t, ctx, "search in plain words", chromedp.Navigate(base+"/"),
		chromedp.SendKeys(css(`input[data-testid="search-input"]`), "concerts in chicago"+kb.Enter),
		chromedp.WaitVisible(css(`[data-testid="understood"]`)))
	shot(t, ctx, "find-01-concerts-in-chicago")
	if got := text(t, ctx, `[data-testid="understood"]`); !strings.Contains(got, "concert events in Chicago") {
		t.Errorf("the page read the words as %q", got)
	}
	badges := eval[[]string](t, ctx, "read the cards", `[...document.querySelectorAll('[data-testid=event-card] .badge:not(.badge-soldout)')].map(e => e.textContent.trim())`)
	places := eval[[]string](t, ctx, "read the places", `[...document.querySelectorAll('[data-testid=event-card] .card-meta:nth-of-type(3)')].map(e => e.textContent)`)
	if len(badges) < 2 {
		t.Fatalf("%d concerts in Chicago found", len(badges))
	}
	for i, b := range badges {
		if b != "Concert" || !strings.Contains(places[i], "Chicago") {
			t.Errorf("card %d is %q in %q", i, b, places[i])
		}
	}

	run(t, ctx, "sort by price", chromedp.Click(css(`[data-testid="sort"] a[data-value="price"]`)),
		chromedp.WaitVisible(css(`[data-testid="sort"] .current[data-value="price"]`)))
	shot(t, ctx, "find-02-sorted-by-price")
	prices := eval[[]string](t, ctx, "read the prices", `[...document.querySelectorAll('[data-testid=event-card] .card-price')].map(e => e.textContent)`)
	last := -1
	for _, p := range prices {
		if strings.Contains(p, "Sold out") {
			last = 1 << 30
			continue
		}
		n, err := strconv.Atoi(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, p))
		if err != nil || n < last {
			t.Errorf("by price, %q comes after a cheaper or sold-out card: %q", p, prices)
		}
		last = n
	}
}

// TestBrowserPriceZones has a fan on the hall's map: seats are coloured by
// price with a key, and switching the dearest zone off fades its seats.
func TestBrowserPriceZones(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	base, pool := journeyServer(t)
	id := eventAt(t, pool, 1000, 2500)
	ctx := tab(t, 1280, 1000, true)
	run(t, ctx, "open the hall", chromedp.Navigate(fmt.Sprintf("%s/event/%d", base, id)),
		chromedp.WaitVisible(css(`[data-testid="zone-button"]`)))
	zones := eval[int](t, ctx, "count zones", `document.querySelectorAll('[data-testid=zone-button]').length`)
	if zones < 2 {
		t.Fatalf("%d price zones on a hall with several prices", zones)
	}
	opacity := func() string {
		return eval[string](t, ctx, "read a dear seat's opacity", `getComputedStyle(document.querySelector('[data-testid=seat-map] input.z1')).opacity`)
	}
	if o := opacity(); o != "1" {
		t.Fatalf("a seat of the dearest zone starts at opacity %s", o)
	}
	shot(t, ctx, "zones-01-all-prices")
	run(t, ctx, "switch the dearest zone off", chromedp.Click(css(`[data-testid="zone-button"][data-zone="1"]`)))
	if o := opacity(); o == "1" {
		t.Errorf("the dearest seats do not fade when their zone is off (opacity %s)", o)
	}
	if p := attr(t, ctx, `[data-testid="zone-button"][data-zone="1"]`, "aria-pressed"); p != "false" {
		t.Errorf("the zone button says pressed=%s", p)
	}
	shot(t, ctx, "zones-02-dearest-off")
	// Rows are lettered on the map.
	if n := eval[int](t, ctx, "count row letters", `document.querySelectorAll('.map-labels .row-name').length`); n < 10 {
		t.Errorf("%d rows lettered on the hall's map", n)
	}
}

// TestBrowserLostSeatIsNamed has a fan, without JavaScript, tick two seats
// while someone else takes one: the map says which seat went and keeps the
// other ticked.
func TestBrowserLostSeatIsNamed(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	base, pool := journeyServer(t)
	id := eventAt(t, pool, 1000, 2500)
	ctx := tab(t, 1280, 1000, false)
	email := fmt.Sprintf("lost%d@example.com", time.Now().UnixNano())
	run(t, ctx, "sign up", chromedp.Navigate(base+"/signup"),
		chromedp.SendKeys(css(`input[name="name"]`), "Sam Fan"),
		chromedp.SendKeys(css(`input[name="email"]`), email),
		chromedp.SendKeys(css(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(css(`[data-testid="auth-submit"]`)), chromedp.WaitNotPresent(css(`[data-testid="auth-submit"]`)))
	run(t, ctx, "open the hall", chromedp.Navigate(fmt.Sprintf("%s/event/%d", base, id)), chromedp.WaitVisible(css(`[data-testid="seat-form"]`)))
	seats := eval[[]string](t, ctx, "find two seats side by side", pickAdjacent)
	if len(seats) != 2 {
		t.Fatal("no two seats side by side")
	}
	for _, s := range seats {
		run(t, ctx, "tick "+s, chromedp.Click(css(fmt.Sprintf(`input[name="ticket_ids"][value="%s"]`, s))))
	}
	lost, _ := strconv.ParseInt(seats[0], 10, 64)
	name := eval[string](t, ctx, "read the seat's name", fmt.Sprintf(`document.querySelector('input[value="%s"]').getAttribute('aria-label')`, seats[0]))
	name = name[:strings.LastIndex(name, ", ")] // without the price
	hold(t, pool, id, time.Now().Add(time.Hour), lost)
	shot(t, ctx, "lost-01-two-seats-ticked")
	run(t, ctx, "continue", chromedp.Click(css(`[data-testid="continue"]`)), chromedp.WaitVisible(css(`[data-testid="map-message"]`)))
	shot(t, ctx, "lost-02-seat-named")
	if msg := text(t, ctx, `[data-testid="map-message"]`); !strings.Contains(msg, name) || !strings.Contains(msg, "still ticked") {
		t.Errorf("the message %q does not name %q", msg, name)
	}
	if got := checkedIDs(t, ctx); len(got) != 1 || got[0] != seats[1] {
		t.Errorf("ticked after the loss: %v, want %s", got, seats[1])
	}
}

// TestBrowserWaitingRoom has a fan join an on-sale's waiting room before it
// opens, wait while the page follows their place by itself, come in when
// admitted, and buy.
func TestBrowserWaitingRoom(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	pool := dbtest.New(t)
	site := newSite(t, pool, func(c *web.SiteConfig) { c.Queue = queue.Config{Rate: 60, Tick: 100 * time.Millisecond} })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); site.Queue.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	ts := httptest.NewServer(site)
	t.Cleanup(ts.Close)
	eventID, tickets := smallEvent(t, pool, 10)
	if _, err := pool.Exec(context.Background(), `UPDATE events SET queue = 'always', on_sale_at = now() + interval '8 seconds'`); err != nil {
		t.Fatal(err)
	}

	tab := tab(t, 1000, 900, true)
	email := fmt.Sprintf("waiting%d@example.com", time.Now().UnixNano())
	run(t, tab, "sign up", chromedp.Navigate(ts.URL+"/signup"),
		chromedp.SendKeys(css(`input[name="name"]`), "Wren Fan"),
		chromedp.SendKeys(css(`input[name="email"]`), email),
		chromedp.SendKeys(css(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(css(`[data-testid="auth-submit"]`)), chromedp.WaitNotPresent(css(`[data-testid="auth-submit"]`)))
	run(t, tab, "open the event before its on-sale", chromedp.Navigate(fmt.Sprintf("%s/event/%d", ts.URL, eventID)),
		chromedp.WaitVisible(css(`[data-testid="room-join"]`)))
	shot(t, tab, "room-01-before-the-on-sale")
	run(t, tab, "join the waiting room", chromedp.Click(css(`[data-testid="room-join"]`)),
		chromedp.WaitVisible(css(`[data-testid="queue"][data-state="waiting"]`)))
	shot(t, tab, "room-02-waiting")
	// The page follows the place by itself: no reload by the fan.
	run(t, tab, "wait to be let in", chromedp.WaitVisible(css(`[data-testid="queue-admitted"]`)))
	shot(t, tab, "room-03-admitted")
	run(t, tab, "go to the seats", chromedp.Click(css(`[data-testid="queue-shop"]`)), chromedp.WaitVisible(css(`[data-testid="room-admitted"]`)))
	run(t, tab, "tick a seat", chromedp.Click(css(fmt.Sprintf(`input[name="ticket_ids"][value="%d"]`, tickets[0]))))
	run(t, tab, "hold", chromedp.Click(css(`[data-testid="continue"]`)), chromedp.WaitVisible(css(`[data-testid="pay-form"]`)))
	shot(t, tab, "room-04-checkout")
	run(t, tab, "pay", chromedp.Click(css(`[data-testid="pay"]`)), chromedp.WaitVisible(css(`[data-testid="confirmed"]`)))
	shot(t, tab, "room-05-bought")
	var left int
	dbtest.QueryRow(t, pool, `SELECT count(*) FROM queue_entries WHERE left_at IS NOT NULL`).Scan(&left)
	if left != 1 {
		t.Errorf("after buying, %d places are done, want the fan's", left)
	}
}
