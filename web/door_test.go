package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app/ticket"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// At the door each ticket gets in once, however many gates scan it at
// the same instant; forged, expired and refunded tickets do not; only the
// event's door staff, organiser and admins may scan.
func TestCheckInAtTheDoor(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	org := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	_, created := postSeatMap(t, ts.URL, org, venue.Example)
	_, ev := api(t, "POST", ts.URL+"/api/v1/manage/events", org, map[string]any{"venue_id": created["id"], "name": "Door Night",
		"type": "concert", "starts_at": "2099-05-01T20:00", "prices": []map[string]any{{"price": 2000, "sections": []string{"Balcony"}}}})
	eventID := int64(ev["id"].(float64))
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/publish", ts.URL, eventID), org, nil)
	tickets := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE event_id = $1 ORDER BY id`, eventID)
	fan := signUp(t, ts.URL, "fan@example.com")
	buy := func(ids []int64) int64 {
		t.Helper()
		_, held := api(t, "POST", ts.URL+"/api/v1/bookings", fan, map[string]any{"ticket_ids": ids})
		if code, _ := api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%v/pay", ts.URL, held["id"]), fan, map[string]string{"payment_method": "pm_card_visa"}); code != 200 {
			t.Fatalf("pay: %d", code)
		}
		return int64(held["id"].(float64))
	}
	paid := buy(append(append([]int64{}, tickets[:3]...), tickets[4:6]...))
	refunded := buy(tickets[3:4])
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/bookings/%d/refund", ts.URL, refunded), org, nil)

	keys, err := ticket.Load(context.Background(), pool, "")
	if err != nil {
		t.Fatal(err)
	}
	now := ticket.WindowAt(time.Now())
	scan := func(token, code, gate string) (int, map[string]any) {
		return api(t, "POST", ts.URL+"/api/v1/manage/checkins", token, map[string]string{"code": code, "gate": gate})
	}
	code, in := scan(org, keys.Code(tickets[0], paid, eventID, now), "North")
	if code != 200 || in["section"] != "Balcony" || in["row"] != "A" || in["seat"] != float64(1) || in["name"] != "Fan" {
		t.Fatalf("the first scan: %d %v", code, in)
	}
	code, again := scan(org, keys.Code(tickets[0], paid, eventID, now), "South")
	if e, _ := again["error"].(map[string]any); code != http.StatusConflict || e["code"] != "already_checked_in" || e["gate"] != "North" {
		t.Errorf("the second scan: %d %v", code, again)
	}

	// Twenty gates at once, one ticket: one is let in.
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[int]int{}
	for range 20 {
		wg.Go(func() {
			c, _, err := tryAPI("POST", ts.URL+"/api/v1/manage/checkins", org, map[string]string{"code": keys.Code(tickets[1], paid, eventID, now), "gate": "race"})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			results[c]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if results[200] != 1 || results[409] != 19 {
		t.Errorf("20 scans of one ticket at once: %v, want one 200 and nineteen 409", results)
	}

	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	other, err := ticket.Load(context.Background(), nil, base64.StdEncoding.EncodeToString(stranger.Seed()))
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]string{
		"forged":    other.Code(tickets[2], paid, eventID, now),
		"expired":   keys.Code(tickets[2], paid, eventID, now-2),
		"malformed": "BX1.nonsense",
	} {
		if code, body := scan(org, c, ""); code != http.StatusUnprocessableEntity || body["error"].(map[string]any)["code"] != "invalid_code" {
			t.Errorf("a %s code: %d %v", name, code, body)
		}
	}
	if code, body := scan(org, keys.Code(tickets[3], refunded, eventID, now), ""); code != http.StatusConflict || body["error"].(map[string]any)["code"] != "not_valid" {
		t.Errorf("a refunded ticket: %d %v", code, body)
	}
	// The refunded seat sold again: the first buyer's printed code stays
	// refused, the new buyer's gets in.
	_, again2 := api(t, "POST", ts.URL+"/api/v1/bookings", fan, map[string]any{"ticket_ids": tickets[3:4]})
	resold := int64(again2["id"].(float64))
	api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", ts.URL, resold), fan, map[string]string{"payment_method": "pm_card_visa"})
	if code, body := scan(org, keys.Code(tickets[3], refunded, eventID, ticket.Printed), ""); code != http.StatusConflict || body["error"].(map[string]any)["code"] != "not_valid" {
		t.Errorf("the refunded booking's printed code after the seat was sold again: %d %v", code, body)
	}
	if code, body := scan(org, keys.Code(tickets[3], resold, eventID, now), ""); code != 200 {
		t.Errorf("the new buyer's code: %d %v", code, body)
	}

	// A fan is not door staff, until the organiser says so.
	doorman := signUp(t, ts.URL, "door@example.com")
	if code, body := scan(doorman, keys.Code(tickets[2], paid, eventID, now), ""); code != http.StatusForbidden {
		t.Errorf("someone who is not door staff scans: %d %v", code, body)
	}
	if code, body := api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/staff", ts.URL, eventID), org, map[string]string{"email": "door@example.com"}); code != 200 {
		t.Fatalf("make door staff: %d %v", code, body)
	}
	// The organiser's page lists the door staff.
	if _, page := browserWith(t, ts.URL, org).get(fmt.Sprintf("/manage/events/%d", eventID)); !strings.Contains(page.Find(`[data-testid="door-staff"]`).Text(), "door@example.com") {
		t.Error("the event's page does not list its door staff")
	}
	// The door page, as the staff see it: green, then red for the same ticket.
	door := browserWith(t, ts.URL, doorman)
	_, page := door.get(fmt.Sprintf("/manage/events/%d/checkin", eventID))
	_, page = door.submit(page, `form[data-testid="door-form"]`, url.Values{"code": {keys.Code(tickets[2], paid, eventID, ticket.Printed)}, "gate": {"East"}})
	if page.Find(`[data-testid="door-ok"]`).Length() != 1 || page.Find(`[data-testid="door-in"]`).Text() != "4" {
		t.Errorf("the door page after a good scan: ok %d, in %q", page.Find(`[data-testid="door-ok"]`).Length(), page.Find(`[data-testid="door-in"]`).Text())
	}
	res, page := door.submit(page, `form[data-testid="door-form"]`, url.Values{"code": {keys.Code(tickets[2], paid, eventID, ticket.Printed)}})
	if res.StatusCode != http.StatusConflict || page.Find(`[data-testid="door-refused"]`).AttrOr("data-reason", "") != "already_checked_in" {
		t.Errorf("the door page after a second scan: %d %q", res.StatusCode, page.Find(`[data-testid="door-refused"]`).AttrOr("data-reason", ""))
	}
	// Door staff who speak Spanish are told why in Spanish.
	door.get(fmt.Sprintf("/manage/events/%d/checkin?lang=es", eventID))
	_, page = door.submit(page, `form[data-testid="door-form"]`, url.Values{"code": {other.Code(tickets[2], paid, eventID, now)}})
	if got := page.Find(`[data-testid="door-refused"]`).Text(); !strings.Contains(got, "El código es falso: no lo ha firmado esta taquilla.") {
		t.Errorf("a forged code on the door page in Spanish: %q", got)
	}
	if _, sales := api(t, "GET", fmt.Sprintf("%s/api/v1/manage/events/%d/sales", ts.URL, eventID), org, nil); sales["sections"].([]any)[0].(map[string]any)["checked_in"] != float64(4) {
		t.Errorf("the sales page's check-ins: %v", sales["sections"])
	}
	if res, _ := browserWith(t, ts.URL, fan).get(fmt.Sprintf("/manage/events/%d/checkin", eventID)); res.StatusCode != http.StatusNotFound {
		t.Errorf("a fan opens the door page: %d", res.StatusCode)
	}
	// Taken off the door, the staff can no longer scan.
	if code, _ := api(t, "DELETE", fmt.Sprintf("%s/api/v1/manage/events/%d/staff", ts.URL, eventID), org, map[string]string{"email": "door@example.com"}); code != http.StatusNoContent {
		t.Errorf("take door staff off: %d", code)
	}
	if code, _ := scan(doorman, keys.Code(tickets[5], paid, eventID, now), ""); code != http.StatusForbidden {
		t.Errorf("former door staff scans: %d, want 403", code)
	}
	// At another event's door the ticket is refused, and not used up.
	if code, body := api(t, "POST", ts.URL+"/api/v1/manage/checkins", org, map[string]any{"code": keys.Code(tickets[5], paid, eventID, now), "event_id": eventID + 1}); code != http.StatusConflict || body["error"].(map[string]any)["code"] != "not_valid" {
		t.Errorf("a ticket at another event's door: %d %v", code, body)
	}
	// A gate's name is kept clean, whatever is sent.
	if code, body := scan(org, keys.Code(tickets[4], paid, eventID, now), "Eingang S\u00fcd\x00"+strings.Repeat("\u00fc", 300)); code >= 500 {
		t.Errorf("a gate with a NUL and 300 umlauts: %d %v", code, body)
	}
	// A seat checked in, refunded and sold again gets in for its new buyer.
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/bookings/%d/refund", ts.URL, paid), org, nil)
	_, again3 := api(t, "POST", ts.URL+"/api/v1/bookings", fan, map[string]any{"ticket_ids": tickets[:1]})
	rebought := int64(again3["id"].(float64))
	api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", ts.URL, rebought), fan, map[string]string{"payment_method": "pm_card_visa"})
	if code, body := scan(org, keys.Code(tickets[0], rebought, eventID, now), "North"); code != 200 {
		t.Errorf("the seat's new buyer, after its first buyer got in and was refunded: %d %v", code, body)
	}
}

// A paid booking prints with codes that do not turn (a printed code is
// good at any time; check-in lets it in once), and the event goes into a
// calendar as an iCalendar file.
func TestPrintedTicketsAndCalendar(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	eventID, tickets := smallEvent(t, pool, 4)
	dbtest.Exec(t, pool, `UPDATE events SET name = 'Night, with; commas' WHERE id = $1`, eventID)
	token := signUp(t, ts.URL, "fan@example.com")
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:2]})
	id := int64(held["id"].(float64))
	fan := browserWith(t, ts.URL, token)
	if res, _ := fan.get(fmt.Sprintf("/bookings/%d/print", id)); res.StatusCode != http.StatusSeeOther {
		t.Errorf("printing an unpaid hold: %d, want back to the booking", res.StatusCode)
	}
	api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", ts.URL, id), token, map[string]string{"payment_method": "pm_card_visa"})
	keys, err := ticket.Load(context.Background(), pool, "")
	if err != nil {
		t.Fatal(err)
	}
	_, page := fan.get(fmt.Sprintf("/bookings/%d/print", id))
	printed := page.Find(`[data-testid="printed-ticket"]`)
	want, _ := ticket.QRSVG(keys.Code(tickets[0], id, eventID, ticket.Printed), "")
	got, _ := printed.First().Find(".ticket-qr").Html()
	pathOf := func(svg string) string {
		i := strings.Index(svg, ` d="`)
		return svg[i : i+strings.Index(svg[i+4:], `"`)+4]
	}
	if printed.Length() != 2 || pathOf(got) != pathOf(want) {
		t.Errorf("%d printed tickets; the first's code is the printed one: %v", printed.Length(), pathOf(got) == pathOf(want))
	}
	res, err := http.Get(fmt.Sprintf("%s/event/%d/calendar.ics", ts.URL, eventID))
	if err != nil {
		t.Fatal(err)
	}
	ics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "BEGIN:VEVENT\r\n", `SUMMARY:Night\, with\; commas`, "DTSTART:2", "Z\r\n", "END:VCALENDAR\r\n"} {
		if !strings.Contains(string(ics), want) {
			t.Errorf("the calendar file lacks %q:\n%s", want, ics)
		}
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
		t.Errorf("calendar content type %q", res.Header.Get("Content-Type"))
	}
}

