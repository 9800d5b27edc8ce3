package main

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/devcluster"
	"github.com/boxoffice/boxoffice/db/embedded"
)

// TestReadsOnAReplica runs the binary on a primary with a real streaming
// replica (DATABASE_READ_URL): event pages and search read the replica,
// holds and a fan's own bookings the primary. With the replica's replay
// paused, an event renamed on the primary keeps its old name on its page
// and in search, while a fan holds its seats and sees the booking at once;
// once replay resumes, the new name shows.
func TestReadsOnAReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	primary, err := embedded.Start(ctx, dataDir(t), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop() })
	if err := primary.CreateDatabase(ctx, db.DatabaseName); err != nil {
		t.Fatal(err)
	}
	replica, err := embedded.StartReplica(ctx, dataDir(t), primary.URL(db.DatabaseName), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { replica.Stop() })
	in := start(t, nil, "DATABASE_URL="+primary.URL(db.DatabaseName), "DATABASE_READ_URL="+replica.URL(db.DatabaseName),
		"BOXOFFICE_MAX_REPLICA_LAG=1h", "BOXOFFICE_BOOKING_RATE=off", "BOXOFFICE_SEARCH_RATE=off")

	var ready map[string]any
	if !waitFor(time.Minute, func() bool {
		_, ready, _ = call("GET", in.url+"/readyz", "", nil)
		return ready["reads"] == "1 of 1 replicas"
	}) {
		t.Fatalf("/readyz never said reads go to the replica: %v\n%s", ready, in.logs)
	}

	eventID, tickets := availableTickets(t, in.url, 1)
	onPrimary := openPool(t, primary.URL(db.DatabaseName))
	onReplica := openPool(t, replica.URL(db.DatabaseName))
	// Another event, whose page nobody has opened (so none is cached).
	var otherID int64
	if err := onPrimary.QueryRow(ctx, `SELECT id FROM events WHERE id <> $1 AND status = 'on_sale' AND queue = 'off' AND starts_at > now()
		AND coalesce(on_sale_at, '-infinity') <= now() ORDER BY id DESC LIMIT 1`, eventID).Scan(&otherID); err != nil {
		t.Fatal(err)
	}
	if _, err := onReplica.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	var oldName string
	if err := onPrimary.QueryRow(ctx, "SELECT name FROM events WHERE id = $1", otherID).Scan(&oldName); err != nil {
		t.Fatal(err)
	}
	const renamed = "Zyxwvut Renamed On The Primary"
	if _, err := onPrimary.Exec(ctx, "UPDATE events SET name = $1 WHERE id = $2", renamed, otherID); err != nil {
		t.Fatal(err)
	}
	page := func() string {
		code, body := in.get(t, fmt.Sprintf("/event/%d", otherID))
		if code != http.StatusOK {
			t.Fatalf("event page: %d", code)
		}
		return body
	}
	found := func() float64 {
		_, res, _ := call("GET", in.url+"/api/v1/search?q="+url.QueryEscape("Zyxwvut"), "", nil)
		n, _ := res["total"].(float64)
		return n
	}
	if p := page(); strings.Contains(p, renamed) || !strings.Contains(p, html.EscapeString(oldName)) || found() != 0 {
		t.Fatal("the event page or search read the primary while the replica is behind")
	}

	// A fan's hold and booking go to the primary: seen at once.
	token := fanToken(t, in.url, 0)
	code, held, _ := call("POST", in.url+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:1]})
	if code != http.StatusCreated {
		t.Fatalf("hold with the replica behind: %d %v", code, held)
	}
	if code, b, _ := call("GET", fmt.Sprintf("%s/api/v1/bookings/%d", in.url, int64(held["id"].(float64))), token, nil); code != http.StatusOK || b["status"] != "pending" {
		t.Fatalf("the fan's own booking, just made: %d %v", code, b)
	}

	// The live seat map of an event nobody has opened loads now, after a
	// hold the replica has not replayed: it must not load from there.
	var third, seat int64
	if err := onPrimary.QueryRow(ctx, `SELECT t.event_id, min(t.id) FROM tickets t JOIN events e ON e.id = t.event_id
		WHERE e.id NOT IN ($1, $2) AND e.status = 'on_sale' AND e.queue = 'off' AND e.starts_at > now()
		  AND coalesce(e.on_sale_at, '-infinity') <= now() AND t.status = 'available'
		  AND (SELECT count(*) FROM tickets x WHERE x.event_id = e.id) <= 2500
		GROUP BY t.event_id ORDER BY t.event_id LIMIT 1`, eventID, otherID).Scan(&third, &seat); err != nil {
		t.Fatal(err)
	}
	if code, b, _ := call("POST", in.url+"/api/v1/bookings", fanToken(t, in.url, 1), map[string]any{"ticket_ids": []int64{seat}}); code != http.StatusCreated {
		t.Fatalf("hold on the other event: %d %v", code, b)
	}
	_, list, _ := call("GET", fmt.Sprintf("%s/api/v1/events/%d/tickets?status=reserved", in.url, third), "", nil)
	if seats, _ := list["tickets"].([]any); len(seats) != 1 {
		t.Errorf("the seat map shows %d held seats of an event whose model loaded while the replica was behind, want 1: %v", len(seats), list)
	}

	if _, err := onReplica.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	if !waitFor(time.Minute, func() bool { return found() == 1 }) {
		t.Fatalf("search does not find the renamed event after the replica caught up")
	}
	if !strings.Contains(page(), renamed) && !waitFor(time.Minute, func() bool { return strings.Contains(page(), renamed) }) {
		t.Errorf("the event page keeps the old name after the replica caught up")
	}
}

