package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/boxoffice/boxoffice/app/ticket"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// signInTab gives a browser tab the session of token, as signing in does.
func signInTab(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "boxoffice_session", Value: token, URL: base}); err != nil {
		t.Fatalf("sign in the tab: %v", err)
	}
}

// offline cuts a tab off the network (and tells its pages so), or puts
// it back.
func offline(t *testing.T, ctx context.Context, off bool) {
	t.Helper()
	var rules []*network.Conditions
	if off {
		rules = []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules}); err != nil {
		t.Fatalf("network conditions: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatalf("network state: %v", err)
	}
}

// A fan opens their ticket (its QR code); the door scans it (the code fed
// as text, since the test browser has no camera): green, then red. Then
// the network goes: the door checks codes itself, keeps the scans, and
// sends them when it is back.
func TestBrowserDoor(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	org := withRole(t, pool, ts.URL, "door-org@example.com", "organiser")
	_, created := postSeatMap(t, ts.URL, org, venue.Example)
	_, ev := api(t, "POST", ts.URL+"/api/v1/manage/events", org, map[string]any{"venue_id": created["id"], "name": "Gate Night",
		"type": "concert", "starts_at": "2099-05-01T20:00", "prices": []map[string]any{{"price": 2000, "sections": []string{"Balcony"}}}})
	eventID := int64(ev["id"].(float64))
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/publish", ts.URL, eventID), org, nil)
	tickets := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE event_id = $1 ORDER BY id`, eventID)
	fanToken := signUp(t, ts.URL, "door-fan@example.com")
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", fanToken, map[string]any{"ticket_ids": tickets[:3]})
	booking := int64(held["id"].(float64))
	api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", ts.URL, booking), fanToken, map[string]string{"payment_method": "pm_card_visa"})
	keys, err := ticket.Load(context.Background(), pool, "")
	if err != nil {
		t.Fatal(err)
	}
	code := func(i int) string { return keys.Code(tickets[i], booking, eventID, ticket.WindowAt(time.Now())) }

	fan := tab(t, 420, 900, true)
	signInTab(t, fan, ts.URL, fanToken)
	run(t, fan, "open the ticket", chromedp.Navigate(fmt.Sprintf("%s/bookings/%d", ts.URL, booking)), chromedp.WaitVisible(css(`[data-testid="ticket-qr"] svg`)))
	shot(t, fan, "door-01-ticket-qr")

	door := tab(t, 420, 900, true)
	signInTab(t, door, ts.URL, org)
	scan := func(name, code string) {
		t.Helper()
		run(t, door, name, chromedp.SetValue(css(`[data-testid="door-code"]`), code), chromedp.Click(css(`[data-testid="door-check"]`)))
	}
	run(t, door, "open the door", chromedp.Navigate(fmt.Sprintf("%s/manage/events/%d/checkin", ts.URL, eventID)), chromedp.WaitVisible(css(`[data-testid="door-form"]`)))
	// The page keeps the gate's data for when the network goes.
	run(t, door, "the gate's data kept", chromedp.Poll[chromedp.Void](fmt.Sprintf(`localStorage.getItem("boxoffice-door-%d") && JSON.parse(localStorage.getItem("boxoffice-door-%d")).gate`, eventID, eventID)))
	scan("scan the ticket", code(0))
	run(t, door, "green", chromedp.WaitVisible(css(`[data-testid="door-ok"]`)))
	shot(t, door, "door-02-green")
	scan("scan it again", code(0))
	run(t, door, "red", chromedp.WaitVisible(css(`[data-testid="door-refused"][data-reason="already_checked_in"]`)))
	shot(t, door, "door-03-red")

	// Offline: the page checks codes itself.
	offline(t, door, true)
	run(t, door, "the page knows it is offline", chromedp.WaitVisible(css(`[data-testid="door-offline"]`)))
	scan("scan offline", code(1))
	run(t, door, "green offline", chromedp.Poll[chromedp.Void](`document.querySelector('[data-door-answer] [data-testid="door-ok"]') !== null`))
	scan("scan offline again", code(1))
	run(t, door, "red offline", chromedp.Poll[chromedp.Void](`document.querySelector('[data-door-answer] [data-reason="already_checked_in"]') !== null`))
	scan("a forged code offline", code(2)[:len(code(2))-4]+"AAAA")
	run(t, door, "red for a forged code", chromedp.Poll[chromedp.Void](`document.querySelector('[data-door-answer] [data-reason="invalid_code"]') !== null`))
	if waiting := text(t, door, `[data-testid="door-waiting"]`); waiting != "1" {
		t.Errorf("%s scans waiting offline, want 1", waiting)
	}
	shot(t, door, "door-04-offline")
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM checkins WHERE ticket_id = $1`, tickets[1]); n != 0 {
		t.Fatalf("an offline scan reached the server")
	}
	// Back online: the scan is sent.
	offline(t, door, false)
	for deadline := time.Now().Add(30 * time.Second); dbtest.Int(t, pool, `SELECT count(*) FROM checkins WHERE ticket_id = $1`, tickets[1]) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the offline scan was not sent when the network came back")
		}
	}
}
