package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/backup"
	"github.com/boxoffice/boxoffice/db/embedded"
	"github.com/boxoffice/boxoffice/web/https/pebbletest"
)

// command runs the binary once with env and returns what it printed; it
// is killed after three minutes.
func command(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// sharedPool connects to the embedded cluster a running instance keeps in
// dir, as `boxoffice status` does.
func sharedPool(t *testing.T, dir string) *pgxpool.Pool {
	t.Helper()
	url, err := embedded.RunningURL(dir, db.DatabaseName)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := db.NewPool(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// sale is fans holding and paying for seats of one event until stopped,
// keeping what each was told was confirmed, in order.
type sale struct {
	mu        sync.Mutex
	confirmed []int64
	stop      chan struct{}
	wg        sync.WaitGroup
}

func startSale(t *testing.T, base string, fans int, tickets []int64) *sale {
	t.Helper()
	tokens := fanTokens(t, base, fans)
	s := &sale{stop: make(chan struct{})}
	for i := range fans {
		s.wg.Go(func() {
			for {
				select {
				case <-s.stop:
					return
				default:
				}
				pick := []int64{tickets[rand.IntN(len(tickets))]}
				code, held, _ := call("POST", base+"/api/v1/bookings", tokens[i], map[string]any{"ticket_ids": pick})
				if code != http.StatusCreated {
					continue // taken: pick again
				}
				id := int64(held["id"].(float64))
				code, paid, _ := call("POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", base, id), tokens[i], map[string]string{"payment_method": "pm_card_visa"})
				if code == http.StatusOK && paid["status"] == "confirmed" {
					s.mu.Lock()
					s.confirmed = append(s.confirmed, id)
					s.mu.Unlock()
				}
			}
		})
	}
	t.Cleanup(s.end)
	return s
}

// soFar is a copy of the bookings confirmed until now.
func (s *sale) soFar() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.confirmed...)
}

func (s *sale) end() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
}

// checkRestored checks, on a restored database, that every one of want is
// a confirmed booking with its seats sold to it, and that the booking
// invariant holds for the event.
func checkRestored(t *testing.T, pool *pgxpool.Pool, eventID int64, want []int64) {
	t.Helper()
	ctx := context.Background()
	var found int
	err := pool.QueryRow(ctx, `SELECT count(*) FROM bookings b
		WHERE b.id = ANY($1) AND b.status = 'confirmed'
		  AND EXISTS (SELECT FROM tickets t WHERE t.booking_id = b.id AND t.status = 'sold')`, want).Scan(&found)
	if err != nil {
		t.Fatal(err)
	}
	if found != len(want) {
		t.Errorf("%d of the %d bookings confirmed before the backup are confirmed with their seats in the restored database", found, len(want))
	}
	broken, err := booking.CheckInvariant(ctx, pool, []int64{eventID})
	if err != nil {
		t.Fatal(err)
	}
	for check, n := range broken {
		if n != 0 {
			t.Errorf("restored database breaks the invariant: %s = %d", check, n)
		}
	}
}