func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := db.NewPool(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// startPgBouncer runs PgBouncer (Debian's package) in transaction pooling
// in front of the database at socketDir, on a free port, as the server's
// user when the tests run as root (it refuses root), until the test ends.
func startPgBouncer(t *testing.T, socketDir, database string) string {
	t.Helper()
	path, err := exec.LookPath("pgbouncer")
	if err != nil {
		path = "/usr/sbin/pgbouncer"
		if _, err := os.Stat(path); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("no pgbouncer: apt-get install pgbouncer")
			}
			t.Skip("no pgbouncer (apt-get install pgbouncer); skipping")
		}
	}
	addr := freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	dir := dataDir(t)
	ini := filepath.Join(dir, "pgbouncer.ini")
	config := fmt.Sprintf(`[databases]
%[1]s = host=%[2]s port=5432 dbname=%[1]s user=boxoffice

[pgbouncer]
listen_addr = %[3]s
listen_port = %[4]s
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = max_parallel_workers_per_gather
`, database, socketDir, host, port)
	if err := os.WriteFile(ini, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, ini)
	if os.Geteuid() == 0 {
		u, err := user.Lookup(embedded.ServerUserName)
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("pgbouncer:\n%s", logs)
		}
	})
	if !waitFor(30*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatalf("pgbouncer did not start:\n%s", logs)
	}
	return addr
}

