package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/mail/mailtest"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/db/embedded"
)

// client is a fan's API client for the reliability tests; short timeouts,
// because a request to a dead process must not hold a test up.
var client = &http.Client{Timeout: 30 * time.Second}

// call sends a JSON request and decodes the answer; a transport error (the
// server died) is status 0.
func call(method, url, token string, body any) (int, map[string]any, time.Duration) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	began := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, time.Since(began)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, time.Since(began)
}

// waitFor polls cond until it holds or within has passed, and says
// whether it held: tests wait for what they need, not for a fixed time.
func waitFor(within time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(within); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// fanTokens signs n new fans up and in.
func fanTokens(t *testing.T, base string, n int) []string {
	t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = fanToken(t, base, i)
	}
	return tokens
}

// fanToken signs a new fan up and in.
func fanToken(t *testing.T, base string, n int) string {
	t.Helper()
	email := fmt.Sprintf("fan%d-%d@example.com", n, rand.Int64())
	creds := map[string]string{"email": email, "password": "correct horse battery"}
	if code, body, _ := call("POST", base+"/api/v1/users", "", creds); code != http.StatusCreated {
		t.Fatalf("sign up: %d %v", code, body)
	}
	code, body, _ := call("POST", base+"/api/v1/sessions", "", creds)
	if code != http.StatusCreated {
		t.Fatalf("log in: %d %v", code, body)
	}
	return body["token"].(string)
}

// availableTickets finds an event of the demo catalogue with at least n
// seats for sale and returns its id and their ticket ids.
func availableTickets(t *testing.T, base string, n int) (int64, []int64) {
	t.Helper()
	_, found, _ := call("GET", base+"/api/v1/search?type=concert&per_page=50", "", nil)
	results, _ := found["results"].([]any)
	for _, r := range results {
		id := int64(r.(map[string]any)["id"].(float64))
		_, body, _ := call("GET", fmt.Sprintf("%s/api/v1/events/%d/tickets?status=available", base, id), "", nil)
		tickets, _ := body["tickets"].([]any)
		if len(tickets) < n {
			continue
		}
		ids := make([]int64, len(tickets))
		for i, tk := range tickets {
			ids[i] = int64(tk.(map[string]any)["id"].(float64))
		}
		return id, ids
	}
	t.Fatalf("no concert with %d seats for sale among %d results", n, len(results))
	return 0, nil
}