// TestBackupDuringOnSale takes a backup with `boxoffice backup` while fans
// buy seats, restores it with `boxoffice restore` into an empty data
// directory, and finds every booking confirmed before the backup began,
// with the invariant intact. Restore refuses the live data directory and
// one that holds a database.
func TestBackupDuringOnSale(t *testing.T) {
	t.Parallel()
	dir, restored := dataDir(t), dataDir(t)
	backups := filepath.Join(dir, "backups")
	in := start(t, nil, "BOXOFFICE_DATA_DIR="+dir, "BOXOFFICE_BOOKING_RATE=off", "BOXOFFICE_SIGNUP_RATE=off")
	eventID, tickets := availableTickets(t, in.url, 100)
	s := startSale(t, in.url, 6, tickets)
	if !waitFor(2*time.Minute, func() bool { return len(s.soFar()) >= 10 }) {
		t.Fatalf("fewer than 10 bookings confirmed in 2 minutes\n%s", in.logs)
	}
	before := s.soFar()
	out, err := command(t, []string{"BOXOFFICE_DATA_DIR=" + dir}, "backup", "--to", backups)
	during := len(s.soFar()) - len(before)
	s.end()
	if err != nil {
		t.Fatalf("boxoffice backup: %v\n%s", err, out)
	}
	if !strings.Contains(out, "checked with pg_verifybackup") {
		t.Errorf("backup did not say it was checked:\n%s", out)
	}
	t.Logf("%d bookings confirmed before the backup, %d while it ran", len(before), during)

	out, err = command(t, []string{"BOXOFFICE_DATA_DIR=" + dir}, "restore", "--from", backups)
	if err == nil || !strings.Contains(out, "in use by another Boxoffice") {
		t.Errorf("restore into the live data directory: %v\n%s", err, out)
	}
	out, err = command(t, []string{"BOXOFFICE_DATA_DIR=" + restored}, "restore", "--from", backups)
	if err != nil {
		t.Fatalf("boxoffice restore: %v\n%s", err, out)
	}
	out, err = command(t, []string{"BOXOFFICE_DATA_DIR=" + restored}, "restore", "--from", backups)
	if err == nil || !strings.Contains(out, "holds a database already") {
		t.Errorf("restore over a restored database: %v\n%s", err, out)
	}
	checkRestored(t, openCluster(t, restored), eventID, before)
}

// TestPointInTimeRecovery makes two bookings with a moment between them,
// and recovers a backup taken before both, with the archived write-ahead
// log, to that moment: the first booking is there, the second is not.
func TestPointInTimeRecovery(t *testing.T) {
	t.Parallel()
	dir, restored := dataDir(t), dataDir(t)
	archive, backups := filepath.Join(dir, "wal"), filepath.Join(dir, "backups")
	env := []string{"BOXOFFICE_DATA_DIR=" + dir, "BOXOFFICE_WAL_ARCHIVE=" + archive, "BOXOFFICE_BACKUP_DIR=" + backups}
	in := start(t, nil, append(env, "BOXOFFICE_BOOKING_RATE=off", "BOXOFFICE_SIGNUP_RATE=off")...)
	if out, err := command(t, env, "backup"); err != nil {
		t.Fatalf("boxoffice backup: %v\n%s", err, out)
	}
	eventID, tickets := availableTickets(t, in.url, 2)
	token := fanToken(t, in.url, 0)
	book := func(ticket int64) int64 {
		code, held, _ := call("POST", in.url+"/api/v1/bookings", token, map[string]any{"ticket_ids": []int64{ticket}})
		if code != http.StatusCreated {
			t.Fatalf("hold: %d %v", code, held)
		}
		id := int64(held["id"].(float64))
		code, paid, _ := call("POST", fmt.Sprintf("%s/api/v1/bookings/%d/pay", in.url, id), token, map[string]string{"payment_method": "pm_card_visa"})
		if code != http.StatusOK || paid["status"] != "confirmed" {
			t.Fatalf("pay: %d %v", code, paid)
		}
		return id
	}
	pool := sharedPool(t, dir)
	ctx := context.Background()
	first := book(tickets[0])
	// The moment is the database's clock, after the first booking
	// committed and before the second began.
	var moment time.Time
	if err := pool.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&moment); err != nil {
		t.Fatal(err)
	}
	second := book(tickets[1])
	// Close the log segment holding both and wait until it is archived.
	var segment string
	if err := pool.QueryRow(ctx, "SELECT pg_walfile_name(pg_switch_wal())").Scan(&segment); err != nil {
		t.Fatal(err)
	}
	if !waitFor(time.Minute, func() bool {
		_, err := os.Stat(filepath.Join(archive, segment))
		return err == nil
	}) {
		t.Fatalf("segment %s not archived within a minute", segment)
	}
	in.stop(t)

	// A segment recovery cannot read (a wrong owner after copying the
	// archive back) must not pass for the end of the archive.
	unreadable := filepath.Join(archive, segment)
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	cutShort := dataDir(t)
	out, err := command(t, []string{"BOXOFFICE_DATA_DIR=" + cutShort, "BOXOFFICE_WAL_ARCHIVE=" + archive}, "restore", "--from", backups)
	if err == nil || !strings.Contains(out, "cannot be read by the server") {
		t.Errorf("restore with an unreadable segment: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(filepath.Join(cutShort, "pgdata")); len(entries) != 0 {
		t.Errorf("a failed restore left %d files in the data directory", len(entries))
	}
	if err := os.Chmod(unreadable, 0o600); err != nil {
		t.Fatal(err)
	}

	until := moment.Local().Format("2006-01-02 15:04:05.000000")
	out, err = command(t, []string{"BOXOFFICE_DATA_DIR=" + restored, "BOXOFFICE_WAL_ARCHIVE=" + archive}, "restore", "--from", backups, "--until", until)
	if err != nil {
		t.Fatalf("boxoffice restore --until %q: %v\n%s", until, err, out)
	}
	if !strings.Contains(out, "recovered to") {
		t.Errorf("restore did not say where it recovered to:\n%s", out)
	}
	got := openCluster(t, restored)
	var bookings []int64
	rows, err := got.Query(ctx, "SELECT id FROM bookings WHERE id = ANY($1) AND status = 'confirmed' ORDER BY id", []int64{first, second})
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		bookings = append(bookings, id)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if len(bookings) != 1 || bookings[0] != first {
		t.Fatalf("recovered to %s between booking %d and booking %d, found confirmed %v; want only %d", until, first, second, bookings, first)
	}
	checkRestored(t, got, eventID, []int64{first})

	// A drill copy reads the archive and may never write to it.
	drill := dataDir(t)
	drillEnv := []string{"BOXOFFICE_DATA_DIR=" + drill, "BOXOFFICE_WAL_ARCHIVE=" + archive}
	if out, err := command(t, drillEnv, "restore", "--drill", "--from", backups); err != nil {
		t.Fatalf("boxoffice restore --drill: %v\n%s", err, out)
	}
	if out, err := command(t, drillEnv, "serve"); err == nil || !strings.Contains(out, "restored as a drill") {
		t.Errorf("serving a drill copy with the live archive: %v\n%s", err, out)
	}
}