// TestThroughPgBouncer runs the binary on a transaction-pooling PgBouncer
// (DATABASE_URL, with pgx's exec mode, which needs no prepared statements
// kept on a server connection) and the database itself for whole
// sessions (DATABASE_SESSION_URL): holds and payments go through
// PgBouncer, and the change feed's LISTEN through the session, so that a
// live seat map sees another fan's hold.
func TestThroughPgBouncer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	primary, err := embedded.Start(ctx, dataDir(t), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop() })
	if err := primary.CreateDatabase(ctx, db.DatabaseName); err != nil {
		t.Fatal(err)
	}
	bouncer := startPgBouncer(t, primary.DataDir(), db.DatabaseName)
	env := []string{"DATABASE_URL=postgres://boxoffice@" + bouncer + "/boxoffice?sslmode=disable&default_query_exec_mode=exec",
		"DATABASE_SESSION_URL=" + primary.URL(db.DatabaseName), "BOXOFFICE_BOOKING_RATE=off", "BOXOFFICE_SEARCH_RATE=off", "BOXOFFICE_SIGNUP_RATE=off"}
	in := start(t, nil, env...)
	other := start(t, nil, env...) // a second instance, whose hold the first hears of only through LISTEN

	eventID, tickets := availableTickets(t, in.url, 2)
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/events/%d/stream", in.url, eventID), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("stream: %v %v", res, err)
	}
	defer res.Body.Close()
	seen := make(chan struct{})
	// Held, or already sold: the stream sends at most four messages a second.
	held := []string{fmt.Sprintf(`"id":%d,"status":"reserved"`, tickets[0]), fmt.Sprintf(`"id":%d,"status":"sold"`, tickets[0])}
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "event: seats") {
				for sc.Scan() && sc.Text() != "" {
					if strings.Contains(sc.Text(), held[0]) || strings.Contains(sc.Text(), held[1]) {
						close(seen)
						return
					}
				}
			}
		}
	}()
	token := fanToken(t, other.url, 0)
	code, hold, _ := call("POST", other.url+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:1]})
	if code != http.StatusCreated {
		t.Fatalf("hold through PgBouncer: %d %v\n%s", code, hold, other.logs)
	}
	code, paid, _ := call("POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", other.url, int64(hold["id"].(float64))), token, map[string]string{"payment_method": "pm_card_visa"})
	if code != http.StatusOK || paid["status"] != "confirmed" {
		t.Fatalf("pay through PgBouncer: %d %v\n%s", code, paid, other.logs)
	}
	select {
	case <-seen:
	case <-time.After(10 * time.Second): // a quiet model checks in only after 30 s
		t.Fatalf("the live stream on one instance never showed a hold made on the other (LISTEN through the session URL)\n%s", in.logs)
	}
}

// outcome of one request of the scale-out test's load.
type attempt struct {
	at     time.Time
	method string
	code   int // 0: no answer
}