// Offline gates: each keeps the key and the revoked bookings, and sends
// its scans when back. Of two scans of one ticket at two gates, the
// earlier wins, whichever syncs first; scans are checked as at their own
// time; sending the same scans twice changes nothing.
func TestOfflineGatesSync(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	org := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	_, created := postSeatMap(t, ts.URL, org, venue.Example)
	_, ev := api(t, "POST", ts.URL+"/api/v1/manage/events", org, map[string]any{"venue_id": created["id"], "name": "Offline Night",
		"type": "concert", "starts_at": "2099-05-01T20:00", "prices": []map[string]any{{"price": 2000, "sections": []string{"Balcony"}}}})
	eventID := int64(ev["id"].(float64))
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/events/%d/publish", ts.URL, eventID), org, nil)
	tickets := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE event_id = $1 ORDER BY id`, eventID)
	fan := signUp(t, ts.URL, "fan@example.com")
	buy := func(ids []int64) int64 {
		t.Helper()
		_, held := api(t, "POST", ts.URL+"/api/v1/bookings", fan, map[string]any{"ticket_ids": ids})
		api(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%v/pay", ts.URL, held["id"]), fan, map[string]string{"payment_method": "pm_card_visa"})
		return int64(held["id"].(float64))
	}
	paid, refunded := buy(tickets[:2]), buy(tickets[2:3])
	api(t, "POST", fmt.Sprintf("%s/api/v1/manage/bookings/%d/refund", ts.URL, refunded), org, nil)

	_, gate := api(t, "GET", fmt.Sprintf("%s/api/v1/manage/events/%d/gate", ts.URL, eventID), org, nil)
	if fmt.Sprint(gate["revoked_bookings"]) != fmt.Sprint([]any{float64(refunded)}) || gate["public_key"] == "" || gate["window_s"] != float64(30) {
		t.Errorf("the gate's data: %v", gate)
	}
	keys, err := ticket.Load(context.Background(), pool, "")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	code := func(i int, booking int64, when time.Time) string {
		return keys.Code(tickets[i], booking, eventID, ticket.WindowAt(when))
	}
	sync := func(gate string, scans ...map[string]any) []any {
		t.Helper()
		c, out := api(t, "POST", ts.URL+"/api/v1/manage/checkins/sync", org, map[string]any{"gate": gate, "scans": scans})
		if c != 200 {
			t.Fatalf("sync from %s: %d %v", gate, c, out)
		}
		return out["results"].([]any)
	}
	scan := func(c string, when time.Time) map[string]any {
		return map[string]any{"code": c, "at": when.UTC().Format(time.RFC3339)}
	}
	result := func(r any) string { return r.(map[string]any)["result"].(string) }

	// Gate B scanned ticket 0 ten seconds after gate A did, but syncs first.
	b := sync("B", scan(code(0, paid, at.Add(10*time.Second)), at.Add(10*time.Second)), scan(code(2, refunded, at), at))
	if result(b[0]) != "admitted" || result(b[1]) != "not_valid" {
		t.Errorf("gate B's sync: %v", b)
	}
	a := sync("A", scan(code(0, paid, at), at), scan(code(1, paid, at), at.Add(2*time.Minute)))
	if result(a[0]) != "admitted" || result(a[1]) != "invalid_code" {
		t.Errorf("gate A's sync (the earlier scan of ticket 0; a code scanned two minutes after it was made): %v", a)
	}
	again := sync("B", scan(code(0, paid, at.Add(10*time.Second)), at.Add(10*time.Second)))
	if r := again[0].(map[string]any); r["result"] != "duplicate" || r["first_gate"] != "A" {
		t.Errorf("gate B's scan once A's earlier one is in: %v", r)
	}
	if twice := sync("A", scan(code(0, paid, at), at)); result(twice[0]) != "admitted" {
		t.Errorf("gate A sending the same scan again: %v", twice)
	}
	// A check-in timed by the server is never moved by an offline claim
	// of an earlier scan.
	if code, body := api(t, "POST", ts.URL+"/api/v1/manage/checkins", org, map[string]any{"code": code(1, paid, time.Now()), "gate": "Online"}); code != 200 {
		t.Fatalf("an online scan: %d %v", code, body)
	}
	if claim := sync("C", scan(code(1, paid, at), at)); result(claim[0]) != "duplicate" || claim[0].(map[string]any)["first_gate"] != "Online" {
		t.Errorf("an offline claim of an earlier scan than an online check-in: %v", claim)
	}
	if stale := sync("C", scan(code(0, paid, time.Now().Add(-13*time.Hour)), time.Now().Add(-13*time.Hour))); result(stale[0]) != "invalid_code" {
		t.Errorf("a scan claimed 13 hours ago: %v", stale)
	}
	var gateOf string
	dbtest.QueryRow(t, pool, `SELECT gate FROM checkins WHERE ticket_id = $1`, tickets[0]).Scan(&gateOf)
	if gateOf != "A" || dbtest.Int(t, pool, `SELECT count(*) FROM checkins`) != 2 {
		t.Errorf("check-ins after the syncs: ticket 0 at gate %q, %d in all", gateOf, dbtest.Int(t, pool, `SELECT count(*) FROM checkins`))
	}
}