// TestScheduledBackupsAndStatus runs the site with backups on a schedule
// and the WAL archive on: a backup appears by itself, and `boxoffice
// status` and /metrics tell the operator about it, the archive, the schema
// and what is on sale.
func TestScheduledBackupsAndStatus(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	archive, backups := filepath.Join(dir, "wal"), filepath.Join(dir, "backups")
	metricsAddr := freeAddr(t)
	env := []string{"BOXOFFICE_DATA_DIR=" + dir, "BOXOFFICE_WAL_ARCHIVE=" + archive, "BOXOFFICE_BACKUP_DIR=" + backups}
	in := start(t, nil, append(env, "BOXOFFICE_BACKUP_EVERY=1h", "BOXOFFICE_BACKUP_KEEP=2", "BOXOFFICE_METRICS_ADDR="+metricsAddr)...)
	var list []backup.Backup
	if !waitFor(2*time.Minute, func() bool {
		list, _ = backup.List(backups)
		return len(list) > 0
	}) {
		t.Fatalf("no scheduled backup within 2 minutes\n%s", in.logs)
	}
	// Close a segment so that the archive has something to show.
	if _, err := sharedPool(t, dir).Exec(context.Background(), "SELECT pg_switch_wal()"); err != nil {
		t.Fatal(err)
	}

	out, err := command(t, env, "status")
	if err != nil {
		t.Fatalf("boxoffice status: %v\n%s", err, out)
	}
	for _, want := range []string{"(run by the site)", "schema:        migration", ", current", "last backup:", backups, "wal archive:   " + archive, "on sale now:   ", "HTTPS is off"} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "NONE in") || strings.Contains(out, "OFF:") {
		t.Errorf("status warns of missing backups or archive:\n%s", out)
	}

	var body string
	if !waitFor(time.Minute, func() bool {
		res, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		body = string(b)
		return strings.Contains(body, "boxoffice_wal_archive_last_timestamp_seconds") && !strings.Contains(body, "boxoffice_wal_archive_last_timestamp_seconds 0\n")
	}) {
		t.Fatalf("/metrics shows no archived segment:\n%s", body)
	}
	for _, want := range []string{
		"boxoffice_backups_kept 1",
		fmt.Sprintf("boxoffice_backup_last_timestamp_seconds %s", strconv.FormatFloat(float64(list[0].Finished.Unix()), 'g', -1, 64)),
		`boxoffice_schema_version{which="current"}`,
		"boxoffice_ops_scrape_ok 1",
		"boxoffice_wal_archive_waiting_segments",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestServeHTTPSByItself runs the binary with BOXOFFICE_DOMAINS against a
// real ACME server (Pebble): it gets a certificate and serves the site over
// HTTP/2 with HSTS, sends plain HTTP to HTTPS, shows the certificate's
// expiry in `boxoffice status`, and after a restart with the CA gone
// serves the same certificate from its data directory.
func TestServeHTTPSByItself(t *testing.T) {
	t.Parallel()
	const domain = "tickets.example.com"
	ca := pebbletest.Start(t, pebbletest.Options{})
	dir := dataDir(t)
	httpAddr, tlsAddr := freeAddr(t), freeAddr(t)
	env := []string{"BOXOFFICE_DATA_DIR=" + dir, "BOXOFFICE_DOMAINS=" + domain, "BOXOFFICE_ADDR=" + httpAddr, "BOXOFFICE_TLS_ADDR=" + tlsAddr,
		"BOXOFFICE_ACME_URL=" + ca.DirectoryURL, "SSL_CERT_FILE=" + ca.CertFile}
	in := start(t, nil, env...)
	if in.url != "https://"+domain {
		t.Errorf("says it runs at %s, want https://%s", in.url, domain)
	}

	// A browser that trusts only the CA's root, reaching the name at our port.
	fan := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca.Roots, ServerName: domain},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, tlsAddr)
		},
	}}
	visit := func() (*http.Response, error) {
		res, err := fan.Get("https://" + domain + "/")
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		return res, err
	}
	var res *http.Response
	var err error
	if !waitFor(time.Minute, func() bool { res, err = visit(); return err == nil }) {
		t.Fatalf("no HTTPS within a minute: %v\n%s", err, in.logs)
	}
	if res.StatusCode != http.StatusOK || res.Proto != "HTTP/2.0" {
		t.Errorf("home page over HTTPS: %d %s, want 200 over HTTP/2", res.StatusCode, res.Proto)
	}
	if hsts := res.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS: %q", hsts)
	}
	serial := res.TLS.PeerCertificates[0].SerialNumber.String()

	// Plain HTTP goes to HTTPS, to the same page.
	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", "http://"+httpAddr+"/events/1?from=chat", nil)
	req.Host = domain
	plain, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	plain.Body.Close()
	if loc := plain.Header.Get("Location"); plain.StatusCode != http.StatusMovedPermanently || loc != "https://"+domain+"/events/1?from=chat" {
		t.Errorf("plain HTTP: %d to %q, want 301 to https://%s/events/1?from=chat", plain.StatusCode, loc, domain)
	}
	// Except a health check, which a container or load balancer makes there.
	if res, err := http.Get("http://" + httpAddr + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("/healthz on the plain port: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	out, err := command(t, env, "status")
	if err != nil || !strings.Contains(out, "certificate:   "+domain+": expires") {
		t.Errorf("status does not show the certificate's expiry: %v\n%s", err, out)
	}

	// Restart with the CA gone: the certificate comes from the data directory.
	in.stop(t)
	ca.Stop()
	start(t, nil, env...)
	if res, err = visit(); err != nil {
		t.Fatalf("after a restart without the CA: %v", err)
	}
	if got := res.TLS.PeerCertificates[0].SerialNumber.String(); got != serial {
		t.Errorf("after a restart the site serves certificate %s, want the one it had (%s)", got, serial)
	}
}