// TestScaleOutSurvivesAKill runs `boxoffice dev cluster`'s cluster: a
// primary and a streaming replica, PgBouncer, two instances behind nginx.
// Fans browse, hold and pay through nginx, and some wait in an event's
// waiting room. Mid-sale one instance is SIGKILLed and the replica
// stopped. Then: every booking a fan was told is confirmed is there with
// its seats, the invariant holds, the waiting room's places are as they
// were, the surviving instance's live seat map keeps updating, and the only
// failed requests are ones under way at the kill: holds and payments on
// the killed instance (nginx resends no POST it has sent), reads on the
// stopped replica; none before, none 5 s after.
func TestScaleOutSurvivesAKill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl, err := devcluster.Start(ctx, devcluster.Config{Dir: dataDir(t), Instances: 2, Binary: binary,
		Env: []string{"BOXOFFICE_BOOKING_RATE=off", "BOXOFFICE_SEARCH_RATE=off", "BOXOFFICE_SIGNUP_RATE=off"}})
	if err != nil {
		if strings.Contains(err.Error(), "is not installed") && os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	base := cl.URL
	eventID, tickets := availableTickets(t, base, 100)
	primary := openPool(t, cl.Primary.URL(db.DatabaseName))

	// A queued on-sale that opens in ten minutes, with fans waiting in it.
	var queued int64
	if err := primary.QueryRow(ctx, `UPDATE events SET queue = 'always', on_sale_at = now() + interval '10 minutes'
		WHERE id = (SELECT id FROM events WHERE id <> $1 AND status = 'on_sale' ORDER BY id DESC LIMIT 1) RETURNING id`, eventID).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	room := fmt.Sprintf("%s/api/v1/events/%d/queue", base, queued)
	waiting := fanTokens(t, base, 5)
	places := make([]float64, len(waiting))
	for i, tok := range waiting {
		code, body, _ := call("POST", room, tok, nil)
		if code != http.StatusOK {
			t.Fatalf("join the waiting room: %d %v", code, body)
		}
		places[i], _ = body["position"].(float64)
	}

	// The survivor's live seat map, straight from it.
	survivor, victim := cl.Instances[1], cl.Instances[0]
	res, err := http.Get(fmt.Sprintf("http://%s/api/v1/events/%d/stream", survivor.Addr, eventID))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("stream: %v %v", res, err)
	}
	defer res.Body.Close()
	messages := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				select {
				case messages <- sc.Text():
				default:
				}
			}
		}
	}()

	// The load: fans look at the event and its seats (reads, on the
	// replica), hold one seat and pay (writes, on the primary).
	const fans = 6
	tokens := fanTokens(t, base, fans)
	var mu sync.Mutex
	var attempts []attempt
	var confirmed []int64
	note := func(method string, code int) {
		mu.Lock()
		attempts = append(attempts, attempt{time.Now(), method, code})
		mu.Unlock()
	}
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
				code, _, _ := call("GET", fmt.Sprintf("%s/api/v1/events/%d", base, eventID), "", nil)
				note("GET", code)
				code, held, _ := call("POST", base+"/api/v1/bookings", tokens[i], map[string]any{"ticket_ids": []int64{tickets[rand.IntN(len(tickets))]}})
				note("POST", code)
				if e, _ := held["error"].(map[string]any); code == http.StatusConflict && e["code"] == "ticket_limit" {
					tokens[i] = newFan(base) // has all one fan may have: another fan comes
					continue
				}
				if code != http.StatusCreated {
					continue
				}
				id := int64(held["id"].(float64))
				code, paid, _ := call("POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", base, id), tokens[i], map[string]string{"payment_method": "pm_card_visa"})
				note("POST", code)
				if code == http.StatusOK && paid["status"] == "confirmed" {
					mu.Lock()
					confirmed = append(confirmed, id)
					mu.Unlock()
				}
			}
		})
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(confirmed) }
	if !waitFor(2*time.Minute, func() bool { return count() >= 15 }) {
		close(stop)
		wg.Wait()
		t.Fatalf("only %d bookings confirmed in 2 minutes", count())
	}
	killedAt := time.Now()
	victim.Kill()
	if err := cl.Replica.Stop(); err != nil {
		t.Fatal(err)
	}
	before := count()
	if !waitFor(2*time.Minute, func() bool { return count() >= before+15 }) {
		t.Errorf("after the kill only %d more bookings were confirmed in 2 minutes", count()-before)
	}
	close(stop)
	wg.Wait()

	// Failures: only POSTs in flight on the killed instance.
	var failedGets, failedPosts, late int
	for _, a := range attempts {
		if a.code != 0 && a.code < 500 {
			continue
		}
		if a.method == "GET" {
			failedGets++
		} else {
			failedPosts++
		}
		if a.at.Before(killedAt) || a.at.After(killedAt.Add(5*time.Second)) {
			late++
		}
	}
	t.Logf("%d requests, %d bookings confirmed (%d after the kill); failed: %d GETs, %d POSTs", len(attempts), count(), count()-before, failedGets, failedPosts)
	// A read under way on the replica as it stopped fails on the survivor
	// too (nginx's second try); one per fan at most.
	if failedGets > fans {
		t.Errorf("%d reads failed, more than the %d that can have been under way when the replica stopped", failedGets, fans)
	}
	if failedPosts > fans {
		t.Errorf("%d holds or payments failed, more than the %d that can have been in flight on the killed instance", failedPosts, fans)
	}
	if late > 0 {
		t.Errorf("%d requests failed before the kill or more than 5 s after it", late)
	}

	// Every confirmed booking is there, with its seat, and the invariant holds.
	checkRestored(t, primary, eventID, confirmed)

	// The waiting room's places are as they were, read through nginx.
	for i, tok := range waiting {
		code, body, _ := call("GET", room, tok, nil)
		if code != http.StatusOK || body["position"] != places[i] {
			t.Errorf("fan %d's place after the kill: %d %v, want position %v", i, code, body, places[i])
		}
	}

	// The survivor's seat map still moves: a hold now shows on it.
	for len(messages) > 0 {
		<-messages
	}
	token := fanToken(t, base, 99)
	var seat int64
	for _, id := range tickets {
		if code, held, _ := call("POST", base+"/api/v1/bookings", token, map[string]any{"ticket_ids": []int64{id}}); code == http.StatusCreated {
			seat = id
			_ = held
			break
		}
	}
	if seat == 0 {
		t.Fatal("no seat left to hold after the load")
	}
	want := fmt.Sprintf(`"id":%d,"status":"reserved"`, seat)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-messages:
			if strings.Contains(m, want) {
				return
			}
		case <-deadline:
			t.Fatalf("the surviving instance's seat map did not show a hold made after the kill")
		}
	}
}