// openCluster opens the embedded database of a stopped Boxoffice.
func openCluster(t *testing.T, dir string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	c, err := embedded.Start(ctx, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	pool, err := db.NewPool(ctx, c.URL(db.DatabaseName), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestCrashDuringBookingLosesNothing kills Boxoffice with SIGKILL while
// fans hold and pay, starts it again on the same database, and checks that
// every booking a fan was told is confirmed is there with its seats sold,
// that nothing is half-written, that every held seat comes free when its
// hold ends, and that fans whose requests were cut off can carry on.
func TestCrashDuringBookingLosesNothing(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	// Holds outlast any run of this test, so a hold cut off by the crash is
	// still its fan's when they pay again.
	const holdTTL = 10 * time.Minute
	env := []string{"BOXOFFICE_DATA_DIR=" + dir, "BOXOFFICE_HOLD_TTL=" + holdTTL.String(), "BOXOFFICE_BOOKING_RATE=off"}
	first := start(t, nil, env...)
	eventID, tickets := availableTickets(t, first.url, 200)

	const fans = 16
	tokens := fanTokens(t, first.url, fans)

	// What the fans were told, and what they never heard back about.
	var mu sync.Mutex
	confirmed := map[int64]int{} // booking → its owner
	pending := map[int64]int{}
	var requests, cut atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range fans {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				pick := []int64{tickets[rand.IntN(len(tickets))]}
				if rand.IntN(2) == 0 {
					pick = append(pick, tickets[rand.IntN(len(tickets))])
				}
				requests.Add(1)
				code, held, _ := call("POST", first.url+"/api/v1/bookings", tokens[i], map[string]any{"ticket_ids": pick})
				if code == 0 {
					cut.Add(1)
					return
				}
				if code != http.StatusCreated {
					continue // taken or listed twice: pick again
				}
				id := int64(held["id"].(float64))
				mu.Lock()
				pending[id] = i
				mu.Unlock()
				if rand.IntN(4) == 0 {
					continue // walks away: the hold runs out
				}
				requests.Add(1)
				code, paid, _ := call("POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", first.url, id), tokens[i], map[string]string{"payment_method": "pm_card_visa"})
				if code == 0 {
					cut.Add(1)
					return
				}
				if code == http.StatusOK && paid["status"] == "confirmed" {
					mu.Lock()
					delete(pending, id)
					confirmed[id] = i
					mu.Unlock()
				}
			}
		})
	}
	// Crash once the fans have been told of enough confirmed bookings and
	// still hold enough seats for the checks below to mean something,
	// however long that takes on a busy machine.
	const wantConfirmed, wantHeld = 50, 10
	began := time.Now()
	var atKill string
	enough := waitFor(2*time.Minute, func() bool {
		mu.Lock()
		defer mu.Unlock()
		atKill = fmt.Sprintf("%d bookings confirmed and %d held after %d requests", len(confirmed), len(pending), requests.Load())
		return len(confirmed) >= wantConfirmed && len(pending) >= wantHeld
	})
	killedAt := time.Now()
	first.kill()
	close(stop)
	wg.Wait()
	if !enough {
		t.Fatalf("after %s only %s; want at least %d confirmed and %d held before the crash, or the test proves nothing\n%s",
			killedAt.Sub(began).Round(time.Second), atKill, wantConfirmed, wantHeld, first.logs)
	}
	t.Logf("killed after %s with %s; %d requests cut off", killedAt.Sub(began).Round(time.Millisecond), atKill, cut.Load())

	second := start(t, nil, env...)
	for id, fan := range confirmed {
		code, b, _ := call("GET", fmt.Sprintf("%s/api/v1/bookings/%d", second.url, id), tokens[fan], nil)
		if code != http.StatusOK || b["status"] != "confirmed" {
			t.Errorf("booking %d was confirmed before the crash; after it: %d %v", id, code, b)
		}
	}
	// A fan whose payment was cut off pays again; the hold is still theirs.
	retried := 0
	for id, fan := range pending {
		code, b, _ := call("POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", second.url, id), tokens[fan], map[string]string{"payment_method": "pm_card_visa"})
		switch {
		case code == http.StatusOK && b["status"] == "confirmed":
			retried++
			confirmed[id] = fan
		case code == http.StatusConflict: // paid before the crash after all, or its hold was lost
		default:
			t.Errorf("paying booking %d again after the crash: %d %v", id, code, b)
		}
	}
	t.Logf("after the restart %d held bookings were paid", retried)
	second.stop(t)

	pool := openCluster(t, dir)
	ctx := context.Background()
	counts, err := booking.CheckInvariant(ctx, pool, []int64{eventID})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range booking.Checks {
		if counts[name] != 0 {
			t.Errorf("after the crash: %s = %d", name, counts[name])
		}
	}
	for name, sql := range map[string]string{
		"bookings without tickets": `SELECT count(*) FROM bookings b WHERE event_id = $1 AND NOT EXISTS (SELECT 1 FROM booking_tickets WHERE booking_id = b.id)`,
		"seats taken by a booking that does not list them": `SELECT count(*) FROM tickets t WHERE event_id = $1 AND booking_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM booking_tickets WHERE booking_id = t.booking_id AND ticket_id = t.id)`,
		"pending bookings holding none of their seats": `SELECT count(*) FROM bookings b WHERE event_id = $1 AND status = 'pending' AND expires_at > now()
			AND NOT EXISTS (SELECT 1 FROM tickets WHERE booking_id = b.id)`,
	} {
		if n := dbtest.Int(t, pool, sql, eventID); n != 0 {
			t.Errorf("half-written after the crash: %d %s", n, name)
		}
	}
	for id := range confirmed {
		var sold, listed int
		dbtest.QueryRow(t, pool, `SELECT count(*) FILTER (WHERE t.status = 'sold' AND t.booking_id = $1), count(*)
			FROM booking_tickets bt JOIN tickets t ON t.id = bt.ticket_id WHERE bt.booking_id = $1`, id).Scan(&sold, &listed)
		if listed == 0 || sold != listed {
			t.Errorf("confirmed booking %d has %d of its %d seats sold", id, sold, listed)
		}
	}

	// No seat is stuck: once the longest hold has run out, sweeping frees
	// every seat that is not sold.
	later := killedAt.Add(holdTTL + time.Second) // every hold was placed before the kill
	sweeper := booking.NewService(pool, payment.NewDemo(), booking.Config{HoldTTL: holdTTL, MaxTickets: 8},
		func() time.Time { return later }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := sweeper.SweepExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if stuck := dbtest.Int(t, pool, `SELECT count(*) FROM tickets WHERE event_id = $1 AND status = 'reserved'`, eventID); stuck != 0 {
		t.Errorf("%d seats still held after every hold ran out", stuck)
	}
}

