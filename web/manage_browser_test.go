package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/boxoffice/boxoffice/db/dbtest"
)

// An organiser builds a venue from shapes, creates and publishes an event
// with two prices; a fan buys two seats; the organiser sees the sale and
// refunds it, and the seats are back on the fans' map. Screenshots of
// each step.
func TestBrowserOrganiserJourney(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	org := tab(t, 1200, 1000, true)
	email := fmt.Sprintf("organiser%d@example.com", time.Now().UnixNano())
	run(t, org, "sign up", chromedp.Navigate(ts.URL+"/signup"),
		chromedp.SendKeys(css(`input[name="name"]`), "Olu Organiser"),
		chromedp.SendKeys(css(`input[name="email"]`), email),
		chromedp.SendKeys(css(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(css(`[data-testid="auth-submit"]`)), chromedp.WaitNotPresent(css(`[data-testid="auth-submit"]`)))
	dbtest.Exec(t, pool, `UPDATE users SET role = 'organiser' WHERE email = $1`, email)

	// The builder: details, a curved block added, the first block made
	// smaller; the map follows as the fields change.
	run(t, org, "open the builder", chromedp.Navigate(ts.URL+"/manage/venues/new"), chromedp.WaitVisible(css(`[data-testid="builder"]`)))
	run(t, org, "fill in the venue",
		chromedp.SendKeys(css(`[data-testid="venue-name"]`), "Quayside Hall"),
		chromedp.SendKeys(css(`[data-testid="venue-city"]`), "Bristol"),
		chromedp.SendKeys(css(`[data-testid="venue-country"]`), "GB"),
		chromedp.SendKeys(css(`[data-testid="venue-timezone"]`), "Europe/London"),
		chromedp.Click(css(`[data-testid="add-curve"]`)),
		chromedp.WaitVisible(css(`fieldset.shape + fieldset.shape`)))
	run(t, org, "fewer rows in the first block",
		setValue(`[data-testid="shape-rows"]`, "4"),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="builder-preview"]').textContent.includes("160 seats")`))
	shot(t, org, "organiser-01-venue-builder")
	run(t, org, "save the venue", chromedp.Click(css(`[data-testid="design-save"]`)), chromedp.WaitVisible(css(`[data-testid="manage-venue"]`)))
	shot(t, org, "organiser-02-venue")
	venueID := dbtest.Int(t, pool, `SELECT id FROM venues WHERE name = 'Quayside Hall'`)

	// The event: two prices, saved as a draft, then published.
	run(t, org, "open the event form", chromedp.Navigate(fmt.Sprintf("%s/manage/events/new?venue=%d", ts.URL, venueID)),
		chromedp.WaitVisible(css(`[data-testid="event-name"]`)),
		chromedp.SendKeys(css(`[data-testid="event-name"]`), "Harbour Lights"),
		setValue(`[data-testid="event-starts"]`, "2099-07-01T19:30"),
		chromedp.SendKeys(css(`[data-testid="performer-name"]`), "The Tidewaters"),
		chromedp.SendKeys(css(`[data-testid="price-0"]`), "45"),
		chromedp.SendKeys(css(`[data-testid="price-1"]`), "30"))
	shot(t, org, "organiser-03-event-form")
	run(t, org, "save the draft", chromedp.Click(css(`[data-testid="event-save"]`)), chromedp.WaitVisible(css(`[data-testid="event-publish"]`)))
	run(t, org, "publish", chromedp.Click(css(`[data-testid="event-publish"]`)), chromedp.WaitVisible(css(`[data-testid="event-public"]`)))
	eventID := dbtest.Int(t, pool, `SELECT id FROM events WHERE name = 'Harbour Lights'`)
	tickets := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE event_id = $1 AND price = 4500 ORDER BY id LIMIT 2`, eventID)
	if len(tickets) != 2 || dbtest.Int(t, pool, `SELECT count(DISTINCT price) FROM tickets WHERE event_id = $1`, eventID) != 2 {
		t.Fatalf("the published event's tickets: %v", tickets)
	}

	// A fan buys two seats at £45.
	fan := tab(t, 1000, 900, true)
	run(t, fan, "fan signs up", chromedp.Navigate(ts.URL+"/signup"),
		chromedp.SendKeys(css(`input[name="name"]`), "Fen Fan"),
		chromedp.SendKeys(css(`input[name="email"]`), "fen"+email),
		chromedp.SendKeys(css(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(css(`[data-testid="auth-submit"]`)), chromedp.WaitNotPresent(css(`[data-testid="auth-submit"]`)))
	seat := func(id int64) string { return fmt.Sprintf(`input[name="ticket_ids"][value="%d"]`, id) }
	run(t, fan, "tick two seats", chromedp.Navigate(fmt.Sprintf("%s/event/%d", ts.URL, eventID)),
		chromedp.WaitVisible(css(seat(tickets[0]))), chromedp.Click(css(seat(tickets[0]))), chromedp.Click(css(seat(tickets[1]))),
		chromedp.Click(css(`[data-testid="continue"]`)), chromedp.WaitVisible(css(`[data-testid="pay-form"]`)))
	run(t, fan, "pay", chromedp.Click(css(`[data-testid="pay"]`)), chromedp.WaitVisible(css(`[data-testid="confirmed"]`)))

	// The organiser's page follows the sale by itself.
	run(t, org, "the sale on the dashboard", chromedp.Navigate(fmt.Sprintf("%s/manage/events/%d", ts.URL, eventID)),
		chromedp.WaitVisible(css(`[data-testid="sales-chart"]`)))
	if sold := text(t, org, `[data-testid="sold"]`); sold != "2" {
		t.Errorf("the dashboard shows %s sold, want 2", sold)
	}
	shot(t, org, "organiser-04-sales")
	run(t, org, "refund the booking", chromedp.Click(css(`[data-testid="refund"]`)), chromedp.WaitNotPresent(css(`[data-testid="refund"]`)))
	if got := text(t, org, `[data-testid="booking-refunded"]`); got != "£90.00" {
		t.Errorf("after the refund the booking shows %q refunded, want £90.00", got)
	}
	shot(t, org, "organiser-05-refunded")

	// The seats are back on the fans' map.
	run(t, fan, "the seats again", chromedp.Navigate(fmt.Sprintf("%s/event/%d", ts.URL, eventID)), chromedp.WaitVisible(css(seat(tickets[0]))))
	if !strings.Contains(attr(t, fan, seat(tickets[1]), "aria-label"), "£45.00") {
		t.Errorf("the refunded seat on the map: %q", attr(t, fan, seat(tickets[1]), "aria-label"))
	}
	shot(t, fan, "organiser-06-seats-back")
}

// setValue types into a field as a person would, as far as the page can
// tell: the value changes and input and change events follow.
func setValue(selector, value string) step {
	sel, _ := json.Marshal(selector)
	val, _ := json.Marshal(value)
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector(%s); el.value = %s;
		el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, val))
}