// newFan signs a new fan up and in, for a goroutine (no t.Fatal); "" when
// that failed, which the next hold then says.
func newFan(base string) string {
	creds := map[string]string{"email": fmt.Sprintf("fan-%d@example.com", rand.Int64()), "password": "correct horse battery"}
	call("POST", base+"/api/v1/users", "", creds)
	_, body, _ := call("POST", base+"/api/v1/sessions", "", creds)
	token, _ := body["token"].(string)
	return token
}

// TestRollingRestart restarts each of two instances behind nginx in turn
// (SIGTERM, then start again) while fans browse, hold and pay through
// nginx: no request fails.
func TestRollingRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl, err := devcluster.Start(ctx, devcluster.Config{Dir: dataDir(t), Instances: 2, Binary: binary,
		Env: []string{"BOXOFFICE_BOOKING_RATE=off", "BOXOFFICE_SEARCH_RATE=off", "BOXOFFICE_SIGNUP_RATE=off"}})
	if err != nil {
		if strings.Contains(err.Error(), "is not installed") && os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	base := cl.URL
	eventID, tickets := availableTickets(t, base, 100)
	const fans = 4
	tokens := fanTokens(t, base, fans)
	var mu sync.Mutex
	var failed []string
	var requests, confirmed int
	note := func(what string, code int) {
		mu.Lock()
		defer mu.Unlock()
		requests++
		if code == 0 || code >= 500 {
			failed = append(failed, fmt.Sprintf("%s: %d", what, code))
		}
	}
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
				code, _, _ := call("GET", fmt.Sprintf("%s/api/v1/events/%d", base, eventID), "", nil)
				note("event", code)
				code, held, _ := call("POST", base+"/api/v1/bookings", tokens[i], map[string]any{"ticket_ids": []int64{tickets[rand.IntN(len(tickets))]}})
				note("hold", code)
				if e, _ := held["error"].(map[string]any); code == http.StatusConflict && e["code"] == "ticket_limit" {
					tokens[i] = newFan(base)
					continue
				}
				if code != http.StatusCreated {
					continue
				}
				code, paid, _ := call("POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", base, int64(held["id"].(float64))), tokens[i], map[string]string{"payment_method": "pm_card_visa"})
				note("pay", code)
				if code == http.StatusOK && paid["status"] == "confirmed" {
					mu.Lock()
					confirmed++
					mu.Unlock()
				}
			}
		})
	}
	for i := range cl.Instances {
		if err := cl.Restart(ctx, i); err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d bookings confirmed during the restarts", requests, confirmed)
	if len(failed) > 0 {
		t.Errorf("%d requests failed during a rolling restart: %v", len(failed), failed)
	}
	if confirmed == 0 {
		t.Error("nothing was sold during the restarts: the test proves nothing")
	}
}