// outcome is one request made during TestDatabaseRestartUnderLoad.
type outcome struct {
	at      time.Time
	kind    string
	code    int
	latency time.Duration
}

// TestDatabaseRestartUnderLoad stops PostgreSQL for a few seconds while
// fans browse, hold and cancel, then starts it again. During the outage
// /readyz says not ready and requests fail fast with 503 (no 500s, no
// hangs); afterwards Boxoffice recovers by itself.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cluster, err := embedded.Start(ctx, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.CreateDatabase(ctx, db.DatabaseName); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop() })
	in := start(t, nil, "DATABASE_URL="+cluster.URL(db.DatabaseName), "BOXOFFICE_BOOKING_RATE=off", "BOXOFFICE_SEARCH_RATE=off")
	eventID, tickets := availableTickets(t, in.url, 50)
	const fans = 8
	tokens := fanTokens(t, in.url, fans)

	var mu sync.Mutex
	var outcomes []outcome
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range fans {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var kind string
				var code int
				var took time.Duration
				switch rand.IntN(5) {
				case 0:
					kind = "readyz"
					code, _, took = call("GET", in.url+"/readyz", "", nil)
				case 1:
					kind = "my bookings"
					code, _, took = call("GET", in.url+"/api/v1/bookings", tokens[i], nil)
				case 2:
					kind = "search"
					code, _, took = call("GET", in.url+"/api/v1/search?q=rock&page="+fmt.Sprint(1+rand.IntN(3)), "", nil)
				case 3:
					kind = "tickets"
					code, _, took = call("GET", fmt.Sprintf("%s/api/v1/events/%d/tickets?status=available", in.url, eventID), "", nil)
				default:
					kind = "hold"
					var held map[string]any
					code, held, took = call("POST", in.url+"/api/v1/bookings", tokens[i], map[string]any{"ticket_ids": []int64{tickets[rand.IntN(len(tickets))]}})
					if code == http.StatusCreated {
						// Timed before the cancellation, which would
						// otherwise make the hold look later than it was.
						done := time.Now()
						call("DELETE", fmt.Sprintf("%s/api/v1/bookings/%d", in.url, int64(held["id"].(float64))), tokens[i], nil)
						mu.Lock()
						outcomes = append(outcomes, outcome{done.Add(-took), kind, code, took})
						mu.Unlock()
						continue
					}
				}
				mu.Lock()
				outcomes = append(outcomes, outcome{time.Now().Add(-took), kind, code, took})
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}

	finish := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer finish()
	// answered counts the requests sent after since whose answer ok accepts.
	answered := func(since time.Time, ok func(outcome) bool) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, o := range outcomes {
			if o.at.After(since) && ok(o) {
				n++
			}
		}
		return n
	}
	all := func(outcome) bool { return true }

	// The fans are being served, holds included, before the outage.
	if !waitFor(time.Minute, func() bool {
		return answered(time.Time{}, all) >= 20 && answered(time.Time{}, func(o outcome) bool { return o.code == http.StatusCreated }) > 0
	}) {
		t.Fatalf("fans not served a minute after the start: %d answers\n%s", answered(time.Time{}, all), in.logs)
	}
	down := time.Now()
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	// PostgreSQL stays down a few seconds, and until fans have had twenty
	// answers meanwhile (checked below; a minute without them is a failure).
	waitFor(time.Minute, func() bool { return time.Since(stopped) >= 4*time.Second && answered(stopped, all) >= 20 })
	restarted := time.Now()
	if cluster, err = embedded.Start(ctx, dir, quiet); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	// Recovery: the first ready answer and the first hold after the server is up.
	var ready, held time.Time
	for deadline := up.Add(30 * time.Second); (ready.IsZero() || held.IsZero()) && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		for _, o := range outcomes {
			if o.at.After(up) && o.code == http.StatusOK && o.kind == "readyz" && ready.IsZero() {
				ready = o.at.Add(o.latency)
			}
			if o.at.After(up) && o.code == http.StatusCreated && held.IsZero() {
				held = o.at.Add(o.latency)
			}
		}
		mu.Unlock()
	}
	if !ready.IsZero() && !held.IsZero() {
		// A few more answers from the recovered server, for the checks below.
		waitFor(30*time.Second, func() bool { return answered(held, all) >= 20 })
	}
	finish()

	if ready.IsZero() || held.IsZero() {
		t.Fatalf("not recovered 30 s after PostgreSQL came back (ready %v, held %v)\n%s", ready, held, in.logs)
	}
	var during, failedFast, servedFromMemory int
	var slowest time.Duration
	byKind := map[string]map[int]int{}
	for _, o := range outcomes {
		if byKind[o.kind] == nil {
			byKind[o.kind] = map[int]int{}
		}
		byKind[o.kind][o.code]++
		if o.code == 0 || (o.code >= 500 && o.code != http.StatusServiceUnavailable) {
			t.Errorf("%s at %s: %d", o.kind, o.at.Sub(down).Round(time.Millisecond), o.code)
		}
		// Requests sent while the server was down and not starting.
		if o.at.After(stopped) && o.at.Add(o.latency).Before(restarted) {
			during++
			slowest = max(slowest, o.latency)
			switch {
			case o.code == http.StatusServiceUnavailable:
				failedFast++
			case o.kind == "tickets" && o.code == http.StatusOK:
				// Served from the live model: nothing can change while
				// the database is down, so what it shows is still true.
				servedFromMemory++
			default:
				t.Errorf("%s during the outage: %d, want 503", o.kind, o.code)
			}
		}
	}
	if during < 20 {
		t.Errorf("only %d requests during the outage", during)
	}
	if slowest > 10*time.Second {
		t.Errorf("a request waited %s during the outage", slowest)
	}
	t.Logf("outage: stopping took %s, down %s; %d requests during it: %d answered 503, %d seat lists from memory, slowest %s",
		stopped.Sub(down).Round(time.Millisecond), restarted.Sub(stopped).Round(time.Millisecond), during, failedFast, servedFromMemory, slowest.Round(time.Millisecond))
	t.Logf("recovery after PostgreSQL accepted connections again: ready in %s, first hold in %s; all requests by kind and status: %v",
		ready.Sub(up).Round(time.Millisecond), held.Sub(up).Round(time.Millisecond), byKind)
}

// TestEmbeddedPostgresComesBack kills the embedded PostgreSQL under a
// running Boxoffice, as the kernel's OOM killer might: Boxoffice starts it
// again and serves as before.
func TestEmbeddedPostgresComesBack(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	in := start(t, nil, "BOXOFFICE_DATA_DIR="+dir, "BOXOFFICE_DEMO_DATA=false")
	token := fanToken(t, in.url, 0)
	pgdata := filepath.Join(dir, "pgdata")
	postmaster := postmasterPID(pgdata)
	if postmaster == 0 {
		t.Fatal("no postmaster.pid")
	}
	killed := time.Now()
	syscall.Kill(postmaster, syscall.SIGKILL)
	if !waitExit(postmaster, 10*time.Second) {
		t.Fatalf("PostgreSQL (pid %d) still running 10 s after SIGKILL", postmaster)
	}

	var sawDown bool
	var back time.Duration
	for back == 0 && time.Since(killed) < time.Minute {
		switch code, _ := in.get(t, "/readyz"); code {
		case http.StatusServiceUnavailable:
			sawDown = true
		case http.StatusOK:
			if p := postmasterPID(pgdata); p != 0 && p != postmaster {
				back = time.Since(killed)
			}
		default:
			t.Fatalf("/readyz = %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if back == 0 {
		t.Fatalf("PostgreSQL not back a minute after it was killed\n%s", in.logs)
	}
	if code, body, _ := call("GET", in.url+"/api/v1/bookings", token, nil); code != http.StatusOK {
		t.Errorf("the fan's bookings after the restart: %d %v", code, body)
	}
	t.Logf("PostgreSQL killed; ready again after %s (saw not ready: %v)", back.Round(time.Millisecond), sawDown)
	in.stop(t)
	if left := serverProcesses(t, pgdata); len(left) > 0 {
		t.Errorf("PostgreSQL processes left behind: %v", left)
	}
}

// TestCrashKeepsTheWaitingRoom kills Boxoffice with SIGKILL while fans
// wait in an on-sale's room and some shop, starts it again on the same
// database, and checks that every fan keeps their place and every admitted
// fan their window, and that admission goes on.
func TestCrashKeepsTheWaitingRoom(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t, false)
	env := []string{"DATABASE_URL=" + url, "BOXOFFICE_BOOKING_RATE=off", "BOXOFFICE_SEARCH_RATE=off", "BOXOFFICE_QUEUE_RATE=60"}
	first := start(t, nil, env...)
	eventID, tickets := availableTickets(t, first.url, 20)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(context.Background(), `UPDATE events SET queue = 'always' WHERE id = $1`, eventID); err != nil {
		t.Fatal(err)
	}
	const fans = 12
	tokens := fanTokens(t, first.url, fans)
	room := fmt.Sprintf("%s/api/v1/events/%d/queue", first.url, eventID)
	for _, tok := range tokens {
		if code, body, _ := call("POST", room, tok, nil); code != http.StatusOK {
			t.Fatalf("join: %d %v", code, body)
		}
	}
	// One fan a second comes in: crash with some in and most waiting.
	places := make([]map[string]any, fans)
	look := func(base string) (admitted int) {
		for i, tok := range tokens {
			_, places[i], _ = call("GET", fmt.Sprintf("%s/api/v1/events/%d/queue", base, eventID), tok, nil)
			if places[i]["state"] == "admitted" {
				admitted++
			}
		}
		return admitted
	}
	if !waitFor(30*time.Second, func() bool { return look(first.url) >= 2 }) {
		t.Fatalf("nobody let in: %v", places)
	}
	before := make([]map[string]any, fans)
	copy(before, places)
	first.kill()

	second := start(t, nil, env...)
	look(second.url)
	for i := range fans {
		was, now := before[i], places[i]
		switch {
		case now["position"] != was["position"]:
			t.Errorf("fan %d was at %v, after the crash at %v", i, was["position"], now["position"])
		case was["state"] == "admitted" && (now["state"] != "admitted" || now["admitted_until"] != was["admitted_until"]):
			t.Errorf("fan %d was shopping until %v, after the crash %v until %v", i, was["admitted_until"], now["state"], now["admitted_until"])
		}
	}
	// The admitted keep shopping, and the others still come in.
	for i := range fans {
		if before[i]["state"] == "admitted" {
			if code, body, _ := call("POST", second.url+"/api/v1/bookings", tokens[i], map[string]any{"ticket_ids": tickets[i : i+1]}); code != http.StatusCreated {
				t.Errorf("an admitted fan holds after the crash: %d %v", code, body)
			}
			break
		}
	}
	if !waitFor(30*time.Second, func() bool { return look(second.url) == fans }) {
		t.Errorf("after the crash admission stopped: %v", places)
	}
}

// A confirmation written with a payment survives a crash before it goes
// out: Boxoffice is killed with SIGKILL while the SMTP server is down,
// and after a restart, with the server back, the message arrives, once,
// with the Message-ID it was written with.
func TestCrashBeforeMailGoesOut(t *testing.T) {
	t.Parallel()
	port := mailtest.FreePort(t) // the SMTP server is down at first
	url := dbtest.NewURL(t, false)
	env := []string{"DATABASE_URL=" + url, "BOXOFFICE_BOOKING_RATE=off", "BOXOFFICE_SEARCH_RATE=off", "BOXOFFICE_SMTP_URL=" + mailtest.SMTPURL(port)}
	mailtest.Path(t) // skip early without mailpit
	first := start(t, nil, env...)
	_, tickets := availableTickets(t, first.url, 1)
	token := fanToken(t, first.url, 1)
	code, held, _ := call("POST", first.url+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:1]})
	if code != http.StatusCreated {
		t.Fatalf("hold: %d %v", code, held)
	}
	if code, body, _ := call("POST", fmt.Sprintf("%s/api/v1/bookings/%v/pay", first.url, held["id"]), token, map[string]string{"payment_method": "pm_card_visa"}); code != 200 {
		t.Fatalf("pay: %d %v", code, body)
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tried := func() bool {
		var n int
		pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE kind = 'confirmation' AND last_error <> '' AND sent_at IS NULL`).Scan(&n)
		return n == 1
	}
	if !waitFor(60*time.Second, tried) { // tried, failed, and put off for a while
		t.Fatal("the confirmation was never tried")
	}
	first.kill()

	pit := mailtest.Start(t, port)
	second := start(t, nil, env...)
	defer second.stop(t)
	// Its next try comes after a backoff of seconds (or, had the kill
	// come between a claim and its failure, after the claim's two-minute
	// lease): wait for it.
	if !waitFor(3*time.Minute, func() bool { return len(pit.Messages(t)) > 0 }) {
		t.Fatal("after the restart the confirmation never arrived")
	}
	var messageID string
	if err := pool.QueryRow(context.Background(), `SELECT message_id FROM outbox WHERE kind = 'confirmation'`).Scan(&messageID); err != nil {
		t.Fatal(err)
	}
	if got := pit.Messages(t); len(got) != 1 || "<"+got[0].MessageID+">" != messageID {
		t.Errorf("arrived: %+v, want one with %s", got, messageID)
	}
}
